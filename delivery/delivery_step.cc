// One delivery step of a target: take the batch to send (one being retried,
// a dead letter's whose retry was asked for, or the next after the cursor),
// send it, and record the outcome (cursor advance, retry, dead letter or
// pause) — plus the per-target metrics.
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <random>

#include "delivery/cursor.h"
#include "delivery/delivery_engine.h"
#include "delivery/delivery_target.h"
#include "engine/engine.h"

namespace syncmgr::delivery {

namespace {

int64_t WallMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string OneLine(std::string s) {
  for (char& c : s) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return s;
}

}  // namespace

int64_t DeliveryEngine::BackoffMs(uint32_t attempts) {
  // Full jitter: uniform in [0, min(cap, base * 2^(attempts-1))].
  const int64_t cap = options_.backoff_cap_ms;
  int64_t ceiling = options_.backoff_base_ms;
  for (uint32_t i = 1; i < attempts && ceiling < cap; ++i) ceiling *= 2;
  ceiling = std::min(ceiling, cap);
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return std::uniform_int_distribution<int64_t>(0, std::max<int64_t>(ceiling, 0))(rng);
}

Status DeliveryEngine::PersistLocked(Target& t, std::vector<DeadLetter> put,
                                     std::vector<uint64_t> remove, bool sync) {
  DeliveryWrite write;
  write.record = t.record;
  write.put_dead_letters = std::move(put);
  write.delete_dead_letters = std::move(remove);
  write.sync = sync;
  return engine_.WriteDelivery(t.tenant, t.id, write);
}

Status DeliveryEngine::EnsureSink(Target& t) {
  if (!t.sink) {
    SinkEnv env = env_;
    // Held to at delivery as well as at creation: a target made before the
    // root was set cannot write outside it (file_sink.cc).
    if (!options_.file_root.empty()) env.file_root = options_.file_root;
    env.file_tenant = t.tenant;
    SYNCMGR_ASSIGN_OR_RETURN(t.sink, MakeSink(t.type, t.config_json, env));
  }
  {
    MutexLock lock(&t.mu);
    // While a rewind is under way the receiver's cursor is not asked: it is
    // above the rewound one, and the rewind must win (delivery/cursor.h).
    if (t.receiver_cursor_checked || RewindUnderWay(t.record)) return Status::Ok();
  }
  // Exactly-once sinks keep their own cursor with the data: resume from the
  // later of the two (ours may lag after a crash).
  SYNCMGR_ASSIGN_OR_RETURN(std::optional<uint64_t> theirs, t.sink->ReceiverCursor());
  MutexLock lock(&t.mu);
  if (theirs && *theirs > t.record.delivered_seq && !RewindUnderWay(t.record)) {
    DeliveryRecord before = t.record;
    Advance(&t.record, *theirs);
    Status st = PersistLocked(t, {}, {}, /*sync=*/false);
    if (!st.ok()) {
      t.record = before;
      return st;
    }
    ++t.epoch;
    DropRetryLocked(t);
    t.pending_valid = false;
    t.acked_high = std::max(t.acked_high, *theirs);
  }
  t.receiver_cursor_checked = true;
  return Status::Ok();
}

void DeliveryEngine::DropRetryLocked(Target& t) {
  if (t.retry_dead_letter &&
      std::find(t.dead_letter_retries.begin(), t.dead_letter_retries.end(),
                *t.retry_dead_letter) == t.dead_letter_retries.end()) {
    t.dead_letter_retries.push_front(*t.retry_dead_letter);
  }
  t.retry.reset();
  t.retry_dead_letter.reset();
  t.attempts = 0;
}

void DeliveryEngine::AdvanceLocked(Target& t, uint64_t seq) {
  if (Advance(&t.record, seq)) t.receiver_cursor_checked = false;
}

void DeliveryEngine::AdvancedLocked(Target& t, const Batch& batch, bool delivered,
                                    int64_t now_us) {
  if (t.pending_valid) {
    if (batch.last_seq >= t.counted_upto) {
      t.pending = 0;
      t.counted_upto = batch.last_seq;
    } else {
      t.pending -= std::min<uint64_t>(t.pending, batch.events.size());
    }
  }
  if (!delivered) return;
  t.delivered_events += batch.events.size();
  for (const LogEvent& e : batch.events) {
    if (e.seq <= t.acked_high) continue;  // a redelivery: its latency says nothing
    const double seconds = std::max<double>(0, static_cast<double>(now_us - e.time_us) / 1e6);
    size_t bucket = 0;
    while (bucket < kAckLatencyBuckets.size() && seconds > kAckLatencyBuckets[bucket]) ++bucket;
    ++t.latency_counts[bucket];
    t.latency_sum += seconds;
    ++t.latency_count;
  }
  t.acked_high = std::max(t.acked_high, batch.last_seq);
}

bool DeliveryEngine::StartDeadLetterRetry(Target& t, uint64_t id, uint64_t epoch) {
  StatusOr<DeadLetter> dead = engine_.GetDeadLetter(t.tenant, t.id, id);
  Batch batch;
  batch.tenant = t.tenant;
  batch.target_id = t.id;
  Status read = dead.status();
  if (dead.ok()) {
    LogQuery query;
    query.after_seq = dead->first_seq - 1;
    query.stream = StreamRef{StreamKind::kTarget, t.id};
    query.limit = kMaxBatchSize;
    query.scan_budget = options_.scan_budget;
    while (read.ok()) {
      StatusOr<LogPage> page = engine_.ReadLog(t.tenant, query);
      if (!page.ok()) {
        read = page.status();
        break;
      }
      bool done = page->events.empty() || page->last_seq >= dead->last_seq;
      for (LogEvent& e : page->events) {
        if (e.seq > dead->last_seq) {
          done = true;
          break;
        }
        batch.events.push_back(std::move(e));
      }
      if (done || page->last_seq <= query.after_seq) break;
      query.after_seq = page->last_seq;
    }
    if (read.ok() && batch.events.empty()) {
      read = Status::Internal("its events are missing from the log");
    }
  }
  MutexLock lock(&t.mu);
  // Paused or rewound meanwhile: DropRetryLocked queued the retry again.
  if (epoch != t.epoch) return false;
  t.retry_dead_letter.reset();
  if (read.code() == Code::kNotFound) return false;  // delivered by an earlier retry
  if (!read.ok()) {
    // Nothing to send; the dead letter stays as it is, and the operator sees why.
    t.record.last_error = OneLine("retrying dead letter " + std::to_string(id) + ": " +
                                  read.ToString());
    return false;
  }
  batch.first_seq = batch.events.front().seq;
  batch.last_seq = batch.events.back().seq;
  t.retry = std::move(batch);
  t.retry_dead_letter = id;
  t.attempts = 0;  // a new series, counted from 1
  return true;
}

DeliveryEngine::StepResult DeliveryEngine::Step(const TargetPtr& t) {
  MutexLock sink_lock(&t->sink_mu);
  {
    MutexLock lock(&t->mu);
    // Nothing is sent while paused, a dead letter's retry neither; no
    // connection is made either.
    if (t->record.paused) return {StepResult::kPaused, 0};
  }
  Status local = EnsureSink(*t);
  std::optional<uint64_t> start_retry;
  uint64_t epoch = 0;
  {
    MutexLock lock(&t->mu);
    if (t->record.paused) return {StepResult::kPaused, 0};
    epoch = t->epoch;
    if (local.ok() && !t->retry && !t->dead_letter_retries.empty()) {
      start_retry = t->dead_letter_retries.front();
      t->dead_letter_retries.pop_front();
      t->retry_dead_letter = start_retry;  // under way (a control operation requeues it)
    }
  }
  if (start_retry && !StartDeadLetterRetry(*t, *start_retry, epoch)) {
    return {StepResult::kMore, 0};
  }
  uint64_t cursor = 0;
  std::optional<Batch> batch;
  std::optional<uint64_t> dead_letter;  // set: `batch` is this dead letter's
  {
    MutexLock lock(&t->mu);
    if (t->record.paused) return {StepResult::kPaused, 0};
    cursor = t->record.delivered_seq;
    epoch = t->epoch;
    if (t->retry) batch = *t->retry;
    dead_letter = t->retry_dead_letter;
  }
  if (local.ok() && !batch) {
    LogQuery query;
    query.after_seq = cursor;
    query.stream = StreamRef{StreamKind::kTarget, t->id};
    query.limit = t->policy.batch_size;
    query.scan_budget = options_.scan_budget;
    StatusOr<LogPage> page = engine_.ReadLog(t->tenant, query);
    if (!page.ok()) {
      local = page.status();
    } else if (page->events.empty()) {
      StatusOr<uint64_t> last = engine_.LastSeq(t->tenant);
      // Nothing to send; more only if the scan budget ran out first.
      const bool more = last.ok() && page->last_seq < *last && page->last_seq > cursor;
      return {more ? StepResult::kMore : StepResult::kIdle, 0};
    } else {
      batch.emplace();
      batch->tenant = t->tenant;
      batch->target_id = t->id;
      batch->events = std::move(page->events);
      batch->first_seq = batch->events.front().seq;
      batch->last_seq = batch->events.back().seq;
    }
  }

  SendResult result;
  if (local.ok()) {
    StatusOr<SendResult> sent = t->sink->Send(*batch);
    if (sent.ok()) {
      result = std::move(*sent);
    } else {
      result.outcome = SendResult::Outcome::kRetry;
      result.detail = sent.status().ToString();
    }
  }
  sink_lock.Unlock();

  const int64_t now = WallMicros();
  MutexLock lock(&t->mu);
  if (epoch != t->epoch) {
    // Paused, resumed or rewound meanwhile: the outcome is stale. Whatever
    // the receiver got is sent again if needed (at least once).
    DropRetryLocked(*t);
    return {StepResult::kMore, 0};
  }
  const DeliveryRecord before = t->record;
  t->record.last_attempt_at_us = now;
  if (!local.ok()) {
    // No batch could be formed or no sink made: retry later, no dead letter.
    ++t->failures;
    RetryLater how;
    how.error = local.ToString();
    how.count_attempt = how.record_error = true;
    return RetryLaterLocked(*t, now, std::move(how));
  }

  if (result.outcome == SendResult::Outcome::kDelivered) {
    std::vector<uint64_t> removed;
    if (dead_letter) {
      // A dead letter delivered at last: it is removed; the cursor stays.
      removed.push_back(*dead_letter);
      t->record.dead_letters -= std::min<uint64_t>(t->record.dead_letters, 1);
    } else {
      AdvanceLocked(*t, batch->last_seq);
    }
    t->record.last_error.clear();
    Status st = PersistLocked(*t, {}, std::move(removed), /*sync=*/dead_letter.has_value());
    if (!st.ok()) {
      // Not recorded: the batch is sent again later (at least once).
      RetryLater how;
      how.restore = &before;
      how.error = "recording the cursor failed: " + st.ToString();
      how.batch = std::move(batch);
      how.count_attempt = true;
      return RetryLaterLocked(*t, now, std::move(how));
    }
    if (dead_letter) {
      t->delivered_events += batch->events.size();
    } else {
      AdvancedLocked(*t, *batch, /*delivered=*/true, now);
    }
    t->retry.reset();
    t->retry_dead_letter.reset();
    t->attempts = 0;
    return {StepResult::kMore, 0};
  }

  ++t->failures;
  ++t->attempts;
  t->record.last_error = OneLine(result.detail);
  const bool give_up = result.outcome == SendResult::Outcome::kRefused ||
                       t->attempts >= t->policy.max_attempts;
  if (!give_up) {
    RetryLater how;
    how.batch = std::move(batch);
    if (result.retry_after_ms) {
      how.delay_ms = std::clamp<int64_t>(*result.retry_after_ms, 0, options_.backoff_cap_ms);
    }
    how.record_error = true;
    return RetryLaterLocked(*t, now, std::move(how));
  }

  // A target with on_failure "pause" never makes dead letters, so a dead
  // letter's series that gives up simply goes back to the dead letters.
  if (t->policy.pause_on_failure && !dead_letter) {
    // on_failure "pause": stop before this batch; resume sends it again.
    t->record.paused = true;
    Status st = PersistLocked(*t, {}, {}, /*sync=*/true);
    if (!st.ok()) {
      RetryLater how;
      how.restore = &before;
      how.batch = std::move(batch);
      return RetryLaterLocked(*t, now, std::move(how));
    }
    t->retry.reset();
    t->attempts = 0;
    return {StepResult::kPaused, 0};
  }

  // A dead letter, and the cursor moves past it: both in one atomic write.
  // A dead letter's own series ends here too: written back, with this
  // series' attempts and last answer; the cursor stays.
  DeadLetter dead;
  dead.id = dead_letter ? *dead_letter : t->record.next_dead_letter_id;
  dead.first_seq = batch->first_seq;
  dead.last_seq = batch->last_seq;
  dead.attempts = t->attempts;
  dead.last_error = t->record.last_error;
  dead.failed_at_us = now;
  if (!dead_letter) {
    t->record.next_dead_letter_id = dead.id + 1;
    t->record.dead_letters += 1;
    AdvanceLocked(*t, batch->last_seq);
  }
  Status st = PersistLocked(*t, {dead}, {}, /*sync=*/true);
  if (!st.ok()) {
    RetryLater how;
    how.restore = &before;
    how.error = "recording a dead letter failed: " + st.ToString();
    how.batch = std::move(batch);
    return RetryLaterLocked(*t, now, std::move(how));
  }
  if (!dead_letter) {
    ++t->dead_lettered;
    AdvancedLocked(*t, *batch, /*delivered=*/false, now);
  }
  t->retry.reset();
  t->retry_dead_letter.reset();
  t->attempts = 0;
  return {StepResult::kMore, 0};
}

DeliveryEngine::StepResult DeliveryEngine::RetryLaterLocked(Target& t, int64_t now_us,
                                                            RetryLater how) {
  if (how.restore != nullptr) t.record = *how.restore;
  if (how.error) t.record.last_error = OneLine(std::move(*how.error));
  if (how.batch) t.retry = std::move(how.batch);
  if (how.count_attempt) ++t.attempts;
  const int64_t delay = how.delay_ms ? *how.delay_ms : BackoffMs(t.attempts);
  t.next_attempt_us = now_us + delay * 1000;
  if (how.record_error) {
    // last_error is informative: GetStatus answers the in-memory copy, and the
    // retry does not depend on it being on disk.
    PersistLocked(t, {}, {}, /*sync=*/false).IgnoreError();
  }
  return {StepResult::kRetryLater, delay};
}

std::string DeliveryEngine::RenderPrometheus() {
  std::vector<TargetPtr> targets;
  {
    MutexLock lock(&mu_);
    for (auto& [key, t] : targets_) targets.push_back(t);
  }
  std::string pending, delivered, failures, dead, latency;
  auto out = [](std::string& s) { return std::back_inserter(s); };
  for (const TargetPtr& t : targets) {
    MutexLock lock(&t->mu);
    const std::string labels =
        fmt::format("tenant=\"{}\",target=\"{}\",type=\"{}\"", t->tenant, t->id, t->type);
    fmt::format_to(out(pending), "syncmgr_delivery_pending_events{{{}}} {}\n", labels,
                   PendingLocked(*t));
    fmt::format_to(out(delivered), "syncmgr_delivery_delivered_events_total{{{}}} {}\n", labels,
                   t->delivered_events);
    fmt::format_to(out(failures), "syncmgr_delivery_failures_total{{{}}} {}\n", labels,
                   t->failures);
    fmt::format_to(out(dead), "syncmgr_delivery_dead_letters_total{{{}}} {}\n", labels,
                   t->dead_lettered);
    uint64_t cumulative = 0;
    for (size_t i = 0; i < kAckLatencyBuckets.size(); ++i) {
      cumulative += t->latency_counts[i];
      fmt::format_to(out(latency), "syncmgr_delivery_ack_latency_seconds_bucket{{{},le=\"{}\"}} {}\n",
                     labels, kAckLatencyBuckets[i], cumulative);
    }
    fmt::format_to(out(latency),
                   "syncmgr_delivery_ack_latency_seconds_bucket{{{},le=\"+Inf\"}} {}\n"
                   "syncmgr_delivery_ack_latency_seconds_sum{{{}}} {}\n"
                   "syncmgr_delivery_ack_latency_seconds_count{{{}}} {}\n",
                   labels, t->latency_count, labels, t->latency_sum, labels, t->latency_count);
  }
  std::string text;
  text +=
      "# HELP syncmgr_delivery_pending_events Events of a push target not yet acknowledged.\n"
      "# TYPE syncmgr_delivery_pending_events gauge\n" +
      pending +
      "# HELP syncmgr_delivery_delivered_events_total Events acknowledged by a push target's "
      "receiver (by this process).\n"
      "# TYPE syncmgr_delivery_delivered_events_total counter\n" +
      delivered +
      "# HELP syncmgr_delivery_failures_total Failed sends to a push target's receiver.\n"
      "# TYPE syncmgr_delivery_failures_total counter\n" +
      failures +
      "# HELP syncmgr_delivery_dead_letters_total Batches a push target dead-lettered.\n"
      "# TYPE syncmgr_delivery_dead_letters_total counter\n" +
      dead +
      "# HELP syncmgr_delivery_ack_latency_seconds Time from an event's commit to its "
      "acknowledgement by the receiver.\n"
      "# TYPE syncmgr_delivery_ack_latency_seconds histogram\n" +
      latency;
  return text;
}

}  // namespace syncmgr::delivery
