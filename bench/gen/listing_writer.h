// Renders one generated listing as a compact JSON object of 1–3 KB.
//
// Fields, in this order: external_id, title, description, price, currency,
// transaction, property_type, address{street, city, postcode, country},
// geo{lat, lon}, rooms, area, features[], photos[] (5–20 URLs),
// agent{name, phone, email}, scraped_at, updated_at.
//
// Each field group is a pure function of (seed, id, that group's revision), so
// an update changes only its group plus updated_at; scraped_at is a function of
// (seed, id, day) and so changes every day. Numbers are printed with integer
// arithmetic only (no locale, no floating point): area always has one decimal
// ("84.0" too, which a canonical hash must treat like 84), rooms may be "3.5".
// Strings are UTF-8 (city and people names) with JSON escapes (\" and \n occur).
//
// Thread-safety: not safe for concurrent use (it owns scratch buffers); use
// one ListingWriter per thread.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "day_model.h"

namespace syncmgr::gen {

// 2024-01-01T00:00:00Z: day 0 of the model is scraped on this date.
inline constexpr int64_t kDayZeroEpochSeconds = 1704067200;

class ListingWriter {
 public:
  explicit ListingWriter(const ModelOptions& options);

  // Appends the JSON object (no trailing newline) of listing `s` as scraped on
  // `day`. REQUIRES: s.alive, s == model.StateAt(s.id, day).
  void Append(const ListingState& s, uint32_t day, std::string& out);

 private:
  struct Facts;
  Facts FactsOf(uint64_t id) const;
  // Everything after the description: price ... updated_at and the closing '}'.
  void AppendTail(const ListingState& s, const Facts& f, uint32_t day, std::string& out) const;
  // The description as a JSON string of about `budget` bytes.
  void AppendDescription(const ListingState& s, size_t budget, std::string& out) const;

  uint64_t seed_;
  // Lower-case ASCII forms for e-mail addresses, indexed like the vocab lists.
  std::vector<std::string> first_ascii_;
  std::vector<std::string> last_ascii_;
  std::vector<std::string> agency_domain_;
  std::string tail_;     // scratch: the tail being emitted
  std::string scratch_;  // scratch: the title; the tail before any update
};

}  // namespace syncmgr::gen
