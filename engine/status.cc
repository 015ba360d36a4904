#include "engine/status.h"

namespace syncmgr {

std::string_view CodeName(Code code) {
  switch (code) {
    case Code::kOk: return "ok";
    case Code::kInvalidJson: return "invalid_json";
    case Code::kInvalidArgument: return "invalid_request";
    case Code::kUnauthorized: return "unauthorized";
    case Code::kForbidden: return "forbidden";
    case Code::kNotFound: return "not_found";
    case Code::kConflict: return "conflict";
    case Code::kMassRemoval: return "mass_removal";
    case Code::kPayloadTooLarge: return "payload_too_large";
    case Code::kUnsupportedMediaType: return "unsupported_media_type";
    case Code::kNoSpace: return "insufficient_storage";
    case Code::kUnavailable: return "unavailable";
    case Code::kTooManyRequests: return "too_many_requests";
    case Code::kLagging: return "lagging";
    case Code::kCorruption: return "internal";
    case Code::kInternal: return "internal";
  }
  return "internal";
}

std::string Status::ToString() const {
  if (ok()) return "ok";
  std::string out(CodeName(code_));
  out += ": ";
  out += message_;
  return out;
}

}  // namespace syncmgr
