// Sink: one push target's receiver (SPEC §4 "Push delivery"), as the delivery
// engine sees it. The engine owns the cursor, batching, scheduling, retries
// and dead letters; a sink only sends one batch and says how it went.
//
// Kinds (one file each): webhook_sink.cc (libcurl HTTP POST, Standard
// Webhooks signature), postgres_sink.cc (libpq; batch and cursor in one
// transaction), file_sink.cc (atomic NDJSON change files) and ftp_sink.cc
// (the same files over libcurl FTP, uploaded under a temporary name and
// renamed).
//
// Thread-safety: the delivery engine calls a sink from one thread at a time
// (never concurrently), on a delivery worker thread — never on a server I/O
// thread. Calls may block, but every outbound call is bounded by a timeout.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/status.h"
#include "engine/types.h"

namespace syncmgr::delivery {

// The events of one target, in seq order, to deliver together.
struct Batch {
  TenantId tenant = 0;
  uint32_t target_id = 0;
  uint64_t first_seq = 0;  // == events.front().seq
  uint64_t last_seq = 0;   // == events.back().seq
  std::vector<LogEvent> events;
};

struct SendResult {
  enum class Outcome {
    kDelivered,  // acknowledged: the cursor may move to batch.last_seq
    kRetry,      // transient (5xx, timeout, 408, 429, connection refused)
    kRefused,    // permanent (a 4xx other than 408/429): dead letter now
  };
  Outcome outcome = Outcome::kRetry;
  // The receiver's last answer, for last_error and dead letters (status line
  // and the first bytes of the body, or the transport error). Never holds a
  // secret.
  std::string detail;
  // From Retry-After (429 / 503), when the receiver sent one.
  std::optional<int64_t> retry_after_ms;
};

// Streams the target's whole current state for a snapshot: calls `row` with
// each live property (in external_id order) until it returns false.
using StateVisitor = std::function<Status(const std::function<bool(const PropertyRecord&)>& row)>;

class Sink {
 public:
  virtual ~Sink() = default;

  // Sends one batch. A non-OK Status is a local error (treated like kRetry).
  virtual StatusOr<SendResult> Send(const Batch& batch) = 0;

  // The cursor the receiver itself holds, for sinks that commit it with the
  // data (postgres: exactly once). The delivery engine resumes from
  // max(its own cursor, this). nullopt: the receiver keeps none.
  virtual StatusOr<std::optional<uint64_t>> ReceiverCursor() { return std::optional<uint64_t>(); }

  // POST /targets/{id}/delivery/snapshot: writes the whole current state as of
  // `seq` (file and ftp: snapshot-<seq>.ndjson). Others answer InvalidArgument.
  virtual Status WriteSnapshot(uint64_t seq, const StateVisitor& visit) {
    (void)seq;
    (void)visit;
    return Status::InvalidArgument("this target type has no snapshots");
  }
};

// What the sinks need besides their own config.
struct SinkEnv {
  // --allow-private-push: loopback / private / link-local destinations allowed.
  bool allow_private = false;
  // The file-target rule of a shared server: a `file` target's `dir` must be
  // `*file_root/<file_tenant>` or below it; an empty *file_root refuses
  // `file` targets. ValidateFileConfig answers InvalidArgument; MakeFileSink
  // (at delivery) makes a sink that refuses every batch and writes nothing.
  // nullopt: no rule (the operator's own tools; a server without
  // --file-push-root).
  std::optional<std::string> file_root;
  uint32_t file_tenant = 0;
  // Set when the delivery engine stops: a sink blocked in an outbound call
  // should give up promptly (libcurl: from its progress callback) and return
  // kRetry. Not owned; may be null. Added by the delivery engine.
  const std::atomic<bool>* cancel = nullptr;
};

// Validates a push target's `config` (canonical JSON) for `type`
// ("webhook", "postgres", "file", "ftp") at POST /targets: InvalidArgument
// naming the bad member, or OK. Also applies the outbound-safety rule to the
// URL / DSN host unless env.allow_private.
Status ValidateConfig(std::string_view type, std::string_view config_json, const SinkEnv& env);

// Builds the sink of a push target. REQUIRES: ValidateConfig passed.
StatusOr<std::unique_ptr<Sink>> MakeSink(std::string_view type, std::string_view config_json,
                                         const SinkEnv& env);

}  // namespace syncmgr::delivery
