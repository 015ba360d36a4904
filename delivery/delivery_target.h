// DeliveryTarget: the per-target state of the DeliveryEngine. Internal to
// delivery/ (delivery_engine.h includes it for its private members, whose
// lock annotations name these fields).
//
// Locks, in the only order they nest: sink_mu → mu → DeliveryEngine::mu_.
//   sink_mu  serializes the sink's calls (Send, ReceiverCursor,
//            WriteSnapshot): held across outbound I/O, by one worker or a
//            snapshot request.
//   mu       the delivery state (record, retry batch, metrics); held across
//            the engine's RocksDB writes, never across a sink call.
//   mu_      (the engine's) the scheduling flags; held only for flag flips.
#pragma once

#include <array>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>

#include "delivery/policy.h"
#include "delivery/sink.h"
#include "engine/delivery_types.h"
#include "engine/mutex.h"
#include "engine/types.h"

namespace syncmgr::delivery {

class DeliveryEngine;

// Upper bounds (seconds) of the commit → acknowledgement latency histogram
// (+Inf implied): receivers are minutes away when they retry.
inline constexpr std::array<double, 14> kAckLatencyBuckets = {
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10, 30, 60, 300, 1800};

struct DeliveryTarget {
  // Constant after DeliveryEngine::Track.
  TenantId tenant = 0;
  uint32_t id = 0;
  std::string type;
  std::string config_json;
  DeliveryPolicy policy;

  Mutex sink_mu ACQUIRED_BEFORE(mu);
  std::unique_ptr<Sink> sink GUARDED_BY(sink_mu);  // made on first use

  Mutex mu;
  DeliveryRecord record GUARDED_BY(mu);  // what the delivery CF holds
  uint64_t epoch GUARDED_BY(mu) = 0;     // bumped by every control operation
  // The batch being sent again (same webhook-id): after a failed send, or a
  // dead letter's batch from the start of its retry series.
  std::optional<Batch> retry GUARDED_BY(mu);
  // Set while a dead letter's retry series is under way (its id; `retry` is
  // its batch once read): its outcome goes to that dead letter, the cursor
  // stays where it is.
  std::optional<uint64_t> retry_dead_letter GUARDED_BY(mu);
  uint32_t attempts GUARDED_BY(mu) = 0;         // failed sends of the current batch
  int64_t next_attempt_us GUARDED_BY(mu) = 0;  // wall clock, while retrying
  // Dead letters whose retry was asked for, each a series of its own, in order.
  std::deque<uint64_t> dead_letter_retries GUARDED_BY(mu);
  // The receiver's own cursor (ReceiverCursor) was read since the sink was
  // made or a rewind ended.
  bool receiver_cursor_checked GUARDED_BY(mu) = false;
  // Pending events = events of the stream in (record.delivered_seq,
  // counted_upto], kept incrementally.
  bool pending_valid GUARDED_BY(mu) = false;
  uint64_t counted_upto GUARDED_BY(mu) = 0;
  uint64_t pending GUARDED_BY(mu) = 0;
  uint64_t acked_high GUARDED_BY(mu) = 0;  // highest seq acknowledged; latency observed above it
  uint64_t delivered_events GUARDED_BY(mu) = 0;
  uint64_t failures GUARDED_BY(mu) = 0;
  uint64_t dead_lettered GUARDED_BY(mu) = 0;
  std::array<uint64_t, kAckLatencyBuckets.size() + 1> latency_counts GUARDED_BY(mu){};
  double latency_sum GUARDED_BY(mu) = 0;
  uint64_t latency_count GUARDED_BY(mu) = 0;

  // Where the target is in the engine's scheduling.
  struct Schedule {
    bool queued = false;
    bool running = false;
    bool dirty = false;  // woken while running: run again
    bool timer_armed = false;
    uint64_t timer_gen = 0;
  };

 private:
  // Guarded by DeliveryEngine::mu_, which an attribute here cannot name (it
  // is another object's): reached only through DeliveryEngine::Sched, which
  // REQUIRES that lock.
  friend class DeliveryEngine;
  Schedule schedule_;
};

}  // namespace syncmgr::delivery
