#include "wire/request_json.h"

#include <algorithm>
#include <cstdlib>

namespace syncmgr::wire {
namespace {

// ThreadParser's first allocation, bytes; it grows to the largest body.
constexpr size_t kInitialParserCapacity = 64 << 10;

Status WrongType(std::string_view key, std::string_view expected) {
  return Status::InvalidArgument("'" + std::string(key) + "' must be " + std::string(expected));
}

// The member `key`, or nullopt when absent or null.
std::optional<simdjson::dom::element> Member(simdjson::dom::object object, std::string_view key) {
  simdjson::dom::element e;
  if (object.at_key(key).get(e) != simdjson::SUCCESS || e.is_null()) return std::nullopt;
  return e;
}

}  // namespace

simdjson::dom::parser& ThreadParser() {
  thread_local simdjson::dom::parser parser = [] {
    simdjson::dom::parser p;
    // Deeper bodies are refused with 400 (SPEC §4: nesting deeper than 64);
    // the depth is kept when the parser grows for a larger body.
    if (p.allocate(kInitialParserCapacity, kMaxJsonDepth) != simdjson::SUCCESS) std::abort();
    return p;
  }();
  return parser;
}

StatusOr<simdjson::dom::object> ParseObjectBody(std::string_view body) {
  simdjson::dom::element root;
  const simdjson::error_code ec = ThreadParser().parse(body.data(), body.size()).get(root);
  if (ec == simdjson::DEPTH_ERROR) return Status::InvalidArgument("JSON nests too deeply");
  if (ec != simdjson::SUCCESS) {
    return Status::InvalidJson(std::string("request body is not valid JSON: ") +
                               simdjson::error_message(ec));
  }
  simdjson::dom::object object;
  if (root.get(object) != simdjson::SUCCESS) {
    return Status::InvalidArgument("request body must be a JSON object");
  }
  return object;
}

Status CheckMembers(simdjson::dom::object object, std::string_view what,
                    const std::vector<std::string_view>& allowed) {
  for (auto field : object) {
    if (std::find(allowed.begin(), allowed.end(), field.key) == allowed.end()) {
      std::string list;
      for (std::string_view a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
      return Status::InvalidArgument("unknown member '" + std::string(field.key) + "' in " +
                                     std::string(what) + " (allowed: " + list + ")");
    }
  }
  return Status::Ok();
}

StatusOr<std::optional<std::string>> OptionalString(simdjson::dom::object object,
                                                    std::string_view key) {
  const auto e = Member(object, key);
  if (!e) return std::optional<std::string>();
  std::string_view s;
  if (e->get(s) != simdjson::SUCCESS) return WrongType(key, "a string");
  return std::optional<std::string>(std::string(s));
}

StatusOr<std::optional<double>> OptionalNumber(simdjson::dom::object object, std::string_view key) {
  const auto e = Member(object, key);
  if (!e) return std::optional<double>();
  double d;
  if (e->get(d) != simdjson::SUCCESS) return WrongType(key, "a number");
  return std::optional<double>(d);
}

StatusOr<std::optional<std::vector<std::string>>> OptionalStringArray(simdjson::dom::object object,
                                                                      std::string_view key) {
  const auto e = Member(object, key);
  if (!e) return std::optional<std::vector<std::string>>();
  simdjson::dom::array array;
  if (e->get(array) != simdjson::SUCCESS) return WrongType(key, "an array of strings");
  std::vector<std::string> out;
  for (simdjson::dom::element item : array) {
    std::string_view s;
    if (item.get(s) != simdjson::SUCCESS) return WrongType(key, "an array of strings");
    out.emplace_back(s);
  }
  return std::optional<std::vector<std::string>>(std::move(out));
}

StatusOr<std::optional<simdjson::dom::object>> OptionalObject(simdjson::dom::object object,
                                                              std::string_view key) {
  const auto e = Member(object, key);
  if (!e) return std::optional<simdjson::dom::object>();
  simdjson::dom::object o;
  if (e->get(o) != simdjson::SUCCESS) return WrongType(key, "an object");
  return std::optional<simdjson::dom::object>(o);
}

StatusOr<std::string> RequiredName(simdjson::dom::object object) {
  StatusOr<std::optional<std::string>> name = OptionalString(object, "name");
  if (!name.ok()) return name.status();
  if (!*name || (*name)->empty() || (*name)->size() > kMaxNameBytes) {
    return Status::InvalidArgument("'name' is required: a non-empty string of at most " +
                                   std::to_string(kMaxNameBytes) + " bytes");
  }
  return std::move(**name);
}

std::string ToJsonText(simdjson::dom::object object) { return simdjson::minify(object); }

}  // namespace syncmgr::wire
