#include "server/params.h"

#include <limits>

#include "engine/engine.h"
#include "wire/time_format.h"

namespace syncmgr::server {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

bool PercentDecode(std::string_view in, bool plus_is_space, std::string* out) {
  out->clear();
  out->reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    const char c = in[i];
    if (c == '%') {
      if (i + 2 >= in.size()) return false;
      const int hi = HexValue(in[i + 1]);
      const int lo = HexValue(in[i + 2]);
      if (hi < 0 || lo < 0) return false;
      out->push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out->push_back(' ');
    } else {
      out->push_back(c);
    }
  }
  return true;
}

StatusOr<uint64_t> ParseUint(std::string_view name, std::string_view text, uint64_t min,
                             uint64_t max) {
  const auto bad = [&](std::string_view why) {
    return Status::InvalidArgument("'" + std::string(name) + "' " + std::string(why));
  };
  if (text.empty()) return bad("is empty; expected a non-negative integer");
  if (text.size() > 20) return bad("is out of range");
  uint64_t v = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return bad("must be a non-negative decimal integer");
    const uint64_t digit = static_cast<uint64_t>(c - '0');
    if (v > (std::numeric_limits<uint64_t>::max() - digit) / 10) return bad("is out of range");
    v = v * 10 + digit;
  }
  if (v < min || v > max) {
    return bad("is out of range [" + std::to_string(min) + ", " + std::to_string(max) + "]");
  }
  return v;
}

StatusOr<std::optional<uint64_t>> QueryUint(const QueryParams& query, std::string_view name,
                                            uint64_t min, uint64_t max) {
  const std::optional<std::string_view> text = query.Get(name);
  if (!text) return std::optional<uint64_t>();
  StatusOr<uint64_t> v = ParseUint(name, *text, min, max);
  if (!v.ok()) return v.status();
  return std::optional<uint64_t>(*v);
}

StatusOr<bool> QueryBool(const QueryParams& query, std::string_view name, bool default_value) {
  const std::optional<std::string_view> text = query.Get(name);
  if (!text) return default_value;
  if (*text == "true" || *text == "1") return true;
  if (*text == "false" || *text == "0") return false;
  return Status::InvalidArgument("'" + std::string(name) + "' must be true or false");
}

StatusOr<uint64_t> PathId64(const ApiRequest& request, std::string_view name,
                            std::string_view what) {
  const std::string& text = request.path.Get(name);
  StatusOr<uint64_t> v = ParseUint(name, text, 0, std::numeric_limits<uint64_t>::max());
  if (!v.ok()) {
    return Status::InvalidArgument(std::string(what) + " id must be a decimal integer");
  }
  if (*v == 0) return Status::NotFound(std::string(what) + " " + text + " does not exist");
  return *v;
}

StatusOr<uint32_t> PathId32(const ApiRequest& request, std::string_view name,
                            std::string_view what) {
  StatusOr<uint64_t> v = PathId64(request, name, what);
  if (!v.ok()) return v.status();
  if (*v > std::numeric_limits<uint32_t>::max()) {
    return Status::NotFound(std::string(what) + " " + request.path.Get(name) + " does not exist");
  }
  return static_cast<uint32_t>(*v);
}

StatusOr<std::optional<uint64_t>> QueryAsOf(const ApiRequest& request, Engine& engine) {
  const std::optional<std::string_view> text = request.query.Get("as_of");
  if (!text) return std::optional<uint64_t>();
  if (const std::optional<int64_t> time_us = wire::ParseRfc3339(*text)) {
    StatusOr<uint64_t> seq = engine.SeqAtTime(request.caller.tenant, *time_us);
    if (!seq.ok()) return seq.status();
    return std::optional<uint64_t>(*seq);
  }
  StatusOr<uint64_t> seq = ParseUint("as_of", *text, 0, std::numeric_limits<uint64_t>::max());
  if (!seq.ok()) {
    return Status::InvalidArgument(
        "'as_of' must be a seq (a non-negative integer) or an "
        "RFC 3339 time");
  }
  return std::optional<uint64_t>(*seq);
}

StatusOr<uint32_t> QueryLogLimit(const QueryParams& query) {
  StatusOr<std::optional<uint64_t>> limit = QueryUint(query, "limit", 1, kMaxLogLimit);
  if (!limit.ok()) return limit.status();
  return static_cast<uint32_t>(limit->value_or(kDefaultLogLimit));
}

}  // namespace syncmgr::server
