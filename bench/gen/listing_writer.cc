#include "listing_writer.h"

#include <algorithm>
#include <cstring>
#include <string_view>

#include "prng.h"
#include "text_format.h"
#include "vocab.h"

namespace syncmgr::gen {
namespace {

// Hash tags: one per independent group of decisions (see prng.h).
enum Tag : uint64_t {
  kTagBase = 100,  // fixed for a listing's whole life: city, size, title, ...
  kTagPrice,
  kTagDescription,
  kTagPhotos,
  kTagFeatures,
  kTagAgent,
  kTagScraped,
  kTagUpdated,
  kTagPhotoFile,
};

constexpr int64_t kSecondsPerDay = 86400;
// Listings of day 0 were last updated up to this long before day 0.
constexpr uint32_t kDayZeroMaxAgeSeconds = 400 * kSecondsPerDay;
// A day's scrape runs during its first hours; updates happen the day before.
constexpr uint32_t kScrapeWindowSeconds = 6 * 3600;
constexpr uint32_t kUpdateWindowSeconds = 20 * 3600;
// Target size of a listing before any update, in bytes: kMinTargetBytes plus
// two uniforms on [0, kTargetSpreadBytes] (measured mean ~2.15 KB). Updates move a
// listing by at most ~250 bytes (photo count +-2, a feature, agent, price
// digits), so every listing stays within 1–3 KB.
constexpr uint32_t kMinTargetBytes = 1260;
constexpr uint32_t kTargetSpreadBytes = 790;
constexpr size_t kMinDescriptionBytes = 120;
// Shortest cut-off sentence worth appending to reach the target size.
constexpr size_t kMinFragmentBytes = 24;
constexpr uint32_t kMinPhotos = 5;
constexpr uint32_t kMaxPhotos = 20;

template <typename T>
const T& Pick(std::span<const T> list, Rng& rng) {
  return list[rng.Below(static_cast<uint32_t>(list.size()))];
}

}  // namespace

// What stays fixed for a listing's whole life, drawn from one Rng in a fixed
// order (the order is part of the output format).
struct ListingWriter::Facts {
  uint32_t target_bytes;
  const City* city;
  std::string_view type;
  std::string_view adjective;
  std::string_view hook;
  uint32_t rooms_halves;  // 2..11: 1 to 5.5 rooms
  bool rent;
  uint32_t area_decis;
  uint64_t first_price;
  std::string_view street;
  uint32_t house;
  uint64_t postcode_seed;
  int32_t lat_micro;
  int32_t lon_micro;
  uint32_t agency;
  uint32_t photo_count;  // at photo revision 0
  uint32_t age_seconds;  // how long before day 0 a day-0 listing was last updated
};

ListingWriter::Facts ListingWriter::FactsOf(uint64_t id) const {
  Rng base(Hash(seed_, kTagBase, id));
  Facts f;
  f.target_bytes =
      kMinTargetBytes + base.Below(kTargetSpreadBytes + 1) + base.Below(kTargetSpreadBytes + 1);
  f.city = &Pick(Cities(), base);
  f.type = Pick(PropertyTypes(), base);
  f.adjective = Pick(TitleAdjectives(), base);
  f.hook = Pick(TitleHooks(), base);
  f.rooms_halves = 2 + base.Below(10);
  f.rent = base.Below(100) < 45;
  f.area_decis = 180 + f.rooms_halves * 120 + base.Below(250 + f.rooms_halves * 80);
  // Sale: the city's price per m² +-25 %; rent: 4.5 per mille of that a month.
  const uint64_t step = f.rent ? 10 : 1000;
  uint64_t price = uint64_t{f.area_decis} * f.city->price_per_m2 * (750 + base.Below(500)) / 10000;
  if (f.rent) price = price * 45 / 10000;
  f.first_price = price / step * step + step;
  f.street = Pick(StreetNames(), base);
  f.house = 1 + base.Below(180);
  f.postcode_seed = base.Next();
  f.lat_micro = f.city->lat_micro + static_cast<int32_t>(base.Between(-40000, 40000));
  f.lon_micro = f.city->lon_micro + static_cast<int32_t>(base.Between(-60000, 60000));
  f.agency = base.Below(static_cast<uint32_t>(Agencies().size()));
  f.photo_count = kMinPhotos + base.Below(kMaxPhotos - kMinPhotos + 1);
  f.age_seconds = 1 + base.Below(kDayZeroMaxAgeSeconds);
  return f;
}

ListingWriter::ListingWriter(const ModelOptions& options) : seed_(options.seed) {
  for (std::string_view n : FirstNames()) first_ascii_.push_back(Asciify(n, '\0'));
  for (std::string_view n : LastNames()) last_ascii_.push_back(Asciify(n, '\0'));
  for (std::string_view n : Agencies()) agency_domain_.push_back(Asciify(n, '-') + ".example");
  scratch_.reserve(4096);
  tail_.reserve(4096);
}

void ListingWriter::Append(const ListingState& s, uint32_t day, std::string& out) {
  const size_t start = out.size();
  const Facts f = FactsOf(s.id);

  out.append("{\"external_id\":\"L");
  AppendPadded(out, ExternalNumber(s.id), 10);
  out.append("\",\"title\":");
  scratch_.assign(f.adjective);
  scratch_.push_back(' ');
  AppendUint(scratch_, f.rooms_halves / 2);
  if (f.rooms_halves % 2 == 1) scratch_.append("½");
  scratch_.append("-room ");
  for (char c : f.type) scratch_.push_back(c == '_' ? ' ' : c);
  scratch_.push_back(' ');
  scratch_.append(f.hook);
  scratch_.append(" in ");
  scratch_.append(f.city->name);
  AppendJsonString(out, scratch_);
  out.append(",\"description\":");

  // The description fills the listing up to its target size. Its length must
  // not depend on the other field groups' revisions (else a price change would
  // also change the description), so it is sized against the tail the listing
  // had before any update; updates then move the total by a few hundred bytes.
  tail_.clear();
  AppendTail(s, f, day, tail_);
  size_t reference_tail = tail_.size();
  if (s.revision[kPrice] | s.revision[kPhotos] | s.revision[kFeatures] | s.revision[kAgent]) {
    ListingState original = s;
    for (FieldGroup g : {kPrice, kPhotos, kFeatures, kAgent}) original.revision[g] = 0;
    scratch_.clear();
    AppendTail(original, f, day, scratch_);
    reference_tail = scratch_.size();
  }
  const size_t fixed = out.size() - start + reference_tail;
  const size_t budget =
      f.target_bytes > fixed + kMinDescriptionBytes ? f.target_bytes - fixed : kMinDescriptionBytes;
  AppendDescription(s, budget, out);
  out.append(tail_);
}

void ListingWriter::AppendTail(const ListingState& s, const Facts& f, uint32_t day,
                               std::string& out) const {
  const City& city = *f.city;
  const uint64_t step = f.rent ? 10 : 1000;
  uint64_t price = f.first_price;
  for (uint32_t r = 1; r <= s.revision[kPrice]; ++r) {
    Rng change(Hash(seed_, kTagPrice, s.id, r));
    // Mostly drops of 1–8 %, sometimes rises of 1–5 %; never the same price.
    int64_t permille = change.Below(100) < 75 ? -change.Between(10, 80) : change.Between(10, 50);
    uint64_t next = static_cast<uint64_t>(static_cast<int64_t>(price) * (1000 + permille) / 1000);
    next = next / step * step;
    if (next == price) next = price > step ? price - step : price + step;
    price = next;
  }
  out.append(",\"price\":");
  AppendUint(out, price);
  out.append(",\"currency\":\"");
  out.append(city.currency);
  out.append(f.rent ? "\",\"transaction\":\"rent\"" : "\",\"transaction\":\"sale\"");
  out.append(",\"property_type\":\"");
  out.append(f.type);

  out.append("\",\"address\":{\"street\":");
  {
    std::string line;
    size_t pct = city.street_format.find('%');
    line.append(city.street_format.substr(0, pct));
    line.append(f.street);
    line.append(city.street_format.substr(pct + 1));
    line.push_back(' ');
    AppendUint(line, f.house);
    AppendJsonString(out, line);
  }
  out.append(",\"city\":");
  AppendJsonString(out, city.name);
  out.append(",\"postcode\":\"");
  {
    Rng pc(f.postcode_seed);
    for (char c : city.postcode) {
      if (c == '#')
        out.push_back(static_cast<char>('0' + pc.Below(10)));
      else if (c == '@')
        out.push_back(static_cast<char>('A' + pc.Below(26)));
      else
        out.push_back(c);
    }
  }
  out.append("\",\"country\":\"");
  out.append(city.country);
  out.append("\"},\"geo\":{\"lat\":");
  AppendFixed(out, f.lat_micro, 6);
  out.append(",\"lon\":");
  AppendFixed(out, f.lon_micro, 6);
  out.append("},\"rooms\":");
  AppendUint(out, f.rooms_halves / 2);
  if (f.rooms_halves % 2 == 1) out.append(".5");
  out.append(",\"area\":");
  AppendFixed(out, f.area_decis, 1);

  out.append(",\"features\":[");
  {
    // Revision 0 picks 3–12 features; each feature update adds or drops one.
    const auto all = Features();
    const uint32_t size = static_cast<uint32_t>(all.size());
    Rng pick(Hash(seed_, kTagFeatures, s.id, 0));
    uint64_t chosen = 0;  // bit i: Features()[i]; listed in vocabulary order
    uint32_t count = 0;
    for (uint32_t want = 3 + pick.Below(10); count < want;) {
      uint64_t bit = uint64_t{1} << pick.Below(size);
      if ((chosen & bit) == 0) {
        chosen |= bit;
        ++count;
      }
    }
    for (uint32_t r = 1; r <= s.revision[kFeatures]; ++r) {
      uint64_t bit = uint64_t{1} << Below(Hash(seed_, kTagFeatures, s.id, r), size);
      if ((chosen & bit) != 0 && count > 3) {
        chosen &= ~bit;
        --count;
      } else if ((chosen & bit) == 0) {
        chosen |= bit;
        ++count;
      } else {  // would drop below 3: add the next free one instead
        for (uint32_t i = 0; i < size; ++i) {
          if ((chosen >> i & 1) == 0) {
            chosen |= uint64_t{1} << i;
            ++count;
            break;
          }
        }
      }
    }
    bool first = true;
    for (uint32_t i = 0; i < size; ++i) {
      if ((chosen >> i & 1) == 0) continue;
      if (!first) out.push_back(',');
      first = false;
      out.push_back('"');
      out.append(all[i]);
      out.push_back('"');
    }
  }

  out.append("],\"photos\":[");
  {
    // A photo update re-uploads the set (new file names), give or take two.
    uint32_t count = f.photo_count;
    const uint64_t h = Hash(seed_, kTagPhotos, s.id, s.revision[kPhotos]);
    if (s.revision[kPhotos] > 0) {
      int64_t c = int64_t{count} + Below(h, 5) - 2;
      count = static_cast<uint32_t>(std::clamp<int64_t>(c, kMinPhotos, kMaxPhotos));
    }
    static constexpr char kHex[] = "0123456789abcdef";
    for (uint32_t i = 0; i < count; ++i) {
      if (i > 0) out.push_back(',');
      out.append("\"https://img.listings.example/photos/L");
      AppendPadded(out, ExternalNumber(s.id), 10);
      out.push_back('/');
      uint64_t file = Hash(seed_, kTagPhotoFile, h, i);
      for (int k = 0; k < 16; ++k) out.push_back(kHex[(file >> (k * 4)) & 15]);
      out.append("_1600x1200_");
      AppendPadded(out, i + 1, 2);
      out.append(".jpg\"");
    }
  }

  out.append("],\"agent\":{\"name\":");
  {
    // The agency stays with the listing; agents change within it.
    Rng a(Hash(seed_, kTagAgent, s.id, s.revision[kAgent]));
    uint32_t fi = a.Below(static_cast<uint32_t>(FirstNames().size()));
    uint32_t li = a.Below(static_cast<uint32_t>(LastNames().size()));
    std::string name(FirstNames()[fi]);
    name.push_back(' ');
    name.append(LastNames()[li]);
    AppendJsonString(out, name);
    out.append(",\"phone\":\"");
    out.append(city.phone_prefix);
    out.push_back(' ');
    AppendPadded(out, a.Below(1000), 3);
    out.push_back(' ');
    AppendPadded(out, a.Below(100), 2);
    out.push_back(' ');
    AppendPadded(out, a.Below(100), 2);
    out.append("\",\"email\":\"");
    out.append(first_ascii_[fi]);
    out.push_back('.');
    out.append(last_ascii_[li]);
    out.push_back('@');
    out.append(agency_domain_[f.agency]);
    out.append("\"}");
  }

  out.append(",\"scraped_at\":");
  AppendJsonTime(out, kDayZeroEpochSeconds + int64_t{day} * kSecondsPerDay +
                          Below(Hash(seed_, kTagScraped, s.id, day), kScrapeWindowSeconds));
  out.append(",\"updated_at\":");
  int64_t updated;
  if (s.last_change_day == 0) {
    updated = kDayZeroEpochSeconds - f.age_seconds;
  } else {
    updated = kDayZeroEpochSeconds + int64_t{s.last_change_day} * kSecondsPerDay - 1 -
              Below(Hash(seed_, kTagUpdated, s.id, s.last_change_day), kUpdateWindowSeconds);
  }
  AppendJsonTime(out, updated);
  out.push_back('}');
}

void ListingWriter::AppendDescription(const ListingState& s, size_t budget,
                                      std::string& out) const {
  Rng d(Hash(seed_, kTagDescription, s.id, s.revision[kDescription]));
  const auto sentences = DescriptionSentences();
  // Whole sentences while they fit, then the start of one more, cut at a word
  // boundary with an ellipsis (as portals shorten teasers), so that the listing
  // lands within a few bytes of its target size. `budget` counts output bytes,
  // quotes and escapes included.
  const size_t start = out.size();
  out.push_back('"');
  uint32_t in_paragraph = 0;
  uint32_t paragraph_len = 3 + d.Below(3);
  for (;;) {
    std::string_view next = sentences[d.Below(static_cast<uint32_t>(sentences.size()))];
    const size_t written = out.size() - start;
    const bool first = written == 1;
    const char* separator = " ";
    if (!first && in_paragraph == paragraph_len) separator = "\\n\\n";
    const size_t sep_len = first ? 0 : std::strlen(separator);
    // +2: the period and the closing quote. Escaped quotes are counted below.
    size_t escaped = next.size() + static_cast<size_t>(std::count(next.begin(), next.end(), '"'));
    bool whole = first || written + sep_len + escaped + 2 <= budget;
    if (!whole) {
      // Room for a meaningful fragment? "…" is 3 bytes.
      if (written + sep_len + kMinFragmentBytes + 3 + 1 > budget) break;
      size_t room = budget - written - sep_len - 3 - 1;
      size_t cut = next.rfind(' ', std::min(room, next.size()));
      if (cut == std::string_view::npos || cut < kMinFragmentBytes / 2) break;
      next = next.substr(0, cut);
    }
    if (!first) {
      out.append(separator, sep_len);
      if (in_paragraph == paragraph_len) {
        in_paragraph = 0;
        paragraph_len = 3 + d.Below(3);
      }
    }
    for (char c : next) {  // only '"' needs escaping in the sentence list
      if (c == '"') out.push_back('\\');
      out.push_back(c);
    }
    if (!whole) {
      out.append("…");
      break;
    }
    out.push_back('.');
    ++in_paragraph;
  }
  out.push_back('"');
}

}  // namespace syncmgr::gen
