// The store's file system: RocksDB's own, plus one rule for bulk ingestion.
//
// When an IngestExternalFiles call fails, RocksDB 7.8 deletes the table
// files it linked (or copied) into the directory (ExternalSstFileIngestionJob
// ::Cleanup), even when the failure was the sync of a MANIFEST record that
// names them and that it had already appended. If that record reaches the
// disk anyway (the sync reported EIO, the bytes were written), the next
// open finds a version whose files are gone and refuses the directory
// ("No such file or directory: ... in file MANIFEST-..."), though the
// operation was never acknowledged.
//
// IngestGuardFs keeps such files instead. Between Begin and End, which the
// bulk ingester calls around IngestExternalFiles on the thread that makes
// the call, it remembers each table file that thread links or creates in
// the directory (RocksDB does both in the calling thread; flushes and
// compactions run on its own threads), and a DeleteFile of one of them,
// which only the failed ingestion's cleanup does, removes nothing. The next
// open then finds either the old version, and deletes the kept file as an
// unreferenced table file (RocksDB does so for every table file no version
// names), or the new one with its files: old or new, as after a power cut
// (docs/reliability.md, "Bulk ingestion"). A kept file costs its disk space
// until then, or until RocksDB's periodic full scan for obsolete files
// deletes it if the store resumes writing without a restart.
#pragma once

#include <rocksdb/file_system.h>

#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>

#include "engine/mutex.h"

namespace syncmgr {

class IngestGuardFs : public rocksdb::FileSystemWrapper {
 public:
  explicit IngestGuardFs(const std::shared_ptr<rocksdb::FileSystem>& target)
      : rocksdb::FileSystemWrapper(target) {}

  static const char* kClassName() { return "SyncmgrIngestGuardFs"; }
  const char* Name() const override { return kClassName(); }

  // Around one IngestExternalFiles call, on the thread that makes it.
  // Ingestions on other threads may overlap.
  void Begin() EXCLUDES(mu_);
  void End() EXCLUDES(mu_);

  rocksdb::IOStatus NewWritableFile(const std::string& path, const rocksdb::FileOptions& options,
                                    std::unique_ptr<rocksdb::FSWritableFile>* result,
                                    rocksdb::IODebugContext* dbg) override EXCLUDES(mu_);
  rocksdb::IOStatus LinkFile(const std::string& from, const std::string& to,
                             const rocksdb::IOOptions& options,
                             rocksdb::IODebugContext* dbg) override EXCLUDES(mu_);
  rocksdb::IOStatus DeleteFile(const std::string& path, const rocksdb::IOOptions& options,
                               rocksdb::IODebugContext* dbg) override EXCLUDES(mu_);

 private:
  // Notes `path` as the running ingestion's if this thread runs one.
  void Note(const std::string& path) EXCLUDES(mu_);

  Mutex mu_;
  // The table files each ingesting thread linked or created so far.
  std::map<std::thread::id, std::set<std::string>> files_ GUARDED_BY(mu_);
};

}  // namespace syncmgr
