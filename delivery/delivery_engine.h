// DeliveryEngine: push delivery (SPEC §4 "Push delivery"). Every push target
// (webhook, postgres, file, ftp) is a consumer of its tenant's log with a
// durable cursor — the last seq its receiver acknowledged — kept in the
// engine's `delivery` column family and advanced only after the receiver
// acknowledged a batch.
//
// How it runs (docs/push.md "How delivery runs"):
//   * a commit of a tenant wakes that tenant's push targets (the commit
//     callback only flips flags and queues them; it never blocks);
//   * a small pool of delivery worker threads takes ready targets from one
//     FIFO queue; a target is on at most one worker at a time, so its
//     batches go out strictly in seq order. Each step reads one batch
//     (<= batch_size events of the target's stream, through the per-stream
//     index) after the cursor and sends it with the target's sink;
//   * a failed send is retried after an exponential backoff with full jitter
//     (base × 2^(attempt−1), capped at 10 min) or after the receiver's
//     Retry-After, on one timer thread — no thread waits out a backoff;
//   * a sink call blocks only its own worker. The pool grows on demand (up
//     to max_workers) when every worker is busy and a target is waiting, so
//     one stuck receiver never delays another target; imports and syncs
//     never wait for delivery at all;
//   * a batch refused (4xx other than 408 / 429) or failing max_attempts
//     times becomes a dead letter and the cursor moves past it in the same
//     atomic write (on_failure "dead_letter"), or delivery pauses before it
//     (on_failure "pause").
//
// Dead letters: a retry (RetryDeadLetter) is a batch like any other, sent
// by the target's one worker in its turn: a new series of attempts under
// the target's backoff and max_attempts; delivered, the dead letter is
// removed; given up, it is written back with the series' attempts.
//
// A rewind (Redeliver) wins over the receiver's own cursor until delivery
// has passed the rewound-from seq again (delivery/cursor.h): it is recorded
// in the durable record, so a restart does not undo it.
//
// Delivered events: every event in the target's stream — property.created /
// updated / removed / manual_edit and sync.completed (the receiver learns
// that a sync run ended and can publish). Delivery is at least once (a batch
// may be re-sent after a timeout or a crash; seq is the idempotency key);
// a sink that commits its own cursor with the data (postgres) makes it
// exactly once: delivery resumes from max(our cursor, the receiver's).
//
// Thread-safety: every public member is safe to call from any thread, but
// never from a commit callback or a sink. Start and Stop: once each.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "delivery/delivery_target.h"
#include "delivery/sink.h"
#include "engine/delivery_types.h"
#include "engine/mutex.h"
#include "engine/status.h"
#include "engine/types.h"
#include "wire/api_types.h"

namespace syncmgr {
class Engine;
}

namespace syncmgr::delivery {

struct DeliveryOptions {
  // --allow-private-push: loopback / private destinations allowed.
  bool allow_private = false;
  // Delivery worker threads started at once. Default: 2.
  unsigned min_workers = 2;
  // Most worker threads: the pool grows (never shrinks) while every worker
  // is busy — blocked in a slow receiver — and targets are waiting.
  // Default: 32.
  unsigned max_workers = 32;
  // First retry delay; doubled per failed attempt, full jitter. Default:
  // 1000 ms. Tests shorten it.
  uint32_t backoff_base_ms = 1000;
  // Longest retry delay, also for Retry-After. Default: 600 000 ms (10 min).
  uint32_t backoff_cap_ms = 600'000;
  // Log records scanned per ReadLog call of one step. Default: 100 000.
  uint32_t scan_budget = 100'000;
  // --file-push-root: a `file` target delivers only into
  // <file_root>/<its tenant id>/ or below; a batch for a directory elsewhere
  // is refused (a dead letter naming the root), nothing written. Targets
  // made before the root was set are held to it too. Empty: no rule.
  // Default: empty.
  std::string file_root;
  // Cluster mode: only targets of tenants for which this returns true are
  // delivered (the tenants this node owns, docs/scaling.md "Push
  // delivery"); call WakeTenant when it turns true. Called under the
  // engine's scheduling lock: must not block. Empty: every tenant.
  std::function<bool(TenantId)> runs_tenant;
};

// GET /targets/{id}/delivery: an answer's value, so the wire layer's.
using DeliveryStatus = wire::DeliveryStatus;

class DeliveryEngine {
 public:
  // REQUIRES: `engine` outlives the DeliveryEngine.
  DeliveryEngine(Engine& engine, DeliveryOptions options);
  // Stops if running.
  ~DeliveryEngine();
  DeliveryEngine(const DeliveryEngine&) = delete;
  DeliveryEngine& operator=(const DeliveryEngine&) = delete;

