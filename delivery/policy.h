// The members every push target's config may hold, whatever its type
// (SPEC §4 "Push delivery"), and the config a type's own functions see.
//
//   "batch_size"   events per batch, 1..10000.            Default: 100.
//   "max_attempts" sends of one batch before it becomes a dead letter,
//                  1..1000.                                Default: 20.
//   "on_failure"   "dead_letter": dead-letter the batch and go on (default);
//                  "pause": stop at that batch (the cursor stays before it)
//                  until POST .../delivery/resume.
//
// sink.cc strips these members before calling a type's Validate<T>Config /
// Make<T>Sink (delivery/sinks.h).
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "engine/status.h"

namespace syncmgr::delivery {

inline constexpr uint32_t kDefaultBatchSize = 100;
inline constexpr uint32_t kMaxBatchSize = 10000;
inline constexpr uint32_t kDefaultMaxAttempts = 20;
inline constexpr uint32_t kMaxMaxAttempts = 1000;

struct DeliveryPolicy {
  uint32_t batch_size = kDefaultBatchSize;
  uint32_t max_attempts = kDefaultMaxAttempts;
  bool pause_on_failure = false;  // on_failure: "pause"
};

// "webhook", "postgres", "file" or "ftp".
bool IsPushType(std::string_view type);

// Reads the common members of a config object. InvalidArgument naming a bad
// member; InvalidJson / InvalidArgument when `config_json` is not an object.
StatusOr<DeliveryPolicy> ParsePolicy(std::string_view config_json);

// The config object without the common members (minified JSON, members in
// their original order).
StatusOr<std::string> TypeConfig(std::string_view config_json);

}  // namespace syncmgr::delivery
