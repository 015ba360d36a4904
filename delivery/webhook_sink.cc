// The `webhook` push target (SPEC §4 "Push delivery"): each batch is one
// HTTP POST of {"target_id", "events": [feed events]} (wire/feed_json.h),
// sent with libcurl.
//
// Config (after sink.cc took out batch_size / max_attempts / on_failure):
//   "url"           http:// or https:// URL (required)
//   "secret"        "whsec_" + base64 of the key bytes: Standard Webhooks
//                   signature headers (optional)
//   "bearer_token"  Authorization: Bearer (optional)
//   "timeout_ms"    whole request, 100..600000. Default: 10000.
//
// Outcome: 2xx delivered; 4xx other than 408 / 429 refused (dead letter);
// anything else (3xx — redirects are never followed —, 408, 429, 5xx,
// transport errors, timeouts) retried; 429 / 503 report Retry-After.
//
// Blocking: one libcurl easy handle per sink, reused (keep-alive), driven on
// the delivery worker that calls Send; every call is bounded by timeout_ms
// and gives up early when SinkEnv::cancel is set (docs/push.md says why a
// blocking sink per worker was chosen over curl multi).
#include <curl/curl.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <simdjson.h>

#include <chrono>
#include <mutex>

#include "delivery/outbound.h"
#include "delivery/sinks.h"
#include "wire/feed_json.h"
#include "wire/json_writer.h"

namespace syncmgr::delivery {

namespace {

constexpr uint32_t kDefaultTimeoutMs = 10'000;
constexpr uint32_t kMinTimeoutMs = 100;
constexpr uint32_t kMaxTimeoutMs = 600'000;
// Connecting may take at most this share of the whole timeout... and at most
// this long.
constexpr uint32_t kMaxConnectTimeoutMs = 10'000;
// Bytes of a receiver's answer kept for last_error / dead letters.
constexpr size_t kMaxDetailBytes = 300;
constexpr std::string_view kSecretPrefix = "whsec_";
constexpr size_t kMaxSecretKeyBytes = 256;
constexpr size_t kMaxUrlBytes = 2048;
constexpr size_t kMaxTokenBytes = 4096;

void GlobalInit() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

struct WebhookConfig {
  std::string url;
  std::string secret_key;  // decoded key bytes; empty: unsigned
  std::string bearer_token;
  uint32_t timeout_ms = kDefaultTimeoutMs;
};

// Strict base64 (RFC 4648, padding required, no whitespace).
bool DecodeBase64(std::string_view in, std::string* out) {
  if (in.empty() || in.size() % 4 != 0) return false;
  for (size_t i = 0; i < in.size(); ++i) {
    const char c = in[i];
    const bool alpha = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                       c == '+' || c == '/';
    const bool pad = c == '=' && i >= in.size() - 2 && (i == in.size() - 1 || in.back() == '=');
    if (!alpha && !pad) return false;
  }
  out->assign(in.size() / 4 * 3, '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out->data()),
                                reinterpret_cast<const unsigned char*>(in.data()),
                                static_cast<int>(in.size()));
  if (n < 0) return false;
  size_t padding = 0;
  if (in.back() == '=') ++padding;
  if (in.size() >= 2 && in[in.size() - 2] == '=') ++padding;
  out->resize(static_cast<size_t>(n) - padding);
  return true;
}

std::string EncodeBase64(std::string_view in) {
  std::string out(4 * ((in.size() + 2) / 3), '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(in.data()),
                                static_cast<int>(in.size()));
  out.resize(static_cast<size_t>(std::max(n, 0)));
  return out;
}

bool HasControlChars(std::string_view s) {
  for (char c : s) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) return true;
  }
  return false;
}

Status Bad(std::string_view member, std::string_view why) {
  return Status::InvalidArgument("webhook config member '" + std::string(member) + "' " +
                                 std::string(why));
}

