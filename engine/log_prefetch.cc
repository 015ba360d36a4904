#include "engine/log_prefetch.h"

#include <fcntl.h>
#include <rocksdb/metadata.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <system_error>

#include "engine/store.h"

namespace syncmgr {

namespace {

// The log's block size (engine/store.cc, CfOptions): what one random read
// of the list costs in a file.
constexpr uint64_t kLogBlockBytes = 4 << 10;
// One sequential read: large enough for the disk's full bandwidth, small
// enough that a stop waits for little.
constexpr size_t kReadBytes = 1 << 20;

}  // namespace

std::unique_ptr<LogPrefetch> LogPrefetch::Start(const Store& store,
                                                const std::vector<std::string>& sample,
                                                uint64_t expected_reads) {
  if (sample.empty() || expected_reads == 0) return nullptr;
  rocksdb::ColumnFamilyMetaData meta;
  store.db()->GetColumnFamilyMetaData(store.cf(Cf::kLog), &meta);
  std::vector<std::string> paths;
  uint64_t bytes = 0;
  for (const rocksdb::LevelMetaData& level : meta.levels) {
    for (const rocksdb::SstFileMetaData& file : level.files) {
      uint64_t hits = 0;
      for (const std::string& key : sample) {
        hits += key >= file.smallestkey && key <= file.largestkey;
      }
      // Reads predicted in this file over the whole list, against its blocks.
      const double predicted = static_cast<double>(hits) * static_cast<double>(expected_reads) /
                               static_cast<double>(sample.size());
      const double blocks = static_cast<double>(file.size / kLogBlockBytes + 1);
      if (hits == 0 || predicted * 2 < blocks) continue;
      paths.push_back(file.directory + "/" + file.relative_filename);
      bytes += file.size;
    }
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

// Plain reads into a scratch buffer: they wait for the disk (so a stop is
// prompt and the I/O stays one stream). A chunk already in the page cache
// (mincore; a warm list, or another list's prefetch) is skipped, so a warm
// list pays no copy. A file deleted meanwhile (compaction) fails to open
// and is skipped: the list reads its successor as it would anyway.
void LogPrefetch::Run() {
  std::unique_ptr<char[]> buf(new char[kReadBytes]);
  const size_t page = static_cast<size_t>(::sysconf(_SC_PAGESIZE));
  for (const std::string& path : paths_) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) continue;
    struct stat st {};
    if (::fstat(fd, &st) != 0 || st.st_size == 0) {
      ::close(fd);
      continue;
    }
    const size_t size = static_cast<size_t>(st.st_size);
    std::vector<unsigned char> resident((size + page - 1) / page, 0);
    void* map = ::mmap(nullptr, size, PROT_READ, MAP_SHARED, fd, 0);
    if (map != MAP_FAILED) {
      if (::mincore(map, size, resident.data()) != 0)
        std::fill(resident.begin(), resident.end(), 0);
      ::munmap(map, size);
    }
    ::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    for (size_t offset = 0; offset < size && !stop_.load(std::memory_order_relaxed);
         offset += kReadBytes) {
      const size_t first = offset / page;
      const size_t last = std::min(resident.size(), (offset + kReadBytes) / page);
      bool cached = true;
      for (size_t i = first; i < last && cached; ++i) cached = (resident[i] & 1) != 0;
      if (cached) continue;
      if (::pread(fd, buf.get(), kReadBytes, static_cast<off_t>(offset)) <= 0) break;
    }
    ::close(fd);
    if (stop_.load(std::memory_order_relaxed)) return;
  }
}

}  // namespace syncmgr
