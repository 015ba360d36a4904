// Word lists the generated listings are made of: cities, streets, names,
// features and description phrases. Fixed data; the order of every list is part
// of the generator's output format (reordering changes every listing).
//
// Thread-safety: constant data.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

namespace syncmgr::gen {

struct City {
  std::string_view name;      // UTF-8, as a portal would print it
  std::string_view country;   // ISO 3166-1 alpha-2
  std::string_view currency;  // ISO 4217
  int32_t lat_micro;          // centre, micro-degrees
  int32_t lon_micro;
  std::string_view postcode;       // pattern: '#' a digit, '@' a capital letter
  std::string_view phone_prefix;   // "+41 44"
  std::string_view street_format;  // '%' is replaced by a street name
  uint32_t price_per_m2;           // typical sale price per m² in `currency`
};

std::span<const City> Cities();
std::span<const std::string_view> StreetNames();
std::span<const std::string_view> FirstNames();
std::span<const std::string_view> LastNames();
std::span<const std::string_view> Agencies();
std::span<const std::string_view> Features();
std::span<const std::string_view> PropertyTypes();
std::span<const std::string_view> TitleAdjectives();
std::span<const std::string_view> TitleHooks();
// Full sentences (without the final period) for descriptions.
std::span<const std::string_view> DescriptionSentences();

}  // namespace syncmgr::gen
