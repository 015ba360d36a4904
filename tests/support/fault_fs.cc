#include "tests/support/fault_fs.h"

#include <fcntl.h>
#include <rocksdb/env.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <random>
#include <set>
#include <vector>

namespace syncmgr::testing {

using rocksdb::FSDirectory;
using rocksdb::FSWritableFile;
using rocksdb::IODebugContext;
using rocksdb::IOOptions;
using rocksdb::IOStatus;
using rocksdb::Slice;

namespace {

std::string Normal(const std::string& path) {
  std::string p = std::filesystem::path(path).lexically_normal().string();
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  return p;
}

std::string Parent(const std::string& path) {
  return std::filesystem::path(path).parent_path().string();
}

bool FileSize(const std::string& path, uint64_t* size) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return false;
  *size = static_cast<uint64_t>(st.st_size);
  return true;
}

// The first `n` bytes of a file (fewer if it is shorter).
std::string ReadPrefix(const std::string& path, uint64_t n) {
  std::string out;
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return out;
  out.resize(n);
  size_t done = 0;
  while (done < n) {
    ssize_t r = ::pread(fd, out.data() + done, n - done, static_cast<off_t>(done));
    if (r <= 0) break;
    done += static_cast<size_t>(r);
  }
  ::close(fd);
  out.resize(done);
  return out;
}

bool WriteWhole(const std::string& path, const std::string& bytes) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return false;
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t w = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (w <= 0) break;
    done += static_cast<size_t>(w);
  }
  return ::close(fd) == 0 && done == bytes.size();
}

}  // namespace

// A writable file whose appends and syncs FaultFs tracks.
class FaultWritableFile : public rocksdb::FSWritableFileOwnerWrapper {
 public:
  FaultWritableFile(std::unique_ptr<FSWritableFile> file, FaultFs* fs, uint64_t node)
      : FSWritableFileOwnerWrapper(std::move(file)), fs_(fs), node_(node) {}

  IOStatus Append(const Slice& data, const IOOptions& o, IODebugContext* dbg) override {
    return fs_->OnFileOp(
        node_, [&] { return target()->Append(data, o, dbg); },
        [&](FaultFs::Node* n) { n->size += data.size(); });
  }
  IOStatus Append(const Slice& data, const IOOptions& o, const rocksdb::DataVerificationInfo& info,
                  IODebugContext* dbg) override {
    return fs_->OnFileOp(
        node_, [&] { return target()->Append(data, o, info, dbg); },
        [&](FaultFs::Node* n) { n->size += data.size(); });
  }
  IOStatus PositionedAppend(const Slice& data, uint64_t offset, const IOOptions& o,
                            IODebugContext* dbg) override {
    return fs_->OnFileOp(
        node_, [&] { return target()->PositionedAppend(data, offset, o, dbg); },
        [&](FaultFs::Node* n) { n->size = std::max(n->size, offset + data.size()); });
  }
  IOStatus PositionedAppend(const Slice& data, uint64_t offset, const IOOptions& o,
                            const rocksdb::DataVerificationInfo& info,
                            IODebugContext* dbg) override {
    return fs_->OnFileOp(
        node_, [&] { return target()->PositionedAppend(data, offset, o, info, dbg); },
        [&](FaultFs::Node* n) { n->size = std::max(n->size, offset + data.size()); });
  }
  IOStatus Truncate(uint64_t size, const IOOptions& o, IODebugContext* dbg) override {
    return fs_->OnFileOp(
        node_, [&] { return target()->Truncate(size, o, dbg); },
        [&](FaultFs::Node* n) {
          n->size = size;
          n->synced = std::min(n->synced, size);
        });
  }
  IOStatus Sync(const IOOptions& o, IODebugContext* dbg) override {
    return fs_->OnFileOp(
        node_, [&] { return target()->Sync(o, dbg); },
        [](FaultFs::Node* n) { n->synced = n->size; });
  }
  IOStatus Fsync(const IOOptions& o, IODebugContext* dbg) override {
    return fs_->OnFileOp(
        node_, [&] { return target()->Fsync(o, dbg); },
        [](FaultFs::Node* n) { n->synced = n->size; });
  }
  // sync_file_range(SYNC_FILE_RANGE_WRITE) only starts write-back: not durable.
  IOStatus RangeSync(uint64_t offset, uint64_t nbytes, const IOOptions& o,
                     IODebugContext* dbg) override {
    return fs_->OnFileOp(
        node_, [&] { return target()->RangeSync(offset, nbytes, o, dbg); }, [](FaultFs::Node*) {});
  }

