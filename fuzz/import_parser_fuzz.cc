// Fuzzes ImportParser (engine/import_parser.h) with arbitrary bodies fed in
// arbitrary chunk splits, in both formats. Input layout:
//   byte 0      options: bit 0 NDJSON (else JSON), bit 1 id_field "sku",
//               bit 2 ignore_fields {"pad", "x"}
//   bytes 1..4  seed of the chunk sizes (little-endian)
//   the rest    the body
// Invariants, beyond "no crash, no sanitizer report":
//   * the result (status, every item, mode, allow_mass_removal) is the same
//     whether the body comes in one chunk or in random chunks;
//   * every item has an id of 1..kMaxExternalIdBytes bytes, indexes grow;
//   * every item's canonical JSON is a fixed point of CanonicalizeObject
//     with the same hash.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "engine/canonical_json.h"
#include "engine/import_parser.h"
#include "fuzz/fuzz_util.h"

namespace syncmgr::fuzz {
namespace {

constexpr size_t kHeaderBytes = 5;

struct Outcome {
  Status status;
  std::vector<ParsedItem> items;
  std::string tail;  // mode, allow, counters
};

// Feeds `body` in chunks whose sizes come from `seed` (0: one chunk).
Outcome Parse(std::string_view body, const ImportParserOptions& options, uint32_t seed) {
  ImportParser parser(options);
  Outcome out;
  auto sink = [&](ParsedItem&& item) {
    out.items.push_back(std::move(item));
    return Status::Ok();
  };
  uint32_t state = seed;
  size_t pos = 0;
  while (pos < body.size() && out.status.ok()) {
    size_t n = body.size() - pos;
    if (seed != 0) {
      state = state * 1664525u + 1013904223u;  // LCG: reproducible splits
      n = std::min<size_t>(n, 1 + (state >> 16) % 64);
    }
    out.status = parser.Feed(body.substr(pos, n), sink);
    pos += n;
  }
  if (out.status.ok()) out.status = parser.Finish(sink);
  auto mode = parser.body_mode();
  auto allow = parser.body_allow_mass_removal();
  out.tail = std::string(mode ? (*mode == ImportMode::kFull ? "full" : "upsert") : "-") +
             (allow ? (*allow ? " allow" : " deny") : " -");
  if (out.status.ok()) {
    out.tail +=
        " items=" + std::to_string(parser.items()) + " bytes=" + std::to_string(parser.bytes());
  }
  return out;
}

std::string Describe(const Outcome& o) {
  std::string s = o.status.ToString() + "\n";
  for (const ParsedItem& item : o.items) {
    s += std::to_string(item.index) + " " + item.external_id + " " + item.doc.json + " " +
         item.doc.hash.Hex() + " " + std::to_string(item.raw_hash) + "\n";
  }
  return s + o.tail;
}

}  // namespace
}  // namespace syncmgr::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace syncmgr;
  using namespace syncmgr::fuzz;
  if (size < kHeaderBytes) return 0;
  ImportParserOptions options;
  options.format = (data[0] & 1) ? BodyFormat::kNdjson : BodyFormat::kJson;
  if (data[0] & 2) options.id_field = "sku";
  if (data[0] & 4) options.ignore_fields = {"pad", "x"};
  uint32_t seed = static_cast<uint32_t>(data[1]) | static_cast<uint32_t>(data[2]) << 8 |
                  static_cast<uint32_t>(data[3]) << 16 | static_cast<uint32_t>(data[4]) << 24;
  std::string_view body(reinterpret_cast<const char*>(data) + kHeaderBytes, size - kHeaderBytes);

  Outcome whole = Parse(body, options, 0);
  Outcome split = Parse(body, options, seed | 1);
  std::string a = Describe(whole), b = Describe(split);
  SYNCMGR_FUZZ_CHECK(a == b, "one chunk:\n" + a + "\nsplit:\n" + b);

  uint64_t last_index = 0;
  for (size_t i = 0; i < whole.items.size(); ++i) {
    const ParsedItem& item = whole.items[i];
    SYNCMGR_FUZZ_CHECK(!item.external_id.empty() && item.external_id.size() <= kMaxExternalIdBytes,
                       item.external_id);
    SYNCMGR_FUZZ_CHECK(i == 0 || item.index > last_index, std::to_string(item.index));
    last_index = item.index;
    CanonicalDoc again;
    Status s = CanonicalizeObject(item.doc.json, options.ignore_fields, &again);
    SYNCMGR_FUZZ_CHECK(s.ok(), s.ToString() + "\n" + item.doc.json);
    SYNCMGR_FUZZ_CHECK(again.json == item.doc.json, item.doc.json + "\n" + again.json);
    SYNCMGR_FUZZ_CHECK(again.hash == item.doc.hash, item.doc.json);
  }
  return 0;
}
