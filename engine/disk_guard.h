// DiskGuard: refuses writes while the data directory's file system is short
// of free space, before RocksDB itself can run out (EngineOptions::
// min_free_bytes says why). Internal to engine/.
//
// Thread-safety: safe for concurrent use from many threads; one statvfs per
// refresh interval whatever the number of callers.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>

#include "engine/mutex.h"
#include "engine/status.h"

namespace syncmgr {

class DiskGuard {
 public:
  // How long one statvfs result is trusted. Default: 100 ms.
  static constexpr std::chrono::milliseconds kDefaultRefresh{100};

  // `min_free_bytes` == 0 disables the guard (Check always OK).
  DiskGuard(std::string path, uint64_t min_free_bytes,
            std::chrono::milliseconds refresh = kDefaultRefresh);

  // OK while the file system holding `path` has at least min_free_bytes
  // available to unprivileged users (f_bavail * f_frsize); NoSpace, with
  // the figures, otherwise. A statvfs failure lets writes through: RocksDB
  // reports a vanished or unreadable directory itself.
  Status Check() EXCLUDES(refresh_mu_);

  // Free bytes at the last refresh (0 before the first).
  uint64_t last_free_bytes() const { return free_bytes_.load(std::memory_order_relaxed); }

 private:
  using Clock = std::chrono::steady_clock;

  // Constant after construction.
  const std::string path_;
  const uint64_t min_free_bytes_;
  const std::chrono::milliseconds refresh_;

  Mutex refresh_mu_;  // one refresher at a time; the figures are atomics
  std::atomic<int64_t> next_refresh_ns_{0};  // steady clock; 0: never refreshed
  std::atomic<uint64_t> free_bytes_{0};
  std::atomic<bool> statvfs_ok_{false};
};

}  // namespace syncmgr