  // Loads every push target of every tenant, subscribes to commits, starts
  // the workers and the timer, and queues every target (each resumes after
  // its cursor).
  Status Start();
  // Stops the threads: sends in flight are cancelled (libcurl gives up at
  // once) or finish (bounded by the sink's timeout); their batches are sent
  // again after a restart. Idempotent; blocks until done.
  void Stop();

  // A push target was just created (POST /targets): deliver it. Internal
  // targets are ignored.
  void Track(TenantId tenant, const TargetInfo& target);

  // Cluster mode: this node became the tenant's owner: learn its push
  // targets (some may have been created on other nodes), read their state
  // again from the engine (the previous owner's: cursor, pause, dead
  // letters) and deliver them.
  void WakeTenant(TenantId tenant) EXCLUDES(mu_);

  // The control routes. NotFound when the tenant or target does not exist
  // or is not a push target.
  StatusOr<DeliveryStatus> GetStatus(TenantId tenant, uint32_t target_id);
  StatusOr<DeliveryStatus> Pause(TenantId tenant, uint32_t target_id);
  StatusOr<DeliveryStatus> Resume(TenantId tenant, uint32_t target_id);
  // Rewinds the cursor to `from_seq`: everything after it is sent again.
  // InvalidArgument if from_seq is past the cursor (a rewind never skips).
  StatusOr<DeliveryStatus> Redeliver(TenantId tenant, uint32_t target_id, uint64_t from_seq);
  // Queues a retry of a dead letter's batch: after the batch the target is
  // sending, a new series of attempts (from 1) under its backoff and
  // max_attempts. Delivered, the dead letter is removed; given up, it is
  // written back with that series' attempts and last answer. A paused
  // target sends it after resume. NotFound if no such dead letter.
  StatusOr<DeadLetter> RetryDeadLetter(TenantId tenant, uint32_t target_id, uint64_t id);
  // Writes the target's whole current state through its sink (file / ftp:
  // snapshot-<seq>.ndjson); returns that seq. InvalidArgument for types
  // without snapshots. Blocks while a batch of the target is being sent.
  StatusOr<uint64_t> Snapshot(TenantId tenant, uint32_t target_id);

  // Per-target series in the Prometheus text format (docs/api.md
  // "Metrics"): syncmgr_delivery_pending_events, _delivered_events_total,
  // _failures_total, _dead_letters_total, _ack_latency_seconds (histogram).
  std::string RenderPrometheus();

  // Worker threads running now (tests).
  unsigned worker_count() const;

 private:
  using Target = DeliveryTarget;
  using TargetPtr = std::shared_ptr<Target>;
  // What a step leaves its target waiting for.
  struct StepResult {
    enum Kind {
      kMore,        // run again soon (more may be pending)
      kIdle,        // caught up: wait for a commit
      kRetryLater,  // wait delay_ms, then run again
      kPaused,      // wait for resume
    };
    Kind kind = kIdle;
    int64_t delay_ms = 0;
  };

