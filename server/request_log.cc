#include "server/request_log.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <iterator>
#include <mutex>

#include "wire/json_writer.h"
#include "wire/time_format.h"

namespace syncmgr::server {

namespace {

// A line's size but for its route: one allocation per line.
constexpr size_t kLineBytes = 200;

// Appends the RFC 3339 time of `unix_micros` ("2026-11-25T13:09:08.123456Z",
// as wire::FormatRfc3339 writes it). The date and time of day are formatted
// once per second and thread; a GET's line otherwise spent ~1.5 % of its CPU
// there (issue 18).
void AppendTime(std::string* out, int64_t unix_micros) {
  constexpr int64_t kMicrosPerSecond = 1'000'000;
  int64_t second = unix_micros / kMicrosPerSecond;
  int64_t micros = unix_micros % kMicrosPerSecond;
  if (micros < 0) {  // before 1970: floor, as FormatRfc3339 does
    --second;
    micros += kMicrosPerSecond;
  }
  thread_local int64_t cached_second = -1;
  thread_local std::string cached;  // "2026-11-25T13:09:08"
  if (second != cached_second || cached.empty()) {
    const std::string full = wire::FormatRfc3339(second * kMicrosPerSecond);
    cached = full.substr(0, full.find('.'));
    cached_second = second;
  }
  out->append(cached);
  fmt::format_to(std::back_inserter(*out), ".{:06}Z", micros);
}

}  // namespace

// Written directly rather than through wire::JsonWriter: the line's shape is
// fixed, and this runs for every request (issue 18). The test in
// tests/server/request_log_test.cc pins its bytes.
std::string FormatRequestLog(const RequestLogRecord& r, int64_t now_unix_micros) {
  std::string out;
  out.reserve(kLineBytes + r.route.size());
  out += "{\"time\":\"";
  AppendTime(&out, now_unix_micros);
  out += "\",\"method\":";
  wire::AppendJsonString(&out, r.method);
  out += ",\"route\":";
  wire::AppendJsonString(&out, r.route);
  auto to = std::back_inserter(out);
  fmt::format_to(to, ",\"status\":{},\"duration_ms\":{:.3f},\"tenant\":", r.status,
                 r.duration_s * 1000);
  if (r.caller.kind == Caller::Kind::kTenant) {
    fmt::format_to(to, "{}", r.caller.tenant);
  } else {
    out += "null";
  }
  if (r.caller.kind == Caller::Kind::kAdmin) out += ",\"admin\":true";
  fmt::format_to(to, ",\"bytes_in\":{},\"bytes_out\":{}}}", r.bytes_in, r.bytes_out);
  return out;
}

void WriteLinesToStderr(std::string_view lines) {
  static std::mutex mu;
  std::lock_guard lock(mu);
  std::fwrite(lines.data(), 1, lines.size(), stderr);
}

void WriteLogLineToStderr(std::string_view line) {
  std::string buf;
  buf.reserve(line.size() + 1);
  buf.append(line).push_back('\n');
  WriteLinesToStderr(buf);
}

RequestLogWriter::RequestLogWriter(size_t max_bytes, std::chrono::milliseconds interval,
                                   Write write)
    : max_bytes_(std::max<size_t>(max_bytes, 1)),
      interval_(interval),
      write_(std::move(write)),
      flusher_([this] { RunFlusher(); }) {}

RequestLogWriter::~RequestLogWriter() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  flusher_.join();
  Flush();
}

void RequestLogWriter::Append(std::string_view line) {
  bool full;
  {
    std::lock_guard lock(mu_);
    const bool was_empty = pending_.empty();
    pending_.append(line).push_back('\n');
    full = pending_.size() >= max_bytes_;
    // The flusher sleeps while nothing waits: wake it to time this batch.
    if (was_empty && !full) cv_.notify_one();
  }
  if (full) Flush();
}

void RequestLogWriter::Flush() {
  std::lock_guard write_lock(write_mu_);
  {
    std::lock_guard lock(mu_);
    out_.swap(pending_);  // both keep their capacity: no allocation per batch
  }
  if (out_.empty()) return;
  write_(out_);
  out_.clear();
}

void RequestLogWriter::RunFlusher() {
  std::unique_lock lock(mu_);
  while (!stop_) {
    if (pending_.empty()) {
      cv_.wait(lock);
      continue;
    }
    // A line waits: write it within `interval` (unless a full batch or the
    // stop does first).
    cv_.wait_for(lock, interval_, [this] { return stop_; });
    if (stop_) break;
    lock.unlock();
    Flush();
    lock.lock();
  }
}

void LogServerError(std::string_view message) {
  std::string line = R"({"level":"error","message":)";
  wire::AppendJsonString(&line, message);
  line.push_back('}');
  WriteLogLineToStderr(line);
}

}  // namespace syncmgr::server
