// The NDJSON files of the `file` and `ftp` push targets (SPEC §4 "Push
// delivery"): their names, their lines, and writing one into a local
// directory atomically. Both sinks produce the same bytes.
//
//   changes-<first seq>-<last seq>.ndjson   one batch: one feed event per line,
//                                           exactly as GET /feed shows it
//                                           (wire/feed_json.h), seq order
//   snapshot-<seq>.ndjson                   the whole state as of <seq>: one
//                                           line per live property, exactly as
//                                           GET /targets/{id}/properties shows
//                                           it (wire/api_render.h
//                                           WriteProperty), external_id order
//   .<final name>.tmp                       a file being written (or uploaded);
//                                           renamed to its final name when
//                                           complete, never read by consumers
//
// Seqs are plain decimal, not zero-padded: a consumer orders change files by
// the numbers in their names, not by the names as strings (docs/push.md).
//
// Thread-safety: the free functions are pure; an AtomicFile is used from one
// thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "delivery/sink.h"
#include "engine/status.h"
#include "engine/types.h"

namespace syncmgr::delivery {

// "changes-<first_seq>-<last_seq>.ndjson"
std::string ChangeFileName(uint64_t first_seq, uint64_t last_seq);
// "snapshot-<seq>.ndjson"
std::string SnapshotFileName(uint64_t seq);
// The name a file is written under before it is complete: "." + name + ".tmp".
std::string TempFileName(std::string_view final_name);
// True for names TempFileName produces for change and snapshot files (what a
// sink may sweep as leftovers of an interrupted write).
bool IsTempFileName(std::string_view name);

// The whole change file of a batch: one FeedEventJson line per event, each
// ending in '\n'.
std::string ChangeFileBody(const Batch& batch);

// Appends one snapshot line (the property record and '\n') to *out.
void AppendSnapshotLine(std::string* out, const PropertyRecord& record);

// Streams a snapshot: calls `visit`, turns each property into a line and
// passes the text on to `write` in chunks of about `chunk_bytes`. Returns the
// first error of `visit` or `write`.
// Default chunk: 1 MiB.
inline constexpr size_t kSnapshotChunkBytes = 1 << 20;
Status StreamSnapshot(const StateVisitor& visit,
                      const std::function<Status(std::string_view)>& write,
                      size_t chunk_bytes = kSnapshotChunkBytes);

// Writes one file into a local directory so that a reader only ever sees it
// complete or not at all: the bytes go to TempFileName(name) in the same
// directory; Commit() fsyncs it, renames it over `name` and fsyncs the
// directory. Destroying an uncommitted AtomicFile removes the temp file. A
// crash may leave a temp file behind (never a partial final file); sinks sweep
// those when they start (SweepTempFiles).
class AtomicFile {
 public:
  AtomicFile() = default;
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  // Creates (truncating) the temp file of `name` in `dir` (mode 0644).
  Status Open(const std::string& dir, const std::string& name);
  // Appends bytes (buffered). REQUIRES: Open succeeded.
  Status Append(std::string_view bytes);
  // Flushes, fsyncs, renames into place and fsyncs the directory.
  Status Commit();

  const std::string& final_path() const { return final_path_; }

 private:
  Status Flush();
  void Abandon();

  int fd_ = -1;
  std::string dir_;
  std::string temp_path_;
  std::string final_path_;
  std::string buffer_;
  bool committed_ = false;
};

// Removes the temp files (IsTempFileName) an interrupted write left in `dir`.
// A missing directory is not an error.
Status SweepTempFiles(const std::string& dir);

// Creates `dir` and its missing parents (mode 0755); OK if it exists as a
// directory.
Status MakeDirs(const std::string& dir);

}  // namespace syncmgr::delivery
