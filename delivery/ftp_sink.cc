// The `ftp` push target: the same change and snapshot files as `file`
// (delivery/ndjson_files.h), uploaded with libcurl under a temporary name and
// renamed on the server (RNFR / RNTO after the upload), so a consumer polling
// the directory never reads a partial file.
//
// Config: {"url": "ftp://host[:port]/dir/", "username", "password"}. The
// directory is created on the server if missing. Temp names left by an
// interrupted upload are deleted before the sink's first upload.
//
// Outbound safety: every socket libcurl opens (control and data connections)
// is checked by CURLOPT_OPENSOCKETFUNCTION against the rule in
// sink_config.h, so neither a DNS answer that changes after validation nor a
// PASV reply can lead to a private address; libcurl ignores the address in
// PASV replies anyway (CURLOPT_FTP_SKIP_PASV_IP). Only ftp:// is spoken and
// nothing redirects.
#include <curl/curl.h>

#include <atomic>
#include <cstdio>
#include <cstring>
#include <mutex>

#include "delivery/ndjson_files.h"
#include "delivery/outbound.h"
#include "delivery/sink_config.h"
#include "delivery/sinks.h"

namespace syncmgr::delivery {
namespace {

// Timeouts of every FTP call (SPEC: timeouts on every outbound call).
// Connecting (TCP) to the server. Default: 10 s.
constexpr long kConnectTimeoutMs = 10'000;
// Waiting for any one answer of the server. Default: 30 s.
constexpr long kResponseTimeoutS = 30;
// A change-file upload as a whole. Default: 120 s.
constexpr long kChangeFileTimeoutMs = 120'000;
// Any transfer (snapshots have no total bound) slower than this many bytes
// per second for kLowSpeedTimeS is abandoned. Default: 1 B/s for 30 s.
constexpr long kLowSpeedBytesPerS = 1;
constexpr long kLowSpeedTimeS = 30;
// Longest config url, bytes.
constexpr size_t kMaxUrlBytes = 2048;
// A directory listing read for the temp-file sweep, bytes at most.
constexpr size_t kMaxListingBytes = 1 << 20;

struct FtpConfig {
  std::string url;  // ends with '/'
  std::string host;
  // The directory relative to the login directory, decoded, ending in '/'
  // ("" for the login directory itself): how commands sent before the
  // transfer's CWD name files in it.
  std::string dir;
  std::string username;
  std::string password;
};

void GlobalInit() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

StatusOr<FtpConfig> ParseFtpConfig(std::string_view config_json) {
  ConfigObject config;
  SYNCMGR_RETURN_IF_ERROR(config.Parse(config_json, {"url", "username", "password"}));
  FtpConfig out;
  SYNCMGR_ASSIGN_OR_RETURN(std::optional<std::string> url, config.String("url"));
  SYNCMGR_ASSIGN_OR_RETURN(std::optional<std::string> username, config.String("username"));
  SYNCMGR_ASSIGN_OR_RETURN(std::optional<std::string> password, config.String("password"));
  if (!url || url->empty())
    return Status::InvalidArgument("config 'url' is required for an ftp target");
  if (!username || username->empty()) {
    return Status::InvalidArgument("config 'username' is required for an ftp target");
  }
  if (!password) return Status::InvalidArgument("config 'password' is required for an ftp target");
  for (const std::string* s : {&*url, &*username, &*password}) {
    for (unsigned char c : *s) {
      if (c < 0x20 || c == 0x7f) {
        return Status::InvalidArgument(
            "config 'url', 'username' and 'password' may not contain "
            "control characters");
      }
    }
  }
  if (url->size() > kMaxUrlBytes) return Status::InvalidArgument("config 'url' is too long");
  // As written, not only as parsed: "ftp://host" names no directory.
  if (url->back() != '/' || url->rfind("ftp://", 0) != 0 || url->rfind("ftp:///", 0) == 0) {
    return Status::InvalidArgument(
        "config 'url' must be ftp://host[:port]/dir/ (a directory: ending in '/')");
  }
  const Status bad_url = Status::InvalidArgument(
      "config 'url' must be ftp://host[:port]/dir/ (a directory: ending in '/'; no user, "
      "password, query or fragment in it)");
  GlobalInit();
  CURLU* u = curl_url();
  if (u == nullptr) return Status::Internal("out of memory");
  Status result;
  char* part = nullptr;
  if (curl_url_set(u, CURLUPART_URL, url->c_str(), CURLU_NON_SUPPORT_SCHEME) != CURLUE_OK) {
    result = bad_url;
  } else if (curl_url_get(u, CURLUPART_SCHEME, &part, 0) != CURLUE_OK ||
             std::string_view(part) != "ftp") {
    result = bad_url;
  }
  if (part) curl_free(part);
  part = nullptr;
  for (CURLUPart p : {CURLUPART_USER, CURLUPART_PASSWORD, CURLUPART_OPTIONS, CURLUPART_QUERY,
                      CURLUPART_FRAGMENT}) {
    if (!result.ok()) break;
    if (curl_url_get(u, p, &part, 0) == CURLUE_OK) result = bad_url;
    if (part) curl_free(part);
    part = nullptr;
  }
  if (result.ok()) {
    if (curl_url_get(u, CURLUPART_HOST, &part, 0) != CURLUE_OK) {
      result = bad_url;
    } else {
      out.host = part;
      if (out.host.empty()) result = bad_url;
      // An IPv6 literal comes bracketed; the resolver wants it bare.
      if (out.host.size() > 2 && out.host.front() == '[' && out.host.back() == ']') {
        out.host = out.host.substr(1, out.host.size() - 2);
      }
    }
    if (part) curl_free(part);
    part = nullptr;
  }
  if (result.ok()) {
    if (curl_url_get(u, CURLUPART_PATH, &part, CURLU_URLDECODE) != CURLUE_OK ||
        std::string_view(part).empty() || std::string_view(part).back() != '/') {
      result = bad_url;
    } else {
      out.dir = std::string(part).substr(1);
      for (unsigned char c : out.dir) {
        if (c < 0x20 || c == 0x7f) result = bad_url;  // %0D%0A would split an FTP command
      }
    }
    if (part) curl_free(part);
    part = nullptr;
  }
  if (result.ok()) {
    if (curl_url_get(u, CURLUPART_URL, &part, 0) != CURLUE_OK)
      result = bad_url;
    else
      out.url = part;
    if (part) curl_free(part);
  }
  curl_url_cleanup(u);
  SYNCMGR_RETURN_IF_ERROR(result);
  out.username = std::move(*username);
  out.password = std::move(*password);
  return out;
}

// ---- One libcurl transfer ---------------------------------------------------------

struct CurlSlistDeleter {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};
using CurlSlist = std::unique_ptr<curl_slist, CurlSlistDeleter>;

struct Transfer {
  bool allow_private = false;
  const std::atomic<bool>* cancel = nullptr;
  std::string refused;  // set when the safety rule refused a socket
  // Upload source: either a buffer or a file.
  std::string_view body;
  size_t body_pos = 0;
  std::FILE* file = nullptr;
  // Download sink (directory listing).
  std::string received;
};

curl_socket_t OpenSocket(void* clientp, curlsocktype purpose, curl_sockaddr* address) {
  auto* t = static_cast<Transfer*>(clientp);
  (void)purpose;
  if (!t->allow_private && IsPrivateAddress(&address->addr)) {
    t->refused = "outbound safety: refused to connect to " + AddressText(&address->addr) +
                 " (a loopback, private, link-local or metadata address; allowed only with "
                 "--allow-private-push)";
    return CURL_SOCKET_BAD;
  }
  return ::socket(address->family, address->socktype, address->protocol);
}

// Progress callback: a non-zero answer aborts the transfer (the delivery
// engine is stopping).
int Progress(void* clientp, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  auto* t = static_cast<Transfer*>(clientp);
  return t->cancel != nullptr && t->cancel->load(std::memory_order_relaxed) ? 1 : 0;
}

size_t ReadBody(char* buffer, size_t size, size_t nitems, void* userdata) {
  auto* t = static_cast<Transfer*>(userdata);
  const size_t room = size * nitems;
  if (t->file != nullptr) return std::fread(buffer, 1, room, t->file);
  size_t n = std::min(room, t->body.size() - t->body_pos);
  std::memcpy(buffer, t->body.data() + t->body_pos, n);
  t->body_pos += n;
  return n;
}

size_t WriteListing(char* data, size_t size, size_t nmemb, void* userdata) {
  auto* t = static_cast<Transfer*>(userdata);
  const size_t n = size * nmemb;
  if (t->received.size() + n > kMaxListingBytes) return 0;  // aborts the transfer
  t->received.append(data, n);
  return n;
}

struct CurlDeleter {
  void operator()(CURL* c) const { curl_easy_cleanup(c); }
};
using Curl = std::unique_ptr<CURL, CurlDeleter>;

class FtpSink final : public Sink {
 public:
  FtpSink(FtpConfig config, SinkEnv env) : config_(std::move(config)), env_(env) { GlobalInit(); }

