#pragma once
// Cloud-image download for the KVM builder: HTTP(S) with libcurl, resumable (HTTP Range
// on DEST.part), verified against a SHA-256 before it is moved to DEST.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>

#include "orchestrator/util/result.h"

namespace testbed::images {

struct DownloadOptions {
  /// Called with (bytes so far, total or 0 when unknown) while data arrives.
  std::function<void(uint64_t done, uint64_t total)> progress;
  /// Abort when fewer than 1 KiB/s arrive for this long (a stalled mirror).
  long low_speed_time_s = 60;
  long connect_timeout_s = 30;
};

/// Downloads `url` to `dest` unless `dest` already exists with the right digest.
/// Bytes go to `dest`.part first; a .part left by an interrupted download is resumed
/// with a Range request (a server that ignores Range restarts it from zero). When the
/// whole file is there its SHA-256 must equal `sha256` (lower-case hex): on a mismatch
/// the .part is removed (a resumed file is never trusted twice) and the error names
/// both digests. On success `dest` appears atomically (rename).
util::Status download_verified(const std::string& url, const std::filesystem::path& dest,
                               const std::string& sha256, const DownloadOptions& opts = {});

/// Downloads `url` into memory (small files: SHA256SUMS). HTTP errors fail.
util::Result<std::string> download_text(const std::string& url, long timeout_s = 60);

/// The digest for `file_name` in a SHA256SUMS text ("<hex> *name" or "<hex>  name" lines).
util::Result<std::string> digest_from_sha256sums(const std::string& sums,
                                                 const std::string& file_name);

/// The last path segment of a URL, without query or fragment ("…/x.img?y" -> "x.img").
std::string url_file_name(const std::string& url);

}  // namespace testbed::images
