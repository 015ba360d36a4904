#include "delivery/sink_config.h"

#include <netdb.h>
#include <simdjson.h>

#include <algorithm>
#include <cstring>

#include "delivery/outbound.h"
#include "wire/request_json.h"

namespace syncmgr::delivery {

struct ConfigObject::Doc {
  simdjson::dom::parser parser;
  simdjson::dom::object object;
  bool parsed = false;
};

ConfigObject::ConfigObject() : doc_(std::make_unique<Doc>()) {}
ConfigObject::~ConfigObject() = default;

Status ConfigObject::Parse(std::string_view json, const std::vector<std::string_view>& allowed) {
  if (json.empty()) json = "{}";
  simdjson::dom::element root;
  if (doc_->parser.parse(json.data(), json.size()).get(root) != simdjson::SUCCESS) {
    return Status::InvalidArgument("'config' is not valid JSON");
  }
  if (root.get(doc_->object) != simdjson::SUCCESS) {
    return Status::InvalidArgument("'config' must be a JSON object");
  }
  SYNCMGR_RETURN_IF_ERROR(wire::CheckMembers(doc_->object, "config", allowed));
  doc_->parsed = true;
  return Status::Ok();
}

StatusOr<std::optional<std::string>> ConfigObject::String(std::string_view key) const {
  if (!doc_->parsed) return Status::Internal("ConfigObject::String before Parse");
  simdjson::dom::element e;
  if (doc_->object.at_key(key).get(e) != simdjson::SUCCESS || e.is_null()) {
    return std::optional<std::string>();
  }
  std::string_view s;
  if (e.get(s) != simdjson::SUCCESS) {
    return Status::InvalidArgument("config '" + std::string(key) + "' must be a string");
  }
  return std::optional<std::string>(std::string(s));
}

StatusOr<std::vector<std::string>> ResolveDestination(const std::string& host, bool allow_private) {
  if (host.empty()) return Status::InvalidArgument("the destination has no host");
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  int rc = ::getaddrinfo(host.c_str(), nullptr, &hints, &res);
  if (rc != 0) {
    return Status::Unavailable("host '" + host + "' does not resolve: " + ::gai_strerror(rc));
  }
  std::vector<std::string> out;
  Status refused;
  for (addrinfo* ai = res; ai != nullptr; ai = ai->ai_next) {
    std::string text = AddressText(ai->ai_addr);
    if (!allow_private && IsPrivateAddress(ai->ai_addr)) {
      refused = Status::InvalidArgument(
          "host '" + host + "' resolves to " + text +
          ", a loopback, private, link-local or metadata address (refused unless the server "
          "runs with --allow-private-push)");
      break;
    }
    if (std::find(out.begin(), out.end(), text) == out.end()) out.push_back(std::move(text));
  }
  ::freeaddrinfo(res);
  if (!refused.ok()) return refused;
  if (out.empty()) return Status::Unavailable("host '" + host + "' has no address");
  return out;
}

}  // namespace syncmgr::delivery
