#include "delivery/ndjson_files.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "wire/api_render.h"
#include "wire/feed_json.h"
#include "wire/json_writer.h"

namespace syncmgr::delivery {
namespace {

constexpr std::string_view kTempSuffix = ".tmp";
// AtomicFile writes to the kernel in pieces of this size.
constexpr size_t kWriteBufferBytes = 256 << 10;

Status ErrnoStatus(std::string_view what, const std::string& path, int err) {
  std::string message(what);
  message += " ";
  message += path;
  message += ": ";
  message += std::strerror(err);
  if (err == ENOSPC || err == EDQUOT) return Status::NoSpace(std::move(message));
  return Status::Internal(std::move(message));
}

Status WriteAll(int fd, std::string_view bytes, const std::string& path) {
  while (!bytes.empty()) {
    ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus("write", path, errno);
    }
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return Status::Ok();
}

Status FsyncDir(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus("open", dir, errno);
  int rc = ::fsync(fd);
  int err = errno;
  ::close(fd);
  if (rc != 0) return ErrnoStatus("fsync", dir, err);
  return Status::Ok();
}

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}
bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

}  // namespace

std::string ChangeFileName(uint64_t first_seq, uint64_t last_seq) {
  return "changes-" + std::to_string(first_seq) + "-" + std::to_string(last_seq) + ".ndjson";
}

std::string SnapshotFileName(uint64_t seq) { return "snapshot-" + std::to_string(seq) + ".ndjson"; }

std::string TempFileName(std::string_view final_name) {
  std::string name = ".";
  name += final_name;
  name += kTempSuffix;
  return name;
}

bool IsTempFileName(std::string_view name) {
  if (!EndsWith(name, std::string(".ndjson") + std::string(kTempSuffix))) return false;
  return StartsWith(name, ".changes-") || StartsWith(name, ".snapshot-");
}

std::string ChangeFileBody(const Batch& batch) {
  std::string out;
  for (const LogEvent& event : batch.events) {
    wire::JsonWriter w(&out);
    wire::WriteFeedEvent(w, event);
    out += '\n';
  }
  return out;
}

void AppendSnapshotLine(std::string* out, const PropertyRecord& record) {
  wire::JsonWriter w(out);
  wire::WriteProperty(w, record, StreamKind::kTarget);
  *out += '\n';
}

Status StreamSnapshot(const StateVisitor& visit,
                      const std::function<Status(std::string_view)>& write, size_t chunk_bytes) {
  std::string chunk;
  Status write_status;
  Status visit_status = visit([&](const PropertyRecord& record) {
    AppendSnapshotLine(&chunk, record);
    if (chunk.size() >= chunk_bytes) {
      write_status = write(chunk);
      chunk.clear();
      if (!write_status.ok()) return false;
    }
    return true;
  });
  SYNCMGR_RETURN_IF_ERROR(write_status);
  SYNCMGR_RETURN_IF_ERROR(visit_status);
  if (!chunk.empty()) return write(chunk);
  return Status::Ok();
}

// ---- AtomicFile -------------------------------------------------------------

AtomicFile::~AtomicFile() {
  if (!committed_) Abandon();
}

void AtomicFile::Abandon() {
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
  // Best effort: a temp file that cannot be removed is swept at the next
  // start; the failure that led here is what the caller reports.
  if (!temp_path_.empty()) ::unlink(temp_path_.c_str());
  temp_path_.clear();
}

Status AtomicFile::Open(const std::string& dir, const std::string& name) {
  Abandon();
  committed_ = false;
  dir_ = dir;
  std::string base = dir;
  if (base.empty() || base.back() != '/') base += '/';
  final_path_ = base + name;
  const std::string temp_path = base + TempFileName(name);
  fd_ = ::open(temp_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd_ < 0) return ErrnoStatus("create", temp_path, errno);
  temp_path_ = temp_path;
  buffer_.clear();
  return Status::Ok();
}

Status AtomicFile::Flush() {
  Status st = WriteAll(fd_, buffer_, temp_path_);
  buffer_.clear();
  return st;
}

Status AtomicFile::Append(std::string_view bytes) {
  if (fd_ < 0) return Status::Internal("AtomicFile::Append without Open");
  if (buffer_.size() + bytes.size() > kWriteBufferBytes) {
    SYNCMGR_RETURN_IF_ERROR(Flush());
    if (bytes.size() > kWriteBufferBytes) return WriteAll(fd_, bytes, temp_path_);
  }
  buffer_.append(bytes);
  return Status::Ok();
}

Status AtomicFile::Commit() {
  if (fd_ < 0) return Status::Internal("AtomicFile::Commit without Open");
  SYNCMGR_RETURN_IF_ERROR(Flush());
  // The data must be on disk before the rename makes the name visible, or a
  // power cut could leave a complete-looking name over missing bytes.
  if (::fsync(fd_) != 0) return ErrnoStatus("fsync", temp_path_, errno);
  int rc = ::close(fd_);
  fd_ = -1;
  if (rc != 0) return ErrnoStatus("close", temp_path_, errno);
  if (::rename(temp_path_.c_str(), final_path_.c_str()) != 0) {
    return ErrnoStatus("rename", temp_path_, errno);
  }
  committed_ = true;
  temp_path_.clear();
  // The rename itself is durable only once the directory is synced.
  return FsyncDir(dir_);
}

Status SweepTempFiles(const std::string& dir) {
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) {
    if (errno == ENOENT) return Status::Ok();
    return ErrnoStatus("opendir", dir, errno);
  }
  std::string base = dir;
  if (base.back() != '/') base += '/';
  Status result;
  while (dirent* entry = ::readdir(d)) {
    std::string_view name = entry->d_name;
    if (!IsTempFileName(name)) continue;
    std::string path = base + std::string(name);
    if (::unlink(path.c_str()) != 0 && errno != ENOENT && result.ok()) {
      result = ErrnoStatus("unlink", path, errno);
    }
  }
  ::closedir(d);
  return result;
}

Status MakeDirs(const std::string& dir) {
  if (dir.empty() || dir[0] != '/') return Status::InvalidArgument("not an absolute path: " + dir);
  size_t pos = 1;
  while (pos <= dir.size()) {
    size_t next = dir.find('/', pos);
    if (next == std::string::npos) next = dir.size();
    std::string prefix = dir.substr(0, next);
    if (!prefix.empty() && prefix != "/") {
      if (::mkdir(prefix.c_str(), 0755) != 0 && errno != EEXIST) {
        return ErrnoStatus("mkdir", prefix, errno);
      }
    }
    pos = next + 1;
  }
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0) return ErrnoStatus("stat", dir, errno);
  if (!S_ISDIR(st.st_mode)) return Status::InvalidArgument(dir + " is not a directory");
  return Status::Ok();
}

}  // namespace syncmgr::delivery
