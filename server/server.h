// Server: the HTTP API of Sync Manager (SPEC §4) over an Engine.
//
// Asynchronous HTTP/1.1 (Boost.Beast, kept out of this header): one acceptor,
// one session per connection with keep-alive, `io_threads` threads running
// the sockets and a separate pool of `worker_threads` running every engine
// call (engine reads and writes block on RocksDB and fsync; they never run on
// an I/O thread). Request and response bodies that can be large — imports
// and property lists — are streamed in bounded pieces.
//
// Every limit below answers with a JSON error (docs/api.md "Limits") or a
// clean close, never a crash.
//
// Thread-safety: Start, Stop, Wait and port are safe to call from any thread
// except the server's own threads (Stop and Wait block).
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/status.h"

namespace syncmgr {
class Engine;
}
namespace syncmgr::cluster {
class Node;
}

namespace syncmgr::server {

// SHA-256 digest of the admin key: the server never holds the key itself.
using KeyDigest = std::array<uint8_t, 32>;

// SHA-256 of `key` (what ServerOptions::admin_key_sha256 expects).
KeyDigest HashAdminKey(std::string_view key);

// Receives one structured line (JSON, no trailing newline) per request:
// method, route pattern, status, duration, tenant id. Never a key or a
// payload. Called from I/O threads; must be thread-safe and must not block.
using RequestLogSink = std::function<void(std::string_view line)>;

struct ServerOptions {
  // Address to listen on. Default: 127.0.0.1 (loopback only).
  std::string host = "127.0.0.1";
  // TCP port. 0 picks a free ephemeral port; Server::port() tells which.
  // Default: 8000.
  uint16_t port = 8000;
  // Threads running the sockets. 0: one per core. Default: 0.
  unsigned io_threads = 0;
  // Threads running engine calls (blocking). 0: max(4, 2 × cores).
  // Default: 0.
  unsigned worker_threads = 0;

  // Largest JSON request body (catalog, manual edits, JSON imports), bytes.
  // Larger: 413 payload_too_large. Default: 16 MiB.
  uint64_t max_body_bytes = 16ull << 20;
  // Largest NDJSON import body, bytes. It is streamed to the engine in
  // pieces of `stream_chunk_bytes`, never held whole. Default: 4 GiB.
  uint64_t max_import_bytes = 4ull << 30;
  // Largest request line + header fields, bytes. Larger: 431
  // headers_too_large. Default: 16 KiB.
  uint32_t max_header_bytes = 16u << 10;
  // Piece size of streamed answers (property-list pieces written to the
  // socket), and the progress a streamed request body must make in each
  // body_timeout_ms, bytes. Default: 256 KiB.
  uint32_t stream_chunk_bytes = 256u << 10;
  // Piece size an NDJSON import body is read from the socket in and handed
  // to the engine: at most two per import are in memory. Each piece costs a
  // hand-over to a worker and back and, in the engine, a split between two
  // parsing threads with one state read each: at 256 KiB those hops were
  // ~1/4 of a 1 M day-1 import's server CPU (docs/benchmarks.md, "Import
  // pieces"). Default: 4 MiB.
  uint32_t import_chunk_bytes = 4u << 20;

  // From the first byte of a request to the end of its header, ms. Slower
  // (slowloris): the connection is closed. Default: 10 000 ms.
  uint32_t header_timeout_ms = 10'000;
  // A request body must advance by `min(stream_chunk_bytes, rest of the
  // body)` within this time, again and again; else the connection is
  // closed. Bounds slow uploads to ~8.5 KiB/s at the defaults. Default:
  // 30 000 ms.
  uint32_t body_timeout_ms = 30'000;
  // Each write of a response (or of one piece of a streamed one), ms.
  // Default: 30 000 ms.
  uint32_t write_timeout_ms = 30'000;
  // How long a keep-alive connection may wait for its next request, ms.
  // Default: 60 000 ms.
  uint32_t idle_timeout_ms = 60'000;
  // Stop() lets in-flight requests finish for at most this long, then
  // closes what is left (an import cut short writes nothing). Default:
  // 30 000 ms.
  uint32_t shutdown_timeout_ms = 30'000;

  // Open connections served at once. Past it a new connection is answered
  // 503 unavailable and closed. Default: 4096.
  uint32_t max_connections = 4096;

