#include "engine/id_set.h"

#include <cstring>
#include <functional>

namespace syncmgr {

uint64_t IdSet::Hash(std::string_view id) { return std::hash<std::string_view>()(id); }

std::string_view IdSet::At(uint64_t slot) const {
  const uint64_t at = (slot & kOffsetMask) - 1;
  const char* p = blocks_[at >> kBlockBits].get() + (at & (kBlockBytes - 1));
  const size_t n = static_cast<unsigned char>(p[0]) |
                   static_cast<size_t>(static_cast<unsigned char>(p[1])) << 8;
  return std::string_view(p + 2, n);
}

size_t IdSet::Find(std::string_view id, uint64_t hash) const {
  const size_t mask = slots_.size() - 1;
  const uint64_t tag = hash >> kOffsetBits;
  for (size_t i = static_cast<size_t>(hash) & mask;; i = (i + 1) & mask) {
    const uint64_t slot = slots_[i];
    if (slot == 0) return i;
    if ((slot >> kOffsetBits) == tag && At(slot) == id) return i;
  }
}

bool IdSet::Contains(std::string_view id) const {
  if (slots_.empty()) return false;
  return slots_[Find(id, Hash(id))] != 0;
}

bool IdSet::Insert(std::string_view id) {
  if ((size_ + 1) * 2 > slots_.size()) Grow();
  const uint64_t hash = Hash(id);
  const size_t i = Find(id, hash);
  if (slots_[i] != 0) return false;
  if (used_ + 2 + id.size() > kBlockBytes) {
    blocks_.push_back(std::make_unique_for_overwrite<char[]>(kBlockBytes));
    used_ = 0;
  }
  char* p = blocks_.back().get() + used_;
  p[0] = static_cast<char>(id.size() & 0xff);
  p[1] = static_cast<char>((id.size() >> 8) & 0xff);
  std::memcpy(p + 2, id.data(), id.size());
  const uint64_t offset = (uint64_t{blocks_.size() - 1} << kBlockBits) + used_;
  used_ += 2 + id.size();
  slots_[i] = (hash >> kOffsetBits << kOffsetBits) | (offset + 1);
  ++size_;
  return true;
}

void IdSet::Grow() {
  std::vector<uint64_t> old;
  old.swap(slots_);
  slots_.assign(old.empty() ? 1024 : old.size() * 2, 0);
  const size_t mask = slots_.size() - 1;
  for (uint64_t slot : old) {
    if (slot == 0) continue;
    size_t i = static_cast<size_t>(Hash(At(slot))) & mask;
    while (slots_[i] != 0) i = (i + 1) & mask;
    slots_[i] = slot;
  }
}

void IdSet::Clear() {
  std::vector<uint64_t>().swap(slots_);
  std::vector<std::unique_ptr<char[]>>().swap(blocks_);
  used_ = kBlockBytes;
  size_ = 0;
}

}  // namespace syncmgr
