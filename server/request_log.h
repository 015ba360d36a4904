// The request log: one structured (JSON) line per answered request, e.g.
//   {"time":"2026-11-25T13:09:08.123456Z","method":"POST",
//    "route":"/sources/{id}/import","status":200,"duration_ms":12.345,
//    "tenant":3,"bytes_in":1048576,"bytes_out":118}
// "tenant" is null for the admin key or no key ("admin":true marks the
// former). Never an API key, a query string or a payload: the route is the
// pattern, not the path.
//
// Thread-safety: pure functions; the default sink serializes writes.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "server/http_types.h"

namespace syncmgr::server {

struct RequestLogRecord {
  std::string_view method;
  std::string_view route;  // pattern, or "unmatched"
  int status = 0;
  double duration_s = 0;
  Caller caller;
  uint64_t bytes_in = 0;   // request body bytes
  uint64_t bytes_out = 0;  // response body bytes
};

std::string FormatRequestLog(const RequestLogRecord& record, int64_t now_unix_micros);

// The default sink: the line and a newline to stderr, one write each.
void WriteLogLineToStderr(std::string_view line);

// An internal error the client only sees as "internal error" (500): the
// details go to stderr as {"level":"error","message":...}.
void LogServerError(std::string_view message);

}  // namespace syncmgr::server
