// Large buffers backed by huge pages. Internal to engine/.
//
// A write operation's big buffers are each allocated once and then filled
// front to back: a first sync's view batch (~216 MB at 1 M listings), a
// bulk import's log chunks (64 MiB each, reused), the bulk ingester's sort
// arrays (~100 MB), an import's buffers of parsed items (~25 MB each in a
// 1 M day-1 import). Each 4 KiB page of them costs a page fault the first
// time it is written, and on the VM of round 28 a fault cost ~5 us: ~1/8
// of a day-0 import's samples, more of a first sync's. With the kernel's
// transparent huge pages in mode "madvise" (Debian's default), a range the
// process marks MADV_HUGEPAGE is faulted in 2 MiB at a time. A/B in
// process at 1 M (bench/report_notes.md, "Round 28"): a first sync 10-18 %
// faster in four pairs; imports and GETs unchanged within the noise.
//
// Only these buffers are marked. jemalloc's `thp:always`, which marks
// every arena, halved a first sync's time but made a GET up to twice as
// dear in CPU (the block cache's small blocks, freed and reused at random,
// split huge pages and fault them in again).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace syncmgr {

// False when the environment says SYNCMGR_HUGE_PAGES=0 (read once): then
// nothing is marked. For A/B measurements; on by default.
bool HugePagesOn();

// Buffers smaller than this are not marked: one huge page or two at most
// (a 1 % sync's log batch at 1 M, ~7 MB, is marked).
inline constexpr size_t kHugePageMinBytes = 4u << 20;

// Marks the whole 2 MiB pages inside [data, data + bytes) MADV_HUGEPAGE when
// `bytes` >= kHugePageMinBytes. A hint: the memory stays valid and its
// contents unchanged whatever the kernel does; errors (a kernel without
// transparent huge pages) are ignored.
void AdviseHugePages(const void* data, size_t bytes);

// The same for the whole capacity of `s` (a WriteBatch's buffer:
// rocksdb::WriteBatch::Data()).
inline void AdviseHugePages(const std::string& s) { AdviseHugePages(s.data(), s.capacity()); }

// Makes room for `n` elements in the empty vector `*v`, marked as above
// before any of it is touched (resizing it afterwards writes it).
template <class T>
void ReserveHuge(std::vector<T>* v, size_t n) {
  v->reserve(n);
  AdviseHugePages(v->data(), v->capacity() * sizeof(T));
}

}  // namespace syncmgr
