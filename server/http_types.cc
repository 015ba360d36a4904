#include "server/http_types.h"

#include <cstdlib>

#include "server/errors.h"
#include "server/request_log.h"

namespace syncmgr::server {

std::string_view MethodName(HttpMethod method) {
  switch (method) {
    case HttpMethod::kGet:
      return "GET";
    case HttpMethod::kPost:
      return "POST";
    case HttpMethod::kPut:
      return "PUT";
    case HttpMethod::kDelete:
      return "DELETE";
    case HttpMethod::kOptions:
      return "OPTIONS";
    case HttpMethod::kOther:
      return "OTHER";
  }
  return "OTHER";
}

const std::string& PathParams::Get(std::string_view name) const {
  for (const auto& [n, v] : items_) {
    if (n == name) return v;
  }
  std::abort();  // a route asked for a parameter its pattern lacks: a bug
}

std::optional<std::string_view> QueryParams::Get(std::string_view name) const {
  for (const auto& [n, v] : items_) {
    if (n == name) return std::string_view(v);
  }
  return std::nullopt;
}

ApiResponse JsonResponse(int status, std::string body) {
  ApiResponse r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

ApiResponse ErrorResponse(const Status& status) {
  const ErrorInfo info = ErrorFor(status.code());
  if (info.http_status == 500) LogServerError(status.ToString());
  return JsonResponse(info.http_status, ErrorBody(info, status.message()));
}

}  // namespace syncmgr::server
