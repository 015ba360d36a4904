// The per-target state of the DeliveryEngine. Internal to delivery/.
//
// Locks, in the only order they nest: sink_mu → mu → DeliveryEngine::mu_.
//   sink_mu  serializes the sink's calls (Send, ReceiverCursor,
//            WriteSnapshot): held across outbound I/O, by one worker or a
//            snapshot request.
//   mu       the delivery state (record, retry batch, metrics); held across
//            the engine's RocksDB writes, never across a sink call.
//   mu_      (the engine's) scheduling flags; held only for flag flips.
#pragma once

#include <array>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "delivery/delivery_engine.h"
#include "delivery/policy.h"

namespace syncmgr::delivery {

// Upper bounds (seconds) of the commit → acknowledgement latency histogram
// (+Inf implied): receivers are minutes away when they retry.
inline constexpr std::array<double, 14> kAckLatencyBuckets = {
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10, 30, 60, 300, 1800};

struct DeliveryEngine::Target {
  // Constant after Track.
  TenantId tenant = 0;
  uint32_t id = 0;
  std::string type;
  std::string config_json;
  DeliveryPolicy policy;

  std::mutex sink_mu;
  std::unique_ptr<Sink> sink;  // guarded by sink_mu; made on first use

  std::mutex mu;
  // guarded by mu:
  DeliveryRecord record;      // what the delivery CF holds
  uint64_t epoch = 0;         // bumped by every control operation
  // The batch being sent again (same webhook-id): after a failed send, or a
  // dead letter's batch from the start of its retry series.
  std::optional<Batch> retry;
  // Set while a dead letter's retry series is under way (its id; `retry` is
  // its batch once read): its outcome goes to that dead letter, the cursor
  // stays where it is.
  std::optional<uint64_t> retry_dead_letter;
  uint32_t attempts = 0;      // failed sends of the current batch
  int64_t next_attempt_us = 0;  // wall clock, while retrying
  // Dead letters whose retry was asked for, each a series of its own, in order.
  std::deque<uint64_t> dead_letter_retries;
  // The receiver's own cursor (ReceiverCursor) was read since the sink was
  // made or a rewind ended; read by the holder of sink_mu.
  bool receiver_cursor_checked = false;
  // Pending events = events of the stream in (record.delivered_seq,
  // counted_upto], kept incrementally.
  bool pending_valid = false;
  uint64_t counted_upto = 0;
  uint64_t pending = 0;
  uint64_t acked_high = 0;  // highest seq acknowledged; latency observed above it
  uint64_t delivered_events = 0;
  uint64_t failures = 0;
  uint64_t dead_lettered = 0;
  std::array<uint64_t, kAckLatencyBuckets.size() + 1> latency_counts{};
  double latency_sum = 0;
  uint64_t latency_count = 0;

  // guarded by DeliveryEngine::mu_:
  bool queued = false;
  bool running = false;
  bool dirty = false;  // woken while running: run again
  bool timer_armed = false;
  uint64_t timer_gen = 0;
};

struct DeliveryEngine::StepResult {
  enum Kind {
    kMore,        // run again soon (more may be pending)
    kIdle,        // caught up: wait for a commit
    kRetryLater,  // wait delay_ms, then run again
    kPaused,      // wait for resume
  };
  Kind kind = kIdle;
  int64_t delay_ms = 0;
};

}  // namespace syncmgr::delivery
