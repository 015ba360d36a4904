#include "server/response_head.h"

#include <array>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/status.hpp>
#include <charconv>

namespace syncmgr::server {

namespace beast = boost::beast;
namespace http = beast::http;

namespace {

constexpr std::string_view kServer = "syncmgr";
constexpr std::string_view kCacheControl = "no-store";

// Names Beast sets itself on a buffered answer, or that AddCommonFields
// sets: a handler's or CORS field by one of these would be merged by set().
constexpr std::array<std::string_view, 6> kManagedNames = {
    "Server", "Content-Type", "Cache-Control", "Connection", "Content-Length",
    "Transfer-Encoding"};

bool NamesAreDistinct(const ApiResponse& response, const HeaderViews& cors) {
  std::vector<std::string_view> seen(kManagedNames.begin(), kManagedNames.end());
  auto add = [&seen](std::string_view name) {
    for (const std::string_view s : seen) {
      if (beast::iequals(s, name)) return false;
    }
    seen.push_back(name);
    return true;
  };
  for (const auto& [name, value] : response.headers) {
    if (!add(name)) return false;
  }
  for (const auto& [name, value] : cors) {
    if (!add(name)) return false;
  }
  return true;
}

void AppendField(std::string* out, std::string_view name, std::string_view value) {
  out->append(name).append(": ").append(value).append("\r\n");
}

}  // namespace

void AddCommonFields(http::fields& fields, const ApiResponse& response, const HeaderViews& cors) {
  fields.set(http::field::server, kServer);
  if (!response.content_type.empty()) fields.set(http::field::content_type, response.content_type);
  fields.set(http::field::cache_control, kCacheControl);
  for (const auto& [name, value] : response.headers) fields.set(name, value);
  for (const auto& [name, value] : cors) fields.set(name, value);
}

bool AppendResponseHead(const ApiResponse& response, const HeaderViews& cors, bool keep_alive,
                        std::string* out) {
  const int status = response.status;
  // Beast writes any three-digit code; without a body only these.
  if (status < 200 || status > 999 || status == 204 || status == 304) return false;
  if ((!response.headers.empty() || !cors.empty()) && !NamesAreDistinct(response, cors)) {
    return false;
  }
  const std::string_view reason = http::obsolete_reason(static_cast<http::status>(status));
  char digits[24];
  const std::to_chars_result length =
      std::to_chars(digits, digits + sizeof(digits), response.body.size());
  out->reserve(out->size() + 160 + reason.size() + response.content_type.size());
  out->append("HTTP/1.1 ");
  const char code[3] = {static_cast<char>('0' + status / 100),
                        static_cast<char>('0' + status / 10 % 10),
                        static_cast<char>('0' + status % 10)};
  out->append(code, 3).push_back(' ');
  out->append(reason).append("\r\n");
  AppendField(out, "Server", kServer);
  if (!response.content_type.empty()) AppendField(out, "Content-Type", response.content_type);
  AppendField(out, "Cache-Control", kCacheControl);
  for (const auto& [name, value] : response.headers) AppendField(out, name, value);
  for (const auto& [name, value] : cors) AppendField(out, name, value);
  if (!keep_alive) AppendField(out, "Connection", "close");
  AppendField(out, "Content-Length", std::string_view(digits, length.ptr - digits));
  out->append("\r\n");
  return true;
}

}  // namespace syncmgr::server
