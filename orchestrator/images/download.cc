#include "orchestrator/images/download.h"

#include <curl/curl.h>
#include <fmt/format.h>

#include <cstdio>
#include <memory>
#include <mutex>
#include <sstream>

#include "orchestrator/util/hash.h"

namespace testbed::images {

namespace fs = std::filesystem;

namespace {

void global_init() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

struct CurlDeleter {
  void operator()(CURL* c) const noexcept { curl_easy_cleanup(c); }
};
using CurlHandle = std::unique_ptr<CURL, CurlDeleter>;

struct FileCloser {
  void operator()(FILE* f) const noexcept { fclose(f); }
};
using FileHandle = std::unique_ptr<FILE, FileCloser>;

struct Sink {
  FILE* file = nullptr;
  std::string* text = nullptr;
  bool write_failed = false;
};

size_t on_data(char* data, size_t size, size_t n, void* user) {
  auto* sink = static_cast<Sink*>(user);
  size_t len = size * n;
  if (sink->text) {
    sink->text->append(data, len);
    return len;
  }
  if (fwrite(data, 1, len, sink->file) != len) {
    sink->write_failed = true;
    return 0;  // makes libcurl stop with CURLE_WRITE_ERROR
  }
  return len;
}

struct ProgressCtx {
  const DownloadOptions* opts;
  uint64_t offset;
};

int on_progress(void* user, curl_off_t dltotal, curl_off_t dlnow, curl_off_t, curl_off_t) {
  auto* p = static_cast<ProgressCtx*>(user);
  if (p->opts->progress)
    p->opts->progress(p->offset + uint64_t(dlnow), dltotal ? p->offset + uint64_t(dltotal) : 0);
  return 0;
}

enum class Attempt { kDone, kRangeIgnored };

// One transfer from `offset` appended to `part`.
util::Result<Attempt> transfer(const std::string& url, const fs::path& part, uint64_t offset,
                               const DownloadOptions& opts) {
  FileHandle f(fopen(part.c_str(), offset ? "ab" : "wb"));
  if (!f) return util::fail("cannot open {} for writing: {}", part.string(), strerror(errno));
  CurlHandle c(curl_easy_init());
  if (!c) return util::fail("libcurl could not create a handle");
  char errbuf[CURL_ERROR_SIZE] = {0};
  Sink sink{f.get(), nullptr, false};
  ProgressCtx pc{&opts, offset};
  curl_easy_setopt(c.get(), CURLOPT_URL, url.c_str());
  curl_easy_setopt(c.get(), CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(c.get(), CURLOPT_FAILONERROR, 1L);
  curl_easy_setopt(c.get(), CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(c.get(), CURLOPT_WRITEFUNCTION, on_data);
  curl_easy_setopt(c.get(), CURLOPT_WRITEDATA, &sink);
  curl_easy_setopt(c.get(), CURLOPT_CONNECTTIMEOUT, opts.connect_timeout_s);
  curl_easy_setopt(c.get(), CURLOPT_LOW_SPEED_LIMIT, 1024L);
  curl_easy_setopt(c.get(), CURLOPT_LOW_SPEED_TIME, opts.low_speed_time_s);
  curl_easy_setopt(c.get(), CURLOPT_XFERINFOFUNCTION, on_progress);
  curl_easy_setopt(c.get(), CURLOPT_XFERINFODATA, &pc);
  curl_easy_setopt(c.get(), CURLOPT_NOPROGRESS, 0L);
  if (offset) curl_easy_setopt(c.get(), CURLOPT_RESUME_FROM_LARGE, curl_off_t(offset));
  CURLcode rc = curl_easy_perform(c.get());
  long status = 0;
  curl_easy_getinfo(c.get(), CURLINFO_RESPONSE_CODE, &status);
  if (fflush(f.get()) != 0 || sink.write_failed)
    return util::fail("cannot write {}: {}", part.string(), strerror(errno));
  if (rc == CURLE_RANGE_ERROR || (offset && rc == CURLE_OK && status == 200))
    return Attempt::kRangeIgnored;
  if (rc == CURLE_HTTP_RETURNED_ERROR && status == 416) return Attempt::kRangeIgnored;
  if (rc != CURLE_OK)
    return util::fail(
        "download of {} failed after {} bytes: {} ({}); run the build again "
        "to resume",
        url, offset, errbuf[0] ? errbuf : curl_easy_strerror(rc), curl_easy_strerror(rc));
  return Attempt::kDone;
}

}  // namespace

std::string url_file_name(const std::string& url) {
  std::string u = url.substr(0, url.find_first_of("?#"));
  auto slash = u.rfind('/');
  return slash == std::string::npos ? u : u.substr(slash + 1);
}

util::Result<std::string> digest_from_sha256sums(const std::string& sums,
                                                 const std::string& file_name) {
  std::istringstream in(sums);
  std::string line;
  while (std::getline(in, line)) {
    auto sp = line.find(' ');
    if (sp != 64) continue;
    std::string name = line.substr(sp);
    name.erase(0, name.find_first_not_of(" *"));
    if (!name.empty() && name.back() == '\r') name.pop_back();
    if (name == file_name) {
      std::string hex = line.substr(0, 64);
      for (auto& ch : hex) ch = char(std::tolower(static_cast<unsigned char>(ch)));
      return hex;
    }
  }
  return util::fail(
      "no SHA-256 for {} in the SHA256SUMS file; check the recipe's "
      "cloud_image and sha256sums URLs name the same release",
      file_name);
}

util::Result<std::string> download_text(const std::string& url, long timeout_s) {
  global_init();
  CurlHandle c(curl_easy_init());
  if (!c) return util::fail("libcurl could not create a handle");
  std::string text;
  Sink sink{nullptr, &text, false};
  char errbuf[CURL_ERROR_SIZE] = {0};
  curl_easy_setopt(c.get(), CURLOPT_URL, url.c_str());
  curl_easy_setopt(c.get(), CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(c.get(), CURLOPT_FAILONERROR, 1L);
  curl_easy_setopt(c.get(), CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(c.get(), CURLOPT_WRITEFUNCTION, on_data);
  curl_easy_setopt(c.get(), CURLOPT_WRITEDATA, &sink);
  curl_easy_setopt(c.get(), CURLOPT_TIMEOUT, timeout_s);
  CURLcode rc = curl_easy_perform(c.get());
  if (rc != CURLE_OK)
    return util::fail("cannot download {}: {}", url, errbuf[0] ? errbuf : curl_easy_strerror(rc));
  return text;
}

util::Status download_verified(const std::string& url, const fs::path& dest,
                               const std::string& sha256, const DownloadOptions& opts) {
  global_init();
  if (sha256.size() != 64)
    return util::fail("no valid SHA-256 to verify {} against (got '{}')", url, sha256);
  std::error_code ec;
  if (fs::exists(dest, ec)) {
    auto have = util::sha256_file(dest);
    if (have && *have == sha256) return {};
    fs::remove(dest, ec);  // stale or corrupt: fetch again
  }
  fs::create_directories(dest.parent_path(), ec);
  fs::path part = dest;
  part += ".part";
  for (int tries = 0; tries < 2; ++tries) {
    uint64_t offset = fs::exists(part, ec) ? fs::file_size(part, ec) : 0;
    auto r = transfer(url, part, offset, opts);
    if (!r) return r.error();  // .part kept: the next attempt resumes
    if (*r == Attempt::kRangeIgnored) {
      // The server sent the whole file (or refused the range): start over from zero.
      fs::remove(part, ec);
      continue;
    }
    auto have = util::sha256_file(part);
    if (!have) return have.error();
    if (*have != sha256) {
      fs::remove(part, ec);
      return util::fail(
          "checksum mismatch for {}: expected SHA-256 {}, got {}; the partial "
          "file was removed. Check the recipe's sha256 (or sha256sums) against "
          "the release's published SHA256SUMS",
          url, sha256, *have);
    }
    fs::rename(part, dest, ec);
    if (ec)
      return util::fail("cannot move {} to {}: {}", part.string(), dest.string(), ec.message());
    return {};
  }
  return util::fail(
      "download of {} did not complete: the server ignores HTTP Range requests "
      "and the restart failed too",
      url);
}

}  // namespace testbed::images
