// The input of `syncmgr import`: a file or stdin read in chunks (never whole),
// and the rule that tells a JSON body from NDJSON.
//
// Format rule (docs/cli.md "Input formats"), first match wins:
//   1. `--format json|ndjson` on the command line;
//   2. a file name ending in .ndjson or .jsonl is NDJSON;
//   3. otherwise the first bytes decide:
//      - first non-space byte '[' (or anything but '{')      -> JSON;
//      - '{' and the first object spans several lines         -> JSON
//        (NDJSON holds one object per line, so a pretty-printed
//        object can only be a JSON body);
//      - '{', the first object ends and another value follows -> NDJSON;
//      - '{' and that object is the whole input               -> JSON if it is
//        an import wrapper (its members are among data / mode /
//        allow_mass_removal and "data" is an array), else NDJSON (one listing);
//      - '{' and the first object is longer than the sniff window (1 MiB)
//        on one line -> JSON if its members so far are wrapper members with
//        "data" an array, else NDJSON.
// The sniffed bytes are kept and fed to the import first.
//
// Thread-safety: not thread-safe.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "engine/status.h"
#include "engine/types.h"
#include "tools/backend.h"

namespace syncmgr::cli {

// Bytes looked at to decide the format, at most. Default: 1 MiB.
inline constexpr size_t kSniffWindowBytes = 1 << 20;

enum class Sniff { kJson, kNdjson, kNeedMore };

// Decides from the first bytes of the input. `complete`: no more bytes will
// be offered (end of input, or the sniff window is full).
Sniff SniffImportFormat(std::string_view prefix, bool complete);

// NDJSON for *.ndjson / *.jsonl, else nullopt.
std::optional<BodyFormat> FormatFromFileName(std::string_view path);

class FileImportInput : public ImportInput {
 public:
  // Opens `path`, or stdin for "-". NotFound / Internal with the OS reason.
  static StatusOr<std::unique_ptr<FileImportInput>> Open(const std::string& path);
  ~FileImportInput() override;

  // Applies the format rule above (steps 2 and 3), reading ahead as needed.
  StatusOr<BodyFormat> DetectFormat();

  Status Next(std::string* chunk, size_t max_bytes) override;
  uint64_t size_hint() const override { return size_; }
  uint64_t bytes_read() const override { return handed_out_; }
  // The first `n` non-whitespace bytes of the input (reading ahead as
  // needed, within the sniff window); fewer when the input is shorter.
  StatusOr<std::string> LeadingBytes(size_t n);

 private:
  FileImportInput(int fd, bool owned, std::string path, uint64_t size);
  // Reads up to `max_bytes` more into *out (appending); sets eof_ at the end.
  Status ReadMore(std::string* out, size_t max_bytes);

  int fd_;
  bool owned_;
  std::string path_;
  uint64_t size_;        // 0 when unknown (a pipe)
  std::string pending_;  // sniffed bytes not handed out yet
  uint64_t handed_out_ = 0;
  bool eof_ = false;
};

}  // namespace syncmgr::cli