// Parses (and checks) a webhook config; outbound safety is separate.
StatusOr<WebhookConfig> ParseConfig(std::string_view json) {
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  simdjson::dom::object object;
  if (parser.parse(json.data(), json.size(), true).get(root) != simdjson::SUCCESS ||
      root.get_object().get(object) != simdjson::SUCCESS) {
    return Status::InvalidArgument("the webhook config must be a JSON object");
  }
  WebhookConfig c;
  bool have_url = false;
  for (auto field : object) {
    std::string_view text;
    const bool is_string = field.value.get_string().get(text) == simdjson::SUCCESS;
    if (field.key == "url") {
      if (!is_string || text.empty() || text.size() > kMaxUrlBytes || HasControlChars(text)) {
        return Bad("url", "must be an http:// or https:// URL");
      }
      c.url = std::string(text);
      have_url = true;
    } else if (field.key == "secret") {
      if (!is_string || text.substr(0, kSecretPrefix.size()) != kSecretPrefix ||
          !DecodeBase64(text.substr(kSecretPrefix.size()), &c.secret_key) ||
          c.secret_key.empty() || c.secret_key.size() > kMaxSecretKeyBytes) {
        return Bad("secret",
                   "must be \"whsec_\" followed by the base64 of the key bytes (Standard "
                   "Webhooks)");
      }
    } else if (field.key == "bearer_token") {
      if (!is_string || text.empty() || text.size() > kMaxTokenBytes || HasControlChars(text)) {
        return Bad("bearer_token", "must be a non-empty string without control characters");
      }
      c.bearer_token = std::string(text);
    } else if (field.key == "timeout_ms") {
      uint64_t v = 0;
      if (field.value.get_uint64().get(v) != simdjson::SUCCESS || v < kMinTimeoutMs ||
          v > kMaxTimeoutMs) {
        return Bad("timeout_ms", "must be an integer from 100 to 600000");
      }
      c.timeout_ms = static_cast<uint32_t>(v);
    } else {
      return Status::InvalidArgument(
          "unknown webhook config member '" + std::string(field.key) +
          "' (allowed: url, secret, bearer_token, timeout_ms, batch_size, max_attempts, "
          "on_failure)");
    }
  }
  if (!have_url) return Bad("url", "is required");
  return c;
}

// The URL's scheme and host, via libcurl's own parser (the one that will
// connect).
Status UrlHost(const std::string& url, std::string* host) {
  GlobalInit();
  std::unique_ptr<CURLU, decltype(&curl_url_cleanup)> u(curl_url(), &curl_url_cleanup);
  if (!u || curl_url_set(u.get(), CURLUPART_URL, url.c_str(), 0) != CURLUE_OK) {
    return Bad("url", "is not a valid URL");
  }
  char* scheme = nullptr;
  char* h = nullptr;
  Status st;
  if (curl_url_get(u.get(), CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
      (std::string_view(scheme) != "http" && std::string_view(scheme) != "https")) {
    st = Bad("url", "must use http:// or https://");
  } else if (curl_url_get(u.get(), CURLUPART_HOST, &h, 0) != CURLUE_OK || h == nullptr ||
             *h == '\0') {
    st = Bad("url", "has no host");
  } else {
    *host = h;
  }
  curl_free(scheme);
  curl_free(h);
  return st;
}

std::string Signature(const std::string& key, std::string_view signed_content) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(signed_content.data()), signed_content.size(), mac,
       &len);
  return "v1," + EncodeBase64({reinterpret_cast<const char*>(mac), len});
}

class WebhookSink : public Sink {
 public:
  WebhookSink(WebhookConfig config, const SinkEnv& env) : config_(std::move(config)), env_(env) {}
  ~WebhookSink() override {
    if (curl_ != nullptr) curl_easy_cleanup(curl_);
  }

  StatusOr<SendResult> Send(const Batch& batch) override;

 private:
  static size_t OnBody(char* data, size_t size, size_t n, void* self);
  static curl_socket_t OnOpenSocket(void* self, curlsocktype purpose, curl_sockaddr* address);
  static int OnProgress(void* self, curl_off_t, curl_off_t, curl_off_t, curl_off_t);

  const WebhookConfig config_;
  const SinkEnv env_;
  CURL* curl_ = nullptr;
  // Per request:
  std::string response_;  // first kMaxDetailBytes of the answer's body
  std::string refused_address_;  // set when outbound safety refused a connect
};

size_t WebhookSink::OnBody(char* data, size_t size, size_t n, void* self) {
  auto* sink = static_cast<WebhookSink*>(self);
  const size_t bytes = size * n;
  if (sink->response_.size() < kMaxDetailBytes) {
    sink->response_.append(data, std::min(bytes, kMaxDetailBytes - sink->response_.size()));
  }
  return bytes;  // the rest is read and dropped
}

curl_socket_t WebhookSink::OnOpenSocket(void* self, curlsocktype purpose,
                                        curl_sockaddr* address) {
  auto* sink = static_cast<WebhookSink*>(self);
  if (purpose != CURLSOCKTYPE_IPCXN) return CURL_SOCKET_BAD;
  if (!sink->env_.allow_private && IsPrivateAddress(&address->addr)) {
    sink->refused_address_ = AddressText(&address->addr);
    return CURL_SOCKET_BAD;
  }
  return ::socket(address->family, address->socktype | SOCK_CLOEXEC, address->protocol);
}

int WebhookSink::OnProgress(void* self, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  auto* sink = static_cast<WebhookSink*>(self);
  return sink->env_.cancel != nullptr && sink->env_.cancel->load() ? 1 : 0;
}

