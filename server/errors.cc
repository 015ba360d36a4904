#include "server/errors.h"

#include "wire/api_render.h"

namespace syncmgr::server {

ErrorInfo ErrorFor(Code code) {
  switch (code) {
    case Code::kOk:
      break;  // not an error; answered as internal
    case Code::kInvalidJson:
      return {400, "invalid_json"};
    case Code::kInvalidArgument:
      return {400, "invalid_request"};
    case Code::kUnauthorized:
      return {401, "unauthorized"};
    case Code::kForbidden:
      return {403, "forbidden"};
    case Code::kNotFound:
      return {404, "not_found"};
    case Code::kConflict:
      return {409, "conflict"};
    case Code::kMassRemoval:
      return {409, "mass_removal"};
    case Code::kPayloadTooLarge:
      return {413, "payload_too_large"};
    case Code::kUnsupportedMediaType:
      return {415, "unsupported_media_type"};
    case Code::kNoSpace:
      return {507, "insufficient_storage"};
    case Code::kUnavailable:
      return {503, "unavailable"};
    case Code::kTooManyRequests:
      return {429, "too_many_requests"};
    case Code::kLagging:
      return {503, "lagging"};
    case Code::kCorruption:
      return {500, "internal"};
    case Code::kInternal:
      return {500, "internal"};
  }
  return {500, "internal"};
}

std::string ErrorBody(ErrorInfo info, std::string_view message) {
  std::string out;
  wire::JsonWriter w(&out);
  // A 500 never shows engine internals (paths, RocksDB messages).
  wire::WriteError(w, info.code, info.http_status == 500 ? "internal error" : message);
  return out;
}

}  // namespace syncmgr::server
