// Bulk ingestion: large writes as sorted table files added to RocksDB with
// IngestExternalFiles, instead of through the WAL, the memtables, a flush
// and compactions (docs/architecture.md, "Bulk ingestion"). Internal to
// engine/.
//
// A BulkIngester turns write batches into one SST file per column family
// (RocksDB's SstFileWriter, with each family's own options), staged in the
// data directory itself under names RocksDB does not parse (and so neither
// uses nor deletes): DIR/bulk-staging-N.sst. Not a subdirectory: tools and
// tests take the data directory for a flat list of files, and a hard link
// needs the same file system anyway. It adds them with ONE
// DB::IngestExternalFiles call: all families or none, one MANIFEST edit.
// RocksDB 7.8 syncs each file as SstFileWriter finishes it, again after it
// hard-links it into the directory (move_files), then the directory, then
// the MANIFEST: once Ingest returns OK the records are durable without the
// WAL. What the caller must add: a WAL sync BEFORE ingesting anything that
// must not outlive an earlier, unsynced WAL write (WriteOp::Commit does).
//
// Staging files left by a crash are never referenced by RocksDB: Prepare
// removes them at open (a file hard-linked into the directory but not in
// the MANIFEST is RocksDB's own obsolete file, deleted by its open).
//
// Thread-safety: safe for concurrent use (file names never repeat).
#pragma once

#include <rocksdb/write_batch.h>

#include <atomic>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>

#include "engine/status.h"
#include "engine/store.h"

namespace rocksdb {
class Env;
}

namespace syncmgr {

class BulkIngester {
 public:
  // Files are staged in `db_path`, through `env` (nullptr:
  // rocksdb::Env::Default()). `store` must outlive the ingester.
  BulkIngester(Store* store, const std::string& db_path, rocksdb::Env* env);

  // The name prefix of staged files in a data directory.
  static constexpr std::string_view kStagingPrefix = "bulk-staging-";
  // Deletes the staged files a crash left. Call at a read-write open,
  // before any ingestion.
  Status Prepare();

  // True if every record of `batches` is a put or a point delete: the
  // kinds Ingest takes (a range delete, a merge, ... is not). Read from
  // the batches' content flags, not their records: constant time for a
  // batch built with puts and deletes. (A blob index, which only
  // RocksDB's internal API writes, is not flagged; Ingest refuses it.)
  static bool CanIngest(std::initializer_list<const rocksdb::WriteBatch*> batches);

  // Ingests every record of `batches` as one SST per column family, with one
  // atomic IngestExternalFiles. Records are taken in order: for a key
  // written more than once, the last write wins, as in a WriteBatch.
  // Returns the number of files ingested (0 if the batches are empty).
  // InvalidArgument, writing nothing, if a record is of another kind
  // (never when CanIngest(batches), but for a blob index).
  // An error while building the files ingests nothing; `*ingesting` (if
  // given) is then false. An error from IngestExternalFiles itself sets it
  // true: this process does not see the records, but the MANIFEST edit may
  // have reached the disk (a failed sync), so after a restart they may be
  // there — all of them or none.
  StatusOr<int> Ingest(std::initializer_list<const rocksdb::WriteBatch*> batches,
                       bool* ingesting = nullptr);

 private:
  Store* const store_;
  const std::string dir_;
  rocksdb::Env* const env_;
  std::atomic<uint64_t> next_file_{1};
};

}  // namespace syncmgr
