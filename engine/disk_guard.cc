#include "engine/disk_guard.h"

#include <fmt/format.h>
#include <sys/statvfs.h>

namespace syncmgr {

DiskGuard::DiskGuard(std::string path, uint64_t min_free_bytes, std::chrono::milliseconds refresh)
    : path_(std::move(path)), min_free_bytes_(min_free_bytes), refresh_(refresh) {}

Status DiskGuard::Check() {
  if (min_free_bytes_ == 0) return Status::Ok();
  int64_t now = Clock::now().time_since_epoch().count();
  if (now >= next_refresh_ns_.load(std::memory_order_acquire)) {
    MutexLock lock(&refresh_mu_);
    // Another caller may have refreshed while this one waited.
    if (now >= next_refresh_ns_.load(std::memory_order_acquire)) {
      struct statvfs vfs;
      bool ok = ::statvfs(path_.c_str(), &vfs) == 0;
      statvfs_ok_.store(ok, std::memory_order_relaxed);
      if (ok) {
        free_bytes_.store(static_cast<uint64_t>(vfs.f_bavail) * vfs.f_frsize,
                          std::memory_order_relaxed);
      }
      next_refresh_ns_.store(now + std::chrono::duration_cast<Clock::duration>(refresh_).count(),
                             std::memory_order_release);
    }
  }
  if (!statvfs_ok_.load(std::memory_order_relaxed)) return Status::Ok();
  uint64_t free = free_bytes_.load(std::memory_order_relaxed);
  if (free >= min_free_bytes_) return Status::Ok();
  return Status::NoSpace(fmt::format(
      "the data directory {} has {} MiB free, under the {} MiB reserve (min_free_bytes); "
      "writes are refused until space is freed, reads go on",
      path_, free >> 20, min_free_bytes_ >> 20));
}

}  // namespace syncmgr
