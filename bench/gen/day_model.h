// The day-over-day model of the workload generator: which listings exist on a
// given day, and how many times each of their fields has changed by then.
//
// Identity. Listing ids are dense integers. Day 0 has ids [0, n). Every later
// day d creates CreatedPerDay() fresh ids [n + (d-1)k, n + dk), k = round(n *
// create_ppm / 1e6). An id is never reused.
//
// Life. On each day d after its birth, a live listing is removed with
// probability remove_ppm / 1e6, else updated with probability update_ppm / 1e6
// (one field group changes: price, description, photos, features or agent).
// Removed listings never come back. The decision for (id, d) is a hash of
// (seed, id, d), so the state on day D is a pure function of (options, id, D):
// computing it walks D days of one listing (O(D) integer hashes, no memory),
// and no previous day has to be materialised.
//
// Thread-safety: immutable after construction; safe for concurrent use.
#pragma once

#include <cstdint>

namespace syncmgr::gen {

struct ModelOptions {
  // Listings on day 0. REQUIRES: 0 < n, and all ids of the run < 2^31 - 2.
  uint64_t n = 10000;
  // Seed of every decision. Default: 1.
  uint64_t seed = 1;
  // Daily probabilities, in parts per million of the live listings.
  uint32_t update_ppm = 10000;  // Default: 1 %.
  uint32_t remove_ppm = 2000;   // Default: 0.2 %.
  // Fresh listings per day, in parts per million of n. Default: 0.2 %.
  uint32_t create_ppm = 2000;
};

// What happened to a listing on a day, relative to the previous day.
enum class DayChange : uint8_t { kNone, kCreated, kUpdated, kRemoved };

// The field groups an update can change; each has its own revision counter.
enum FieldGroup : uint8_t {
  kPrice,
  kDescription,
  kPhotos,
  kFeatures,
  kAgent,
  kFieldGroupCount,
};

struct ListingState {
  uint64_t id = 0;
  uint32_t birth_day = 0;
  // False once removed (on or before the day asked for).
  bool alive = false;
  // Relative to the previous day. kRemoved means "removed exactly that day".
  DayChange change = DayChange::kNone;
  // The last day the listing's content (not scraped_at) changed: its birth or
  // its latest update.
  uint32_t last_change_day = 0;
  // How many updates each field group has had.
  uint32_t revision[kFieldGroupCount] = {};
};

struct DayStats {
  uint64_t received = 0;   // live listings on the day (the snapshot's size)
  uint64_t created = 0;    // live today, not yesterday
  uint64_t updated = 0;    // live both days, content changed today
  uint64_t unchanged = 0;  // live both days, content unchanged (scraped_at aside)
  uint64_t removed = 0;    // live yesterday, not today

  // Counts one listing's state on the day into the figures above.
  void Add(const ListingState& s);
};

class DayModel {
 public:
  explicit DayModel(const ModelOptions& options);

  const ModelOptions& options() const { return options_; }
  uint64_t CreatedPerDay() const { return created_per_day_; }
  // Every id born on or before `day` is below this.
  uint64_t IdLimit(uint32_t day) const { return options_.n + uint64_t{day} * created_per_day_; }
  uint32_t BirthDay(uint64_t id) const;

  // The state of listing `id` on `day`. REQUIRES: id < IdLimit(day).
  ListingState StateAt(uint64_t id, uint32_t day) const;

  // Counts of StateAt over every id of `day` (day 0: everything is created).
  DayStats Stats(uint32_t day) const;

 private:
  ModelOptions options_;
  uint64_t created_per_day_;
};

// The public id of a listing: "L" + 10 digits of ((id + 1) * kIdMultiplier) mod
// (2^31 - 1). A bijection on ids < 2^31 - 2, so ids never collide, yet their byte
// order is unrelated to creation order (as with real portal ids). Simple enough to
// recompute in a load generator's script (pgbench, wrk/lua) to pick a random
// existing listing: fits in signed 64-bit arithmetic.
inline constexpr uint64_t kIdModulus = 2147483647;  // 2^31 - 1, prime
inline constexpr uint64_t kIdMultiplier = 1588635695;
constexpr uint64_t ExternalNumber(uint64_t id) { return ((id + 1) * kIdMultiplier) % kIdModulus; }

}  // namespace syncmgr::gen
