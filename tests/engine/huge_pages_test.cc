// engine/huge_pages.h: which ranges are marked MADV_HUGEPAGE (read back from
// /proc/self/smaps), and that marking changes no byte.
#include "engine/huge_pages.h"

#include <gtest/gtest.h>
#include <sys/mman.h>

#include <cstdint>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace syncmgr::testing {
namespace {

constexpr uintptr_t kHuge = 2u << 20;

// True when the kernel offers transparent huge pages to a process that asks
// (mode "always" or "madvise"); "never", or no such file: madvise is moot.
bool ThpAvailable() {
  std::ifstream f("/sys/kernel/mm/transparent_hugepage/enabled");
  std::string mode;
  std::getline(f, mode);
  return mode.find("[always]") != std::string::npos || mode.find("[madvise]") != std::string::npos;
}

// Whether the mapping holding `addr` has the "hg" (MADV_HUGEPAGE) flag.
bool MarkedHuge(uintptr_t addr) {
  std::ifstream smaps("/proc/self/smaps");
  std::string line;
  bool inside = false;
  while (std::getline(smaps, line)) {
    uintptr_t lo = 0, hi = 0;
    char dash = 0;
    std::istringstream head(line);
    if (head >> std::hex >> lo >> dash >> hi && dash == '-') {
      inside = lo <= addr && addr < hi;
      continue;
    }
    if (inside && line.rfind("VmFlags:", 0) == 0) {
      std::istringstream flags(line.substr(8));
      std::string flag;
      while (flags >> flag) {
        if (flag == "hg") return true;
      }
      return false;
    }
  }
  ADD_FAILURE() << "no mapping holds " << std::hex << addr;
  return false;
}

// An anonymous mapping of its own (a range no allocator shares), unmapped
// at the end of the test.
class Mapping {
 public:
  explicit Mapping(size_t bytes) : bytes_(bytes) {
    void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    EXPECT_NE(p, MAP_FAILED);
    p_ = static_cast<char*>(p == MAP_FAILED ? nullptr : p);
  }
  ~Mapping() {
    if (p_ != nullptr) munmap(p_, bytes_);
  }
  char* data() const { return p_; }

 private:
  char* p_ = nullptr;
  size_t bytes_;
};

TEST(HugePagesTest, MarksTheWholeHugePagesInsideTheRangeAndChangesNoByte) {
  if (!ThpAvailable() || !HugePagesOn()) GTEST_SKIP() << "no transparent huge pages here";
  Mapping m(64u << 20);
  ASSERT_NE(m.data(), nullptr);
  // A range that starts and ends inside huge pages: those two are left as
  // they are, the ones wholly inside are marked.
  const uintptr_t base = (reinterpret_cast<uintptr_t>(m.data()) + kHuge - 1) & ~(kHuge - 1);
  char* begin = reinterpret_cast<char*>(base + 4096);
  const size_t bytes = 5 * kHuge;  // ends 4 KiB into the 6th page after base
  for (size_t i = 0; i < bytes; i += 4096) begin[i] = static_cast<char>(i / 4096);
  AdviseHugePages(begin, bytes);
  for (size_t i = 0; i < bytes; i += 4096) ASSERT_EQ(begin[i], static_cast<char>(i / 4096));
  EXPECT_FALSE(MarkedHuge(base));               // the page `begin` is inside of
  EXPECT_TRUE(MarkedHuge(base + kHuge));        // first whole page
  EXPECT_TRUE(MarkedHuge(base + 4 * kHuge));    // last whole page
  EXPECT_FALSE(MarkedHuge(base + 5 * kHuge));   // the page the range ends in
}

TEST(HugePagesTest, LeavesSmallBuffersAlone) {
  if (!ThpAvailable() || !HugePagesOn()) GTEST_SKIP() << "no transparent huge pages here";
  Mapping m(32u << 20);
  ASSERT_NE(m.data(), nullptr);
  const uintptr_t base = (reinterpret_cast<uintptr_t>(m.data()) + kHuge - 1) & ~(kHuge - 1);
  AdviseHugePages(reinterpret_cast<char*>(base), kHugePageMinBytes - 1);
  EXPECT_FALSE(MarkedHuge(base));
  EXPECT_FALSE(MarkedHuge(base + kHuge));
}

TEST(HugePagesTest, ReserveHugeLeavesAnEmptyVectorWithRoom) {
  std::vector<uint64_t> v;
  const size_t n = (16u << 20) / sizeof(uint64_t);
  ReserveHuge(&v, n);
  EXPECT_TRUE(v.empty());
  EXPECT_GE(v.capacity(), n);
  v.resize(n);
  EXPECT_EQ(v[0], 0u);
  EXPECT_EQ(v[n - 1], 0u);
  std::string s;
  AdviseHugePages(s);  // empty: nothing to mark, no fault
  EXPECT_TRUE(s.empty());
}

}  // namespace
}  // namespace syncmgr::testing
