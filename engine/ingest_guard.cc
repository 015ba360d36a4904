#include "engine/ingest_guard.h"

namespace syncmgr {

void IngestGuardFs::Begin() {
  MutexLock lock(&mu_);
  files_[std::this_thread::get_id()].clear();
}

void IngestGuardFs::End() {
  MutexLock lock(&mu_);
  files_.erase(std::this_thread::get_id());
}

void IngestGuardFs::Note(const std::string& path) {
  if (!path.ends_with(".sst")) return;
  MutexLock lock(&mu_);
  auto it = files_.find(std::this_thread::get_id());
  if (it != files_.end()) it->second.insert(path);
}

rocksdb::IOStatus IngestGuardFs::NewWritableFile(const std::string& path,
                                                 const rocksdb::FileOptions& options,
                                                 std::unique_ptr<rocksdb::FSWritableFile>* result,
                                                 rocksdb::IODebugContext* dbg) {
  // RocksDB's fallback when a link is not supported: a copy, to the path
  // the failed link noted already; noted here too, so that the guard does
  // not depend on the two paths being the same.
  Note(path);
  return target()->NewWritableFile(path, options, result, dbg);
}

rocksdb::IOStatus IngestGuardFs::LinkFile(const std::string& from, const std::string& to,
                                          const rocksdb::IOOptions& options,
                                          rocksdb::IODebugContext* dbg) {
  Note(to);  // before the link: a failed link's path may be copied to next
  return target()->LinkFile(from, to, options, dbg);
}

rocksdb::IOStatus IngestGuardFs::DeleteFile(const std::string& path,
                                            const rocksdb::IOOptions& options,
                                            rocksdb::IODebugContext* dbg) {
  {
    MutexLock lock(&mu_);
    for (const auto& [thread, files] : files_) {
      if (files.count(path) != 0) return rocksdb::IOStatus::OK();  // kept
    }
  }
  return target()->DeleteFile(path, options, dbg);
}

}  // namespace syncmgr
