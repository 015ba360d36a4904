#include "day_model.h"

#include "prng.h"

namespace syncmgr::gen {
namespace {

constexpr uint64_t kTagDay = 1;  // Hash tag of the daily remove/update decision.
constexpr uint32_t kMillion = 1000000;

// Which field group an update changes, in percent: price changes dominate on
// real portals, then reworded descriptions, new photos, features, agents.
FieldGroup PickGroup(uint64_t h) {
  uint32_t p = Below(Mix64(h), 100);
  if (p < 40) return kPrice;
  if (p < 65) return kDescription;
  if (p < 80) return kPhotos;
  if (p < 90) return kFeatures;
  return kAgent;
}

}  // namespace

DayModel::DayModel(const ModelOptions& options)
    : options_(options),
      created_per_day_((options.n * options.create_ppm + kMillion / 2) / kMillion) {}

uint32_t DayModel::BirthDay(uint64_t id) const {
  if (id < options_.n || created_per_day_ == 0) return 0;
  return static_cast<uint32_t>(1 + (id - options_.n) / created_per_day_);
}

ListingState DayModel::StateAt(uint64_t id, uint32_t day) const {
  ListingState s;
  s.id = id;
  s.birth_day = BirthDay(id);
  s.alive = true;
  s.last_change_day = s.birth_day;
  s.change = s.birth_day == day ? DayChange::kCreated : DayChange::kNone;
  for (uint32_t d = s.birth_day + 1; d <= day; ++d) {
    uint64_t h = Hash(options_.seed, kTagDay, id, d);
    uint32_t r = Below(h, kMillion);
    if (r < options_.remove_ppm) {
      s.alive = false;
      // Only "removed today" is a change; removed earlier is simply absent.
      s.change = d == day ? DayChange::kRemoved : DayChange::kNone;
      return s;
    }
    if (r < options_.remove_ppm + options_.update_ppm) {
      ++s.revision[PickGroup(h)];
      s.last_change_day = d;
      if (d == day) s.change = DayChange::kUpdated;
    }
  }
  return s;
}

void DayStats::Add(const ListingState& s) {
  if (s.alive) ++received;
  switch (s.change) {
    case DayChange::kCreated:
      ++created;
      break;
    case DayChange::kUpdated:
      ++updated;
      break;
    case DayChange::kRemoved:
      ++removed;
      break;
    case DayChange::kNone:
      if (s.alive) ++unchanged;
      break;
  }
}

DayStats DayModel::Stats(uint32_t day) const {
  DayStats st;
  const uint64_t limit = IdLimit(day);
  for (uint64_t id = 0; id < limit; ++id) {
    st.Add(StateAt(id, day));
  }
  return st;
}

}  // namespace syncmgr::gen
