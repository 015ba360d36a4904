#include "engine/info_log.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <ctime>

#include "engine/mutex.h"

namespace syncmgr {
namespace {

// Longest line kept; longer ones are cut (RocksDB's own limit is similar).
constexpr size_t kMaxLineBytes = 4096;
// Once the file has failed to open this many times in a row, it is tried
// again only every this many lines.
constexpr uint64_t kReopenEveryLines = 64;

class InfoLog : public rocksdb::Logger {
 public:
  InfoLog(std::string path, uint64_t max_bytes)
      : rocksdb::Logger(rocksdb::InfoLogLevel::INFO_LEVEL),
        path_(std::move(path)),
        max_bytes_(max_bytes) {}
  ~InfoLog() override {
    if (fd_ >= 0) ::close(fd_);
  }

  using rocksdb::Logger::Logv;
  void Logv(const char* format, va_list ap) override {
    char line[kMaxLineBytes];
    struct timeval now {};
    ::gettimeofday(&now, nullptr);
    struct tm t {};
    ::localtime_r(&now.tv_sec, &t);
    int n = std::snprintf(line, sizeof line, "%04d/%02d/%02d-%02d:%02d:%02d.%06ld ",
                          t.tm_year + 1900, t.tm_mon + 1, t.tm_mday, t.tm_hour, t.tm_min,
                          t.tm_sec, static_cast<long>(now.tv_usec));
    if (n < 0) return;
    va_list copy;
    va_copy(copy, ap);
    const int m = std::vsnprintf(line + n, sizeof line - static_cast<size_t>(n), format, copy);
    va_end(copy);
    if (m < 0) return;
    size_t len = std::min(sizeof line - 1, static_cast<size_t>(n) + static_cast<size_t>(m));
    if (len == 0 || line[len - 1] != '\n') {
      if (len == sizeof line - 1) --len;
      line[len++] = '\n';
    }
    MutexLock lock(&mu_);
    if (!EnsureOpen()) return;
    if (size_ + len > max_bytes_) Rotate();
    if (fd_ < 0) return;
    const ssize_t w = ::write(fd_, line, len);
    if (w > 0) size_ += static_cast<uint64_t>(w);
    // A failed or short write (ENOSPC, EIO) drops the line: never an error.
  }

  // Nothing to make durable: the LOG is diagnostics.
  void Flush() override {}

 protected:
  rocksdb::Status CloseImpl() override { return rocksdb::Status::OK(); }

 private:
  bool EnsureOpen() REQUIRES(mu_) {
    if (fd_ >= 0) return true;
    // Early lines of DB::Open may come before it has created the directory:
    // try on every line at first, then on every kReopenEveryLines-th.
    const uint64_t failed = failed_lines_++;
    if (failed >= kReopenEveryLines && failed % kReopenEveryLines != 0) return false;
    fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd_ < 0) return false;
    failed_lines_ = 0;
    struct stat st {};
    size_ = ::fstat(fd_, &st) == 0 ? static_cast<uint64_t>(st.st_size) : 0;
    return true;
  }

  // REQUIRES: fd_ open.
  void Rotate() REQUIRES(mu_) {
    ::close(fd_);
    fd_ = -1;
    // Best effort: if the rename fails, the next open appends to the old file.
    (void)::rename(path_.c_str(), (path_ + ".old").c_str());
    failed_lines_ = 0;
    EnsureOpen();
  }

  // Constant after construction.
  const std::string path_;
  const uint64_t max_bytes_;

  Mutex mu_;
  int fd_ GUARDED_BY(mu_) = -1;
  uint64_t size_ GUARDED_BY(mu_) = 0;
  uint64_t failed_lines_ GUARDED_BY(mu_) = 0;
};

}  // namespace

std::shared_ptr<rocksdb::Logger> NewInfoLog(const std::string& path, uint64_t max_bytes) {
  return std::make_shared<InfoLog>(path, max_bytes);
}

}  // namespace syncmgr
