// Server and ServerState: threads, start, and the graceful stop.
#include "server/server.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/post.hpp>
#include <thread>

#include "cluster/node.h"
#include "delivery/delivery_engine.h"
#include "engine/engine.h"
#include "server/feed_hub.h"
#include "server/listener.h"
#include "server/request_log.h"
#include "server/server_state.h"
#include "server/session.h"

namespace syncmgr::server {

namespace net = boost::asio;

namespace {

// After the shutdown timeout, connections are closed; this long more is
// allowed for their sessions to unwind.
constexpr uint32_t kForceCloseGraceMs = 5000;
// Smallest stream piece accepted from options.
constexpr uint32_t kMinStreamChunkBytes = 4096;

ServerOptions Normalize(ServerOptions o) {
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  if (o.io_threads == 0) o.io_threads = cores;
  if (o.worker_threads == 0) o.worker_threads = std::max(4u, 2 * cores);
  o.stream_chunk_bytes = std::max(o.stream_chunk_bytes, kMinStreamChunkBytes);
  o.import_chunk_bytes = std::max(o.import_chunk_bytes, kMinStreamChunkBytes);
  o.max_connections = std::max(o.max_connections, 1u);
  return o;
}

}  // namespace

// ---- ServerState ---------------------------------------------------------------

ServerState::ServerState(Engine& engine_in, ServerOptions options_in)
    : engine(engine_in),
      options(Normalize(std::move(options_in))),
      log_writer(options.request_log ? nullptr : std::make_unique<RequestLogWriter>()),
      router(ApiRouter()) {}

void ServerState::Register(const std::shared_ptr<Session>& session) {
  std::lock_guard lock(mu_);
  sessions_[session.get()] = session;
}

void ServerState::Unregister(Session* session) {
  std::lock_guard lock(mu_);
  sessions_.erase(session);
  if (sessions_.empty()) no_sessions_.notify_all();
}

std::vector<std::shared_ptr<Session>> ServerState::LiveSessions() {
  std::vector<std::shared_ptr<Session>> out;
  std::lock_guard lock(mu_);
  for (auto& [ptr, weak] : sessions_) {
    if (auto s = weak.lock()) out.push_back(std::move(s));
  }
  return out;
}

bool ServerState::WaitForNoSessions(uint32_t timeout_ms) {
  std::unique_lock lock(mu_);
  return no_sessions_.wait_for(lock, std::chrono::milliseconds(timeout_ms),
                               [&] { return sessions_.empty(); });
}

void ServerState::Log(std::string_view line) const {
  if (log_writer) {
    log_writer->Append(line);
  } else {
    options.request_log(line);
  }
}

void ServerState::FlushLog() {
  if (log_writer) log_writer->Flush();
}

// ---- Server::Impl ----------------------------------------------------------------

class Server::Impl {
 public:
  Impl(Engine& engine, ServerOptions options) : state_(engine, std::move(options)) {}
  ~Impl() { Stop(); }

  Status Start();
  uint16_t port() const { return port_; }
  void Stop();
  void Wait();

 private:
  void SubscribeToCommits();
  Status StartDelivery();

  // Declared first: outlives the io_context and the pool (see server_state.h).
  ServerState state_;
  // Change-feed subscribers. Declared before the io_context: sessions it
  // destroys (with their feed streams) still unregister from the hub.
  std::unique_ptr<FeedHub> feed_hub_;
  net::io_context ioc_{static_cast<int>(state_.options.io_threads)};
  std::optional<net::executor_work_guard<net::io_context::executor_type>> work_;
  std::optional<net::thread_pool> workers_;
  std::shared_ptr<Listener> listener_;
  // Push delivery: started before accepting, stopped after the workers.
  std::unique_ptr<delivery::DeliveryEngine> delivery_;
  std::vector<std::thread> io_threads_;
  uint16_t port_ = 0;
  uint64_t commit_subscription_ = 0;

