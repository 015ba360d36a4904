// Helpers the postgres, file and ftp sinks share: reading a target's config
// object, and resolving a destination under the outbound-safety rule of
// delivery/outbound.h.
//
// Thread-safety: a ConfigObject is used from one thread; the free functions
// are safe from any thread (getaddrinfo is).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/status.h"

namespace simdjson::dom {
class parser;
}

namespace syncmgr::delivery {

// One parsed config object. Its own parser: never the server's thread parser,
// whose document the caller may still be reading.
class ConfigObject {
 public:
  ConfigObject();
  ~ConfigObject();

  // Parses `json` ("" means {}), which must be an object whose members are
  // all in `allowed`; InvalidArgument naming the first other one. (The
  // members every push type shares are stripped by sink.cc before a type's
  // functions see the config: delivery/policy.h.)
  Status Parse(std::string_view json, const std::vector<std::string_view>& allowed);
  // The member as a string; nullopt when absent or null; InvalidArgument
  // when of another type.
  StatusOr<std::optional<std::string>> String(std::string_view key) const;

 private:
  struct Doc;
  std::unique_ptr<Doc> doc_;
};

// Resolves `host` (a name or a numeric address, no brackets) and applies the
// outbound-safety rule (outbound.h IsPrivateAddress) to every address it
// resolves to unless allow_private. Returns the numeric
// addresses. InvalidArgument when an address is refused (the message says
// which, and names --allow-private-push); Unavailable when the name does not
// resolve (the message names the host and the resolver's error).
StatusOr<std::vector<std::string>> ResolveDestination(const std::string& host, bool allow_private);

}  // namespace syncmgr::delivery
