#include "orchestrator/backends/vm/remote_boot.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "orchestrator/backends/vm/builder.h"
#include "orchestrator/backends/vm/cloud_builder.h"
#include "orchestrator/util/files.h"
#include "orchestrator/util/hash.h"
#include "orchestrator/util/subprocess.h"

namespace testbed::backends::vm {

namespace fs = std::filesystem;

namespace {

util::Result<uint64_t> qcow2_virtual_size(const fs::path& disk) {
  auto info = util::run_checked({"qemu-img", "info", "--output=json", "-U", disk.string()});
  if (!info) return info.error();
  try {
    return nlohmann::json::parse(info->out).at("virtual-size").get<uint64_t>();
  } catch (const std::exception& e) {
    return util::fail("cannot read the virtual size of {}: {}", disk.string(), e.what());
  }
}

}  // namespace

RemoteSha256 sha256_on_lab_host(const remote::SshJump& host) {
  return [host](const std::string& path) -> util::Result<std::string> {
    auto s = remote::SshSession::connect(remote::target_of(host));
    if (!s) return util::fail("lab host {}: {}", host.host, s.error().message);
    auto r = s->exec({"sha256sum", path});
    if (!r) return r.error();
    if (r->exit_status != 0 || r->out.size() < 64)
      return util::fail("lab host {}: sha256sum {} failed: {}", host.host, path, r->err);
    return r->out.substr(0, 64);
  };
}

util::Result<std::string> image_volume_name(const fs::path& entry, const std::string& file) {
  auto manifest = util::read_file(entry / "manifest.json");
  if (!manifest) return manifest.error();
  // The cache keeps an image as <name>/<key>/ (or <name>/current/).
  return fmt::format("img-{}-{}-{}", entry.parent_path().filename().string(),
                     util::sha256_hex(*manifest).substr(0, 12), file);
}

util::Result<RemoteVmImage> ensure_vm_image_on_host(HostVolumes& volumes, const fs::path& entry,
                                                    const RemoteSha256& sha256) {
  RemoteVmImage out;
  auto size = qcow2_virtual_size(entry / kKvmBaseDisk);
  if (!size) return size.error();
  out.disk_virtual_size = *size;
  for (auto [file, dest] : {std::pair{kKvmBaseDisk, &out.disk},
                            std::pair{kVmKernel, &out.kernel},
                            std::pair{kVmInitrd, &out.initrd}}) {
    auto name = image_volume_name(entry, file);
    if (!name) return name.error();
    const fs::path local = entry / file;
    VolumeCheck check;
    if (sha256)
      check = [&](const std::string& path) -> util::Status {
        auto want = util::sha256_file(local);
        if (!want) return want.error();
        auto got = sha256(path);
        if (!got) return got.error();
        if (*got != *want)
          return util::fail("SHA-256 on the lab host is {}, here {}", *got, *want);
        return {};
      };
    bool sent = false;
    auto path = volumes.ensure_uploaded(*name, local, &sent, check);
    if (!path) return path.error();
    *dest = *path;
    out.uploaded += sent;
  }
  return out;
}

std::vector<std::string> remote_vm_node_volumes(const std::string& domain) {
  return {domain + ".qcow2", domain + "-config.tar"};
}

util::Status prepare_remote_vm_node(HostVolumes& volumes, const RemoteVmImage& image,
                                    const fs::path& config_tar, virt::NodeSpec* spec) {
  const auto names = remote_vm_node_volumes(spec->name);
  auto disk = volumes.create_overlay(names[0], image.disk, image.disk_virtual_size);
  if (!disk) return disk.error();
  auto config = volumes.upload(names[1], config_tar);
  if (!config) return config.error();
  spec->disk_path = *disk;
  spec->config_disk_path = *config;
  spec->kernel = image.kernel;
  spec->initrd = image.initrd;
  return {};
}

}  // namespace testbed::backends::vm