  std::mutex mu_;
  std::condition_variable stopped_cv_;
  bool started_ = false;   // guarded by mu_
  bool stopping_ = false;  // guarded by mu_
  bool stopped_ = false;   // guarded by mu_
};

Status Server::Impl::Start() {
  {
    std::lock_guard lock(mu_);
    if (started_) return Status::InvalidArgument("server already started");
    started_ = true;
  }
  boost::system::error_code ec;
  const net::ip::address address = net::ip::make_address(state_.options.host, ec);
  if (ec) return Status::InvalidArgument("invalid host address '" + state_.options.host + "'");
  listener_ = std::make_shared<Listener>(ioc_, state_);
  SYNCMGR_RETURN_IF_ERROR(listener_->Open({address, state_.options.port}));
  port_ = listener_->port();

  SubscribeToCommits();
  feed_hub_ = std::make_unique<FeedHub>(state_.engine, ioc_.get_executor(),
                                        state_.options.feed_max_subscribers_per_tenant);
  feed_hub_->Start();
  state_.context.feed_hub = feed_hub_.get();
  SYNCMGR_RETURN_IF_ERROR(StartDelivery());
  workers_.emplace(state_.options.worker_threads);
  state_.workers = &*workers_;
  work_.emplace(ioc_.get_executor());
  listener_->Start();
  io_threads_.reserve(state_.options.io_threads);
  for (unsigned i = 0; i < state_.options.io_threads; ++i) {
    io_threads_.emplace_back([this] {
      // Handlers report errors by code; an exception escaping one is a bug,
      // but it must not take the process down with it.
      for (;;) {
        try {
          ioc_.run();
          return;
        } catch (const std::exception& e) {
          LogServerError(std::string("I/O thread caught: ") + e.what());
        }
      }
    });
  }
  return Status::Ok();
}

void Server::Impl::SubscribeToCommits() {
  // Seed each tenant's last seq, then count what commits append.
  for (const TenantInfo& t : state_.engine.ListTenants()) {
    StatusOr<uint64_t> seq = state_.engine.LastSeq(t.id);
    if (seq.ok()) state_.metrics.SeedLastSeq(t.id, *seq);
  }
  Metrics* metrics = &state_.metrics;
  commit_subscription_ = state_.engine.SubscribeCommits(
      [metrics](TenantId tenant, uint64_t last_seq) { metrics->OnCommit(tenant, last_seq); });
}

Status Server::Impl::StartDelivery() {
  delivery::DeliveryOptions options;
  options.allow_private = state_.options.allow_private_push;
  options.file_root = state_.options.file_push_root;
  options.backoff_base_ms = state_.options.delivery_backoff_base_ms;
  options.backoff_cap_ms = state_.options.delivery_backoff_cap_ms;
  options.min_workers = state_.options.delivery_min_workers;
  options.max_workers = state_.options.delivery_max_workers;
  cluster::Node* node = state_.options.cluster;
  if (node != nullptr) {
    // Only the owner of a tenant delivers its push targets (docs/scaling.md).
    options.runs_tenant = [node](TenantId tenant) { return node->Owns(tenant); };
  }
  delivery_ = std::make_unique<delivery::DeliveryEngine>(state_.engine, options);
  SYNCMGR_RETURN_IF_ERROR(delivery_->Start());
  state_.context.delivery = delivery_.get();
  delivery::DeliveryEngine* engine = delivery_.get();
  if (node != nullptr) {
    node->SetOwnershipListener([engine](TenantId tenant, bool owned) {
      if (owned) engine->WakeTenant(tenant);
    });
  }
  state_.metrics.SetExtraRenderer([engine, node] {
    std::string out = engine->RenderPrometheus();
    if (node != nullptr) out += node->RenderPrometheus();
    return out;
  });
  return Status::Ok();
}

void Server::Impl::Stop() {
  {
    std::unique_lock lock(mu_);
    if (!started_ || stopped_) return;
    if (stopping_) {  // another thread is stopping: wait for it
      stopped_cv_.wait(lock, [&] { return stopped_; });
      return;
    }
    stopping_ = true;
  }
  if (listener_) {
    state_.stopping.store(true);
    listener_->Stop();
    for (auto& session : state_.LiveSessions()) session->Shutdown();
    if (!state_.WaitForNoSessions(state_.options.shutdown_timeout_ms)) {
      for (auto& session : state_.LiveSessions()) session->ForceClose();
      // Sessions still referenced by a running worker job end with it.
      state_.WaitForNoSessions(kForceCloseGraceMs);
    }
  }
  // Lets running engine calls finish: an import being committed completes
  // (durably) even if its client is gone.
  if (workers_) workers_->join();
  state_.workers_joined.store(true);
  if (commit_subscription_ != 0) state_.engine.UnsubscribeCommits(commit_subscription_);
  if (feed_hub_) feed_hub_->Stop();
  // No route runs any more: stop delivery (sends in flight are cancelled;
  // their batches go again after a restart).
  if (state_.options.cluster != nullptr) state_.options.cluster->SetOwnershipListener(nullptr);
  if (delivery_) delivery_->Stop();
  work_.reset();
  ioc_.stop();
  for (std::thread& t : io_threads_) t.join();
  // Every request has been logged: the lines still held go out before Stop
  // returns (a clean stop loses none).
  state_.FlushLog();
  {
    std::lock_guard lock(mu_);
    stopped_ = true;
  }
  stopped_cv_.notify_all();
}

void Server::Impl::Wait() {
  std::unique_lock lock(mu_);
  stopped_cv_.wait(lock, [&] { return stopped_ || !started_; });
}

// ---- Server ------------------------------------------------------------------------

Server::Server(Engine& engine, ServerOptions options)
    : impl_(std::make_unique<Impl>(engine, std::move(options))) {}
Server::~Server() = default;
Status Server::Start() { return impl_->Start(); }
uint16_t Server::port() const { return impl_->port(); }
void Server::Stop() { impl_->Stop(); }
void Server::Wait() { impl_->Wait(); }

std::vector<RouteInfo> Server::Routes() {
  std::vector<RouteInfo> out;
  for (const Route& r : ApiRouter().routes()) {
    out.push_back({std::string(MethodName(r.method)), r.pattern});
  }
  return out;
}

}  // namespace syncmgr::server
