// The engine's side of cluster mode (SPEC §7, docs/scaling.md "The engine
// API"): a hook on the write path, and the values of Engine::ApplyFromLog.
// The engine stays free of sockets and of NATS: cluster/ implements the hook
// and decides what the log of record says; the engine writes and folds.
//
// Cursors are opaque bytes to the engine. It stores one per tenant and one
// per node in the `meta` column family, in the same atomic batch as the
// views they describe, so a restart resumes exactly where the views are.
//
// Thread-safety: a CommitHook is called from many threads at once (one per
// tenant being written); it must be safe for that.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/status.h"
#include "engine/types.h"

namespace syncmgr {

// A part of one operation's log records, in seq order: each the bytes of an
// fb.Event exactly as the engine writes it to the `log` column family.
struct LogRecords {
  TenantId tenant = 0;
  uint64_t first_seq = 0;  // the operation's first seq
  // The seq of the last record here: its commit record in OnCommit, this
  // part's last in OnWriteAhead.
  uint64_t last_seq = 0;
  int64_t time_us = 0;  // the operation's time
  // Point into the engine's batch: valid during the call only.
  std::vector<std::string_view> records;
  // The tenant's cursor stored with the views this operation was decided
  // on ("" if none): the hook checks that they are what the log of record
  // says before it publishes.
  std::string_view cursor;
};

// The write path of a cluster node. Every call is made under the tenant's
// write lock, before the corresponding local write. A non-OK status aborts
// the operation: nothing becomes visible locally, and the status is what
// the write returns.
class CommitHook {
 public:
  virtual ~CommitHook() = default;
  // Records about to be written ahead (a large operation): publish them as
  // chunks. Called zero or more times per operation, then OnCommit.
  virtual Status OnWriteAhead(const LogRecords& part) = 0;
  // The rest of the operation (possibly no records when everything was
  // written ahead; last_seq is its commit record), before its commit batch.
  // OK: stored and counting in the log of record; returns the tenant's new
  // cursor, which the engine writes in the commit batch. Conflict: fenced
  // or superseded (applied nowhere). Unavailable: outcome unknown.
  virtual StatusOr<std::string> OnCommit(const LogRecords& rest) = 0;
  // The operation ended without being committed locally: a hook call or
  // the local write failed (it may count in the log of record all the same
  // when OnCommit had returned OK), or it was abandoned. Called once per
  // operation that called OnWriteAhead or OnCommit, after the failure.
  virtual void OnAbort(TenantId tenant, uint64_t first_seq) = 0;
};

// What the node's reader decided about one log message of a tenant, for
// Engine::ApplyFromLog.
struct ExternalCommit {
  // A counting commit to fold; false: the message only moves the cursor.
  bool fold = false;
  uint64_t first_seq = 0;
  uint64_t last_seq = 0;
  // Calls `sink` with each record of first_seq..last_seq in seq order
  // (inline, or chunk by chunk), stopping at its first error.
  std::function<Status(const std::function<Status(uint64_t seq, std::string_view record)>& sink)>
      records;
  // The tenant's cursor after this message.
  std::string tenant_cursor;
};

// Cluster mode: the push delivery state of each target (engine/
// delivery_types.h), kept where every node finds it after a failover. The
// engine encodes the state of one target — its record and all its dead
// letters — as one value, so that each change is one atomic write there as
// it is one WriteBatch in the `delivery` column family.
class DeliveryStateStore {
 public:
  virtual ~DeliveryStateStore() = default;
  // The target's value as last written; NotFound if never written.
  virtual StatusOr<std::string> Get(TenantId tenant, uint32_t target_id) = 0;
  // Replaces the value, provided nobody else wrote it since this process
  // last read or wrote it (Conflict otherwise: read it again), and only
  // while this node may deliver the tenant (Conflict otherwise).
  virtual Status Put(TenantId tenant, uint32_t target_id, std::string_view value) = 0;
};

}  // namespace syncmgr
