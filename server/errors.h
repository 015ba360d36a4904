// The one table from failures to HTTP answers.
//
// Every error the API answers is `{"error": {"code": CODE, "message": MSG}}`
// with the HTTP status and CODE of this table (SPEC §4). Engine failures
// arrive as a syncmgr::Status and are mapped by code; the two conditions only
// HTTP knows (an unsupported method on a known path, an oversized header)
// have their own entries here so that the table stays in one place.
//
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>

#include "engine/status.h"

namespace syncmgr::server {

struct ErrorInfo {
  int http_status;
  std::string_view code;  // wire name, e.g. "not_found"
};

// The HTTP status and wire code of an engine code. REQUIRES: code != kOk.
ErrorInfo ErrorFor(Code code);

// HTTP-only conditions (not engine codes).
inline constexpr ErrorInfo kMethodNotAllowed{405, "method_not_allowed"};
inline constexpr ErrorInfo kHeadersTooLarge{431, "headers_too_large"};

// The JSON error body for `info` and `message`. Internal errors (500) carry
// a generic message: details go to the log, never to the client.
std::string ErrorBody(ErrorInfo info, std::string_view message);

}  // namespace syncmgr::server
