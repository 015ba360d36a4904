// Deterministic pseudo-random numbers for the workload generator.
//
// Everything the generator emits is a pure function of integers hashed here, so
// the same arguments give byte-identical output on every compiler and standard
// library (std::*_distribution is deliberately not used: its output is
// implementation-defined). Only integer arithmetic; no floating point.
//
// Thread-safety: Mix64/Hash* are pure; an Rng is a value owned by one thread.
#pragma once

#include <cstdint>

namespace syncmgr::gen {

// The SplitMix64 finalizer: a bijection on uint64_t with full avalanche.
constexpr uint64_t Mix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// Hashes of small integer tuples. `tag` separates independent decisions made
// about the same (seed, id, ...) so that, say, "is it removed today" and "which
// field changes" are uncorrelated.
constexpr uint64_t Hash(uint64_t seed, uint64_t tag, uint64_t a) {
  return Mix64(Mix64(seed ^ (tag * 0xd6e8feb86659fd93ULL)) ^ a);
}
constexpr uint64_t Hash(uint64_t seed, uint64_t tag, uint64_t a, uint64_t b) {
  return Mix64(Hash(seed, tag, a) ^ Mix64(b + 0x632be59bd9b4e019ULL));
}

// Maps a 64-bit hash onto [0, bound) without division (Lemire's multiply-shift;
// the bias of at most bound / 2^64 is irrelevant here).
constexpr uint32_t Below(uint64_t h, uint32_t bound) {
  return static_cast<uint32_t>((static_cast<unsigned __int128>(h) * bound) >> 64);
}

// A SplitMix64 stream: cheap, 64-bit state, good enough for picking words.
class Rng {
 public:
  explicit constexpr Rng(uint64_t seed) : state_(seed) {}

  constexpr uint64_t Next() {
    state_ += 0x9e3779b97f4a7c15ULL;
    uint64_t z = state_;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  // Uniform in [0, bound). REQUIRES: bound > 0.
  constexpr uint32_t Below(uint32_t bound) { return gen::Below(Next(), bound); }
  // Uniform in [lo, hi]. REQUIRES: lo <= hi.
  constexpr int64_t Between(int64_t lo, int64_t hi) {
    return lo + static_cast<int64_t>(Below(static_cast<uint32_t>(hi - lo + 1)));
  }
  // True with probability ppm / 1,000,000.
  constexpr bool Chance(uint32_t ppm) { return Below(1000000) < ppm; }

 private:
  uint64_t state_;
};

}  // namespace syncmgr::gen
