// Backup: an online, consistent copy of the data directory (Engine::Backup).
//
// A RocksDB checkpoint: memtables are flushed, then the live table files are
// hard-linked into the new directory (copied when it is on another file
// system) and the MANIFEST, OPTIONS and live WAL files are copied. RocksDB
// builds it under "<out>.tmp" and renames it at the end, so `out_dir` either
// does not exist or holds a complete copy. The WAL copy ends at an atomic
// WriteBatch boundary (a torn last record is dropped at open, as after a
// crash), and every batch holds a whole operation's views with its commit
// record, so the copy is the state after some commit. Records an operation
// had written ahead of its commit, if any, are discarded by recovery when
// the copy is opened, exactly as after a crash.
#include <rocksdb/utilities/checkpoint.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <memory>

#include <fmt/format.h>

#include "engine/engine.h"
#include "engine/engine_impl.h"

namespace syncmgr {

namespace {

// Counts the files of the copy, their bytes, and those that are hard links
// (link count > 1: shared with the live directory).
void Tally(const std::filesystem::path& dir, BackupInfo* info) {
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    struct stat st {};
    if (::stat(entry.path().c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
    ++info->files;
    info->bytes += static_cast<uint64_t>(st.st_size);
    if (st.st_nlink > 1) ++info->linked_files;
  }
}

Status CheckOutDir(const std::filesystem::path& out) {
  if (!out.is_absolute()) {
    return Status::InvalidArgument(
        fmt::format("backup directory {} must be an absolute path", out.string()));
  }
  std::error_code ec;
  if (std::filesystem::exists(out, ec) || std::filesystem::is_symlink(out, ec)) {
    return Status::InvalidArgument(
        fmt::format("{} already exists; a backup writes a new directory", out.string()));
  }
  std::filesystem::path parent = out.parent_path();
  if (!std::filesystem::is_directory(parent, ec)) {
    return Status::InvalidArgument(
        fmt::format("parent directory {} of the backup does not exist", parent.string()));
  }
  if (::access(parent.c_str(), W_OK | X_OK) != 0) {
    return Status::InvalidArgument(
        fmt::format("parent directory {} of the backup is not writable", parent.string()));
  }
  // RocksDB stages the checkpoint here; a leftover of a crashed backup would
  // make it fail with a confusing message.
  std::filesystem::path staging = out.string() + ".tmp";
  if (std::filesystem::exists(staging, ec)) {
    return Status::InvalidArgument(fmt::format(
        "{} exists (left by an interrupted backup?); remove it first", staging.string()));
  }
  return Status::Ok();
}

}  // namespace

StatusOr<BackupInfo> Engine::Backup(const std::string& out_dir) {
  // Normalise "/a/b/" to "/a/b" (parent_path of the former is "/a/b").
  std::filesystem::path out = std::filesystem::path(out_dir).lexically_normal();
  if (out.has_parent_path() && !out.has_filename()) out = out.parent_path();
  SYNCMGR_RETURN_IF_ERROR(CheckOutDir(out));
  if (impl_->options().read_only) {
    return Status::Unavailable(
        "a backup needs the data directory open for writing (not read-only or secondary)");
  }
  // The checkpoint flushes memtables into the live directory first.
  SYNCMGR_RETURN_IF_ERROR(impl_->disk_guard().Check());
  rocksdb::Checkpoint* raw = nullptr;
  SYNCMGR_RETURN_IF_ERROR(
      FromRocks(rocksdb::Checkpoint::Create(impl_->store().db(), &raw), "backup"));
  std::unique_ptr<rocksdb::Checkpoint> checkpoint(raw);
  SYNCMGR_RETURN_IF_ERROR(FromRocks(checkpoint->CreateCheckpoint(out.string()),
                                    fmt::format("backup to {}", out.string())));
  BackupInfo info;
  info.path = out.string();
  Tally(out, &info);
  return info;
}

}  // namespace syncmgr
