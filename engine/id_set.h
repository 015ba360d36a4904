// IdSet: a set of short strings without a node per element, for the new
// external ids an import has seen (a duplicate id in one import is refused).
//
// A day-0 import of 1 M listings puts every id in the set. As a
// std::unordered_set<std::string> that was a heap node per id (~64 bytes
// with its bucket, ~75 MB at 1 M, and ~3 % of the import's CPU in
// allocation and hashing). Here the ids are appended to one arena and found
// through an open-addressing table of 8-byte slots, each holding 24 bits of
// the id's hash and its arena offset (40 bits: ids of up to 1 TiB in all),
// kept at most half full: ~30 MB at 1 M ids of ~12 bytes. The arena grows by
// 1 MiB blocks, so it is never copied.
//
// Thread-safety: none (one import's apply thread owns it).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace syncmgr {

class IdSet {
 public:
  // Adds `id` (at most 65,535 bytes); false if it was already there.
  bool Insert(std::string_view id);
  bool Contains(std::string_view id) const;
  size_t size() const { return size_; }
  // Empties the set and frees its memory.
  void Clear();

 private:
  static constexpr int kOffsetBits = 40;
  static constexpr int kBlockBits = 20;
  static constexpr size_t kBlockBytes = size_t{1} << kBlockBits;
  static constexpr uint64_t kOffsetMask = (uint64_t{1} << kOffsetBits) - 1;

  static uint64_t Hash(std::string_view id);
  std::string_view At(uint64_t slot) const;
  // The slot holding `id`, or the empty slot where it would go.
  size_t Find(std::string_view id, uint64_t hash) const;
  void Grow();

  // 0: empty; else (hash tag << 40) | (arena offset + 1).
  std::vector<uint64_t> slots_;
  // Each id as a 2-byte length (little-endian) and its bytes, in blocks of
  // kBlockBytes (an id never spans two); an offset is block * kBlockBytes +
  // the position in the block.
  std::vector<std::unique_ptr<char[]>> blocks_;
  size_t used_ = kBlockBytes;  // in the last block: full when there is none
  size_t size_ = 0;
};

}  // namespace syncmgr
