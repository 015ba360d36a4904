// The request log: one structured (JSON) line per answered request, e.g.
//   {"time":"2026-11-25T13:09:08.123456Z","method":"POST",
//    "route":"/sources/{id}/import","status":200,"duration_ms":12.345,
//    "tenant":3,"bytes_in":1048576,"bytes_out":118}
// "tenant" is null for the admin key or no key ("admin":true marks the
// former). Never an API key, a query string or a payload: the route is the
// pattern, not the path.
//
// The default sink (no ServerOptions::request_log) is a RequestLogWriter:
// lines are gathered in memory and written to stderr in batches, not with a
// write(2) per request (issue 18: ~2-3 % of a GET's CPU).
//
// Thread-safety: pure functions; the writers serialize writes to stderr
// (request lines and error lines never interleave).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

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

// The line and a newline to stderr, at once (one write).
void WriteLogLineToStderr(std::string_view line);
// Whole lines (each ending in a newline) to stderr, at once, in one piece
// as far as the kernel allows; never interleaved with another writer's.
void WriteLinesToStderr(std::string_view lines);

// Request log lines gathered and written in batches: when `max_bytes` are
// waiting, else at most `interval` after a line came, and on Flush and
// destruction. A line is never split or lost on a clean stop (the Server
// flushes once its threads have stopped); a crash loses at most what came
// in the last `interval`. Lines come out in the order Append returned.
//
// Thread-safety: safe for concurrent use. Append blocks only while a full
// batch is written (as each line's write did before).
class RequestLogWriter {
 public:
  using Write = std::function<void(std::string_view lines)>;
  // Defaults: 64 KiB, 200 ms, WriteLinesToStderr.
  explicit RequestLogWriter(size_t max_bytes = 64 << 10,
                            std::chrono::milliseconds interval = std::chrono::milliseconds(200),
                            Write write = WriteLinesToStderr);
  // Flushes.
  ~RequestLogWriter();
  RequestLogWriter(const RequestLogWriter&) = delete;
  RequestLogWriter& operator=(const RequestLogWriter&) = delete;

  // Adds `line` (no newline; one is added).
  void Append(std::string_view line);
  // Writes what is waiting, now.
  void Flush();

 private:
  void RunFlusher();

  const size_t max_bytes_;
  const std::chrono::milliseconds interval_;
  const Write write_;

  std::mutex write_mu_;  // one batch written at a time, in order
  std::string out_;      // guarded by write_mu_: the batch being written

  std::mutex mu_;
  std::condition_variable cv_;
  std::string pending_;  // guarded by mu_
  bool stop_ = false;    // guarded by mu_
  std::thread flusher_;  // last: starts once the rest is made
};

// An internal error the client only sees as "internal error" (500): the
// details go to stderr as {"level":"error","message":...}.
void LogServerError(std::string_view message);

}  // namespace syncmgr::server
