// Ownership: leases, fences and the owner's publishes.
#include "cluster/ownership.h"

#include <algorithm>
#include <cstdio>

#include <fmt/format.h>

#include "cluster/cursor.h"
#include "cluster/layout.h"

namespace syncmgr::cluster {

namespace {

// A fence refused because another message came after the one it expected
// is tried again this many times before RouteWrite gives up for now.
constexpr int kMaxFenceAttempts = 20;
// Pause between attempts of RouteWrite when NATS does not answer.
constexpr Millis kRetryWait{100};

// FNV-1a: the same on every node (rendezvous hashing must agree).
uint64_t Fnv1a(std::string_view s) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

Millis Until(std::chrono::steady_clock::time_point deadline) {
  return std::max(Millis(1), std::chrono::duration_cast<Millis>(
                                 deadline - std::chrono::steady_clock::now()));
}

}  // namespace

Ownership::Ownership(Connection* conn, const KvBucket* leases, LogReader* reader,
                     OwnershipOptions options)
    : conn_(conn), leases_(leases), reader_(reader), options_(std::move(options)) {}

Ownership::~Ownership() { Stop(false); }

Ownership::Tenant& Ownership::Get(TenantId tenant) {
  MutexLock lock(&mu_);
  auto& slot = tenants_[tenant];
  if (!slot) slot = std::make_unique<Tenant>();
  return *slot;
}

void Ownership::Notify(TenantId tenant, bool owned) {
  if (listener_) listener_(tenant, owned);
}

bool Ownership::Owns(TenantId tenant) const {
  Tenant* t = nullptr;
  {
    MutexLock lock(&mu_);
    auto it = tenants_.find(tenant);
    if (it == tenants_.end()) return false;
    t = it->second.get();
  }
  MutexLock lock(&t->mu);
  return t->held;
}

size_t Ownership::owned_tenants() const {
  std::vector<Tenant*> all;
  {
    MutexLock lock(&mu_);
    for (const auto& [id, t] : tenants_) all.push_back(t.get());
  }
  size_t n = 0;
  for (Tenant* t : all) {
    MutexLock lock(&t->mu);
    if (t->held) ++n;
  }
  return n;
}

// ---- Taking a tenant ---------------------------------------------------------------

bool Ownership::DropLease(Tenant& t) {
  t.lease.reset();
  MutexLock lock(&t.mu);
  const bool was = t.held;
  t.held = t.ready = t.foreign_fence = false;
  t.pending_fence = 0;
  return was;
}

StatusOr<uint64_t> Ownership::PublishFence(TenantId tenant, Tenant& t, Clock::time_point deadline) {
  const std::string subject = LogSubject(tenant);
  Status last = Status::Unavailable("no attempt");
  for (int attempt = 0; attempt < kMaxFenceAttempts && Clock::now() < deadline; ++attempt) {
    // 1. The subject's last message (a leader read).
    uint64_t tail = 0;
    StatusOr<StoredMessage> m = conn_->LastMessage(options_.stream, subject);
    if (m.ok()) {
      tail = m->stream_seq;
    } else if (m.status().code() != Code::kNotFound) {
      last = m.status();
      std::this_thread::sleep_for(kRetryWait);
      continue;
    }
    // 2. The fence right after it.
    FenceMessage f;
    f.tenant = tenant;
    f.writer = options_.me.node;
    f.advertise_url = options_.me.advertise_url;
    f.incarnation = options_.me.incarnation;
    f.lease_revision = t.lease ? t.lease->revision() : 0;
    f.prev = tail;
    PublishOptions po;
    po.stream = options_.stream;
    po.msg_id = fmt::format("{}.{}.fence.{}", options_.me.node, options_.me.incarnation,
                            next_fence_.fetch_add(1) + 1);
    po.expected_last_subject_seq = tail;
    po.timeout = std::min(options_.publish_timeout, Until(deadline));
    StatusOr<PublishAck> ack = conn_->Publish(subject, EncodeFence(f), po);
    if (ack.ok()) {
      fences_written_.fetch_add(1, std::memory_order_relaxed);
      return ack->stream_seq;
    }
    last = ack.status();
    if (!IsFenced(ack.status())) break;  // no answer: the caller retries later
    // Another message came after `tail` (the old owner's last commit): read
    // the end again.
  }
  return Status::Unavailable(fmt::format("could not fence tenant {}'s log: {}", tenant,
                                         last.message()));
}

StatusOr<Ownership::WriteRoute> Ownership::RouteWrite(TenantId tenant, Clock::time_point deadline) {
  Tenant& t = Get(tenant);
  {
    MutexLock lock(&t.mu);
    if (t.held && t.ready && !t.foreign_fence) return WriteRoute{true, options_.me};
  }
  if (!t.take_mu.TryLockUntil(deadline)) {
    return Status::Unavailable(fmt::format("tenant {}: its takeover is under way; retry", tenant));
  }
  StatusOr<WriteRoute> route = TakeOver(tenant, t, deadline);
  t.take_mu.Unlock();
  return route;
}

StatusOr<Ownership::WriteRoute> Ownership::TakeOver(TenantId tenant, Tenant& t,
                                                    Clock::time_point deadline) {
  Status last = Status::Unavailable("no attempt");
  while (Clock::now() < deadline) {
    {
      MutexLock lock(&t.mu);
      if (t.held && t.ready && !t.foreign_fence) return WriteRoute{true, options_.me};
    }
    uint64_t fence = 0;
    bool acquired = false, dropped = false;
    std::optional<LeaseHolder> other;  // another node holds the lease
    bool cleared = false;  // a lease of this node's previous process was deleted
    {
      MutexLock lease_lock(&t.lease_mu);
      bool foreign = false;
      {
        MutexLock lock(&t.mu);
        foreign = t.foreign_fence;
      }
      if (foreign) dropped = DropLease(t);
      if (!t.lease || !t.lease->held()) {
        if (!t.lease) t.lease = std::make_unique<Lease>(leases_, TenantLeaseKey(tenant), options_.me);
        const Clock::time_point started = Clock::now();
        StatusOr<LeaseHolder> holder = t.lease->TryAcquire();
        if (!holder.ok()) {
          last = holder.status();
        } else if (*holder == options_.me) {
          t.last_renew_ok = started;
          MutexLock lock(&t.mu);
          t.held = true;
          t.ready = false;
          acquired = true;
        } else if (holder->node == options_.me.node) {
          // A previous process of this very node (another incarnation) held
          // it: it is gone, so its lease may go at once.
          // (A failed delete leaves the lease to expire: the next attempt sees.)
          StatusOr<KvEntry> entry = leases_->Get(TenantLeaseKey(tenant));
          if (entry.ok()) leases_->Delete(TenantLeaseKey(tenant), entry->revision).IgnoreError();
          cleared = true;
        } else {
          other = *holder;
        }
      }
      if (!other && !cleared && t.lease && t.lease->held()) {
        StatusOr<uint64_t> f = PublishFence(tenant, t, deadline);
        if (f.ok()) {
          fence = *f;
          MutexLock lock(&t.mu);
          t.pending_fence = fence;
          t.ready = false;
        } else {
          last = f.status();
        }
      }
    }
    if (dropped) Notify(tenant, false);
    if (acquired) Notify(tenant, true);
    if (other) return WriteRoute{false, *other};
    if (cleared) continue;
    if (fence == 0) {
      std::this_thread::sleep_for(std::min(kRetryWait, Until(deadline)));
      continue;
    }
    // 3. Catch up: the reader folds the subject up to the fence.
    if (!reader_->WaitForTenant(tenant, fence, deadline)) {
      return Status::Unavailable(fmt::format(
          "tenant {}: this node is catching up its log before writing it; retry", tenant));
    }
    // 4. Serve writes after the fence, unless something changed meanwhile.
    MutexLock lock(&t.mu);
    if (t.held && !t.foreign_fence && t.pending_fence == fence) {
      t.fence = t.head = fence;
      t.ready = true;
      t.pending_fence = 0;
      return WriteRoute{true, options_.me};
    }
  }
  return Status::Unavailable(fmt::format("tenant {}: no writer could be settled in time ({})",
                                         tenant, last.message()));
}

void Ownership::OnFence(const FenceSeen& seen) {
  if (seen.fence.writer == options_.me.node && seen.fence.incarnation == options_.me.incarnation) {
    return;  // this node's own fence
  }
  Tenant& t = Get(seen.tenant);
  MutexLock lock(&t.mu);
  const uint64_t mine = std::max(t.fence, t.pending_fence);
  if (!t.held || mine == 0 || seen.stream_seq < mine) return;  // before this node's fence
  // Another writer fenced after this node: whatever it believes about its
  // lease, it is not the writer any more.
  t.foreign_fence = true;
  t.ready = false;
}

// ---- The write path ----------------------------------------------------------------

namespace {

Status NotTheWriter(TenantId tenant) {
  return Status::Unavailable(fmt::format(
      "this node is not tenant {}'s writer any more; the write was not applied; retry", tenant));
}

}  // namespace

Status Ownership::PublishChunks(TenantId tenant, Op& op) {
  const std::string subject = ChunkSubject(tenant);
  for (std::string& data : op.builder->TakeChunks()) {
    ChunkMessage c;
    c.tenant = tenant;
    c.op_id = op.op_id;
    c.index = static_cast<uint32_t>(op.chunks.size());
    c.data = std::move(data);
    PublishOptions po;
    po.stream = options_.stream;
    po.msg_id = fmt::format("{}.{}.{}.c{}", options_.me.node, options_.me.incarnation, op.op_id,
                            c.index);
    po.timeout = options_.publish_timeout;
    StatusOr<PublishAck> ack = conn_->Publish(subject, EncodeChunk(c), po);
    if (!ack.ok()) {
      // Nothing counts until the commit: the chunks already stored are
      // orphans nobody names.
      return Status::Unavailable(
          fmt::format("the write was not applied: storing a part of it in the log failed ({})",
                      ack.status().message()));
    }
    op.chunks.push_back(ChunkRef{ack->stream_seq, c.data.size()});
  }
  return Status::Ok();
}

namespace {

// The operation's records go to the log only if this node is the writer
// and its views are exactly the chain's head.
Status CheckWriter(TenantId tenant, bool held, bool ready, uint64_t head, std::string_view cursor) {
  if (!held || !ready) return NotTheWriter(tenant);
  StatusOr<TenantCursor> c = DecodeTenantCursor(cursor);
  if (!c.ok() || c->last_seq != head || !c->last_counts) {
    return Status::Unavailable(fmt::format(
        "tenant {}: this node's views are not at its log's head yet; the write was not applied; "
        "retry",
        tenant));
  }
  return Status::Ok();
}

}  // namespace

Status Ownership::AddToOp(Tenant& t, const LogRecords& records, uint64_t* head,
                          uint64_t* fence) {
  {
    MutexLock lock(&t.mu);
    Status s =
        CheckWriter(records.tenant, t.held, t.ready && !t.foreign_fence, t.head, records.cursor);
    if (!s.ok()) return s;
    *head = t.head;
    *fence = t.fence;
  }
  Op& op = t.op;
  if (op.builder == nullptr || op.first_seq != records.first_seq) {
    op = Op{};
    op.op_id = next_op_.fetch_add(1) + 1;
    op.first_seq = records.first_seq;
    op.builder = std::make_unique<CommitBuilder>(options_.chunk_bytes);
  }
  for (std::string_view r : records.records) op.builder->Add(r);
  return Status::Ok();
}

Status Ownership::OnWriteAhead(const LogRecords& part) {
  Tenant& t = Get(part.tenant);
  uint64_t head = 0, fence = 0;
  SYNCMGR_RETURN_IF_ERROR(AddToOp(t, part, &head, &fence));
  return PublishChunks(part.tenant, t.op);
}

StatusOr<std::string> Ownership::OnCommit(const LogRecords& rest) {
  Tenant& t = Get(rest.tenant);
  uint64_t head = 0, fence = 0;
  SYNCMGR_RETURN_IF_ERROR(AddToOp(t, rest, &head, &fence));
  Op& op = t.op;
  op.builder->Seal();
  SYNCMGR_RETURN_IF_ERROR(PublishChunks(rest.tenant, op));
  CommitMessage c;
  c.tenant = rest.tenant;
  c.first_seq = rest.first_seq;
  c.last_seq = rest.last_seq;
  c.writer = options_.me.node;
  c.epoch = fence;
  c.op_id = op.op_id;
  c.time_us = rest.time_us;
  c.prev = head;
  if (op.builder->chunked()) {
    c.chunks = std::move(op.chunks);
  } else {
    c.records = op.builder->TakeInlineRecords();
  }
  const uint64_t op_id = op.op_id;
  op = Op{};
  PublishOptions po;
  po.stream = options_.stream;
  po.msg_id = fmt::format("{}.{}.{}", options_.me.node, options_.me.incarnation, op_id);
  po.expected_last_subject_seq = head;
  po.verify_fence = true;
  po.timeout = options_.publish_timeout;
  StatusOr<PublishAck> ack = conn_->Publish(LogSubject(rest.tenant), EncodeCommit(c), po);
  MutexLock lock(&t.mu);
  if (ack.ok()) {
    t.head = ack->stream_seq;
    t.committed_first_seq = rest.first_seq;
    return EncodeTenantCursor(TenantCursor{ack->stream_seq, true});
  }
  // Either way this node fences again before it writes the tenant again:
  // by then its reader has folded whatever counts.
  t.ready = false;
  if (IsFenced(ack.status())) {
    fenced_.fetch_add(1, std::memory_order_relaxed);
    return Status::Unavailable(fmt::format(
        "the write was not applied: tenant {}'s writer changed while it was committed ({}); "
        "retry",
        rest.tenant, ack.status().message()));
  }
  return Status::Unavailable(fmt::format(
      "outcome unknown: the write may or may not have been applied (the log of record did not "
      "confirm it: {}). Before retrying, check the import log (GET /imports), the sync log (GET "
      "/sync_logs) or the property itself",
      ack.status().message()));
}

void Ownership::OnAbort(TenantId tenant, uint64_t first_seq) {
  Tenant& t = Get(tenant);
  t.op = Op{};
  MutexLock lock(&t.mu);
  // A commit that counted but was not written here: the reader must fold
  // it before this node writes again, so it fences again first.
  if (t.committed_first_seq == first_seq) t.ready = false;
}

// ---- Maintenance --------------------------------------------------------------------

void Ownership::Start(std::function<std::vector<TenantId>()> tenants,
                      std::function<std::vector<std::string>()> live_nodes) {
  list_tenants_ = std::move(tenants);
  live_nodes_ = std::move(live_nodes);
  thread_ = std::thread([this] { MaintenanceLoop(); });
}

void Ownership::Stop(bool release) {
  {
    MutexLock lock(&mu_);
    stop_ = true;
  }
  cv_.SignalAll();
  if (thread_.joinable()) thread_.join();
  if (!release) return;
  std::vector<std::pair<TenantId, Tenant*>> all;
  {
    MutexLock lock(&mu_);
    for (const auto& [id, t] : tenants_) all.emplace_back(id, t.get());
  }
  for (auto& [id, t] : all) {
    MutexLock lease_lock(&t->lease_mu);
    if (t->lease && t->lease->held()) {
      t->lease->Release().IgnoreError();  // else it expires after the TTL
    }
    DropLease(*t);
  }
}

void Ownership::MaintenanceLoop() {
  const Millis pace = std::max(Millis(1), options_.lease_ttl / 3);
  Clock::time_point next_idle_pass = Clock::now();
  while (true) {
    {
      MutexLock lock(&mu_);
      const Clock::time_point until = Clock::now() + pace;
      while (!stop_ && cv_.WaitUntil(&mu_, until)) {
      }
      if (stop_) return;
    }
    RenewAll();
    // Idle tenants are looked at once per TTL: a lease read per tenant not
    // held here (docs/scaling.md, "Who owns idle tenants").
    if (Clock::now() >= next_idle_pass) {
      TakeIdle();
      next_idle_pass = Clock::now() + options_.lease_ttl;
    }
  }
}

void Ownership::RenewAll() {
  std::vector<std::pair<TenantId, Tenant*>> all;
  {
    MutexLock lock(&mu_);
    for (const auto& [id, t] : tenants_) all.emplace_back(id, t.get());
  }
  for (auto& [id, t] : all) {
    bool lost = false;
    {
      MutexLock lease_lock(&t->lease_mu);
      if (!t->lease || !t->lease->held()) continue;
      bool foreign = false;
      {
        MutexLock lock(&t->mu);
        foreign = t->foreign_fence;
      }
      if (foreign) {
        lost = DropLease(*t);
      } else {
        const Clock::time_point started = Clock::now();
        Status s = t->lease->Renew();
        if (s.ok()) {
          t->last_renew_ok = started;
        } else if (IsFenced(s) || started - t->last_renew_ok > options_.lease_ttl) {
          // Lost, or no answer for a whole TTL: it may have expired and
          // been taken. Stop acting as the owner.
          lost = DropLease(*t);
        }
      }
    }
    if (lost) Notify(id, false);
  }
}

void Ownership::TakeIdle() {
  if (!list_tenants_ || !live_nodes_) return;
  const std::vector<std::string> nodes = live_nodes_();
  const auto now = Clock::now();
  for (TenantId tenant : list_tenants_()) {
    {
      MutexLock lock(&mu_);
      if (stop_) return;
    }
    Tenant& t = Get(tenant);
    {
      MutexLock lock(&t.mu);
      if (t.held) continue;
    }
    StatusOr<KvEntry> entry = leases_->Get(TenantLeaseKey(tenant));
    if (entry.ok() || entry.status().code() != Code::kNotFound) {
      MutexLock lock(&mu_);
      idle_since_.erase(tenant);
      continue;  // held by someone (or unknown): nothing to do
    }
    // Nobody holds it: the preferred live node takes it at once, any node
    // once it has stayed free a whole TTL.
    std::string preferred;
    uint64_t best = 0;
    for (const std::string& node : nodes) {
      const uint64_t h = Fnv1a(fmt::format("{}/{}", tenant, node));
      if (preferred.empty() || h > best) {
        best = h;
        preferred = node;
      }
    }
    bool take = preferred == options_.me.node;
    {
      MutexLock lock(&mu_);
      auto [it, fresh] = idle_since_.emplace(tenant, now);
      if (!fresh && now - it->second >= options_.lease_ttl) take = true;
    }
    if (!take) continue;
    StatusOr<WriteRoute> r = RouteWrite(tenant, now + options_.lease_ttl);
    if (r.ok()) {
      MutexLock lock(&mu_);
      idle_since_.erase(tenant);
    }
  }
}

}  // namespace syncmgr::cluster
