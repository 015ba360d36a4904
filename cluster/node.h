// Node: one Sync Manager node of a cluster (SPEC §7, docs/scaling.md), the
// whole of cluster/ as `syncmgr serve --cluster` uses it:
//
//   Connect   connects to the NATS servers and makes sure the stream and
//             the buckets exist with this build's configuration;
//   the engine is then opened with commit_hook() and key_prefix_reserver();
//   Start     registers the node (syncmgr_nodes), starts its reader of the
//             log of record (LogReader) and waits until it has folded the
//             stream as it was at the call, then starts the lease
//             maintenance (Ownership);
//   serving   RouteWrite says whether a write runs here or goes to the
//             tenant's owner; CreateTenant makes tenants with cluster-wide
//             ids; CatchUp waits for the reader;
//   Stop      releases the leases (a clean stop), stops the threads.
//
// Thread-safety: every member is safe to call from any thread after Start,
// except Stop (once, from the thread that called Start).
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "cluster/connection.h"
#include "cluster/layout.h"
#include "cluster/messages.h"
#include "engine/engine.h"
#include "engine/mutex.h"

namespace syncmgr::cluster {

struct NodeOptions {
  // NATS servers ("nats://h1:4222,..." entries, ParseServerList). Required.
  std::vector<std::string> servers;
  // --node: this node's name, [A-Za-z0-9_-]{1,64}, unique in the cluster.
  std::string node;
  // --advertise: http://host:port where the other nodes reach this one's
  // HTTP API (forwarded writes). Required.
  std::string advertise_url;
  // --lease-ttl. Unit: ms. Default: 10 000.
  Millis lease_ttl{10000};
  // --cluster-publish-timeout: one publish to the log of record, retries
  // included. Unit: ms. Default: 10 000.
  Millis publish_timeout{10000};
  // Replicas of the stream and buckets, and message sizes (layout.h);
  // its lease_ttl is replaced by the one above.
  LayoutOptions layout;
};

// InvalidArgument unless `options` names servers, a valid node name and an
// http:// advertise URL, and positive durations.
Status ValidateNodeOptions(const NodeOptions& options);

class Node {
 public:
  using Clock = std::chrono::steady_clock;

  // Connects and ensures the stream and buckets (InvalidArgument if they
  // exist with another configuration; Unavailable if NATS does not
  // answer).
  static StatusOr<std::unique_ptr<Node>> Connect(const NodeOptions& options);
  ~Node();  // Stop()
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;

  // For EngineOptions: the engine's commit hook and key prefix
  // reservation. Valid as long as the Node.
  CommitHook* commit_hook();
  // For EngineOptions::delivery_store: push targets' delivery state in the
  // bucket syncmgr_delivery, written only while this node owns the tenant
  // (cluster/delivery_state.h). Valid as long as the Node.
  DeliveryStateStore* delivery_store();
  std::function<Status(std::string_view prefix, TenantId tenant)> key_prefix_reserver();

  // Starts serving the cluster with `engine` (opened with the two above):
  // see the top. Unavailable if the reader has not caught up by `deadline`;
  // Corruption if the node's views do not match the stream (rebuild it).
  Status Start(Engine* engine, Clock::time_point deadline) EXCLUDES(mu_);
  // Releases this node's leases and stops its threads. Idempotent.
  void Stop() EXCLUDES(mu_);

  struct WriteRoute {
    bool local = false;
    std::string owner_url;  // !local: the owner's advertise URL
    std::string owner_node;
  };
  // Where a write of `tenant` runs (Ownership::RouteWrite).
  StatusOr<WriteRoute> RouteWrite(TenantId tenant, Clock::time_point deadline);
  // Creates a tenant with the next cluster-wide id: takes its lease, fences
  // its empty log, and writes its TenantCreated through the engine.
  StatusOr<TenantCreatedInfo> CreateTenant(std::string_view name, Clock::time_point deadline);
  // The tenant an API key prefix was reserved for; NotFound if none.
  StatusOr<TenantId> TenantOfKeyPrefix(std::string_view prefix);
  // True once this node's views hold every message the log of record had
  // when called; false if `deadline` passes first.
  bool CatchUp(Clock::time_point deadline);

  // Test hook (serve --test-hooks): pauses and resumes the reader.
  void SetReaderPaused(bool paused);
  // Called when this node becomes (true) or stops being (false) a tenant's
  // owner: push delivery's seam (docs/scaling.md). Any time; once this
  // returns, the previous listener is not running and not called again.
  // `fn` must not call back into the Node's ownership (RouteWrite).
  void SetOwnershipListener(std::function<void(TenantId, bool owned)> fn)
      EXCLUDES(listener_mu_);
  // True while this node holds the tenant's lease.
  bool Owns(TenantId tenant) const;
  // The node that holds the tenant's lease now (a leader read); "" if
  // nobody does.
  StatusOr<std::string> LeaseHolderOf(TenantId tenant) const;
  // A write was forwarded to another node (for /metrics).
  void NoteForwarded() { forwarded_.fetch_add(1, std::memory_order_relaxed); }
  // The cluster series of /metrics (docs/scaling.md).
  std::string RenderPrometheus() const;

  const NodeOptions& options() const { return options_; }
  const LeaseHolder& me() const { return me_; }

 private:
  struct Parts;
  explicit Node(NodeOptions options);
  void RegistryLoop() EXCLUDES(mu_);
  std::vector<std::string> LiveNodes() const EXCLUDES(mu_);

  const NodeOptions options_;
  LeaseHolder me_;
  std::unique_ptr<Parts> parts_;
  Engine* engine_ = nullptr;
  std::atomic<uint64_t> forwarded_{0};

  mutable Mutex mu_;
  CondVar cv_;  // stop_ set
  std::vector<std::string> live_nodes_ GUARDED_BY(mu_);
  bool stop_ GUARDED_BY(mu_) = false;
  bool started_ GUARDED_BY(mu_) = false;
  std::thread registry_;
  // Held while the listener runs, so that SetOwnershipListener returns only
  // once the previous listener is not running (calls to it are serialized).
  mutable Mutex listener_mu_;
  std::function<void(TenantId, bool)> listener_ GUARDED_BY(listener_mu_);
};

}  // namespace syncmgr::cluster
