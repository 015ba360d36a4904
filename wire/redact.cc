#include "wire/redact.h"

#include <simdjson.h>

#include <algorithm>
#include <optional>
#include <vector>

#include "wire/dsn.h"
#include "wire/json_writer.h"

namespace syncmgr::wire {
namespace {

// Members whose string value is a secret, whatever the target's type.
constexpr std::string_view kSecretMembers[] = {"secret", "bearer_token", "password"};
// A member holding a PostgreSQL connection string (its password is hidden).
constexpr std::string_view kDsnMember = "dsn";

// What a member is shown as, or nullopt when it is shown as it is.
std::optional<std::string> Hidden(std::string_view key, simdjson::dom::element value) {
  std::string_view text;
  if (value.get_string().get(text) != simdjson::SUCCESS) return std::nullopt;
  if (std::find(std::begin(kSecretMembers), std::end(kSecretMembers), key) !=
      std::end(kSecretMembers)) {
    return std::string("***");
  }
  if (key == kDsnMember) return RedactDsn(text);
  return std::nullopt;
}

}  // namespace

RedactedConfig RedactConfig(std::string_view config_json) {
  if (config_json.empty()) return {"{}", false};
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  simdjson::dom::object object;
  if (parser.parse(config_json.data(), config_json.size(), true).get(root) != simdjson::SUCCESS ||
      root.get_object().get(object) != simdjson::SUCCESS) {
    return {"{}", true};  // never echoed: it may be a secret in any shape
  }
  std::vector<std::optional<std::string>> shown;
  for (auto field : object) shown.push_back(Hidden(field.key, field.value));
  // Stored configs are canonical JSON: shown byte for byte unless a member
  // must change.
  if (std::none_of(shown.begin(), shown.end(), [](const auto& s) { return s.has_value(); })) {
    return {std::string(config_json), false};
  }
  RedactedConfig out;
  JsonWriter w(&out.json);
  w.BeginObject();
  size_t i = 0;
  for (auto field : object) {
    w.Key(field.key);
    if (shown[i]) {
      w.String(*shown[i]);
    } else {
      w.Raw(simdjson::minify(field.value));
    }
    ++i;
  }
  w.EndObject();
  return out;
}

}  // namespace syncmgr::wire
