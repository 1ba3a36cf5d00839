#pragma once
// KVM images: the recipe's Ubuntu cloud image, downloaded once (resumable, SHA-256
// verified) and stored as the image's read-only base disk, plus the recipe's part of the
// cloud-config. Nodes never write to the base: each gets a qcow2 overlay
// (make_overlay) and a per-node NoCloud seed (kvm_cloud_init.h); reset = new overlay.
#include <filesystem>
#include <string>

#include "orchestrator/images/builder.h"
#include "orchestrator/images/download.h"

namespace testbed::backends::vm {
using images::Builder;
using images::BuildOutput;
using images::ProgressFn;
using images::DownloadOptions;

/// File names inside a KVM image's cache entry (work_dir while building).
inline constexpr const char* kKvmBaseDisk = "base.qcow2";
inline constexpr const char* kKvmRecipeCloudConfig = "recipe-cloud-config.yaml";

/// `qemu-img create -f qcow2 -b BASE -F qcow2 OVERLAY [SIZE]`: a fresh copy-on-write
/// disk over `base` (any previous `overlay` is replaced). `size` ("10G") grows the
/// virtual disk; cloud-init's growpart then grows the root file system. Empty = base size.
util::Status make_overlay(const std::filesystem::path& base, const std::filesystem::path& overlay,
                          const std::string& size = {});

/// The backing file of a qcow2 image as `qemu-img info --output=json` reports it
/// (empty when it has none).
util::Result<std::string> backing_file(const std::filesystem::path& image);

class CloudImageBuilder : public Builder {
 public:
  /// `downloads_dir` keeps downloads across builds (partial ones are resumed there,
  /// finished ones reused when another recipe names the same image).
  explicit CloudImageBuilder(std::filesystem::path downloads_dir, DownloadOptions opts = {})
      : downloads_(std::move(downloads_dir)), opts_(std::move(opts)) {}
  config::BackendKind backend() const override { return config::BackendKind::kVm; }
  std::string version() const override { return "kvm-1"; }
  /// The derived cloud-config (so a change in how it is derived rebuilds).
  std::string key_material(const config::Recipe& recipe) const override;
  /// Resolves the digest (recipe sha256, or its line in the sha256sums file), downloads
  /// the cloud image into downloads_dir, checks it is qcow2 (`qemu-img info`), copies it
  /// to work_dir/base.qcow2 and writes work_dir/recipe-cloud-config.yaml. Packages are
  /// installed by cloud-init at the node's first boot, so the manifest's package list is
  /// empty here (the runner records the booted node's `dpkg-query` instead).
  util::Result<BuildOutput> build(const config::Recipe& recipe,
                                  const std::filesystem::path& work_dir,
                                  const ProgressFn& progress) override;

 private:
  std::filesystem::path downloads_;
  DownloadOptions opts_;
};

}  // namespace testbed::backends::vm
