// Ownership: which tenants this node writes, and its write path
// (docs/scaling.md, "Ownership: leases and fences" and "The write path of
// the owner").
//
// A tenant's owner holds its lease (lease.h) and has fenced its log
// subject: it published a Fence after the subject's last message and waited
// until its reader folded up to that fence; from then on it publishes its
// commits after its chain head H with the stream's expected last subject
// sequence = H and verify_fence, so they count exactly when acknowledged.
// Anything else — a lost lease, another writer's fence, a refused or
// unanswered commit, a local write that failed after its commit counted —
// makes it fence again before its next write (or forward, if another node
// took the lease).
//
// It is the engine's CommitHook: OnWriteAhead publishes an operation's
// chunks, OnCommit its commit, both under the tenant's engine lock.
//
// Thread-safety: safe for concurrent use from many threads. Locks, in
// order: a tenant's take_mu (a takeover), its lease_mu (lease calls and the
// fence's publish), its mu (state; never held across a NATS call), mu_.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "cluster/connection.h"
#include "cluster/kv.h"
#include "cluster/lease.h"
#include "cluster/log_reader.h"
#include "cluster/messages.h"
#include "engine/cluster_hooks.h"
#include "engine/mutex.h"

namespace syncmgr::cluster {

struct OwnershipOptions {
  // This node, as its leases and fences name it.
  LeaseHolder me;
  // The lease bucket's TTL: renewals every third of it. Default: 10 s.
  Millis lease_ttl{10000};
  // One publish of a commit, chunk or fence, retries included. Default:
  // 10 s.
  Millis publish_timeout{10000};
  // Data bytes per chunk and the inline limit of a commit (ChunkBytes).
  // Default: 1 MiB - 16 KiB.
  size_t chunk_bytes = (1 << 20) - (16 << 10);
  std::string stream = "SYNCMGR_LOG";
};

class Ownership : public CommitHook {
 public:
  using Clock = std::chrono::steady_clock;

  // REQUIRES: every pointer outlives the Ownership; `reader` is started
  // before any call but Start.
  Ownership(Connection* conn, const KvBucket* leases, LogReader* reader, OwnershipOptions options);
  ~Ownership() override;  // Stop(false)
  Ownership(const Ownership&) = delete;
  Ownership& operator=(const Ownership&) = delete;

  // Starts the maintenance thread: renews held leases every TTL/3 and, once
  // per TTL, takes idle tenants (no lease holder) this node is preferred
  // for — the highest rendezvous hash of (tenant, node) among
  // `live_nodes()` — at once, and any idle tenant once it has stayed idle
  // a whole TTL. (One lease read per tenant not held here per pass.)
  void Start(std::function<std::vector<TenantId>()> tenants,
             std::function<std::vector<std::string>()> live_nodes);
  // Stops the thread; with `release`, gives up every held lease so other
  // nodes may take the tenants at once (a clean shutdown).
  void Stop(bool release);

  // Called with (tenant, true) when this node becomes a tenant's owner and
  // (tenant, false) when it stops being one, outside every lock. Where push
  // delivery starts and stops (docs/scaling.md, "Push delivery"). Set before
  // Start.
  void SetListener(std::function<void(TenantId, bool owned)> fn) { listener_ = std::move(fn); }

  struct WriteRoute {
    bool local = false;  // this node writes the tenant now
    LeaseHolder owner;   // !local: where to forward
  };
  // Where a write of `tenant` goes: here, once this node holds the lease
  // and has fenced and caught up (taking a free lease on the way), or to
  // the lease's holder. Unavailable if neither is settled by `deadline`
  // (NATS unreachable, the reader behind).
  StatusOr<WriteRoute> RouteWrite(TenantId tenant, Clock::time_point deadline);

  // The reader saw a counting fence (LogReader::SetFenceListener).
  void OnFence(const FenceSeen& seen);

  // CommitHook.
  Status OnWriteAhead(const LogRecords& part) override;
  StatusOr<std::string> OnCommit(const LogRecords& rest) override;
  void OnAbort(TenantId tenant, uint64_t first_seq) override;

