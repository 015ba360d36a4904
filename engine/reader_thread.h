// A thread that reads ahead for a long read: the next batches of a
// property list (engine/reads.cc, StateCursor), the next batch of an
// incremental sync's candidates (engine/sync.cc). Internal to engine/.
//
// Both read records scattered over the table files: a block-cache miss, a
// page-cache read and an LZ4 decode per record. A list's rows are read a
// batch at a time (one MultiGet), ~3/4 of a whole list's CPU, and its
// caller (a server worker) turns each row into JSON; a sync reads both
// states and a log record per candidate, ~3/4 of a 1 % sync's time. Done
// in one thread, either keeps one core busy however many the machine has.
// A ReaderThread runs such reads (a Job) beside the caller's own work:
// the list's next batches while the current one is answered, one of each
// two batches of a sync's candidates while the caller reads the other.
//
// Bounded: at most max(2, cores) such threads exist in the process at once;
// Start returns null past that, and the caller then reads in its own
// thread, as it would without. A list starts its readers only at its
// second batch, a sync only when it has more than one batch of candidates,
// so a short read never pays for a thread. EngineOptions::read_ahead off:
// none.
//
// Thread-safety: Submit and Wait are called by the owner (one thread at a
// time); what the job touches belongs to the reader thread from Submit
// until Wait returns, and the destructor waits for a job in hand.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <thread>

#include "engine/mutex.h"
#include "engine/status.h"

namespace syncmgr {

class ReaderThread {
 public:
  // The reads of one batch.
  using Job = std::function<Status()>;

  // A reader thread, or null when max(2, cores) are running already or the
  // system refuses a thread: the caller then reads in its own thread.
  static std::unique_ptr<ReaderThread> Start();

  // Waits for the job in hand, if any, then stops the thread and joins it.
  ~ReaderThread();
  ReaderThread(const ReaderThread&) = delete;
  ReaderThread& operator=(const ReaderThread&) = delete;

  // Runs `job` on the reader thread. REQUIRES: no job in hand (Wait was
  // called since the last Submit).
  void Submit(Job job) EXCLUDES(mu_);
  // Waits for the job submitted last and returns its status.
  Status Wait() EXCLUDES(mu_);

  // Reader threads running now, in the whole process (for tests).
  static size_t Running();

 private:
  ReaderThread() = default;
  void Run() EXCLUDES(mu_);

  Mutex mu_;
  CondVar work_cv_;  // a job or the stop, for the reader thread
  CondVar done_cv_;  // a job finished, for the owner
  Job job_ GUARDED_BY(mu_);
  bool busy_ GUARDED_BY(mu_) = false;  // a job is submitted and not finished
  Status result_ GUARDED_BY(mu_);
  bool stop_ GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace syncmgr
