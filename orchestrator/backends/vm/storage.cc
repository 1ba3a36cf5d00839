#include "orchestrator/backends/vm/storage.h"

#include <fmt/format.h>

#include <ctime>

#include "orchestrator/backends/vm/cloud_builder.h"
#include "orchestrator/images/cache.h"
#include "orchestrator/backends/vm/builder.h"
#include "orchestrator/util/files.h"
#include "orchestrator/util/hash.h"
#include "orchestrator/util/ipv4.h"
#include "orchestrator/util/tar.h"

namespace testbed::backends::vm {
using namespace testbed::virt;  // the libvirt primitives every backend builds on
using virt::NodeSpec;
using virt::NodeRootRequest;
using virt::BootConfig;

namespace fs = std::filesystem;

bool vm_skips_node_file(const std::string& path) {
  return path == "/testbed/init.sh" || path == "/etc/hostname" || path == "/etc/hosts" ||
         path == "/etc/resolv.conf" || path == "/root/.ssh/authorized_keys" ||
         path.rfind("/etc/ssh/ssh_host_", 0) == 0;
}

backends::vm::NodeSeed make_vm_node_seed(const BootConfig& boot, const NodeSpec& spec) {
  backends::vm::NodeSeed s;
  s.hostname = boot.node;
  s.facts = {{"NODE_NAME", boot.node}, {"LAB_NAME", boot.lab}};
  for (const auto& bi : boot.interfaces) {
    backends::vm::SeedInterface si;
    si.name = bi.dev;
    for (const auto& is : spec.interfaces)
      if (is.guest_dev == bi.dev) si.mac = is.mac;
    si.addresses.push_back(fmt::format("{}/{}", util::format_ipv4(bi.address), bi.prefix));
    for (const auto& r : boot.routes)
      if (r.dev == bi.dev)
        si.routes.push_back({fmt::format("{}/{}", util::format_ipv4(r.dst.network), r.dst.prefix),
                             util::format_ipv4(r.via)});
    s.interfaces.push_back(std::move(si));
  }
  return s;
}

void VmStorage::set_seed(const std::string& domain, backends::vm::NodeSeed seed) {
  std::lock_guard lock(mu_);
  seeds_[domain] = std::move(seed);
}

namespace {

// The image's cache entry; Lab passes ImageRef::rootfs (entry/rootfs), accept both.
fs::path image_entry(const fs::path& image_root) {
  std::error_code ec;
  if (!fs::exists(image_root / backends::vm::kKvmBaseDisk, ec) &&
      fs::exists(image_root.parent_path() / backends::vm::kKvmBaseDisk, ec))
    return image_root.parent_path();
  return image_root;
}

}  // namespace

std::string vm_interfaces_file(const NodeSpec& spec) {
  std::string s;
  for (const auto& i : spec.interfaces) s += i.mac + " " + i.guest_dev + "\n";
  return s;
}

util::Status VmStorage::prepare_kernel_boot(const NodeRootRequest& req, const fs::path& entry,
                                             NodeSpec* spec) {
  std::vector<util::TarFile> files;
  for (const auto& [path, f] : req.files) files.push_back({path, f.content, f.mode});
  files.push_back({"/testbed/vm-interfaces", vm_interfaces_file(*spec), 0644});
  if (auto m = util::read_file(entry / "manifest.json"))
    files.push_back({"/testbed/image.json", *m, 0644});
  auto tar = util::make_tar(files, static_cast<long>(::time(nullptr)));
  if (!tar) return tar.error();
  const fs::path config = req.node_dir / "config.tar";
  const fs::path disk = req.node_dir / "disk.qcow2";
  std::error_code ec;
  fs::create_directories(req.node_dir, ec);
  if (auto s = util::write_file_atomic(config, *tar, 0600); !s) return s;
  spec->cmdline = backends::vm::vm_kernel_cmdline();
  if (volumes_) {  // a remote lab host: the image's files and the config disk as volumes
    util::Result<RemoteVmImage> image = [&] {
      std::lock_guard lock(upload_mu_);
      return ensure_vm_image_on_host(*volumes_, entry, remote_sha256_);
    }();
    if (!image) return image.error();
    if (auto s = prepare_remote_vm_node(*volumes_, *image, config, spec); !s) return s;
    std::lock_guard lock(mu_);
    domains_[req.node_dir] = spec->name;
    return {};
  }
  if (auto s = backends::vm::make_overlay(entry / backends::vm::kKvmBaseDisk, disk); !s) return s;
  spec->disk_path = fs::absolute(disk).string();
  spec->config_disk_path = fs::absolute(config).string();
  spec->kernel = fs::absolute(entry / backends::vm::kVmKernel).string();
  spec->initrd = fs::absolute(entry / backends::vm::kVmInitrd).string();
  spec->console_log = fs::absolute(req.node_dir / "console.log").string();
  return {};
}

util::Status VmStorage::prepare(const NodeRootRequest& req, NodeSpec* spec) {
  {
    const fs::path entry = image_entry(req.image_root);
    std::error_code ec;
    if (fs::exists(entry / backends::vm::kVmKernel, ec)) return prepare_kernel_boot(req, entry, spec);
  }
  backends::vm::NodeSeed seed;
  {
    std::lock_guard lock(mu_);
    auto it = seeds_.find(spec->name);
    if (it != seeds_.end())
      seed = it->second;
    else if (req.boot)
      seed = make_vm_node_seed(*req.boot, *spec);
    else
      return util::fail(
          "no cloud-init seed for KVM node {}: the request has no boot configuration "
          "(NodeRootRequest::boot) and none was registered (VmStorage::set_seed)",
          spec->name);
  }
  auto get = [&](const std::string& p) {
    auto it = req.files.find(p);
    return it == req.files.end() ? std::string() : it->second.content;
  };
  seed.lab_public_key = get("/root/.ssh/authorized_keys");
  while (!seed.lab_public_key.empty() && seed.lab_public_key.back() == '\n')
    seed.lab_public_key.pop_back();
  seed.host_key_private = get("/etc/ssh/ssh_host_ed25519_key");
  seed.host_key_public = get("/etc/ssh/ssh_host_ed25519_key.pub");
  while (!seed.host_key_public.empty() && seed.host_key_public.back() == '\n')
    seed.host_key_public.pop_back();
  for (const auto& [path, f] : req.files)
    if (!vm_skips_node_file(path)) seed.files[path] = {f.content, f.mode};

  fs::path entry = image_entry(req.image_root);
  fs::path base = entry / backends::vm::kKvmBaseDisk;
  auto recipe_cc = util::read_file(entry / backends::vm::kKvmRecipeCloudConfig);
  if (!recipe_cc)
    return util::fail("{} is not a KVM image (no {}): {}", entry.string(),
                      backends::vm::kKvmRecipeCloudConfig, recipe_cc.error().message);
  YAML::Node part;
  try {
    part = YAML::Load(*recipe_cc);
  } catch (const YAML::Exception& e) {
    return util::fail("cannot read {}: {}", (entry / backends::vm::kKvmRecipeCloudConfig).string(),
                      e.what());
  }
  std::string user_data = backends::vm::make_user_data(part, seed);
  std::string network_config = backends::vm::make_network_config(seed);
  // A new instance id whenever the seed changes, so cloud-init applies it again.
  seed.instance_id = spec->name + "-" + util::sha256_hex(user_data + network_config).substr(0, 12);
  std::string meta_data = backends::vm::make_meta_data(seed);

  fs::path disk = req.node_dir / "disk.qcow2";
  fs::path iso = req.node_dir / "seed.iso";
  if (auto s = backends::vm::write_seed_iso(iso, user_data, meta_data, network_config); !s) return s;
  if (volumes_) return prepare_volumes(entry, iso, req.node_dir, spec);
  if (auto s = backends::vm::make_overlay(base, disk, disk_size); !s) return s;
  spec->disk_path = fs::absolute(disk).string();
  spec->seed_path = fs::absolute(iso).string();
  return {};
}

uint64_t parse_disk_size(const std::string& size) {
  if (size.empty()) return 0;
  size_t used = 0;
  uint64_t n = 0;
  try {
    n = std::stoull(size, &used);
  } catch (const std::exception&) {
    return 0;
  }
  const std::string unit = size.substr(used);
  if (unit.empty()) return n;
  if (unit.size() != 1) return 0;
  switch (unit[0]) {
    case 'K':
      return n << 10;
    case 'M':
      return n << 20;
    case 'G':
      return n << 30;
    case 'T':
      return n << 40;
    default:
      return 0;
  }
}

util::Status VmStorage::prepare_volumes(const fs::path& entry, const fs::path& iso,
                                         const fs::path& node_dir, NodeSpec* spec) {
  // The base disk's volume is named by the image and its manifest (a rebuilt image has
  // another manifest), so a lab host keeps each build once, whatever lab uses it.
  auto manifest = util::read_file(entry / "manifest.json");
  if (!manifest) return manifest.error();
  // The cache keeps an image as <name>/<key>/ (or <name>/current/).
  const std::string base_name =
      fmt::format("base-{}-{}.qcow2", entry.parent_path().filename().string(),
                  util::sha256_hex(*manifest).substr(0, 12));
  const uint64_t capacity = parse_disk_size(disk_size);
  if (capacity == 0) return util::fail("KVM disk size '{}' is not a size (e.g. 10G)", disk_size);
  auto base = volumes_->ensure_uploaded(base_name, entry / backends::vm::kKvmBaseDisk);
  if (!base) return base.error();
  auto disk = volumes_->create_overlay(spec->name + ".qcow2", *base, capacity);
  if (!disk) return disk.error();
  auto seed = volumes_->upload(spec->name + "-seed.iso", iso);
  if (!seed) return seed.error();
  spec->disk_path = *disk;
  spec->seed_path = *seed;
  std::lock_guard lock(mu_);
  domains_[node_dir] = spec->name;
  return {};
}

util::Status VmStorage::release(const fs::path& node_dir) {
  if (volumes_) {
    std::string domain;
    {
      std::lock_guard lock(mu_);
      auto it = domains_.find(node_dir);
      if (it != domains_.end()) domain = it->second;
    }
    if (!domain.empty()) {
      if (auto s = volumes_->remove(domain + ".qcow2"); !s) return s;
      if (auto s = volumes_->remove(domain + "-seed.iso"); !s) return s;
      if (auto s = volumes_->remove(domain + "-seed.iso.complete"); !s) return s;
      for (const auto& v : remote_vm_node_volumes(domain))
        if (auto s = volumes_->remove(v); !s) return s;
    }
  }
  std::error_code ec;
  for (const char* f : {"disk.qcow2", "seed.iso", "config.tar"}) {
    fs::remove(node_dir / f, ec);
    if (ec) return util::fail("cannot remove {}: {}", (node_dir / f).string(), ec.message());
  }
  return {};
}

}  // namespace testbed::backends::vm