 private:
  FaultFs* fs_;
  uint64_t node_;
};

// A directory whose fsyncs make the names in it durable.
class FaultDirectory : public rocksdb::FSDirectoryWrapper {
 public:
  FaultDirectory(std::unique_ptr<FSDirectory> dir, FaultFs* fs, std::string path)
      : FSDirectoryWrapper(std::move(dir)), fs_(fs), path_(std::move(path)) {}

  IOStatus Fsync(const IOOptions& o, IODebugContext* dbg) override {
    return fs_->OnDirectoryFsync(path_, [&] { return FSDirectoryWrapper::Fsync(o, dbg); });
  }
  IOStatus FsyncWithDirOptions(const IOOptions& o, IODebugContext* dbg,
                               const rocksdb::DirFsyncOptions& options) override {
    return fs_->OnDirectoryFsync(
        path_, [&] { return FSDirectoryWrapper::FsyncWithDirOptions(o, dbg, options); });
  }

 private:
  FaultFs* fs_;
  std::string path_;
};

FaultFs::FaultFs(std::shared_ptr<rocksdb::FileSystem> base) : FileSystemWrapper(base) {}
FaultFs::~FaultFs() = default;

std::unique_ptr<rocksdb::Env> FaultFs::NewEnv(const std::shared_ptr<FaultFs>& fs) {
  return rocksdb::NewCompositeEnv(fs);
}

void FaultFs::CutPowerAt(uint64_t op, CutMode mode, uint64_t seed) {
  std::lock_guard<std::mutex> lock(mu_);
  cut_at_ = op;
  cut_mode_ = mode;
  cut_seed_ = seed;
}

void FaultFs::FailFrom(uint64_t op, IOStatus error) {
  std::lock_guard<std::mutex> lock(mu_);
  fail_from_ = op;
  fail_status_ = std::move(error);
}

uint64_t FaultFs::ops() const {
  std::lock_guard<std::mutex> lock(mu_);
  return ops_;
}

IOStatus FaultFs::SimulatePowerCut(CutMode mode, uint64_t seed) {
  std::lock_guard<std::mutex> lock(mu_);
  return CutLocked(mode, seed);
}

IOStatus FaultFs::BeginOp(OpKind kind) {
  ++ops_;
  if (cut_at_ != 0 && ops_ == cut_at_) {
    // The power goes now: this op never happens, and neither does anything
    // after it. Other threads wait on mu_ until the process is gone.
    IOStatus s = CutLocked(cut_mode_, cut_seed_);
    ::_exit(s.ok() ? kPowerCutExitCode : kPowerCutExitCode + 1);
  }
  if (fail_from_ != 0 && ops_ >= fail_from_ && kind == OpKind::kFailable) {
    IOStatus s = fail_status_;
    return s;
  }
  return IOStatus::OK();
}

uint64_t FaultFs::NodeOf(const std::string& path) {
  auto it = live_.find(path);
  if (it != live_.end()) return it->second;
  uint64_t size = 0;
  if (!FileSize(path, &size)) return 0;
  // First sight of a file made before us (or behind our back): durable as
  // found, unless a durable name already says otherwise.
  uint64_t id = next_node_++;
  nodes_[id] = Node{size, size, std::nullopt};
  live_[path] = id;
  durable_.emplace(path, id);
  return id;
}

void FaultFs::Unlink(const std::string& path) {
  // Called before the file's inode may be destroyed: keep its durable bytes
  // if a durable name still refers to it and no other live name does.
  auto it = live_.find(path);
  if (it == live_.end()) return;
  uint64_t id = it->second;
  Node& n = nodes_[id];
  bool other_live = false, durable = false;
  for (const auto& [p, i] : live_) other_live |= (i == id && p != path);
  for (const auto& [p, i] : durable_) durable |= (i == id);
  if (durable && !other_live && !n.saved) n.saved = ReadPrefix(path, n.synced);
}

