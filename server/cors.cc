#include "server/cors.h"

#include <algorithm>

namespace syncmgr::server {

namespace {
// How long a browser may cache a preflight answer, seconds.
constexpr std::string_view kPreflightMaxAgeS = "600";
}  // namespace

std::string AllowedOrigin(std::string_view origin, const std::vector<std::string>& allowed) {
  if (origin.empty() || std::find(allowed.begin(), allowed.end(), origin) == allowed.end()) {
    return {};
  }
  return std::string(origin);
}

ApiResponse PreflightResponse(std::string_view allowed_origin) {
  ApiResponse r;
  r.status = 204;
  r.content_type.clear();
  r.headers.emplace_back("Allow", "GET, OPTIONS");
  if (!allowed_origin.empty()) {
    r.headers.emplace_back("Access-Control-Allow-Origin", allowed_origin);
    r.headers.emplace_back("Access-Control-Allow-Methods", "GET");
    r.headers.emplace_back("Access-Control-Allow-Headers",
                           "X-API-Key, Content-Type, Last-Event-ID");
    r.headers.emplace_back("Access-Control-Max-Age", kPreflightMaxAgeS);
    r.headers.emplace_back("Vary", "Origin");
  }
  return r;
}

std::vector<std::pair<std::string_view, std::string_view>> CorsAnswerHeaders(
    HttpMethod method, std::string_view allowed_origin) {
  if (allowed_origin.empty() || method != HttpMethod::kGet) return {};
  return {{"Access-Control-Allow-Origin", allowed_origin}, {"Vary", "Origin"}};
}

}  // namespace syncmgr::server
