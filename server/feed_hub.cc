#include "server/feed_hub.h"

#include <boost/asio/post.hpp>

#include <utility>
#include <vector>

#include "engine/engine.h"

namespace syncmgr::server {

FeedHub::Admission& FeedHub::Admission::operator=(Admission&& other) noexcept {
  if (this != &other) {
    if (hub_ != nullptr) hub_->Release(tenant_);
    hub_ = std::exchange(other.hub_, nullptr);
    tenant_ = other.tenant_;
  }
  return *this;
}

FeedHub::Admission::~Admission() {
  if (hub_ != nullptr) hub_->Release(tenant_);
}

FeedHub::FeedHub(Engine& engine, boost::asio::any_io_executor fanout, uint32_t max_per_tenant)
    : engine_(engine), max_per_tenant_(max_per_tenant), fanout_(std::move(fanout)) {}

FeedHub::~FeedHub() { Stop(); }

void FeedHub::Start() {
  MutexLock lock(&subscribe_mu_);
  if (subscription_ != 0) return;
  subscription_ = engine_.SubscribeCommits(
      [this](TenantId tenant, uint64_t last_seq) { OnCommit(tenant, last_seq); });
}

void FeedHub::Stop() {
  {
    MutexLock lock(&subscribe_mu_);
    uint64_t subscription = std::exchange(subscription_, 0);
    if (subscription != 0) engine_.UnsubscribeCommits(subscription);
  }
  MutexLock lock(&mu_);
  fanout_ = {};
}

StatusOr<FeedHub::Admission> FeedHub::Admit(TenantId tenant) {
  MutexLock lock(&mu_);
  TenantWaiters& t = tenants_[tenant];
  if (t.subscribers >= max_per_tenant_) {
    return Status::TooManyRequests("this tenant already has " + std::to_string(t.subscribers) +
                                   " feed subscribers (the limit); close one or retry later");
  }
  ++t.subscribers;
  return Admission(this, tenant);
}

void FeedHub::Release(TenantId tenant) {
  MutexLock lock(&mu_);
  auto it = tenants_.find(tenant);
  if (it != tenants_.end() && it->second.subscribers > 0) --it->second.subscribers;
}

uint32_t FeedHub::subscribers(TenantId tenant) const {
  MutexLock lock(&mu_);
  auto it = tenants_.find(tenant);
  return it == tenants_.end() ? 0 : it->second.subscribers;
}

uint64_t FeedHub::Wait(TenantId tenant, uint64_t after_seq, std::function<void()> wake) {
  {
    MutexLock lock(&mu_);
    TenantWaiters& t = tenants_[tenant];
    // A commit past the reader's position may have been published between
    // its read and this call: then there is no need to wait.
    if (t.last_seq <= after_seq) {
      const uint64_t handle = next_handle_++;
      t.waiters.emplace(handle, std::move(wake));
      return handle;
    }
  }
  wake();
  return 0;
}

void FeedHub::Cancel(TenantId tenant, uint64_t handle) {
  if (handle == 0) return;
  MutexLock lock(&mu_);
  auto it = tenants_.find(tenant);
  if (it != tenants_.end()) it->second.waiters.erase(handle);
}

// On the committing writer's thread: O(1), never blocks on subscribers.
void FeedHub::OnCommit(TenantId tenant, uint64_t last_seq) {
  MutexLock lock(&mu_);
  TenantWaiters& t = tenants_[tenant];
  if (last_seq > t.last_seq) t.last_seq = last_seq;
  if (t.waiters.empty() || t.fanout_pending || !fanout_) return;
  t.fanout_pending = true;
  boost::asio::post(fanout_, [this, tenant] { FanOut(tenant); });
}

void FeedHub::FanOut(TenantId tenant) {
  std::map<uint64_t, std::function<void()>> woken;
  {
    MutexLock lock(&mu_);
    TenantWaiters& t = tenants_[tenant];
    t.fanout_pending = false;
    woken.swap(t.waiters);
  }
  for (auto& [handle, wake] : woken) wake();
}

}  // namespace syncmgr::server