void FaultFs::CommitDirectory(const std::string& dir) {
  for (auto it = durable_.begin(); it != durable_.end();) {
    it = Parent(it->first) == dir ? durable_.erase(it) : std::next(it);
  }
  for (const auto& [p, id] : live_) {
    if (Parent(p) == dir) durable_[p] = id;
  }
  ForgetUnreferenced();
}

void FaultFs::ForgetUnreferenced() {
  std::set<uint64_t> used;
  for (const auto& [p, id] : live_) used.insert(id);
  for (const auto& [p, id] : durable_) used.insert(id);
  for (auto it = nodes_.begin(); it != nodes_.end();) {
    it = used.count(it->first) ? std::next(it) : nodes_.erase(it);
  }
}

IOStatus FaultFs::CutLocked(CutMode mode, uint64_t seed) {
  std::mt19937_64 rng(seed);
  auto kept = [&](const Node& n) -> uint64_t {
    if (mode == CutMode::kDropUnsynced || n.size <= n.synced) return n.synced;
    return n.synced + rng() % (n.size - n.synced + 1);
  };
  std::set<std::string> paths;
  for (const auto& [p, id] : live_) paths.insert(p);
  for (const auto& [p, id] : durable_) paths.insert(p);
  // Read everything first: a rewrite may need a file another step changes.
  std::vector<std::string> remove;
  std::map<std::string, uint64_t> truncate;
  std::map<std::string, std::string> rewrite;
  for (const std::string& p : paths) {
    auto d = durable_.find(p);
    auto l = live_.find(p);
    if (d == durable_.end()) {
      remove.push_back(p);  // its name was never made durable
      continue;
    }
    const Node& n = nodes_[d->second];
    if (l != live_.end() && l->second == d->second) {
      truncate[p] = kept(n);
    } else if (n.saved) {
      rewrite[p] = *n.saved;
    } else {
      std::string from;
      for (const auto& [q, id] : live_) {
        if (id == d->second) from = q;
      }
      rewrite[p] = from.empty() ? std::string() : ReadPrefix(from, kept(n));
    }
  }
  IOStatus result;
  for (const std::string& p : remove) {
    if (::unlink(p.c_str()) != 0 && errno != ENOENT) result = IOStatus::IOError("unlink " + p);
  }
  for (const auto& [p, size] : truncate) {
    if (::truncate(p.c_str(), static_cast<off_t>(size)) != 0) {
      result = IOStatus::IOError("truncate " + p);
    }
  }
  for (const auto& [p, bytes] : rewrite) {
    if (!WriteWhole(p, bytes)) result = IOStatus::IOError("rewrite " + p);
  }
  nodes_.clear();
  live_.clear();
  durable_.clear();
  cut_at_ = 0;
  fail_from_ = 0;
  return result;
}

IOStatus FaultFs::OnFileOp(uint64_t node, const std::function<IOStatus()>& op,
                           const std::function<void(Node*)>& after) {
  std::lock_guard<std::mutex> lock(mu_);
  IOStatus s = BeginOp(OpKind::kFailable);
  if (!s.ok()) return s;
  s = op();
  auto it = nodes_.find(node);
  if (s.ok() && it != nodes_.end()) after(&it->second);
  return s;
}

IOStatus FaultFs::OnDirectoryFsync(const std::string& dir, const std::function<IOStatus()>& op) {
  std::lock_guard<std::mutex> lock(mu_);
  IOStatus s = BeginOp(OpKind::kFailable);
  if (!s.ok()) return s;
  s = op();
  if (s.ok()) CommitDirectory(dir);
  return s;
}

IOStatus FaultFs::NewWritableFile(const std::string& f, const rocksdb::FileOptions& o,
                                  std::unique_ptr<FSWritableFile>* r, IODebugContext* dbg) {
  std::string path = Normal(f);
  std::lock_guard<std::mutex> lock(mu_);
  IOStatus s = BeginOp(OpKind::kFailable);
  if (!s.ok()) return s;
  // Creating over an existing file truncates it: a new inode in the model.
  if (NodeOf(path) != 0) Unlink(path);
  std::unique_ptr<FSWritableFile> file;
  s = target()->NewWritableFile(f, o, &file, dbg);
  if (!s.ok()) return s;
  uint64_t id = next_node_++;
  nodes_[id] = Node{};
  live_[path] = id;
  ForgetUnreferenced();
  *r = std::make_unique<FaultWritableFile>(std::move(file), this, id);
  return s;
}

