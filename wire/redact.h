// Config redaction: a target's config as every answer shows it. One rule for
// the HTTP answers, the command line (local and remote mode) and push
// delivery, so no output can show what another hides (SPEC §4 "Push
// delivery": secrets are stored but shown as "***").
//
//   - a string member named "secret", "bearer_token" or "password": "***";
//   - a string member named "dsn": RedactDsn (wire/dsn.h), the DSN without
//     its password;
//   - every other member as it is.
//
// The rule does not depend on the target's type: a member with a secret's
// name is hidden in any config, so a new push type cannot forget one.
//
// A config that is not a JSON object is never echoed (it could be a secret
// in any shape): it is shown as {} and `unreadable` is set; answers carry it
// as "config_unreadable": true next to "config" (docs/security.md).
//
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>

namespace syncmgr::wire {

struct RedactedConfig {
  // A JSON object. With nothing to hide, the input itself (byte for byte);
  // otherwise the members minified, in their stored order.
  std::string json;
  // The input was not a JSON object; `json` is "{}".
  bool unreadable = false;
};

// "" (a target stored without config) is {} and not unreadable.
RedactedConfig RedactConfig(std::string_view config_json);

}  // namespace syncmgr::wire