  StatusOr<SendResult> Send(const Batch& batch) override {
    SendResult result;
    if (!swept_) {
      // Leftovers of an upload a crash interrupted. Best effort: a failure
      // here shows again in the upload itself.
      swept_ = SweepTempNames();
    }
    Transfer t;
    const std::string body = ChangeFileBody(batch);
    t.body = body;
    const std::string name = ChangeFileName(batch.first_seq, batch.last_seq);
    UploadOutcome outcome =
        Upload(name, &t, static_cast<curl_off_t>(body.size()), kChangeFileTimeoutMs);
    result.outcome = outcome.outcome;
    result.detail =
        outcome.outcome == SendResult::Outcome::kDelivered ? "uploaded " + name : outcome.detail;
    return result;
  }

  Status WriteSnapshot(uint64_t seq, const StateVisitor& visit) override {
    // The state can be large: it goes to a local temp file (removed when
    // closed) and is uploaded from there.
    std::FILE* file = std::tmpfile();
    if (file == nullptr) return Status::Internal("ftp: cannot create a local temp file");
    std::unique_ptr<std::FILE, int (*)(std::FILE*)> closer(file, &std::fclose);
    curl_off_t size = 0;
    SYNCMGR_RETURN_IF_ERROR(StreamSnapshot(visit, [&](std::string_view bytes) {
      if (std::fwrite(bytes.data(), 1, bytes.size(), file) != bytes.size()) {
        return Status::NoSpace("ftp: writing the local snapshot copy failed");
      }
      size += static_cast<curl_off_t>(bytes.size());
      return Status::Ok();
    }));
    if (std::fflush(file) != 0 || std::fseek(file, 0, SEEK_SET) != 0) {
      return Status::Internal("ftp: rewinding the local snapshot copy failed");
    }
    Transfer t;
    t.file = file;
    UploadOutcome outcome = Upload(SnapshotFileName(seq), &t, size, 0);
    if (outcome.outcome == SendResult::Outcome::kDelivered) return Status::Ok();
    return Status::Unavailable(outcome.detail);
  }

