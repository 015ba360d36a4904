// FaultFs: a RocksDB FileSystem for tests that knows which bytes and which
// names a power cut would keep, and can make writes fail (EIO, ENOSPC).
//
// What a power cut keeps (the model):
//   * contents: a file keeps its bytes up to its last Sync or Fsync. Later
//     appends are lost (CutMode::kDropUnsynced) or only a random prefix of
//     them survives (CutMode::kKeepUnsyncedPrefix: pages written back early,
//     e.g. a torn record at the tail of a WAL). RangeSync (sync_file_range
//     without waiting), Flush and Close make nothing durable.
//   * names: creating, renaming or deleting a file changes its directory;
//     the change is durable only once that directory is fsynced (FSDirectory
//     Fsync / FsyncWithDirOptions, any reason). A cut before that undoes it:
//     a new file vanishes, a rename is reverted, a deleted file (or one that
//     a rename or a re-create replaced) comes back with its synced bytes.
//   * a file that existed before the FaultFs first saw it is durable as found.
// Not modelled: creating or removing directories (tests make them first);
// zeros or garbage in place of lost bytes; reordering within a sync; torn
// sectors inside the synced part; the info LOG (RocksDB writes it with its
// own logger, not through FSWritableFile); LinkFile (tracked as a second
// name of the same file); NewRandomRWFile and ReuseWritableFile (the engine
// uses neither: the first is forwarded untracked, the second refused).
//
// Ops: every mutating call — create, append, positioned append, truncate,
// sync, fsync, range sync, rename, link, delete, directory fsync — counts as
// one op, numbered from 1. CutPowerAt(n): op n does not happen; instead the
// files on disk are rewritten to what a cut would keep and the process ends
// with _exit(kPowerCutExitCode), so use it in a forked child. FailFrom(n):
// op n and every later op except deletes fail with the given status and do
// nothing, until Heal().
//
// Thread-safety: safe for concurrent use; tracked ops run under one mutex,
// which serializes the wrapped I/O (fine for tests).
#pragma once

#include <rocksdb/file_system.h>
#include <rocksdb/io_status.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

namespace rocksdb {
class Env;
}

namespace syncmgr::testing {

class FaultFs : public rocksdb::FileSystemWrapper {
 public:
  static constexpr int kPowerCutExitCode = 42;
  enum class CutMode { kDropUnsynced, kKeepUnsyncedPrefix };

  explicit FaultFs(std::shared_ptr<rocksdb::FileSystem> base = rocksdb::FileSystem::Default());
  ~FaultFs() override;

  // An Env doing file I/O through `fs` (threads, time: the default Env's).
  // `fs` must outlive it.
  static std::unique_ptr<rocksdb::Env> NewEnv(const std::shared_ptr<FaultFs>& fs);

  static const char* kClassName() { return "SyncmgrFaultFs"; }
  const char* Name() const override { return kClassName(); }

  // Op `op` (counted from 1 since construction) becomes a power cut that ends
  // the process. 0 disables. The seed drives kKeepUnsyncedPrefix.
  void CutPowerAt(uint64_t op, CutMode mode, uint64_t seed);
  // Op `op` and every later op but deletes fail with `error`. 0 disables.
  void FailFrom(uint64_t op, rocksdb::IOStatus error);
  void Heal() { FailFrom(0, rocksdb::IOStatus::OK()); }
  // Ops so far.
  uint64_t ops() const;
  // Rewrites the tracked files on disk to what a power cut now would keep,
  // and forgets everything (the FaultFs then starts over, as after a
  // reboot). REQUIRES: nothing is using the files any more.
  rocksdb::IOStatus SimulatePowerCut(CutMode mode, uint64_t seed);

  // ---- FileSystem ----------------------------------------------------------
  rocksdb::IOStatus NewWritableFile(const std::string& f, const rocksdb::FileOptions& o,
                                    std::unique_ptr<rocksdb::FSWritableFile>* r,
                                    rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus ReopenWritableFile(const std::string& f, const rocksdb::FileOptions& o,
                                       std::unique_ptr<rocksdb::FSWritableFile>* r,
                                       rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus ReuseWritableFile(const std::string& f, const std::string& old,
                                      const rocksdb::FileOptions& o,
                                      std::unique_ptr<rocksdb::FSWritableFile>* r,
                                      rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus NewDirectory(const std::string& name, const rocksdb::IOOptions& o,
                                 std::unique_ptr<rocksdb::FSDirectory>* r,
                                 rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus DeleteFile(const std::string& f, const rocksdb::IOOptions& o,
                               rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus RenameFile(const std::string& from, const std::string& to,
                               const rocksdb::IOOptions& o, rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus LinkFile(const std::string& from, const std::string& to,
                             const rocksdb::IOOptions& o, rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus Truncate(const std::string& f, size_t size, const rocksdb::IOOptions& o,
                             rocksdb::IODebugContext* dbg) override;

 private:
  friend class FaultWritableFile;
  friend class FaultDirectory;

  struct Node {
    uint64_t size = 0;                 // bytes written so far
    uint64_t synced = 0;               // bytes made durable by Sync / Fsync
    std::optional<std::string> saved;  // durable bytes, once the live file is gone
  };
  enum class OpKind { kFailable, kDelete };

  // Counts an op; may cut the power (never returns then) or fail it.
  rocksdb::IOStatus BeginOp(OpKind kind);                    // REQUIRES: mu_ held
  uint64_t NodeOf(const std::string& path);                  // REQUIRES: mu_ held
  void Unlink(const std::string& path);                      // REQUIRES: mu_ held
  void CommitDirectory(const std::string& dir);              // REQUIRES: mu_ held
  void ForgetUnreferenced();                                 // REQUIRES: mu_ held
  rocksdb::IOStatus CutLocked(CutMode mode, uint64_t seed);  // REQUIRES: mu_ held
  // File-level hooks of FaultWritableFile / FaultDirectory.
  rocksdb::IOStatus OnFileOp(uint64_t node, const std::function<rocksdb::IOStatus()>& op,
                             const std::function<void(Node*)>& after);
  rocksdb::IOStatus OnDirectoryFsync(const std::string& dir,
                                     const std::function<rocksdb::IOStatus()>& op);

  mutable std::mutex mu_;
  uint64_t ops_ = 0;                           // guarded by mu_
  uint64_t cut_at_ = 0;                        // guarded by mu_
  CutMode cut_mode_ = CutMode::kDropUnsynced;  // guarded by mu_
  uint64_t cut_seed_ = 0;                      // guarded by mu_
  uint64_t fail_from_ = 0;                     // guarded by mu_
  rocksdb::IOStatus fail_status_;              // guarded by mu_
  uint64_t next_node_ = 1;                     // guarded by mu_
  std::map<uint64_t, Node> nodes_;             // guarded by mu_
  std::map<std::string, uint64_t> live_;       // guarded by mu_; path -> node now
  std::map<std::string, uint64_t> durable_;    // guarded by mu_; path -> node after a cut
};

}  // namespace syncmgr::testing
