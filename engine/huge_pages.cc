#include "engine/huge_pages.h"

#include <sys/mman.h>

#include <cstdint>
#include <cstdlib>
#include <string_view>

namespace syncmgr {

bool HugePagesOn() {
  // For A/B runs (bench/report_notes.md): SYNCMGR_HUGE_PAGES=0 marks nothing.
  static const bool on = [] {
    const char* v = std::getenv("SYNCMGR_HUGE_PAGES");
    return v == nullptr || std::string_view(v) != "0";
  }();
  return on;
}

void AdviseHugePages(const void* data, size_t bytes) {
  if (bytes < kHugePageMinBytes || !HugePagesOn()) return;
  constexpr uintptr_t kHuge = 2u << 20;
  const uintptr_t begin = (reinterpret_cast<uintptr_t>(data) + kHuge - 1) & ~(kHuge - 1);
  const uintptr_t end = (reinterpret_cast<uintptr_t>(data) + bytes) & ~(kHuge - 1);
  if (end > begin) madvise(reinterpret_cast<void*>(begin), end - begin, MADV_HUGEPAGE);
}

}  // namespace syncmgr