 private:
  struct UploadOutcome {
    SendResult::Outcome outcome = SendResult::Outcome::kRetry;
    std::string detail;
  };

  // The options every transfer shares: credentials, timeouts, safety.
  Curl NewHandle(Transfer* t, char* error_buffer) const {
    Curl curl(curl_easy_init());
    if (!curl) return curl;
    CURL* c = curl.get();
    t->allow_private = env_.allow_private;
    t->cancel = env_.cancel;
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, error_buffer);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "ftp");
    curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "ftp");
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_USERNAME, config_.username.c_str());
    curl_easy_setopt(c, CURLOPT_PASSWORD, config_.password.c_str());
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, kConnectTimeoutMs);
    curl_easy_setopt(c, CURLOPT_SERVER_RESPONSE_TIMEOUT, kResponseTimeoutS);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, kLowSpeedBytesPerS);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, kLowSpeedTimeS);
    curl_easy_setopt(c, CURLOPT_FTP_SKIP_PASV_IP, 1L);
    curl_easy_setopt(c, CURLOPT_OPENSOCKETFUNCTION, &OpenSocket);
    curl_easy_setopt(c, CURLOPT_OPENSOCKETDATA, t);
    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, &Progress);
    curl_easy_setopt(c, CURLOPT_XFERINFODATA, t);
    return curl;
  }

  UploadOutcome Fail(CURL* c, CURLcode code, const Transfer& t, const char* error_buffer) const {
    UploadOutcome out;
    if (!t.refused.empty()) {
      // Retried like any connection failure (the webhook sink does the same):
      // max_attempts turns it into a dead letter if it persists.
      out.outcome = SendResult::Outcome::kRetry;
      out.detail = t.refused;
      return out;
    }
    long response = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &response);
    out.detail = "ftp: ";
    out.detail += error_buffer[0] != '\0' ? error_buffer : curl_easy_strerror(code);
    if (response > 0) out.detail += " (last reply " + std::to_string(response) + ")";
    // FTP's 5xx replies are permanent (login refused, no permission, bad
    // name), like an HTTP 4xx; 4xx replies, timeouts and connection errors
    // are transient.
    out.outcome = response >= 500 && response < 600 ? SendResult::Outcome::kRefused
                                                    : SendResult::Outcome::kRetry;
    return out;
  }

  // Uploads to TempFileName(name) in the target directory, then renames it
  // to `name` on the server. timeout_ms 0: no total bound (low-speed only).
  UploadOutcome Upload(const std::string& name, Transfer* t, curl_off_t size,
                       long timeout_ms) const {
    char error_buffer[CURL_ERROR_SIZE] = {};
    Curl curl = NewHandle(t, error_buffer);
    if (!curl) return {SendResult::Outcome::kRetry, "ftp: out of memory"};
    CURL* c = curl.get();
    const std::string temp = TempFileName(name);
    const std::string url = config_.url + temp;
    CurlSlist rename(curl_slist_append(nullptr, ("RNFR " + temp).c_str()));
    curl_slist_append(rename.get(), ("RNTO " + name).c_str());
    curl_easy_setopt(c, CURLOPT_URL, url.c_str());
    curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, size);
    curl_easy_setopt(c, CURLOPT_READFUNCTION, &ReadBody);
    curl_easy_setopt(c, CURLOPT_READDATA, t);
    curl_easy_setopt(c, CURLOPT_FTP_CREATE_MISSING_DIRS,
                     static_cast<long>(CURLFTP_CREATE_DIR_RETRY));
    curl_easy_setopt(c, CURLOPT_POSTQUOTE, rename.get());
    if (timeout_ms > 0) curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms);
    CURLcode code = curl_easy_perform(c);
    if (code != CURLE_OK) return Fail(c, code, *t, error_buffer);
    return {SendResult::Outcome::kDelivered, ""};
  }

  // Lists the directory and deletes temp names (IsTempFileName). True when
  // the listing worked (or the directory does not exist yet).
  bool SweepTempNames() const {
    char error_buffer[CURL_ERROR_SIZE] = {};
    Transfer t;
    {
      Curl curl = NewHandle(&t, error_buffer);
      if (!curl) return false;
      CURL* c = curl.get();
      curl_easy_setopt(c, CURLOPT_URL, config_.url.c_str());
      curl_easy_setopt(c, CURLOPT_DIRLISTONLY, 1L);
      curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, &WriteListing);
      curl_easy_setopt(c, CURLOPT_WRITEDATA, &t);
      curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, kChangeFileTimeoutMs);
      CURLcode code = curl_easy_perform(c);
      if (code == CURLE_REMOTE_ACCESS_DENIED || code == CURLE_REMOTE_FILE_NOT_FOUND) return true;
      if (code != CURLE_OK) return false;
    }
    CurlSlist deletes;
    size_t count = 0;
    std::string_view listing = t.received;
    while (!listing.empty()) {
      size_t eol = listing.find('\n');
      std::string_view line = listing.substr(0, eol);
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      // Some servers list "dir/name": keep the last component.
      if (size_t slash = line.rfind('/'); slash != std::string_view::npos) {
        line.remove_prefix(slash + 1);
      }
      if (IsTempFileName(line)) {
        // '*': a failing DELE (a name gone meanwhile) does not stop the rest.
        // Quote commands run before the CWD into the directory: the path
        // is relative to the login directory.
        const std::string command = "*DELE " + config_.dir + std::string(line);
        curl_slist* grown = curl_slist_append(deletes.get(), command.c_str());
        if (grown == nullptr) return false;
        if (!deletes) deletes.reset(grown);
        ++count;
      }
      if (eol == std::string_view::npos) break;
      listing.remove_prefix(eol + 1);
    }
    if (count == 0) return true;
    Transfer d;
    Curl curl = NewHandle(&d, error_buffer);
    if (!curl) return false;
    CURL* c = curl.get();
    curl_easy_setopt(c, CURLOPT_URL, config_.url.c_str());
    curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    curl_easy_setopt(c, CURLOPT_QUOTE, deletes.get());
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, kChangeFileTimeoutMs);
    return curl_easy_perform(c) == CURLE_OK;
  }

  const FtpConfig config_;
  const SinkEnv env_;
  bool swept_ = false;
};

}  // namespace

Status ValidateFtpConfig(std::string_view config_json, const SinkEnv& env) {
  SYNCMGR_ASSIGN_OR_RETURN(FtpConfig config, ParseFtpConfig(config_json));
  if (env.allow_private) return Status::Ok();
  return CheckPublicHost(config.host, "url");
}

StatusOr<std::unique_ptr<Sink>> MakeFtpSink(std::string_view config_json, const SinkEnv& env) {
  SYNCMGR_ASSIGN_OR_RETURN(FtpConfig config, ParseFtpConfig(config_json));
  return std::unique_ptr<Sink>(std::make_unique<FtpSink>(std::move(config), env));
}

}  // namespace syncmgr::delivery
