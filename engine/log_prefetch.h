// Warming the page cache for a long property list (engine/reads.cc,
// StateCursor). Internal to engine/.
//
// A list runs in external_id order and reads each row's data from the log
// record its state points at (data_seq). Those records lie in the order
// their import received them: a day-0 file's order, unrelated to the ids
// (the benchmark's input is shuffled), and a sync's target points at the
// source's record. So a whole list reads nearly every block of the log
// files holding the data, one random 4 KiB read at a time (RocksDB opens
// table files with advise_random_on_open: no kernel readahead). On a cold
// page cache that is ~9 k reads/s at queue depth 1 on this machine's disk,
// against ~750 MB/s for large sequential reads.
//
// LogPrefetch has the kernel read the log files a list will read much of,
// whole and in order, with large reads queued from a thread of its own, so
// the list's block reads find them in the page cache. Which files: when the
// list is expected to read at least one record per two blocks of the
// tenant's whole log, every file of the tenant's log (most of them will be
// read at random anyway; reading a few the list does not need costs less
// than missing one it does). Otherwise a sample of the list's first data
// keys, scaled to the rows the list is expected to read, predicts how many
// reads land in each file; a file that would see at least one read per two
// of its blocks (then ~40 % of its blocks or more are read at random
// anyway) is read whole. The sample alone missed files: the first ids of a
// list need not be spread over the log as the rest are (the benchmark's
// ids, a multiplicative hash of the input position, picked 22 of the 35
// files of a 1 M day 0, and the list then read the other 13 a block at a
// time). Files are read but for the parts already in the page cache. The
// page cache is the kernel's: nothing is held in the process, and nothing
// on disk changes.
//
// Thread-safety: a LogPrefetch is owned by one cursor; its thread only reads
// files.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "engine/types.h"

namespace syncmgr {

class Store;

class LogPrefetch {
 public:
  // Starts reading, on a thread of its own, the log table files of
  // `tenant` that the list will read much of (see above). `sample`: log
  // keys the list is about to read (any order); `expected_reads`: how many
  // log reads the whole list is expected to make (sample.size() of them
  // included). Returns null when no file qualifies.
  static std::unique_ptr<LogPrefetch> Start(const Store& store, TenantId tenant,
                                            const std::vector<std::string>& sample,
                                            uint64_t expected_reads);

  // Stops the thread (after at most one readahead call) and joins it;
  // reads already queued in the kernel complete into the page cache.
  ~LogPrefetch();
  LogPrefetch(const LogPrefetch&) = delete;
  LogPrefetch& operator=(const LogPrefetch&) = delete;

  // The files chosen, and their bytes (for tests and logs).
  size_t files() const { return paths_.size(); }
  uint64_t bytes() const { return bytes_; }

 private:
  LogPrefetch(std::vector<std::string> paths, uint64_t bytes);
  void Run();

  const std::vector<std::string> paths_;
  const uint64_t bytes_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace syncmgr
