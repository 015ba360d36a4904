// libFuzzer harness: path and query parameters (issue 7 item 5) —
// Router::Match on raw paths, ParseQuery for every route of the API,
// PercentDecode, ParseUint, QueryUint, QueryBool, QueryLogLimit and the
// RFC 3339 parser/formatter. Pure functions, no engine.
//
// Input: first byte picks a route; the rest is split at the first '\n' into a
// raw path and a raw query string.
//
// Invariants:
//   * ParseQuery accepts only the route's own parameter names, each once;
//   * a decoded value re-encoded and decoded again is unchanged;
//   * ParseUint accepts exactly the decimal strings in range, and their value;
//   * a time that parses formats to RFC 3339 that parses to the same value;
//   * Match never returns a route of another method, nor params that are not
//     in the pattern.
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz/fuzz_util.h"
#include "server/params.h"
#include "server/router.h"
#include "wire/time_format.h"

namespace {

using syncmgr::server::HttpMethod;

std::string Encode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    out += '%';
    out += kHex[c >> 4];
    out += kHex[c & 15];
  }
  return out;
}

void CheckUint(std::string_view text) {
  const uint64_t min = 1, max = 1000;
  auto v = syncmgr::server::ParseUint("n", text, min, max);
  bool digits = !text.empty() && text.size() <= 20;
  for (char c : text) digits = digits && c >= '0' && c <= '9';
  if (v.ok()) {
    SYNCMGR_FUZZ_CHECK(digits, std::string(text));
    SYNCMGR_FUZZ_CHECK(*v >= min && *v <= max, std::string(text));
    SYNCMGR_FUZZ_CHECK(std::to_string(*v) == std::string(text).erase(
                                                 0, std::min(text.find_first_not_of('0'),
                                                             text.size() - 1)),
                       std::string(text));
  } else if (digits && text.size() <= 4) {
    const unsigned long n = std::stoul(std::string(text));
    SYNCMGR_FUZZ_CHECK(n < min || n > max, std::string(text));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const auto& router = syncmgr::server::ApiRouter();
  const auto& routes = router.routes();
  const syncmgr::server::Route& route = routes[data[0] % routes.size()];
  std::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);
  const size_t nl = rest.find('\n');
  const std::string_view path = rest.substr(0, nl);
  const std::string_view query = nl == std::string_view::npos ? "" : rest.substr(nl + 1);

  // Query parsing against a real route.
  syncmgr::server::QueryParams params;
  if (syncmgr::server::ParseQuery(query, route, &params).ok()) {
    for (size_t i = 0; i < params.items().size(); ++i) {
      const auto& [name, value] = params.items()[i];
      bool known = false;
      for (const auto& q : route.query) known = known || q == name;
      SYNCMGR_FUZZ_CHECK(known, name);
      for (size_t j = i + 1; j < params.items().size(); ++j) {
        SYNCMGR_FUZZ_CHECK(params.items()[j].first != name, name);
      }
      std::string again;
      SYNCMGR_FUZZ_CHECK(syncmgr::server::PercentDecode(Encode(value), true, &again), value);
      SYNCMGR_FUZZ_CHECK(again == value, value);
      CheckUint(value);
      // Only a crash or a broken invariant is a finding; an error is an answer.
      syncmgr::server::QueryUint(params, name, 0, UINT64_MAX).status().IgnoreError();
      syncmgr::server::QueryBool(params, name, false).status().IgnoreError();
    }
    syncmgr::server::QueryLogLimit(params).status().IgnoreError();
  }

  // Routing of the raw path, with the route's method and another.
  for (HttpMethod m : {route.method, HttpMethod::kGet, HttpMethod::kDelete}) {
    syncmgr::server::RouteMatch match = router.Match(m, path);
    if (match.route != nullptr) {
      SYNCMGR_FUZZ_CHECK(match.route->method == m, std::string(path));
      SYNCMGR_FUZZ_CHECK(match.allow.empty(), std::string(path));
    }
  }

  // Times.
  if (auto t = syncmgr::wire::ParseRfc3339(rest)) {
    const std::string formatted = syncmgr::wire::FormatRfc3339(*t);
    auto back = syncmgr::wire::ParseRfc3339(formatted);
    SYNCMGR_FUZZ_CHECK(back && *back == *t, std::string(rest) + " -> " + formatted);
  }
  CheckUint(path);
  return 0;
}
