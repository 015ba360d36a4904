#include "tools/scratch_dir.h"

#include <stdlib.h>

#include <cstdlib>
#include <filesystem>

namespace syncmgr::cli {

ScratchDir::ScratchDir(std::string_view prefix) {
  const char* base = std::getenv("TMPDIR");
  std::string templ =
      std::string(base != nullptr && *base != '\0' ? base : "/tmp") + "/" + std::string(prefix) +
      "-XXXXXX";
  if (::mkdtemp(templ.data()) != nullptr) path_ = templ;
}

ScratchDir::~ScratchDir() {
  std::error_code ec;
  if (!path_.empty()) std::filesystem::remove_all(path_, ec);  // best effort: a leftover is harmless
}

}  // namespace syncmgr::cli
