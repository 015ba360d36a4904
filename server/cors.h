// CORS, one step of routing a request (dispatch.h): which origins may read
// the API from a browser (ServerOptions::cors_origins), the answer to a
// preflight, and the headers an answer to an allowed origin carries.
//
// Only GET routes are readable cross-origin: a preflight is answered for a
// path that has a GET route, and only answers to GETs carry
// Access-Control-Allow-Origin.
//
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "server/http_types.h"

namespace syncmgr::server {

// `origin` (the Origin header, "" if none) if it is one of `allowed`,
// else "".
std::string AllowedOrigin(std::string_view origin, const std::vector<std::string>& allowed);

// 204 to an OPTIONS preflight of a GET route: Allow, and for an allowed
// origin ("" if none) the Access-Control-* headers. No key is needed.
ApiResponse PreflightResponse(std::string_view allowed_origin);

// The headers an answer to `method` from `allowed_origin` carries: for a GET
// from an allowed origin, Access-Control-Allow-Origin and Vary; else none.
std::vector<std::pair<std::string_view, std::string_view>> CorsAnswerHeaders(
    HttpMethod method, std::string_view allowed_origin);

}  // namespace syncmgr::server
