// Fuzzes CanonicalizeObject, HashCanonical and ChangedFields
// (engine/canonical_json.h). Input layout:
//   byte 0    ignore_fields: bit 0 "a", bit 1 "b", bit 2 "" ... (see Ignore)
//   the rest  two JSON texts separated by the first 0xFF byte (never valid
//             in UTF-8), or one text if there is none
// Invariants, for every text that canonicalizes:
//   * canonical form is a fixed point: canonicalizing it again gives the
//     same bytes and the same hash;
//   * HashCanonical(canonical, ignore) == the hash CanonicalizeObject gave;
// and for two such texts:
//   * ChangedFields(x, x) is empty; ChangedFields(x, y) == ChangedFields(y, x),
//     sorted, without duplicates and without ignored fields;
//   * ChangedFields(x, y) is empty exactly when their hashes are equal.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "engine/canonical_json.h"
#include "fuzz/fuzz_util.h"

namespace syncmgr::fuzz {
namespace {

std::vector<std::string> Ignore(uint8_t bits) {
  static const char* const kFields[] = {"a", "b", "", "\n", "\xc3\xa9", "k\"ey", "pad", "x"};
  std::vector<std::string> out;
  for (int i = 0; i < 8; ++i) {
    if (bits & (1u << i)) out.emplace_back(kFields[i]);
  }
  return out;
}

std::string Join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& f : v) s += "[" + f + "]";
  return s;
}

// Canonicalizes `json` and checks the single-document invariants. Returns
// false when the text is not an acceptable object.
bool Check(std::string_view json, const std::vector<std::string>& ignore, CanonicalDoc* doc) {
  if (!CanonicalizeObject(json, ignore, doc).ok()) return false;
  CanonicalDoc again;
  Status s = CanonicalizeObject(doc->json, ignore, &again);
  SYNCMGR_FUZZ_CHECK(s.ok(), s.ToString() + "\n" + doc->json);
  SYNCMGR_FUZZ_CHECK(again.json == doc->json, doc->json + "\n" + again.json);
  SYNCMGR_FUZZ_CHECK(again.hash == doc->hash, doc->json);
  SYNCMGR_FUZZ_CHECK(HashCanonical(doc->json, ignore) == doc->hash, doc->json);
  return true;
}

}  // namespace
}  // namespace syncmgr::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace syncmgr;
  using namespace syncmgr::fuzz;
  if (size < 1) return 0;
  std::vector<std::string> ignore = Ignore(data[0]);
  std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  size_t sep = rest.find('\xff');
  std::string_view first = rest.substr(0, sep);
  CanonicalDoc x;
  if (!Check(first, ignore, &x)) return 0;
  SYNCMGR_FUZZ_CHECK(ChangedFields(x.json, x.json, ignore).empty(), x.json);
  if (sep == std::string_view::npos) return 0;
  CanonicalDoc y;
  if (!Check(rest.substr(sep + 1), ignore, &y)) return 0;

  std::vector<std::string> xy = ChangedFields(x.json, y.json, ignore);
  std::vector<std::string> yx = ChangedFields(y.json, x.json, ignore);
  std::string detail =
      x.json + "\n" + y.json + "\nignore " + Join(ignore) + "\nchanged " + Join(xy);
  SYNCMGR_FUZZ_CHECK(xy == yx, detail + "\nreverse " + Join(yx));
  SYNCMGR_FUZZ_CHECK(std::is_sorted(xy.begin(), xy.end()), detail);
  SYNCMGR_FUZZ_CHECK(std::adjacent_find(xy.begin(), xy.end()) == xy.end(), detail);
  for (const std::string& f : xy) {
    SYNCMGR_FUZZ_CHECK(std::find(ignore.begin(), ignore.end(), f) == ignore.end(), detail);
  }
  SYNCMGR_FUZZ_CHECK(xy.empty() == (x.hash == y.hash), detail);
  return 0;
}
