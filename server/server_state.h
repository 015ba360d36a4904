// ServerState: what the listener, every session and the Server share.
// Internal to server/ (includes Asio).
//
// Lifetime: owned by Server::Impl, declared before its io_context and worker
// pool so that it outlives every session (sessions unregister here when the
// io_context destroys them).
#pragma once

#include <atomic>
#include <boost/asio/thread_pool.hpp>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <unordered_map>

#include "server/http_types.h"
#include "server/metrics.h"
#include "server/request_log.h"
#include "server/router.h"
#include "server/server.h"

namespace syncmgr::server {

class Session;

struct ServerState {
  ServerState(Engine& engine_in, ServerOptions options_in);

  Engine& engine;
  const ServerOptions options;  // normalized (no zero thread counts)
  // The default request log sink (no options.request_log): null otherwise.
  const std::unique_ptr<RequestLogWriter> log_writer;
  Metrics metrics;
  HandlerContext context{engine, metrics, options, nullptr, nullptr, options.cluster};
  const Router& router;

  // Runs every engine call; set by Server::Impl before accepting.
  boost::asio::thread_pool* workers = nullptr;
  // Set once the pool has been joined: work can no longer be posted to it
  // (what would have gone there runs inline; only at shutdown).
  std::atomic<bool> workers_joined{false};
  // Set when Stop() begins: sessions finish their request and close.
  std::atomic<bool> stopping{false};
  // Connections being answered 503 (max_connections) right now.
  std::atomic<uint32_t> rejecting{0};

  void Register(const std::shared_ptr<Session>& session);
  void Unregister(Session* session);
  // Live sessions (for shutdown).
  std::vector<std::shared_ptr<Session>> LiveSessions();
  // Waits until no session is left or `timeout_ms` passes; true if none left.
  bool WaitForNoSessions(uint32_t timeout_ms);
  // Writes a request log line to the configured sink, or to the batched
  // stderr writer when none is configured.
  void Log(std::string_view line) const;
  // Writes the lines the stderr writer holds (Stop, once no request runs).
  void FlushLog();

 private:
  std::mutex mu_;
  std::condition_variable no_sessions_;
  std::unordered_map<Session*, std::weak_ptr<Session>> sessions_;  // guarded by mu_
};

}  // namespace syncmgr::server
