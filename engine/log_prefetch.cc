#include "engine/log_prefetch.h"

#include <fcntl.h>
#include <rocksdb/metadata.h>
#include <sys/stat.h>
#include <unistd.h>

#include <system_error>

#include "engine/keys.h"
#include "engine/store.h"

namespace syncmgr {

namespace {

// The log's block size (engine/store.cc, CfOptions): what one random read
// of the list costs in a file.
constexpr uint64_t kLogBlockBytes = 4 << 10;
// A file's blocks, about.
double Blocks(uint64_t file_bytes) { return static_cast<double>(file_bytes / kLogBlockBytes + 1); }
// One readahead(2) call's range (see Run).
constexpr size_t kRangeBytes = 128 << 10;

}  // namespace

std::unique_ptr<LogPrefetch> LogPrefetch::Start(const Store& store, TenantId tenant,
                                                const std::vector<std::string>& sample,
                                                uint64_t expected_reads) {
  if (sample.empty() || expected_reads == 0) return nullptr;
  rocksdb::ColumnFamilyMetaData meta;
  store.db()->GetColumnFamilyMetaData(store.cf(Cf::kLog), &meta);
  // The tenant's log files: those whose key range meets the tenant's.
  const std::string first = keys::LogPrefix(tenant);
  const std::string end = keys::PrefixEnd(first);
  std::vector<const rocksdb::SstFileMetaData*> files;
  double tenant_blocks = 0;
  for (const rocksdb::LevelMetaData& level : meta.levels) {
    for (const rocksdb::SstFileMetaData& file : level.files) {
      if (file.largestkey < first || file.smallestkey >= end) continue;
      files.push_back(&file);
      tenant_blocks += Blocks(file.size);
    }
  }
  // A list that reads at least one record per two blocks of the tenant's
  // log reads it all; otherwise the sample picks the files.
  const bool all = static_cast<double>(expected_reads) * 2 >= tenant_blocks;
  std::vector<std::string> paths;
  uint64_t bytes = 0;
  for (const rocksdb::SstFileMetaData* file : files) {
    if (!all) {
      uint64_t hits = 0;
      for (const std::string& key : sample) {
        hits += key >= file->smallestkey && key <= file->largestkey;
      }
      // Reads predicted in this file over the whole list, against its blocks.
      const double predicted = static_cast<double>(hits) *
                               static_cast<double>(expected_reads) /
                               static_cast<double>(sample.size());
      if (hits == 0 || predicted * 2 < Blocks(file->size)) continue;
    }
    paths.push_back(file->directory + "/" + file->relative_filename);
    bytes += file->size;
  }
  if (paths.empty()) return nullptr;
  std::unique_ptr<LogPrefetch> p(new LogPrefetch(std::move(paths), bytes));
  try {
    p->thread_ = std::thread([raw = p.get()] { raw->Run(); });
  } catch (const std::system_error&) {
    return nullptr;  // no thread: the list reads as it would without
  }
  return p;
}

LogPrefetch::LogPrefetch(std::vector<std::string> paths, uint64_t bytes)
    : paths_(std::move(paths)), bytes_(bytes) {}

LogPrefetch::~LogPrefetch() {
  stop_.store(true, std::memory_order_relaxed);
  if (thread_.joinable()) thread_.join();
}

// The kernel's readahead(2), one small range at a time: it queues the
// reads of the range's pages that are not in the page cache and returns, so
// the disk sees a deep queue of large reads, and a call blocks only while
// the device's request queue is full. Plain sequential pread()s were
// measured losing the race: once the list's own random reads have left
// cached pages scattered through a file, the kernel's readahead stops at
// each and a pread turns into many small synchronous reads (1 M rows, cold:
// 490 MB in the first second, then ~20 MB/s). The ranges stay under the
// smallest readahead window (128 KiB), which caps what one call reads. A
// file deleted meanwhile (compaction) fails to open and is skipped: the
// list reads its successor as it would anyway.
void LogPrefetch::Run() {
  for (const std::string& path : paths_) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) continue;
    struct stat st {};
    if (::fstat(fd, &st) == 0) {
      for (off_t offset = 0; offset < st.st_size && !stop_.load(std::memory_order_relaxed);
           offset += kRangeBytes) {
        if (::readahead(fd, offset, kRangeBytes) != 0) break;
      }
    }
    ::close(fd);
    if (stop_.load(std::memory_order_relaxed)) return;
  }
}

}  // namespace syncmgr
