#include "orchestrator/scanners/run_record.h"

#include "orchestrator/util/files.h"

namespace testbed::scanners {
namespace {
constexpr const char* kKey = "scanner_kind";

// The kind a JSON object records, or "" (absent, or not an object).
std::string recorded(const nlohmann::json& j) {
  if (j.is_object() && j.contains(kKey) && j[kKey].is_string()) return j[kKey].get<std::string>();
  return "";
}

nlohmann::json read_json(const std::filesystem::path& p) {
  auto text = util::read_file(p);
  if (!text) return nullptr;
  return nlohmann::json::parse(*text, nullptr, /*allow_exceptions=*/false);
}
}  // namespace

const Kind* recorded_kind(const nlohmann::json& record) {
  std::string k = recorded(record);
  return k.empty() ? nullptr : find_kind(k);
}

void write_scanner_kind(nlohmann::json& record, std::string_view kind) {
  record[kKey] = std::string(kind);
}

util::Result<const Kind*> kind_of_run(const std::filesystem::path& run_dir) {
  std::string kind = recorded(read_json(run_dir / "manifest.json"));
  if (kind.empty()) {
    // <results>/<label>/<rep>: the plan lists every label's kind.
    const std::string label = run_dir.parent_path().filename().string();
    nlohmann::json plan = read_json(run_dir.parent_path().parent_path() / "plan.json");
    if (plan.is_object() && plan.contains("scanners") && plan["scanners"].is_array())
      for (const auto& s : plan["scanners"])
        if (s.is_object() && s.value("label", "") == label) kind = recorded(s);
  }
  if (kind.empty()) kind = "nmap";
  auto k = kind_named(kind);
  if (!k) return util::fail("{}: {}", run_dir.string(), k.error().message);
  return *k;
}

}  // namespace testbed::scanners
