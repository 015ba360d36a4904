// Helpers shared by the fuzz harnesses.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string>

namespace syncmgr::fuzz {

// Reports a broken invariant and crashes, so libFuzzer saves the input.
[[noreturn]] inline void Fail(const char* what, const std::string& detail) {
  std::fprintf(stderr, "INVARIANT BROKEN: %s\n%s\n", what, detail.c_str());
  std::abort();
}

#define SYNCMGR_FUZZ_CHECK(cond, detail)                 \
  do {                                                   \
    if (!(cond)) ::syncmgr::fuzz::Fail(#cond, (detail)); \
  } while (0)

}  // namespace syncmgr::fuzz
