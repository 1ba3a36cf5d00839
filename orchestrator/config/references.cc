#include "orchestrator/config/references.h"

#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "orchestrator/config/yaml_reader.h"

namespace testbed::config {
namespace fs = std::filesystem;

std::vector<std::string> recipe_names(const fs::path& recipe_dir) {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(recipe_dir, ec))
    if (e.path().extension() == ".yaml") names.push_back(e.path().stem().string());
  std::sort(names.begin(), names.end());
  return names;
}

util::Status check_image_references(const Experiment* exp, const Topology& topo,
                                    const fs::path& recipe_dir) {
  const auto names = recipe_names(recipe_dir);
  Diagnostics d;
  std::set<std::string> reported;
  auto check = [&](const std::string& image, const std::string& where, const std::string& what) {
    if (image.empty() || std::binary_search(names.begin(), names.end(), image)) return;
    if (!reported.insert(image).second) return;
    const std::string hint = nearest(image, names);
    d.error_plain(fmt::format("{}: {} image '{}' has no recipe in {}{}", where, what, image,
                              recipe_dir.string(),
                              hint.empty() ? " (`testbed image list` and images/*.yaml show the "
                                             "images there are)"
                                           : fmt::format("; did you mean '{}'?", hint)));
  };
  for (const auto& n : topo.nodes) {
    if (exp && n.role == NodeRole::kScanner) continue;  // booted from `scanners:` instead
    if (exp) {
      if (auto it = exp->node_images.find(n.name); it != exp->node_images.end()) {
        auto w = exp->image_where.find(it->second);
        check(it->second, w != exp->image_where.end() ? w->second : exp->file,
              fmt::format("node_images: node '{}':", n.name));
        continue;
      }
    }
    check(n.image, n.where, fmt::format("node '{}':", n.name));
  }
  if (exp) {
    for (const auto& s : exp->scanners) {
      auto w = exp->image_where.find(s.image);
      check(s.image, w != exp->image_where.end() ? w->second : exp->file,
            fmt::format("scanner '{}':", s.label));
    }
  }
  return d.status();
}

}  // namespace testbed::config
