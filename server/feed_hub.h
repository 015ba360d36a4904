// FeedHub: who is following which tenant's change feed, and waking them when
// the tenant's log grows (docs/feed.md "How it works").
//
// A feed subscriber (an SSE stream or a waiting long-poll) holds no thread:
// when it has read up to the end of the log it registers a one-shot waiter
// here and its connection sits idle. Engine::SubscribeCommits calls OnCommit
// on the committing writer's thread after each durable commit; OnCommit only
// records the tenant's new last seq and, if anyone waits on that tenant,
// posts one fan-out job to the I/O executor — a writer never pays for the
// number of subscribers. The fan-out job calls every waiter's wake function
// (which posts to its session), and each session then reads the log from
// its own position on the worker pool.
//
// The hub also counts subscribers per tenant (Admit) so that a tenant can
// hold at most `max_per_tenant` feed connections.
//
// Thread-safety: safe for concurrent use from many threads.
#pragma once

#include <boost/asio/any_io_executor.hpp>

#include <cstdint>
#include <functional>
#include <map>
#include <unordered_map>

#include "engine/mutex.h"
#include "engine/status.h"
#include "engine/types.h"

namespace syncmgr {
class Engine;
}

namespace syncmgr::server {

class FeedHub {
 public:
  // A counted subscriber; releases its slot when destroyed. Movable.
  class Admission {
   public:
    Admission() = default;
    Admission(FeedHub* hub, TenantId tenant) : hub_(hub), tenant_(tenant) {}
    Admission(Admission&& other) noexcept { *this = std::move(other); }
    Admission& operator=(Admission&& other) noexcept;
    ~Admission();
    bool admitted() const { return hub_ != nullptr; }

   private:
    FeedHub* hub_ = nullptr;
    TenantId tenant_ = 0;
  };

  // `fanout`: where the fan-out job runs (the I/O context); wake functions
  // must therefore be quick and must not block.
  FeedHub(Engine& engine, boost::asio::any_io_executor fanout, uint32_t max_per_tenant);
  // REQUIRES: Stop() was called (or Start() never was).
  ~FeedHub();
  FeedHub(const FeedHub&) = delete;
  FeedHub& operator=(const FeedHub&) = delete;

  // Subscribes to the engine's commits / unsubscribes and lets go of the
  // executor (nothing is posted after Stop). Stop is idempotent.
  void Start() EXCLUDES(subscribe_mu_, mu_);
  void Stop() EXCLUDES(subscribe_mu_, mu_);

  // Counts a subscriber of `tenant`; TooManyRequests past the limit.
  StatusOr<Admission> Admit(TenantId tenant) EXCLUDES(mu_);
  // Subscribers of `tenant` counted now.
  uint32_t subscribers(TenantId tenant) const EXCLUDES(mu_);

  // Calls `wake` once, as soon as the tenant's log holds a seq above
  // `after_seq` (at once, on this thread, if a commit past it has already
  // been seen). Returns a handle for Cancel (0 if `wake` already ran).
  // `wake` may run on any thread, also after Cancel returned (a fan-out in
  // progress): it must tolerate a stale call.
  uint64_t Wait(TenantId tenant, uint64_t after_seq, std::function<void()> wake) EXCLUDES(mu_);
  // Forgets a waiter (no-op if it has been woken already).
  void Cancel(TenantId tenant, uint64_t handle) EXCLUDES(mu_);

 private:
  struct TenantWaiters {
    uint64_t last_seq = 0;  // highest commit seen
    uint32_t subscribers = 0;
    bool fanout_pending = false;
    std::map<uint64_t, std::function<void()>> waiters;
  };

  void OnCommit(TenantId tenant, uint64_t last_seq) EXCLUDES(mu_);
  void FanOut(TenantId tenant) EXCLUDES(mu_);
  void Release(TenantId tenant) EXCLUDES(mu_);

  // Constant after construction.
  Engine& engine_;
  const uint32_t max_per_tenant_;

  // Orders Start and Stop. Never held while mu_ is: the engine calls
  // OnCommit (which takes mu_) under its own subscriber lock, so taking that
  // lock (SubscribeCommits) while holding mu_ would invert the order.
  Mutex subscribe_mu_;
  uint64_t subscription_ GUARDED_BY(subscribe_mu_) = 0;

  mutable Mutex mu_;
  boost::asio::any_io_executor fanout_ GUARDED_BY(mu_);  // reset by Stop
  std::unordered_map<TenantId, TenantWaiters> tenants_ GUARDED_BY(mu_);
  uint64_t next_handle_ GUARDED_BY(mu_) = 1;
};

}  // namespace syncmgr::server