  // SHA-256 of the admin key; unset: admin routes answer 401 to everyone.
  std::optional<KeyDigest> admin_key_sha256;
  // Origins allowed to read GET routes cross-origin (CORS). Default: none.
  std::vector<std::string> cors_origins;
  // Per-request log lines. Unset: written to stderr in batches (at most
  // 64 KiB or 200 ms behind; all of them by the end of Stop()).
  RequestLogSink request_log;

  // Change feed (GET /feed, docs/feed.md).
  // SSE: a `: keep-alive` comment after this long without a write, and an
  // `event: checkpoint` at least this often while the position advances
  // without matching events. Default: 15 000 ms.
  uint32_t feed_keepalive_ms = 15'000;
  // Feed subscribers (SSE streams and waiting long-polls) per tenant. Past
  // it: 429 too_many_requests. Default: 256.
  uint32_t feed_max_subscribers_per_tenant = 256;
  // Largest `wait` of a long-poll, seconds. Larger: 400. Default: 60 s.
  uint32_t feed_max_wait_s = 60;
  // Each write of a piece of a feed answer (SSE or long-poll), ms. A
  // subscriber that does not read for this long is disconnected; it resumes
  // from its last event id. Default: 120 000 ms.
  uint32_t feed_write_timeout_ms = 120'000;

  // Push delivery (SPEC §4 "Push delivery", docs/push.md). The delivery
  // engine starts and stops with the server.
  // --allow-private-push: push destinations on loopback / private /
  // link-local / metadata addresses allowed. Default: false.
  bool allow_private_push = false;
  // --file-push-root DIR: where `file` push targets created over HTTP may
  // write — DIR/<tenant id>/ and below, each tenant its own. Empty: `file`
  // targets are refused over HTTP (docs/push.md, "file"). An absolute path
  // without '.', '..' or '//' components and no trailing '/' (RunServe
  // normalises the flag). Default: empty.
  std::string file_push_root;
  // First retry delay of a failing push target; doubles per attempt (full
  // jitter) up to delivery_backoff_cap_ms. Default: 1000 ms.
  uint32_t delivery_backoff_base_ms = 1000;
  // Longest retry delay (and longest Retry-After honoured). Default:
  // 600 000 ms.
  uint32_t delivery_backoff_cap_ms = 600'000;
  // Delivery worker threads at start; the pool grows up to
  // delivery_max_workers while receivers block. Defaults: 2 and 32.
  unsigned delivery_min_workers = 2;
  unsigned delivery_max_workers = 32;

  // Reads (SPEC §7): `min_seq=N` waits at most this long for the tenant's
  // views to reach seq N, then answers 503 lagging. Also how long an
  // unknown API key waits, in cluster mode, for the node to catch up with
  // the log of record before it is refused. Default: 10 000 ms.
  uint32_t min_seq_wait_ms = 10'000;

  // Cluster mode (docs/scaling.md): the node (not owned; outlives the
  // Server; started). Writes of tenants another node owns are forwarded
  // there; push delivery runs only for the tenants this node owns.
  // nullptr: single-node mode.
  cluster::Node* cluster = nullptr;
  // How long a write may take to find its tenant's writer (take a free
  // lease, fence, catch up; or reach the owner, waiting out a dead owner's
  // lease) before it answers 503. Default: 30 000 ms.
  uint32_t cluster_write_wait_ms = 30'000;
};

// One route the server serves, for documentation and the OpenAPI test.
struct RouteInfo {
  std::string method;   // "GET", "POST", "PUT", "DELETE"
  std::string pattern;  // "/sources/{id}/properties"
};

class Server {
 public:
  // REQUIRES: `engine` outlives the Server.
  Server(Engine& engine, ServerOptions options);
  // Stops the server if it is running.
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds, listens and starts the threads; returns at once. InvalidArgument
  // for a bad host, Unavailable if the address cannot be bound.
  // REQUIRES: called once.
  Status Start();
  // The bound port (the ephemeral one when options.port was 0).
  // REQUIRES: Start() returned OK.
  uint16_t port() const;
  // Graceful stop: stops accepting, closes idle connections, lets in-flight
  // requests finish (up to shutdown_timeout_ms) — a write that answered 2xx
  // is durable — then stops every thread. Idempotent; blocks until done.
  void Stop();
  // Blocks until Stop() has completed (from another thread).
  void Wait();

  // Every (method, path pattern) the router serves.
  static std::vector<RouteInfo> Routes();
  // The OpenAPI 3.1 document served at GET /openapi.json.
  static std::string_view OpenApiDocument();

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace syncmgr::server
