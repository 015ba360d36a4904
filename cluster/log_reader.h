// LogReader: a node's reader of the log of record (docs/scaling.md,
// "Folding the stream on every node"). One thread reads the Commit and
// Fence messages of every tenant (syncmgr.log.*) in stream order from the
// node's stored position, each from the stream leader (NextMessage: a
// replica's copy may differ), decides with the tenant's LogChain what
// counts, and folds counting commits into the engine's views
// (Engine::ApplyFromLog), their chunks fetched one at a time. A JetStream
// ordered consumer (SubjectReader) only wakes it when new messages come.
//
// A message it cannot decide on — damaged, naming a predecessor this node
// never saw, or a commit whose seqs do not follow the views — stops the
// reader (error() says why; the node must be rebuilt): it never skips or
// guesses. Transient errors (no leader, no answer) are retried.
//
// Thread-safety: every public member is safe to call from any thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>

#include "cluster/connection.h"
#include "cluster/log_chain.h"
#include "cluster/messages.h"
#include "engine/mutex.h"
#include "engine/engine.h"
#include "engine/status.h"

namespace syncmgr::cluster {

struct LogReaderOptions {
  // The log stream. Default: SYNCMGR_LOG.
  std::string stream = "SYNCMGR_LOG";
  // How long one wait for a wake-up lasts once caught up; the reader looks
  // at the stream again after it even without one. Default: 500 ms.
  Millis idle_wait{500};
  // Pause after a transient error before the message is read again.
  // Default: 250 ms.
  Millis retry_wait{250};
  // The stream's last sequence is read at most this often while busy (for
  // the lag metric). Default: 1 s.
  Millis stream_state_interval{1000};
};

// What a counting Fence says (SetFenceListener).
struct FenceSeen {
  TenantId tenant = 0;
  uint64_t stream_seq = 0;
  FenceMessage fence;
};

class LogReader {
 public:
  using Clock = std::chrono::steady_clock;

  // REQUIRES: `conn` and `engine` outlive the reader.
  LogReader(Connection* conn, Engine* engine, LogReaderOptions options = {});
  ~LogReader();  // Stop()
  LogReader(const LogReader&) = delete;
  LogReader& operator=(const LogReader&) = delete;

  // Reads the node's cursor and checks that the stream still holds the
  // message it names (Corruption if the stream ends before it or holds
  // another message there: the views were folded from another log, and the
  // node must be rebuilt), then starts the thread.
  Status Start();
  // Stops the thread (after the message in hand). Idempotent.
  void Stop();

  // Called with every counting Fence, after it is folded, on the reader's
  // thread. Set before Start. `fn` must not block for long.
  void SetFenceListener(std::function<void(const FenceSeen&)> fn) { on_fence_ = std::move(fn); }

  // True once the reader has handled every log message stored before this
  // call; false if `deadline` passes first (or the reader stopped, or is
  // paused). Costs a few leader reads of the caller's own.
  bool CatchUp(Clock::time_point deadline);
  // True once the reader has handled the tenant's log subject up to
  // `stream_seq`; false if `deadline` passes first.
  bool WaitForTenant(TenantId tenant, uint64_t stream_seq, Clock::time_point deadline);

  // Test hook (serve --test-hooks): a paused reader folds nothing until
  // resumed.
  void SetPaused(bool paused);
  bool paused() const;

  // The node position: every log message up to it is handled.
  uint64_t position() const;
  // The stream's last sequence when last read (0 before).
  uint64_t stream_last_seq() const;
  // Reads the stream's last sequence now (for the lag metric while the
  // reader idles or is paused). A failure keeps the last value.
  void RefreshStreamEnd();
  // Stored messages that did not count (superseded), seen by this reader.
  uint64_t superseded_total() const;
  // OK while the reader runs or stopped cleanly; else why it stopped.
  Status error() const;

 private:
  void Run();
  // Handles the message; Unavailable: read it again later.
  Status Handle(const StoredMessage& msg);
  // Decides (LogChain, under the tenant's lock) and folds one message.
  Status Fold(TenantId tenant, const StoredMessage& msg, const ClusterMessage& decoded,
              LogChain::Verdict* verdict);
  // Waits for new messages: the wake-up reader, else a pause.
  void Idle();
  void RefreshStreamState(bool force) EXCLUDES(mu_);
  bool Stopping() EXCLUDES(mu_);
  // The reader has handled the tenant's log subject up to `stream_seq`.
  bool ReachedLocked(TenantId tenant, uint64_t stream_seq) const REQUIRES(mu_);

  Connection* const conn_;
  Engine* const engine_;
  const LogReaderOptions options_;
  std::function<void(const FenceSeen&)> on_fence_;

  mutable Mutex mu_;
  CondVar cv_;  // position, chains, caught_up_, paused_, stop_
  uint64_t position_ GUARDED_BY(mu_) = 0;
  uint64_t stream_last_seq_ GUARDED_BY(mu_) = 0;
  std::map<TenantId, uint64_t> chain_head_ GUARDED_BY(mu_);
  uint64_t superseded_ GUARDED_BY(mu_) = 0;
  bool paused_ GUARDED_BY(mu_) = false;
  bool stop_ GUARDED_BY(mu_) = false;
  bool running_ GUARDED_BY(mu_) = false;
  Status error_ GUARDED_BY(mu_);
  std::string position_msg_id_;              // the reader thread's
  Clock::time_point last_state_read_{};      // the reader thread's

  struct Wakeup;  // the ordered consumer; the reader thread's
  std::unique_ptr<Wakeup> wakeup_;
  std::thread thread_;
};

}  // namespace syncmgr::cluster