StatusOr<SendResult> WebhookSink::Send(const Batch& batch) {
  if (curl_ == nullptr) {
    curl_ = curl_easy_init();
    if (curl_ == nullptr) return Status::Internal("curl_easy_init failed");
  }
  // The body: {"target_id", "events": [...]}.
  std::string body;
  {
    wire::JsonWriter w(&body);
    w.BeginObject();
    w.Key("target_id").Uint(batch.target_id);
    w.Key("events").BeginArray();
    for (const LogEvent& e : batch.events) wire::WriteFeedEvent(w, e);
    w.EndArray();
    w.EndObject();
  }
  const std::string id = std::to_string(batch.target_id) + "-" + std::to_string(batch.first_seq) +
                         "-" + std::to_string(batch.last_seq);
  const std::string timestamp = std::to_string(
      std::chrono::duration_cast<std::chrono::seconds>(
          std::chrono::system_clock::now().time_since_epoch())
          .count());

  curl_slist* headers = nullptr;
  auto add = [&](const std::string& h) { headers = curl_slist_append(headers, h.c_str()); };
  add("Content-Type: application/json");
  add("Expect:");  // no 100-continue round trip
  add("webhook-id: " + id);
  add("webhook-timestamp: " + timestamp);
  if (!config_.secret_key.empty()) {
    add("webhook-signature: " + Signature(config_.secret_key, id + "." + timestamp + "." + body));
  }
  if (!config_.bearer_token.empty()) add("Authorization: Bearer " + config_.bearer_token);
  std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)> header_list(headers,
                                                                          &curl_slist_free_all);

  response_.clear();
  refused_address_.clear();
  char error[CURL_ERROR_SIZE] = {};
  CURL* c = curl_;
  curl_easy_setopt(c, CURLOPT_URL, config_.url.c_str());
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(c, CURLOPT_PROXY, "");  // never through a proxy from the environment
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_POST, 1L);
  curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.data());
  curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, header_list.get());
  curl_easy_setopt(c, CURLOPT_USERAGENT, "syncmgr-webhook/1");
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(config_.timeout_ms));
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(std::min(config_.timeout_ms, kMaxConnectTimeoutMs)));
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, &WebhookSink::OnBody);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, this);
  curl_easy_setopt(c, CURLOPT_OPENSOCKETFUNCTION, &WebhookSink::OnOpenSocket);
  curl_easy_setopt(c, CURLOPT_OPENSOCKETDATA, this);
  curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, &WebhookSink::OnProgress);
  curl_easy_setopt(c, CURLOPT_XFERINFODATA, this);
  curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, error);
  const CURLcode rc = curl_easy_perform(c);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, nullptr);
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, nullptr);

  SendResult result;
  if (rc != CURLE_OK) {
    result.outcome = SendResult::Outcome::kRetry;
    if (!refused_address_.empty()) {
      result.detail = "outbound safety: refused to connect to " + refused_address_ +
                      " (a loopback, private, link-local or metadata address)";
    } else {
      result.detail = std::string(curl_easy_strerror(rc));
      if (error[0] != '\0') result.detail += ": " + std::string(error);
    }
    return result;
  }
  long code = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
  result.detail = "HTTP " + std::to_string(code);
  if (!response_.empty()) {
    std::string text = response_;
    for (char& ch : text) {
      if (static_cast<unsigned char>(ch) < 0x20) ch = ' ';
    }
    result.detail += ": " + text;
  }
  if (code >= 200 && code <= 299) {
    result.outcome = SendResult::Outcome::kDelivered;
  } else if (code >= 400 && code <= 499 && code != 408 && code != 429) {
    result.outcome = SendResult::Outcome::kRefused;
  } else {
    result.outcome = SendResult::Outcome::kRetry;
    if (code == 429 || code == 503) {
      curl_off_t retry_after = 0;  // seconds; libcurl parses both forms of the header
      if (curl_easy_getinfo(c, CURLINFO_RETRY_AFTER, &retry_after) == CURLE_OK &&
          retry_after > 0) {
        result.retry_after_ms = static_cast<int64_t>(retry_after) * 1000;
      }
    }
  }
  return result;
}

}  // namespace

Status ValidateWebhookConfig(std::string_view config_json, const SinkEnv& env) {
  SYNCMGR_ASSIGN_OR_RETURN(WebhookConfig config, ParseConfig(config_json));
  std::string host;
  SYNCMGR_RETURN_IF_ERROR(UrlHost(config.url, &host));
  if (!env.allow_private) SYNCMGR_RETURN_IF_ERROR(CheckPublicHost(host, "url"));
  return Status::Ok();
}

StatusOr<std::unique_ptr<Sink>> MakeWebhookSink(std::string_view config_json, const SinkEnv& env) {
  GlobalInit();
  SYNCMGR_ASSIGN_OR_RETURN(WebhookConfig config, ParseConfig(config_json));
  return std::unique_ptr<Sink>(new WebhookSink(std::move(config), env));
}

}  // namespace syncmgr::delivery