  StatusOr<TargetPtr> Find(TenantId tenant, uint32_t target_id) EXCLUDES(mu_);
  void OnCommit(TenantId tenant) EXCLUDES(mu_);
  // The target's scheduling flags, which mu_ guards.
  Target::Schedule& Sched(Target& t) REQUIRES(mu_) { return t.schedule_; }
  // Cluster mode: takes the target's record from the engine again (another
  // node wrote it); anything in flight or queued for retry is dropped.
  // Without `wait`, does nothing while a step of the target is sending.
  void Reload(const TargetPtr& t, bool wait) EXCLUDES(t->sink_mu, t->mu);
  // Queues a target unless it is running (then it runs again) or waiting
  // out a backoff (unless `cancel_timer`).
  void WakeLocked(const TargetPtr& t, bool cancel_timer) REQUIRES(mu_);
  void WorkerLoop() EXCLUDES(mu_);
  void TimerLoop() EXCLUDES(mu_);
  void SpawnWorkerLocked() REQUIRES(mu_);
  // One step of a target: sends one batch and records the outcome.
  StepResult Step(const TargetPtr& t) EXCLUDES(t->sink_mu, t->mu, mu_);
  // Starts the retry series of dead letter `id` (taken from
  // t.dead_letter_retries into t.retry_dead_letter by a step that read
  // `epoch`): its batch becomes t.retry, attempts count from 0. False when
  // there is nothing to send now: the dead letter is gone (delivered), a
  // control operation overtook the step (it queued the retry again), or its
  // events could not be read (last_error says so).
  bool StartDeadLetterRetry(Target& t, uint64_t id, uint64_t epoch) REQUIRES(t.sink_mu)
      EXCLUDES(t.mu);
  // Forgets the batch being retried; a dead letter's series goes back to
  // the front of the retry queue (sent again, from attempt 1, later).
  void DropRetryLocked(Target& t) REQUIRES(t.mu);
  // Moves the cursor forward (delivery/cursor.h Advance): when that ends a
  // rewind, the receiver's own cursor is read again.
  void AdvanceLocked(Target& t, uint64_t seq) REQUIRES(t.mu);
  // How a step that did not finish leaves its target for the next attempt:
  // each way Step can fail fills in what differs, RetryLaterLocked
  // does the rest (backoff, schedule, answer).
  struct RetryLater {
    // A write of the record failed: put the record back as it was.
    const DeliveryRecord* restore = nullptr;
    // The failure, shown as last_error (made one line).
    std::optional<std::string> error;
    // The batch to send again; nullopt leaves t.retry as it is.
    std::optional<Batch> batch;
    // This attempt counts before the backoff is drawn.
    bool count_attempt = false;
    // The receiver's Retry-After (already capped), instead of the backoff.
    std::optional<int64_t> delay_ms;
    // Record the record (last_error) too, best effort.
    bool record_error = false;
  };
  // Schedules the target's next attempt as `how` says.
  StepResult RetryLaterLocked(Target& t, int64_t now_us, RetryLater how) REQUIRES(t.mu);
  // Makes the sink and, for sinks with a cursor of their own, resumes from
  // the later of the two — unless a rewind is under way.
  Status EnsureSink(Target& t) REQUIRES(t.sink_mu) EXCLUDES(t.mu);
  // Writes t.record (and dead letter changes) in one batch.
  Status PersistLocked(Target& t, std::vector<DeadLetter> put, std::vector<uint64_t> remove,
                       bool sync) REQUIRES(t.mu);
  // The cursor moved past `batch` (delivered or dead-lettered): pending
  // count and, when delivered, metrics.
  void AdvancedLocked(Target& t, const Batch& batch, bool delivered, int64_t now_us)
      REQUIRES(t.mu);
  uint64_t PendingLocked(Target& t) REQUIRES(t.mu);
  DeliveryStatus StatusLocked(Target& t) REQUIRES(t.mu) EXCLUDES(mu_);
  int64_t BackoffMs(uint32_t attempts);

  // Constant after construction.
  Engine& engine_;
  const DeliveryOptions options_;
  SinkEnv env_;

  std::atomic<bool> cancel_{false};

  mutable Mutex mu_;  // scheduling; never held across I/O
  CondVar work_cv_;   // a target is ready, or stopping_
  CondVar timer_cv_;  // a timer was armed, or stopping_
  std::map<std::pair<TenantId, uint32_t>, TargetPtr> targets_ GUARDED_BY(mu_);
  std::map<TenantId, std::vector<TargetPtr>> by_tenant_ GUARDED_BY(mu_);
  std::deque<TargetPtr> ready_ GUARDED_BY(mu_);  // FIFO
  std::multimap<int64_t, std::pair<TargetPtr, uint64_t>> timers_ GUARDED_BY(mu_);
  std::vector<std::thread> workers_ GUARDED_BY(mu_);
  unsigned idle_workers_ GUARDED_BY(mu_) = 0;
  bool started_ GUARDED_BY(mu_) = false;
  bool stopping_ GUARDED_BY(mu_) = false;

  // Set by Start, read by Stop (once each, never concurrently).
  std::thread timer_thread_;
  uint64_t commit_subscription_ = 0;
};

}  // namespace syncmgr::delivery
