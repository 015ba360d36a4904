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
#include <deque>
#include <initializer_list>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "engine/mutex.h"
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
  // atomic IngestExternalFiles. With two families or more, the files are
  // built on two threads (this one and one started for the call), the
  // largest families first: a first sync's commit builds ~5 families of
  // about 1 M records each. Records are taken in order: for a key
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

// Ingests batches with a BulkIngester on threads of its own, so that the
// caller makes the next batch meanwhile: a large operation's written-ahead
// log chunks (WriteOp::FlushLogChunk), whose table files — LZ4 with a
// dictionary, ~1/3 of a day-0 import's CPU — were built on the thread that
// makes the events. Each batch is ingested whole by one thread (its own
// IngestExternalFiles); batches on different threads may finish in any
// order, so their keys must not overlap (log chunks: distinct seqs).
// Bounded: Submit waits while every thread has a batch, so at most
// `threads` batches are ingested at a time, beside the one the caller fills.
//
// An error of an ingestion is returned by the next Submit or by Drain (and
// every call after it); that batch ingested nothing (BulkIngester::Ingest),
// and batches not yet started are dropped. What other batches ingested
// stays: the caller removes it (a WriteOp's abort, recovery at open), as for
// synchronous ingestion.
//
// Thread-safety: one caller thread. The destructor waits for the batches
// submitted.
class IngestPipeline {
 public:
  // `bulk` must outlive the pipeline. Up to `threads` threads; with 0, or
  // when the system refuses to start any (std::system_error), Submit
  // ingests each batch itself, on the caller's thread. A batch Submit hands
  // back is made with room for `batch_bytes` (WriteBatch's reserved_bytes)
  // when no ingested one is there to reuse.
  IngestPipeline(BulkIngester* bulk, int threads, size_t batch_bytes);
  ~IngestPipeline();
  IngestPipeline(const IngestPipeline&) = delete;
  IngestPipeline& operator=(const IngestPipeline&) = delete;

  // Waits until a thread is free, then takes `*batch` to ingest and leaves
  // in its place an empty batch (one ingested before, cleared: its memory
  // is reused). Returns the first error so far; after one, `*batch` is
  // cleared and not ingested.
  Status Submit(rocksdb::WriteBatch* batch) EXCLUDES(mu_);
  // Waits until every submitted batch is ingested (or dropped after an
  // error); the first error.
  Status Drain() EXCLUDES(mu_);

 private:
  void Run() EXCLUDES(mu_);

  BulkIngester* const bulk_;
  size_t threads_ = 0;  // started (set by the constructor; 0: Submit ingests)
  const size_t batch_bytes_;
  Mutex mu_;
  CondVar cv_;  // a batch was submitted or ingested, or stop_
  std::deque<rocksdb::WriteBatch> queued_ GUARDED_BY(mu_);  // submitted, not started
  std::vector<rocksdb::WriteBatch> free_ GUARDED_BY(mu_);   // ingested, cleared
  size_t running_ GUARDED_BY(mu_) = 0;                      // being ingested
  bool stop_ GUARDED_BY(mu_) = false;
  Status error_ GUARDED_BY(mu_);
  std::vector<std::thread> workers_;  // last: start after the members above exist
};

}  // namespace syncmgr
