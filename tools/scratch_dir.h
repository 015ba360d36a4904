// ScratchDir: a private temporary directory under $TMPDIR (else /tmp),
// removed with everything in it on destruction. A RocksDB secondary instance
// keeps its own files there (replay, the read commands on a data directory).
//
// Thread-safety: not thread-safe.
#pragma once

#include <string>
#include <string_view>

namespace syncmgr::cli {

class ScratchDir {
 public:
  // Creates $TMPDIR/<prefix>-XXXXXX; path() is empty if that failed.
  explicit ScratchDir(std::string_view prefix);
  ~ScratchDir();
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;

  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace syncmgr::cli
