// DeliveryEngine: scheduling (queue, workers, timer) and the control
// routes. One delivery step of a target lives in delivery_step.cc.
#include "delivery/delivery_engine.h"

#include <algorithm>
#include <chrono>

#include "delivery/cursor.h"
#include "delivery/delivery_target.h"
#include "delivery/policy.h"
#include "engine/engine.h"

namespace syncmgr::delivery {

namespace {

int64_t SteadyMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

DeliveryEngine::DeliveryEngine(Engine& engine, DeliveryOptions options)
    : engine_(engine), options_(std::move(options)) {
  env_.allow_private = options_.allow_private;
  env_.cancel = &cancel_;
}

DeliveryEngine::~DeliveryEngine() { Stop(); }

Status DeliveryEngine::Start() {
  {
    MutexLock lock(&mu_);
    if (started_) return Status::InvalidArgument("delivery engine already started");
    started_ = true;
  }
  // Every push target of every tenant, each resuming after its cursor.
  for (const TenantInfo& tenant : engine_.ListTenants()) {
    StatusOr<std::vector<TargetInfo>> targets = engine_.ListTargets(tenant.id);
    if (!targets.ok()) return targets.status();
    for (const TargetInfo& target : *targets) Track(tenant.id, target);
  }
  commit_subscription_ =
      engine_.SubscribeCommits([this](TenantId tenant, uint64_t) { OnCommit(tenant); });
  MutexLock lock(&mu_);
  timer_thread_ = std::thread([this] { TimerLoop(); });
  for (unsigned i = 0; i < std::max(1u, options_.min_workers); ++i) SpawnWorkerLocked();
  for (auto& [key, t] : targets_) WakeLocked(t, false);
  return Status::Ok();
}

void DeliveryEngine::Stop() {
  std::vector<std::thread> workers;
  {
    MutexLock lock(&mu_);
    if (!started_ || stopping_) return;
    stopping_ = true;
    workers.swap(workers_);
  }
  if (commit_subscription_ != 0) engine_.UnsubscribeCommits(commit_subscription_);
  cancel_.store(true);
  work_cv_.SignalAll();
  timer_cv_.SignalAll();
  for (std::thread& w : workers) w.join();
  if (timer_thread_.joinable()) timer_thread_.join();
  MutexLock lock(&mu_);
  ready_.clear();
  timers_.clear();
}

unsigned DeliveryEngine::worker_count() const {
  MutexLock lock(&mu_);
  return static_cast<unsigned>(workers_.size());
}

// ---- Targets ---------------------------------------------------------------

void DeliveryEngine::Track(TenantId tenant, const TargetInfo& target) {
  if (!IsPushType(target.type)) return;
  {
    MutexLock lock(&mu_);
    if (targets_.count({tenant, target.id}) != 0) return;
  }
  // Read outside mu_ (engine I/O); a concurrent Track of the same target
  // keeps the first one inserted.
  auto t = std::make_shared<Target>();
  t->tenant = tenant;
  t->id = target.id;
  t->type = target.type;
  t->config_json = target.config_json;
  StatusOr<DeliveryPolicy> policy = ParsePolicy(target.config_json);
  if (policy.ok()) t->policy = *policy;  // validated at creation; defaults otherwise
  StatusOr<DeliveryRecord> record = engine_.GetDelivery(tenant, target.id);
  {
    MutexLock lock(&t->mu);  // not shared yet: taken for the rule's sake, never waited for
    if (record.ok()) t->record = *record;
    t->acked_high = t->record.delivered_seq;
  }
  MutexLock lock(&mu_);
  auto [it, inserted] = targets_.emplace(std::make_pair(tenant, target.id), t);
  if (!inserted) return;
  by_tenant_[tenant].push_back(t);
  if (!stopping_ && !workers_.empty()) WakeLocked(t, false);
}

StatusOr<DeliveryEngine::TargetPtr> DeliveryEngine::Find(TenantId tenant, uint32_t target_id) {
  {
    MutexLock lock(&mu_);
    auto it = targets_.find({tenant, target_id});
    if (it != targets_.end()) return it->second;
  }
  SYNCMGR_ASSIGN_OR_RETURN(TargetInfo info, engine_.GetTarget(tenant, target_id));
  if (!IsPushType(info.type)) {
    return Status::NotFound("target " + std::to_string(target_id) +
                            " is an internal target: it has no push delivery");
  }
  Track(tenant, info);
  MutexLock lock(&mu_);
  auto it = targets_.find({tenant, target_id});
  if (it == targets_.end()) return Status::Internal("push target not tracked");
  return it->second;
}

void DeliveryEngine::WakeTenant(TenantId tenant) {
  StatusOr<std::vector<TargetInfo>> targets = engine_.ListTargets(tenant);
  if (!targets.ok()) return;  // no such tenant (yet) here
  for (const TargetInfo& target : *targets) Track(tenant, target);
  std::vector<TargetPtr> mine;
  {
    MutexLock lock(&mu_);
    auto it = by_tenant_.find(tenant);
    if (it == by_tenant_.end()) return;
    mine = it->second;
  }
  // Another node delivered them until now: resume from what it recorded
  // (cursor, pause, dead letters), not from what this node read earlier.
  for (const TargetPtr& t : mine) Reload(t, /*wait=*/true);
  MutexLock lock(&mu_);
  for (const TargetPtr& t : mine) WakeLocked(t, false);
}

void DeliveryEngine::Reload(const TargetPtr& t, bool wait) {
  StatusOr<DeliveryRecord> record = engine_.GetDelivery(t->tenant, t->id);
  if (!record.ok()) return;  // kept as it was; the next write's check decides
  if (wait) {
    t->sink_mu.Lock();
  } else if (!t->sink_mu.TryLock()) {
    return;  // a step of this node is under way: its own record is the newer
  }
  // sink_mu is held from here on either path, and released below.
  {
    MutexLock lock(&t->mu);
    t->record = *record;
    ++t->epoch;  // an outcome from before is stale
    DropRetryLocked(*t);
    t->dead_letter_retries.clear();
    t->pending_valid = false;
    t->receiver_cursor_checked = false;  // the receiver may be ahead of the record
    t->acked_high = std::max(t->acked_high, t->record.delivered_seq);
  }
  t->sink_mu.Unlock();
}

void DeliveryEngine::OnCommit(TenantId tenant) {
  // Runs on the committing thread: flags and a queue push, nothing that waits.
  MutexLock lock(&mu_);
  auto it = by_tenant_.find(tenant);
  if (it == by_tenant_.end()) return;
  for (const TargetPtr& t : it->second) WakeLocked(t, false);
}

// ---- Scheduling --------------------------------------------------------------

void DeliveryEngine::WakeLocked(const TargetPtr& t, bool cancel_timer) {
  if (stopping_) return;
  // Cluster mode: another node delivers this tenant's targets.
  if (options_.runs_tenant && !options_.runs_tenant(t->tenant)) return;
  Target::Schedule& sched = Sched(*t);
  if (cancel_timer && sched.timer_armed) {
    sched.timer_armed = false;
    ++sched.timer_gen;
  }
  if (sched.running) {
    sched.dirty = true;
    return;
  }
  if (sched.queued || sched.timer_armed) return;
  sched.queued = true;
  ready_.push_back(t);
  if (idle_workers_ == 0 && workers_.size() < std::max(1u, options_.max_workers)) {
    SpawnWorkerLocked();
  }
  work_cv_.Signal();
}

void DeliveryEngine::SpawnWorkerLocked() {
  ++idle_workers_;
  workers_.emplace_back([this] { WorkerLoop(); });
}

void DeliveryEngine::WorkerLoop() {
  MutexLock lock(&mu_);
  for (;;) {
    while (!stopping_ && ready_.empty()) work_cv_.Wait(&mu_);
    if (stopping_) return;
    TargetPtr t = std::move(ready_.front());
    ready_.pop_front();
    Sched(*t).queued = false;
    Sched(*t).running = true;
    Sched(*t).dirty = false;
    --idle_workers_;
    lock.Unlock();
    const StepResult result = Step(t);
    lock.Lock();
    ++idle_workers_;
    Sched(*t).running = false;
    if (stopping_) return;
    switch (result.kind) {
      case StepResult::kMore:
        WakeLocked(t, false);
        break;
      case StepResult::kIdle:
        if (Sched(*t).dirty) WakeLocked(t, false);
        break;
      case StepResult::kRetryLater:
        if (Sched(*t).timer_armed) break;  // cannot happen: a running target arms no timer
        Sched(*t).timer_armed = true;
        ++Sched(*t).timer_gen;
        timers_.emplace(SteadyMicros() + result.delay_ms * 1000,
                        std::make_pair(t, Sched(*t).timer_gen));
        timer_cv_.Signal();
        break;
      case StepResult::kPaused:
        break;
    }
  }
}

void DeliveryEngine::TimerLoop() {
  MutexLock lock(&mu_);
  while (!stopping_) {
    if (timers_.empty()) {
      timer_cv_.Wait(&mu_);
      continue;
    }
    const int64_t due = timers_.begin()->first;
    const int64_t now = SteadyMicros();
    if (due > now) {
      timer_cv_.WaitFor(&mu_, std::chrono::microseconds(due - now));
      continue;
    }
    auto [t, gen] = timers_.begin()->second;
    timers_.erase(timers_.begin());
    Target::Schedule& sched = Sched(*t);
    if (!sched.timer_armed || gen != sched.timer_gen) continue;  // cancelled
    sched.timer_armed = false;
    WakeLocked(t, false);
  }
}

// ---- Control -------------------------------------------------------------------

StatusOr<DeliveryStatus> DeliveryEngine::GetStatus(TenantId tenant, uint32_t target_id) {
  SYNCMGR_ASSIGN_OR_RETURN(TargetPtr t, Find(tenant, target_id));
  // Cluster mode: the owner delivers; answer with what it recorded.
  if (options_.runs_tenant && !options_.runs_tenant(tenant)) Reload(t, /*wait=*/false);
  MutexLock lock(&t->mu);
  return StatusLocked(*t);
}

StatusOr<DeliveryStatus> DeliveryEngine::Pause(TenantId tenant, uint32_t target_id) {
  SYNCMGR_ASSIGN_OR_RETURN(TargetPtr t, Find(tenant, target_id));
  MutexLock lock(&t->mu);
  if (!t->record.paused) {
    DeliveryRecord before = t->record;
    t->record.paused = true;
    Status st = PersistLocked(*t, {}, {}, /*sync=*/true);
    if (!st.ok()) {
      t->record = before;
      return st;
    }
    ++t->epoch;  // a batch in flight is not applied: it is sent again after resume
    DropRetryLocked(*t);
    MutexLock sched_lock(&mu_);
    Target::Schedule& sched = Sched(*t);
    if (sched.timer_armed) {
      sched.timer_armed = false;
      ++sched.timer_gen;
    }
  }
  return StatusLocked(*t);
}

StatusOr<DeliveryStatus> DeliveryEngine::Resume(TenantId tenant, uint32_t target_id) {
  SYNCMGR_ASSIGN_OR_RETURN(TargetPtr t, Find(tenant, target_id));
  MutexLock lock(&t->mu);
  if (t->record.paused) {
    DeliveryRecord before = t->record;
    t->record.paused = false;
    Status st = PersistLocked(*t, {}, {}, /*sync=*/true);
    if (!st.ok()) {
      t->record = before;
      return st;
    }
    ++t->epoch;
    DropRetryLocked(*t);
  }
  {
    MutexLock sched_lock(&mu_);
    WakeLocked(t, true);
  }
  return StatusLocked(*t);
}

StatusOr<DeliveryStatus> DeliveryEngine::Redeliver(TenantId tenant, uint32_t target_id,
                                                   uint64_t from_seq) {
  SYNCMGR_ASSIGN_OR_RETURN(TargetPtr t, Find(tenant, target_id));
  MutexLock lock(&t->mu);
  DeliveryRecord before = t->record;
  SYNCMGR_RETURN_IF_ERROR(Rewind(&t->record, from_seq));
  // Recorded durably with the seq it rewound from: a restart keeps it, and
  // the receiver's own cursor cannot undo it (delivery/cursor.h).
  Status st = PersistLocked(*t, {}, {}, /*sync=*/true);
  if (!st.ok()) {
    t->record = before;
    return st;
  }
  ++t->epoch;
  DropRetryLocked(*t);
  t->pending_valid = false;
  {
    MutexLock sched_lock(&mu_);
    WakeLocked(t, true);
  }
  return StatusLocked(*t);
}

StatusOr<DeadLetter> DeliveryEngine::RetryDeadLetter(TenantId tenant, uint32_t target_id,
                                                     uint64_t id) {
  SYNCMGR_ASSIGN_OR_RETURN(TargetPtr t, Find(tenant, target_id));
  SYNCMGR_ASSIGN_OR_RETURN(DeadLetter dead, engine_.GetDeadLetter(tenant, target_id, id));
  {
    MutexLock lock(&t->mu);
    // Once per dead letter: already queued, or its series under way, is enough.
    if (t->retry_dead_letter != id &&
        std::find(t->dead_letter_retries.begin(), t->dead_letter_retries.end(), id) ==
            t->dead_letter_retries.end()) {
      t->dead_letter_retries.push_back(id);
    }
  }
  // In the target's turn: a batch waiting out its backoff keeps waiting.
  MutexLock sched_lock(&mu_);
  WakeLocked(t, false);
  return dead;
}

StatusOr<uint64_t> DeliveryEngine::Snapshot(TenantId tenant, uint32_t target_id) {
  SYNCMGR_ASSIGN_OR_RETURN(TargetPtr t, Find(tenant, target_id));
  MutexLock sink_lock(&t->sink_mu);
  SYNCMGR_RETURN_IF_ERROR(EnsureSink(*t));
  SYNCMGR_ASSIGN_OR_RETURN(uint64_t seq, engine_.LastSeq(tenant));
  StateVisitor visit = [&](const std::function<bool(const PropertyRecord&)>& row) -> Status {
    ListOptions list;
    list.as_of_seq = seq;
    SYNCMGR_ASSIGN_OR_RETURN(
        std::unique_ptr<PropertyCursor> cursor,
        engine_.ListProperties(tenant, StreamRef{StreamKind::kTarget, target_id}, list));
    PropertyRecord record;
    while (cursor->Next(&record)) {
      if (!row(record)) return Status::Ok();
    }
    return cursor->status();
  };
  SYNCMGR_RETURN_IF_ERROR(t->sink->WriteSnapshot(seq, visit));
  return seq;
}

DeliveryStatus DeliveryEngine::StatusLocked(Target& t) {
  DeliveryStatus s;
  s.delivered_seq = t.record.delivered_seq;
  s.pending_events = PendingLocked(t);
  s.last_error = t.record.last_error;
  s.last_attempt_at_us = t.record.last_attempt_at_us;
  s.dead_letters = t.record.dead_letters;
  bool timer_armed = false, busy = false;
  {
    MutexLock sched_lock(&mu_);
    const Target::Schedule& sched = Sched(t);
    timer_armed = sched.timer_armed;
    busy = sched.running || sched.queued;
  }
  if (t.record.paused) {
    s.state = "paused";
  } else if (timer_armed) {
    s.state = "retrying";
    s.next_attempt_at_us = t.next_attempt_us;
  } else if (busy || s.pending_events > 0) {
    s.state = "delivering";
  } else {
    s.state = "idle";
  }
  return s;
}

uint64_t DeliveryEngine::PendingLocked(Target& t) {
  if (!t.pending_valid || t.counted_upto < t.record.delivered_seq) {
    t.pending = 0;
    t.counted_upto = t.record.delivered_seq;
    t.pending_valid = true;
  }
  StatusOr<uint64_t> last = engine_.LastSeq(t.tenant);
  if (last.ok() && *last > t.counted_upto) {
    StatusOr<uint64_t> n = engine_.CountStreamEvents(
        t.tenant, StreamRef{StreamKind::kTarget, t.id}, t.counted_upto, *last);
    if (n.ok()) {
      t.pending += *n;
      t.counted_upto = *last;
    }
  }
  return t.pending;
}

}  // namespace syncmgr::delivery