  // True while this node holds the tenant's lease (as far as it knows).
  bool Owns(TenantId tenant) const;

  // For /metrics.
  size_t owned_tenants() const;
  uint64_t fenced_total() const { return fenced_.load(std::memory_order_relaxed); }
  uint64_t fences_written() const { return fences_written_.load(std::memory_order_relaxed); }

 private:
  // One operation being published (OnWriteAhead .. OnCommit). Used only by
  // the thread holding the tenant's engine lock.
  struct Op {
    uint64_t op_id = 0;
    uint64_t first_seq = 0;
    std::unique_ptr<CommitBuilder> builder;
    std::vector<ChunkRef> chunks;
  };

  struct Tenant {
    TimedMutex take_mu;  // one takeover at a time
    Mutex lease_mu;  // taken before mu
    std::unique_ptr<Lease> lease GUARDED_BY(lease_mu);
    Clock::time_point last_renew_ok GUARDED_BY(lease_mu){};

    Mutex mu;
    bool held GUARDED_BY(mu) = false;   // this node holds the lease (as far as it knows)
    bool ready GUARDED_BY(mu) = false;  // fenced and caught up: head is the chain's head
    bool foreign_fence GUARDED_BY(mu) = false;  // another writer fenced: the lease is gone
    uint64_t fence GUARDED_BY(mu) = 0;  // F: stream sequence of this node's fence
    uint64_t head GUARDED_BY(mu) = 0;   // H: its chain head (F, then its counting commits)
    uint64_t pending_fence GUARDED_BY(mu) = 0;        // published, not yet caught up to
    uint64_t committed_first_seq GUARDED_BY(mu) = 0;  // last OnCommit that counted
    // The operation in progress: the thread holding the tenant's engine write
    // lock (a WriteOp's, which calls the hook) uses it, a lock this class
    // does not see, so it carries no annotation.
    Op op;
  };

  Tenant& Get(TenantId tenant) EXCLUDES(mu_);
  // RouteWrite once the tenant's takeover lock is held: leases, fences,
  // catches up.
  StatusOr<WriteRoute> TakeOver(TenantId tenant, Tenant& t, Clock::time_point deadline)
      REQUIRES(t.take_mu);
  // Publishes a fence after the subject's last message; returns its stream
  // sequence.
  StatusOr<uint64_t> PublishFence(TenantId tenant, Tenant& t, Clock::time_point deadline)
      REQUIRES(t.lease_mu);
  // Forgets the lease; says whether the listener must hear of it (for
  // calling outside the locks).
  bool DropLease(Tenant& t) REQUIRES(t.lease_mu);
  // Checks that this node may write the tenant, then adds `records` to the
  // operation in progress (starting it when they begin a new one); `head`
  // and `fence` are the tenant's at the check.
  Status AddToOp(Tenant& t, const LogRecords& records, uint64_t* head, uint64_t* fence)
      EXCLUDES(t.mu);
  Status PublishChunks(TenantId tenant, Op& op);
  void MaintenanceLoop() EXCLUDES(mu_);
  void RenewAll() EXCLUDES(mu_);
  void TakeIdle() EXCLUDES(mu_);
  void Notify(TenantId tenant, bool owned);

  Connection* const conn_;
  const KvBucket* const leases_;
  LogReader* const reader_;
  const OwnershipOptions options_;
  std::function<void(TenantId, bool)> listener_;
  std::function<std::vector<TenantId>()> list_tenants_;
  std::function<std::vector<std::string>()> live_nodes_;

  std::atomic<uint64_t> next_op_{0};
  std::atomic<uint64_t> next_fence_{0};
  std::atomic<uint64_t> fenced_{0};
  std::atomic<uint64_t> fences_written_{0};

  mutable Mutex mu_;
  CondVar cv_;  // stop_ set
  std::map<TenantId, std::unique_ptr<Tenant>> tenants_ GUARDED_BY(mu_);  // never erased
  std::map<TenantId, Clock::time_point> idle_since_ GUARDED_BY(mu_);     // (maintenance)
  bool stop_ GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace syncmgr::cluster
