// One delivery step of a target: read a batch after the cursor, send it, and
// record the outcome (cursor advance, retry, dead letter or pause) — plus
// the per-target metrics.
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
    std::lock_guard lock(t.mu);
    // While a rewind is under way the receiver's cursor is not asked: it is
    // above the rewound one, and the rewind must win (delivery/cursor.h).
    if (t.receiver_cursor_checked || RewindUnderWay(t.record)) return Status::Ok();
  }
  // Exactly-once sinks keep their own cursor with the data: resume from the
  // later of the two (ours may lag after a crash).
  SYNCMGR_ASSIGN_OR_RETURN(std::optional<uint64_t> theirs, t.sink->ReceiverCursor());
  std::lock_guard lock(t.mu);
  if (theirs && *theirs > t.record.delivered_seq && !RewindUnderWay(t.record)) {
    DeliveryRecord before = t.record;
    Advance(&t.record, *theirs);
    Status st = PersistLocked(t, {}, {}, /*sync=*/false);
    if (!st.ok()) {
      t.record = before;
      return st;
    }
    ++t.epoch;
    t.retry.reset();
    t.pending_valid = false;
    t.acked_high = std::max(t.acked_high, *theirs);
  }
  t.receiver_cursor_checked = true;
  return Status::Ok();
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

DeliveryEngine::StepResult DeliveryEngine::Step(const TargetPtr& t) {
  std::optional<uint64_t> dead_letter;
  {
    std::lock_guard lock(t->mu);
    if (!t->dead_letter_retries.empty()) {
      dead_letter = t->dead_letter_retries.front();
      t->dead_letter_retries.pop_front();
    } else if (t->record.paused) {
      return {StepResult::kPaused, 0};
    }
  }
  if (dead_letter) return RetryOneDeadLetter(t, *dead_letter);
  return DeliverBatch(t);
}

DeliveryEngine::StepResult DeliveryEngine::DeliverBatch(const TargetPtr& t) {
  std::unique_lock sink_lock(t->sink_mu);
  uint64_t cursor = 0, epoch = 0;
  std::optional<Batch> batch;
  Status local = EnsureSink(*t);
  {
    std::lock_guard lock(t->mu);
    cursor = t->record.delivered_seq;
    epoch = t->epoch;
    if (t->retry) batch = *t->retry;
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
  sink_lock.unlock();

  const int64_t now = WallMicros();
  std::lock_guard lock(t->mu);
  if (epoch != t->epoch) {
    // Paused, resumed or rewound meanwhile: the outcome is stale. Whatever
    // the receiver got is sent again if needed (at least once).
    t->retry.reset();
    t->attempts = 0;
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
    AdvanceLocked(*t, batch->last_seq);
    t->record.last_error.clear();
    Status st = PersistLocked(*t, {}, {}, /*sync=*/false);
    if (!st.ok()) {
      // Not recorded: the batch is sent again later (at least once).
      RetryLater how;
      how.restore = &before;
      how.error = "recording the cursor failed: " + st.ToString();
      how.batch = std::move(batch);
      how.count_attempt = true;
      return RetryLaterLocked(*t, now, std::move(how));
    }
    AdvancedLocked(*t, *batch, /*delivered=*/true, now);
    t->retry.reset();
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

  if (t->policy.pause_on_failure) {
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
  DeadLetter dead;
  dead.id = t->record.next_dead_letter_id;
  dead.first_seq = batch->first_seq;
  dead.last_seq = batch->last_seq;
  dead.attempts = t->attempts;
  dead.last_error = t->record.last_error;
  dead.failed_at_us = now;
  t->record.next_dead_letter_id = dead.id + 1;
  t->record.dead_letters += 1;
  AdvanceLocked(*t, batch->last_seq);
  Status st = PersistLocked(*t, {dead}, {}, /*sync=*/true);
  if (!st.ok()) {
    RetryLater how;
    how.restore = &before;
    how.error = "recording a dead letter failed: " + st.ToString();
    how.batch = std::move(batch);
    return RetryLaterLocked(*t, now, std::move(how));
  }
  ++t->dead_lettered;
  AdvancedLocked(*t, *batch, /*delivered=*/false, now);
  t->retry.reset();
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

DeliveryEngine::StepResult DeliveryEngine::RetryOneDeadLetter(const TargetPtr& t, uint64_t id) {
  StatusOr<DeadLetter> found = engine_.GetDeadLetter(t->tenant, t->id, id);
  if (!found.ok()) return {StepResult::kMore, 0};  // already retried successfully
  DeadLetter dead = *found;
  Batch batch;
  batch.tenant = t->tenant;
  batch.target_id = t->id;
  Status local = Status::Ok();
  LogQuery query;
  query.after_seq = dead.first_seq - 1;
  query.stream = StreamRef{StreamKind::kTarget, t->id};
  query.limit = kMaxBatchSize;
  query.scan_budget = options_.scan_budget;
  while (local.ok()) {
    StatusOr<LogPage> page = engine_.ReadLog(t->tenant, query);
    if (!page.ok()) {
      local = page.status();
      break;
    }
    bool done = page->events.empty() || page->last_seq >= dead.last_seq;
    for (LogEvent& e : page->events) {
      if (e.seq > dead.last_seq) {
        done = true;
        break;
      }
      batch.events.push_back(std::move(e));
    }
    if (done || page->last_seq <= query.after_seq) break;
    query.after_seq = page->last_seq;
  }
  SendResult result;
  result.outcome = SendResult::Outcome::kRetry;
  if (local.ok() && batch.events.empty()) {
    local = Status::Internal("the events of dead letter " + std::to_string(id) + " are missing");
  }
  if (local.ok()) {
    batch.first_seq = batch.events.front().seq;
    batch.last_seq = batch.events.back().seq;
    std::lock_guard sink_lock(t->sink_mu);
    local = EnsureSink(*t);
    if (local.ok()) {
      StatusOr<SendResult> sent = t->sink->Send(batch);
      if (sent.ok()) {
        result = std::move(*sent);
      } else {
        result.detail = sent.status().ToString();
      }
    }
  }
  if (!local.ok()) result.detail = local.ToString();

  const int64_t now = WallMicros();
  std::lock_guard lock(t->mu);
  const DeliveryRecord before = t->record;
  t->record.last_attempt_at_us = now;
  Status st;
  if (result.outcome == SendResult::Outcome::kDelivered) {
    t->record.dead_letters -= std::min<uint64_t>(t->record.dead_letters, 1);
    st = PersistLocked(*t, {}, {id}, /*sync=*/true);
    if (st.ok()) t->delivered_events += batch.events.size();
  } else {
    ++t->failures;
    dead.attempts += 1;
    dead.last_error = OneLine(result.detail);
    dead.failed_at_us = now;
    st = PersistLocked(*t, {dead}, {}, /*sync=*/true);
  }
  if (!st.ok()) t->record = before;
  return {StepResult::kMore, 0};
}

std::string DeliveryEngine::RenderPrometheus() {
  std::vector<TargetPtr> targets;
  {
    std::lock_guard lock(mu_);
    for (auto& [key, t] : targets_) targets.push_back(t);
  }
  std::string pending, delivered, failures, dead, latency;
  auto out = [](std::string& s) { return std::back_inserter(s); };
  for (const TargetPtr& t : targets) {
    std::lock_guard lock(t->mu);
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
