#include "orchestrator/backends/vm/volumes.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <libvirt/virterror.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <pugixml.hpp>
#include <sstream>

#include "orchestrator/virt/handles.h"

namespace testbed::backends::vm {
using namespace testbed::virt;  // the libvirt primitives every backend builds on
using virt::last_libvirt_error;
namespace fs = std::filesystem;
using util::fail;

namespace {

/// Marks a volume whose upload finished: an interrupted upload leaves a volume of the
/// right size with the wrong bytes, which must never be taken for a cached image.
std::string marker_of(const std::string& name) { return name + ".complete"; }

std::string pool_xml(const PoolSettings& p) {
  pugi::xml_document doc;
  auto pool = doc.append_child("pool");
  pool.append_attribute("type") = "dir";
  pool.append_child("name").text() = p.name.c_str();
  auto target = pool.append_child("target");
  target.append_child("path").text() = p.path.c_str();
  target.append_child("permissions").append_child("mode").text() = "0711";
  std::ostringstream out;
  doc.save(out, "  ", pugi::format_default | pugi::format_no_declaration);
  return out.str();
}

struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

}  // namespace

std::string volume_xml(const std::string& name, uint64_t capacity, const std::string& format,
                       const std::string& backing_path, const std::string& backing_format) {
  pugi::xml_document doc;
  auto vol = doc.append_child("volume");
  vol.append_child("name").text() = name.c_str();
  auto cap = vol.append_child("capacity");
  cap.append_attribute("unit") = "bytes";
  cap.text() = std::to_string(capacity).c_str();
  auto alloc = vol.append_child("allocation");
  alloc.append_attribute("unit") = "bytes";
  alloc.text() = "0";
  vol.append_child("target").append_child("format").append_attribute("type") = format.c_str();
  if (!backing_path.empty()) {
    auto b = vol.append_child("backingStore");
    b.append_child("path").text() = backing_path.c_str();
    if (!backing_format.empty())
      b.append_child("format").append_attribute("type") = backing_format.c_str();
  }
  std::ostringstream out;
  doc.save(out, "  ", pugi::format_default | pugi::format_no_declaration);
  return out.str();
}

util::Result<HostVolumes> HostVolumes::open(virConnectPtr conn, const PoolSettings& settings) {
  const char* host = virConnectGetURI(conn);
  std::string where = host ? host : "?";
  free(const_cast<char*>(host));
  PoolHandle pool(virStoragePoolLookupByName(conn, settings.name.c_str()));
  if (!pool) {
    pool.reset(virStoragePoolDefineXML(conn, pool_xml(settings).c_str(), 0));
    if (!pool)
      return fail("{}: cannot define storage pool '{}' at {}: {}", where, settings.name,
                  settings.path, last_libvirt_error());
    if (virStoragePoolBuild(pool.get(), 0) != 0)
      return fail("{}: cannot create the directory {} of storage pool '{}': {}", where,
                  settings.path, settings.name, last_libvirt_error());
    virStoragePoolSetAutostart(pool.get(), 1);
  }
  if (virStoragePoolIsActive(pool.get()) != 1 && virStoragePoolCreate(pool.get(), 0) != 0)
    return fail("{}: cannot start storage pool '{}': {}", where, settings.name,
                last_libvirt_error());
  // Volumes left by earlier runs are files libvirt may not have listed yet.
  virStoragePoolRefresh(pool.get(), 0);
  return HostVolumes(conn, std::move(pool), settings.name);
}

util::Result<std::optional<HostVolumes>> HostVolumes::open_existing(virConnectPtr conn,
                                                                    const PoolSettings& settings) {
  PoolHandle pool(virStoragePoolLookupByName(conn, settings.name.c_str()));
  if (!pool) return std::optional<HostVolumes>();
  auto v = open(conn, settings);
  if (!v) return v.error();
  return std::optional<HostVolumes>(std::move(*v));
}

VolHandle HostVolumes::find(const std::string& name) {
  return VolHandle(virStorageVolLookupByName(pool_.get(), name.c_str()));
}

util::Result<std::vector<std::string>> HostVolumes::list() {
  virStoragePoolRefresh(pool_.get(), 0);
  virStorageVolPtr* vols = nullptr;
  int n = virStoragePoolListAllVolumes(pool_.get(), &vols, 0);
  if (n < 0) return fail("cannot list pool '{}': {}", pool_name_, last_libvirt_error());
  std::vector<std::string> out;
  for (int i = 0; i < n; ++i) {
    VolHandle v(vols[i]);
    if (const char* name = virStorageVolGetName(v.get())) out.emplace_back(name);
  }
  free(vols);
  return out;
}

util::Result<std::string> HostVolumes::path_of(const std::string& name) {
  VolHandle v = find(name);
  if (!v) return fail("pool '{}' has no volume '{}'", pool_name_, name);
  char* p = virStorageVolGetPath(v.get());
  if (!p) return fail("volume '{}': no path: {}", name, last_libvirt_error());
  std::string path = p;
  free(p);
  return path;
}

util::Status HostVolumes::remove(const std::string& name) {
  if (VolHandle m = find(marker_of(name)); m && virStorageVolDelete(m.get(), 0) != 0)
    return fail("cannot delete volume '{}' in pool '{}': {}", marker_of(name), pool_name_,
                last_libvirt_error());
  VolHandle v = find(name);
  if (!v) return {};
  if (virStorageVolDelete(v.get(), 0) != 0)
    return fail("cannot delete volume '{}' in pool '{}': {}", name, pool_name_,
                last_libvirt_error());
  return {};
}

util::Result<std::string> HostVolumes::upload(const std::string& name, const fs::path& local,
                                              const VolumeCheck& check) {
  std::error_code ec;
  const uint64_t size = fs::file_size(local, ec);
  if (ec) return fail("cannot upload {}: {}", local.string(), ec.message());
  if (auto st = remove(name); !st) return st.error();  // and its completion mark
  VolHandle v(virStorageVolCreateXML(pool_.get(), volume_xml(name, size, "raw").c_str(), 0));
  if (!v)
    return fail("cannot create volume '{}' ({} bytes) in pool '{}': {}", name, size, pool_name_,
                last_libvirt_error());
  Fd in{::open(local.c_str(), O_RDONLY | O_CLOEXEC)};
  if (in.fd < 0) return fail("cannot read {}: {}", local.string(), std::strerror(errno));
  StreamHandle st(virStreamNew(conn_, 0));
  auto abort_with = [&](std::string why) -> util::Result<std::string> {
    virStreamAbort(st.get());
    remove(name).ok();
    return fail("upload of {} to volume '{}' failed: {}", local.string(), name, why);
  };
  if (!st || virStorageVolUpload(v.get(), st.get(), 0, size, 0) != 0)
    return fail("cannot start the upload to volume '{}': {}", name, last_libvirt_error());
  std::array<char, 256 * 1024> buf;
  uint64_t sent = 0;
  while (sent < size) {
    ssize_t n = ::read(in.fd, buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return abort_with(n == 0 ? "file shrank while uploading" : std::strerror(errno));
    for (ssize_t off = 0; off < n;) {
      int w = virStreamSend(st.get(), buf.data() + off, static_cast<size_t>(n - off));
      if (w < 0) return abort_with(last_libvirt_error());
      off += w;
    }
    sent += static_cast<uint64_t>(n);
  }
  if (virStreamFinish(st.get()) != 0) return abort_with(last_libvirt_error());
  if (check) {
    auto path = path_of(name);
    util::Status ok = path ? check(*path) : util::Status(path.error());
    if (!ok) {
      remove(name).ok();
      return fail("upload of {} to volume '{}' failed its check: {}", local.string(), name,
                  ok.error().message);
    }
  }
  VolHandle marker(
      virStorageVolCreateXML(pool_.get(), volume_xml(marker_of(name), 0, "raw").c_str(), 0));
  if (!marker) return fail("cannot mark volume '{}' complete: {}", name, last_libvirt_error());
  return path_of(name);
}

util::Result<std::string> HostVolumes::ensure_uploaded(const std::string& name,
                                                       const fs::path& local, bool* uploaded,
                                                       const VolumeCheck& check) {
  if (uploaded) *uploaded = false;
  std::error_code ec;
  const uint64_t size = fs::file_size(local, ec);
  if (ec) return fail("cannot upload {}: {}", local.string(), ec.message());
  VolHandle v = find(name);
  virStorageVolInfo info{};
  // The file's own size (PHYSICAL, in .allocation): libvirt reports an uploaded qcow2's
  // virtual size as its capacity, which never equals the file's.
  if (v && find(marker_of(name)) &&
      virStorageVolGetInfoFlags(v.get(), &info, VIR_STORAGE_VOL_GET_PHYSICAL) == 0 &&
      info.allocation == size)
    return path_of(name);
  if (uploaded) *uploaded = true;
  return upload(name, local, check);
}

util::Result<std::string> HostVolumes::create_overlay(const std::string& name,
                                                      const std::string& backing_path,
                                                      uint64_t capacity) {
  if (auto st = remove(name); !st) return st.error();
  VolHandle v(virStorageVolCreateXML(
      pool_.get(), volume_xml(name, capacity, "qcow2", backing_path, "qcow2").c_str(), 0));
  if (!v)
    return fail("cannot create overlay volume '{}' over {} in pool '{}': {}", name, backing_path,
                pool_name_, last_libvirt_error());
  return path_of(name);
}

util::Status HostVolumes::download(const std::string& name, const fs::path& local) {
  VolHandle v = find(name);
  if (!v) return fail("pool '{}' has no volume '{}'", pool_name_, name);
  Fd out{::open(local.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)};
  if (out.fd < 0) return fail("cannot create {}: {}", local.string(), std::strerror(errno));
  StreamHandle st(virStreamNew(conn_, 0));
  if (!st || virStorageVolDownload(v.get(), st.get(), 0, 0, 0) != 0)
    return fail("cannot start the download of volume '{}': {}", name, last_libvirt_error());
  std::array<char, 256 * 1024> buf;
  for (;;) {
    int n = virStreamRecv(st.get(), buf.data(), buf.size());
    if (n < 0) {
      virStreamAbort(st.get());
      return fail("download of volume '{}' failed: {}", name, last_libvirt_error());
    }
    if (n == 0) break;
    for (int off = 0; off < n;) {
      ssize_t w = ::write(out.fd, buf.data() + off, static_cast<size_t>(n - off));
      if (w < 0 && errno == EINTR) continue;
      if (w < 0) {
        virStreamAbort(st.get());
        return fail("cannot write {}: {}", local.string(), std::strerror(errno));
      }
      off += static_cast<int>(w);
    }
  }
  if (virStreamFinish(st.get()) != 0)
    return fail("download of volume '{}' failed: {}", name, last_libvirt_error());
  return {};
}

}  // namespace testbed::backends::vm
