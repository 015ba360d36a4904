#include "server/request_log.h"

#include <fmt/format.h>

#include <cstdio>
#include <mutex>

#include "wire/json_writer.h"

namespace syncmgr::server {

std::string FormatRequestLog(const RequestLogRecord& r, int64_t now_unix_micros) {
  std::string out;
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

void WriteLogLineToStderr(std::string_view line) {
  static std::mutex mu;
  std::string buf;
  buf.reserve(line.size() + 1);
  buf.append(line).push_back('\n');
  std::lock_guard lock(mu);
  std::fwrite(buf.data(), 1, buf.size(), stderr);
}

void LogServerError(std::string_view message) {
  std::string line = R"({"level":"error","message":)";
  wire::AppendJsonString(&line, message);
  line.push_back('}');
  WriteLogLineToStderr(line);
}

}  // namespace syncmgr::server
