#include "server/request_log.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <mutex>

#include "wire/json_writer.h"

namespace syncmgr::server {

namespace {
// A line's size but for its route: one allocation per line.
constexpr size_t kLineBytes = 200;
}  // namespace

std::string FormatRequestLog(const RequestLogRecord& r, int64_t now_unix_micros) {
  std::string out;
  out.reserve(kLineBytes + r.route.size());
  wire::JsonWriter w(&out);
  w.BeginObject();
  w.Key("time").Time(now_unix_micros);
  w.Key("method").String(r.method);
  w.Key("route").String(r.route);
  w.Key("status").Int(r.status);
  w.Key("duration_ms").Raw(fmt::format("{:.3f}", r.duration_s * 1000));
  w.Key("tenant");
  if (r.caller.kind == Caller::Kind::kTenant) {
    w.Uint(r.caller.tenant);
  } else {
    w.Null();
  }
  if (r.caller.kind == Caller::Kind::kAdmin) w.Key("admin").Bool(true);
  w.Key("bytes_in").Uint(r.bytes_in);
  w.Key("bytes_out").Uint(r.bytes_out);
  w.EndObject();
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
