#include "orchestrator/backends/vm/snapshot.h"

#include <ctime>
#include <chrono>
#include <fstream>
#include <vector>

#include <nlohmann/json.hpp>

#include "orchestrator/backends/vm/cloud_builder.h"
#include "orchestrator/util/files.h"
#include "orchestrator/util/hash.h"
#include "orchestrator/util/log.h"
#include "orchestrator/virt/disk_use.h"

namespace testbed::backends::vm {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr const char* kMemory = "memory.save";
constexpr const char* kDisk = "disk.qcow2";
constexpr const char* kStateJson = "state.json";
constexpr uint64_t kMinFree = uint64_t{2} << 30;
// The node's read-only disks a state keeps its own copy of (config disk or NoCloud seed).
constexpr const char* kReadOnlyDisks[] = {"config.tar", "seed.iso"};

fs::path state_dir_of(const fs::path& node_dir, const std::string& image) {
  return node_dir / "states" / image;
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// SHA-256 of the first and last MiB of a file, and its size.
util::Result<std::string> ends_hash(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return util::fail("{} is missing", file.string());
  std::error_code ec;
  const uint64_t size = fs::file_size(file, ec);
  if (ec) return util::fail("cannot read the size of {}: {}", file.string(), ec.message());
  constexpr uint64_t kMiB = 1 << 20;
  std::string head(std::min(size, kMiB), '\0');
  in.read(head.data(), static_cast<std::streamsize>(head.size()));
  std::string tail;
  if (size > kMiB) {
    tail.resize(std::min(size - kMiB, kMiB));
    in.seekg(static_cast<std::streamoff>(size - tail.size()));
    in.read(tail.data(), static_cast<std::streamsize>(tail.size()));
  }
  if (!in) return util::fail("cannot read {}", file.string());
  return fmt::format("{}:{}", size, util::sha256_hex(head + tail));
}

// Replaces every occurrence of `from` inside a quoted attribute value ('...' or "...").
std::string replace_quoted_path(std::string xml, const std::string& from, const std::string& to) {
  for (char q : {'\'', '"'}) {
    const std::string needle = q + from + q;
    for (size_t pos = 0; (pos = xml.find(needle, pos)) != std::string::npos;) {
      xml.replace(pos, needle.size(), q + to + q);
      pos += to.size() + 2;
    }
  }
  return xml;
}

}  // namespace

std::string point_saved_xml_at_state(const std::string& xml, const fs::path& node_dir,
                                     const fs::path& state_dir) {
  // The serial console log is truncated when a guest boots; a restored guest appends to
  // it, so the boot's lines stay (a node that stops answering is shown by its console).
  std::string out = xml;
  for (const char* q : {"'", "\""})
    for (size_t pos = 0;
         (pos = out.find(std::string("append=") + q + "off" + q, pos)) != std::string::npos;)
      out.replace(pos, 12, std::string("append=") + q + "on" + q);
  for (const char* f : kReadOnlyDisks)
    out = replace_quoted_path(out, fs::absolute(node_dir / f).string(),
                              fs::absolute(state_dir / f).string());
  return out;
}

util::Result<std::string> quick_check(const fs::path& state_dir) {
  std::string all;
  for (const char* f : {kMemory, kDisk}) {
    auto h = ends_hash(state_dir / f);
    if (!h) return h.error();
    all += std::string(f) + "=" + *h + "\n";
  }
  return util::sha256_hex(all);
}

util::Result<virt::SavedState> VmSnapshots::capture(const std::string& domain,
                                                    const fs::path& node_dir,
                                                    const std::string& image) {
  const fs::path dir = state_dir_of(node_dir, image);
  std::error_code ec;
  fs::remove_all(dir, ec);  // an incomplete state of an earlier attempt
  // Disk use is bounded: one state per node and image, and none on a filesystem that
  // would be left with less than kMinFree (a state is ~250 MB for a 1 GiB guest).
  const auto space = fs::space(node_dir, ec);
  if (!ec && space.available < kMinFree)
    return util::fail("only {} MiB free on the file system of {}; a saved state needs up to "
                      "the guest's memory and testbed keeps {} MiB free (free space, or "
                      "`reset: boot` in the experiment)",
                      space.available >> 20, node_dir.string(), kMinFree >> 20);
  fs::create_directories(dir, ec);
  if (ec) return util::fail("cannot create {}: {}", dir.string(), ec.message());
  auto fail_clean = [&](util::Error e) -> util::Result<virt::SavedState> {
    std::error_code ignored;
    fs::remove_all(dir, ignored);
    return e;
  };
  const auto t0 = std::chrono::steady_clock::now();
  const int64_t taken = static_cast<int64_t>(::time(nullptr));
  if (auto s = backend_->save_node(domain, fs::absolute(dir / kMemory).string()); !s)
    return fail_clean(s.error());
  const double save_seconds = seconds_since(t0);
  // The guest is stopped: its disk layer becomes the state's frozen disk.
  fs::rename(node_dir / kDisk, dir / kDisk, ec);
  if (ec) return fail_clean(util::Error{fmt::format("cannot move {} into {}: {}",
                                                    (node_dir / kDisk).string(), dir.string(),
                                                    ec.message())});
  for (const char* f : kReadOnlyDisks)
    if (fs::exists(node_dir / f, ec)) {
      fs::copy_file(node_dir / f, dir / f, fs::copy_options::overwrite_existing, ec);
      if (ec) return fail_clean(util::Error{fmt::format("cannot copy {}: {}", f, ec.message())});
    }
  auto xml = backend_->saved_state_xml(fs::absolute(dir / kMemory).string());
  if (!xml) return fail_clean(xml.error());
  if (auto s = backend_->set_saved_state_xml(fs::absolute(dir / kMemory).string(),
                                             point_saved_xml_at_state(*xml, node_dir, dir));
      !s)
    return fail_clean(s.error());
  virt::SavedState st;
  st.image = image;
  st.dir = dir;
  st.taken = taken;
  st.save_seconds = save_seconds;
  auto mem_hash = util::sha256_file(dir / kMemory);
  auto disk_hash = util::sha256_file(dir / kDisk);
  if (!mem_hash) return fail_clean(mem_hash.error());
  if (!disk_hash) return fail_clean(disk_hash.error());
  st.sha256 = util::sha256_hex(*mem_hash + *disk_hash);
  auto check = quick_check(dir);
  if (!check) return fail_clean(check.error());
  st.bytes = virt::file_bytes_under(dir);
  json j = {{"image", image},          {"domain", domain},
            {"sha256", st.sha256},     {"check", *check},
            {"taken", taken},          {"bytes", st.bytes},
            {"save_seconds", save_seconds}};
  if (auto s = util::write_file_atomic(dir / kStateJson, j.dump(2) + "\n", 0600); !s)
    return fail_clean(s.error());
  if (auto s = restore(domain, node_dir, st); !s) return s.error();
  return st;
}

util::Result<virt::SavedState> VmSnapshots::find(const fs::path& node_dir,
                                                 const std::string& image) {
  const fs::path dir = state_dir_of(node_dir, image);
  auto text = util::read_file(dir / kStateJson);
  if (!text) return util::fail("no saved state of {} in {}", image, dir.string());
  json j = json::parse(*text, nullptr, false);
  if (j.is_discarded() || !j.is_object())
    return util::fail("{} is damaged (not JSON)", (dir / kStateJson).string());
  auto check = quick_check(dir);
  if (!check) return util::fail("saved state {} is damaged: {}", dir.string(), check.error().message);
  if (*check != j.value("check", std::string()))
    return util::fail("saved state {} is damaged: its files changed since it was taken "
                      "(size or content differ from state.json)",
                      dir.string());
  virt::SavedState st;
  st.image = image;
  st.dir = dir;
  st.sha256 = j.value("sha256", std::string());
  st.taken = j.value("taken", int64_t{0});
  st.bytes = j.value("bytes", uint64_t{0});
  st.save_seconds = j.value("save_seconds", 0.0);
  return st;
}

util::Status VmSnapshots::restore(const std::string& domain, const fs::path& node_dir,
                                  const virt::SavedState& state) {
  // The saved XML carries the UUID of the domain that was saved; a defined domain of the
  // same name (a boot in between) has another, so the domain goes first.
  if (auto s = backend_->remove_node(domain); !s) return s;
  if (auto s = make_overlay(state.dir / kDisk, node_dir / kDisk); !s) return s;
  return backend_->restore_node(fs::absolute(state.dir / kMemory).string());
}

util::Status VmSnapshots::remove(const fs::path& node_dir, const std::string& image) {
  std::error_code ec;
  const fs::path dir = image.empty() ? node_dir / "states" : state_dir_of(node_dir, image);
  fs::remove_all(dir, ec);
  if (ec) return util::fail("cannot remove {}: {}", dir.string(), ec.message());
  return {};
}

}  // namespace testbed::backends::vm
