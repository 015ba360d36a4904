// Reading a long property list's next batch while its caller takes the
// current one (engine/reads.cc, StateCursor). Internal to engine/.
//
// A list row's data is a log record read at random (the log holds records
// in import order, the list goes in external_id order): a block-cache
// miss, a page-cache read and an LZ4 decode per row, ~60 % of a whole
// list's CPU. The cursor reads them a batch at a time (one MultiGet), and
// its caller (a server worker) turns each row into JSON. Done in turn, a
// list keeps one core busy however many the machine has. ListReadAhead is
// a thread of the cursor's own that fills batch i + 1's data while the
// caller takes batch i's rows, so the two halves of the work overlap.
//
// Bounded: at most max(2, cores) such threads exist in the process at once
// (one per list being read ahead); a list that finds none free reads its
// batches in its caller's thread, as before. A cursor starts one only at
// its second batch, so a page of one batch never pays for a thread.
//
// Thread-safety: Submit and Wait are called by the cursor's owner (one
// thread at a time); the batch handed over belongs to the reader thread
// from Submit until Wait returns.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <thread>

#include "engine/mutex.h"
#include "engine/status.h"

namespace syncmgr {

class ListReadAhead {
 public:
  // The work of one batch (the cursor's FillData over it).
  using Job = std::function<Status()>;

  // A reader thread, or null when max(2, cores) are running already or the
  // system refuses a thread: the caller then fills its batches itself.
  static std::unique_ptr<ListReadAhead> Start();

  // Waits for the job in hand, if any, then stops the thread and joins it.
  ~ListReadAhead();
  ListReadAhead(const ListReadAhead&) = delete;
  ListReadAhead& operator=(const ListReadAhead&) = delete;

  // Runs `job` on the reader thread. REQUIRES: no job in hand (Wait was
  // called since the last Submit).
  void Submit(Job job) EXCLUDES(mu_);
  // Waits for the job submitted last and returns its status.
  Status Wait() EXCLUDES(mu_);

  // Reader threads running now, in the whole process (for tests).
  static size_t Running();

 private:
  ListReadAhead() = default;
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