IOStatus FaultFs::ReopenWritableFile(const std::string& f, const rocksdb::FileOptions& o,
                                     std::unique_ptr<FSWritableFile>* r, IODebugContext* dbg) {
  std::string path = Normal(f);
  std::lock_guard<std::mutex> lock(mu_);
  IOStatus s = BeginOp(OpKind::kFailable);
  if (!s.ok()) return s;
  uint64_t id = NodeOf(path);
  std::unique_ptr<FSWritableFile> file;
  s = target()->ReopenWritableFile(f, o, &file, dbg);
  if (!s.ok()) return s;
  if (id == 0) {
    id = next_node_++;
    nodes_[id] = Node{};
    live_[path] = id;
  }
  *r = std::make_unique<FaultWritableFile>(std::move(file), this, id);
  return s;
}

IOStatus FaultFs::ReuseWritableFile(const std::string&, const std::string&,
                                    const rocksdb::FileOptions&, std::unique_ptr<FSWritableFile>*,
                                    IODebugContext*) {
  // Only used with recycle_log_file_num > 0, which the engine does not set.
  return IOStatus::NotSupported("FaultFs does not model recycled files");
}

IOStatus FaultFs::NewDirectory(const std::string& name, const IOOptions& o,
                               std::unique_ptr<FSDirectory>* r, IODebugContext* dbg) {
  std::unique_ptr<FSDirectory> dir;
  IOStatus s = target()->NewDirectory(name, o, &dir, dbg);
  if (!s.ok()) return s;
  *r = std::make_unique<FaultDirectory>(std::move(dir), this, Normal(name));
  return s;
}

IOStatus FaultFs::DeleteFile(const std::string& f, const IOOptions& o, IODebugContext* dbg) {
  std::string path = Normal(f);
  std::lock_guard<std::mutex> lock(mu_);
  IOStatus s = BeginOp(OpKind::kDelete);
  if (!s.ok()) return s;
  if (NodeOf(path) != 0) Unlink(path);
  s = target()->DeleteFile(f, o, dbg);
  if (s.ok()) live_.erase(path);
  ForgetUnreferenced();
  return s;
}

IOStatus FaultFs::RenameFile(const std::string& from, const std::string& to, const IOOptions& o,
                             IODebugContext* dbg) {
  std::string src = Normal(from), dst = Normal(to);
  std::lock_guard<std::mutex> lock(mu_);
  IOStatus s = BeginOp(OpKind::kFailable);
  if (!s.ok()) return s;
  uint64_t id = NodeOf(src);
  if (NodeOf(dst) != 0) Unlink(dst);
  s = target()->RenameFile(from, to, o, dbg);
  if (s.ok() && id != 0) {
    live_.erase(src);
    live_[dst] = id;
  }
  ForgetUnreferenced();
  return s;
}

IOStatus FaultFs::LinkFile(const std::string& from, const std::string& to, const IOOptions& o,
                           IODebugContext* dbg) {
  std::string src = Normal(from), dst = Normal(to);
  std::lock_guard<std::mutex> lock(mu_);
  IOStatus s = BeginOp(OpKind::kFailable);
  if (!s.ok()) return s;
  uint64_t id = NodeOf(src);
  s = target()->LinkFile(from, to, o, dbg);
  if (s.ok() && id != 0) live_[dst] = id;
  return s;
}

IOStatus FaultFs::Truncate(const std::string& f, size_t size, const IOOptions& o,
                           IODebugContext* dbg) {
  std::string path = Normal(f);
  std::lock_guard<std::mutex> lock(mu_);
  IOStatus s = BeginOp(OpKind::kFailable);
  if (!s.ok()) return s;
  uint64_t id = NodeOf(path);
  s = target()->Truncate(f, size, o, dbg);
  if (s.ok() && id != 0) {
    nodes_[id].size = size;
    nodes_[id].synced = std::min<uint64_t>(nodes_[id].synced, size);
  }
  return s;
}

}  // namespace syncmgr::testing
