// RunServe: what `syncmgr serve` does (SPEC §5). tools/ parses the command
// line into a ServeConfig and calls it.
//
//   1. opens (creating) the engine at `db_path`;
//   2. the admin key: env SYNCMGR_ADMIN_KEY if set and non-empty; else the
//      file DIR/admin.key; else 32 random bytes as 64 hex digits, written to
//      DIR/admin.key with mode 0600 (and fsynced) — its path is printed,
//      never the key; later starts reuse the file;
//   3. starts the Server and prints "syncmgr: listening on http://HOST:PORT";
//   4. blocks until SIGINT or SIGTERM, then stops gracefully (in-flight
//      requests finish; what answered 2xx is durable) and returns OK.
//
// In cluster mode (`cluster` set; SPEC §7, docs/scaling.md) the admin key
// must come from SYNCMGR_ADMIN_KEY (the same on every node); before the
// engine opens, the node connects to NATS and checks the stream and
// buckets; the engine writes through the node's commit hook, unsynced
// (durability is the replicated log's); the node folds the log of record
// until it has caught up with it as it was at start, and only then listens.
// A clean stop releases the node's leases.
//
// Thread-safety: call from the main thread (it installs signal handling).
#pragma once

#include <chrono>
#include <cstdio>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "cluster/node.h"
#include "engine/engine.h"
#include "engine/status.h"
#include "server/server.h"

namespace syncmgr::server {

struct ServeConfig {
  // Data directory (--db). Default: ./syncmgr-data.
  std::string db_path = "./syncmgr-data";
  // --host. Default: 127.0.0.1.
  std::string host = "127.0.0.1";
  // --port (0: an ephemeral port, see on_listening). Default: 8000.
  uint16_t port = 8000;
  // --cors-origin, repeatable. Default: none.
  std::vector<std::string> cors_origins;
  // Limits, timeouts, threads (defaults: ServerOptions). Its host, port and
  // cors_origins are replaced by the three fields above; admin_key_sha256 is
  // filled in by RunServe.
  ServerOptions server;
  // Engine options; `path` is replaced by db_path.
  EngineOptions engine;
  // --allow-private-push: push targets may deliver to loopback / private /
  // link-local / metadata addresses (ServerOptions::allow_private_push).
  bool allow_private_push = false;
  // --file-push-root DIR (ServerOptions::file_push_root); any absolute or
  // relative path, made absolute and normal by RunServe. Empty: none.
  std::string file_push_root;
  // Where the URL and the key file path are printed. Default: stdout.
  std::FILE* out = stdout;
  // Called once listening, with the bound port (tests use port 0).
  std::function<void(uint16_t port)> on_listening;
  // --cluster URLS --node NAME --advertise URL [--lease-ttl MS]
  // [--cluster-publish-timeout MS]: cluster mode. Unset: single-node mode.
  std::optional<cluster::NodeOptions> cluster;
  // Cluster mode: how long the start may take to catch up with the log of
  // record. Default: 1 h.
  std::chrono::milliseconds cluster_start_timeout{3'600'000};
  // --test-hooks (tests only; off by default): SIGUSR1 pauses this node's
  // reader of the log of record, SIGUSR2 resumes it, so tests produce
  // min_seq waits and 503 lagging on demand.
  bool test_hooks = false;
};

// Runs the server until SIGINT/SIGTERM. Returns the first error (engine
// open — e.g. Corruption with how to recover —, admin key file, bind).
Status RunServe(const ServeConfig& config);

// The admin key per step 2 above; *source says where it came from
// ("SYNCMGR_ADMIN_KEY", or the key file's path). `*created` is true when it
// was generated now.
StatusOr<std::string> LoadOrCreateAdminKey(const std::string& db_path, std::string* source,
                                           bool* created);

}  // namespace syncmgr::server
