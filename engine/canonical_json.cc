// Canonical JSON writer and content hash. The form is specified byte for byte
// in docs/canonical-hash.md; in short:
//
//   object  := '{' [ member *( ',' member ) ] '}'     ; members sorted by key bytes
//   member  := string ':' value
//   array   := '[' [ value *( ',' value ) ] ']'
//   value   := object | array | string | number | 'true' | 'false' | 'null'
//   string  := '"' *( raw-utf8 | '\"' | '\\' | '\b' | '\f' | '\n' | '\r' | '\t'
//                     | '\u00' hex hex ) '"'           ; hex lower-case, only < 0x20
//   number  := int-digits                               ; int64 / uint64, exact
//            | int-digits                               ; integral double, |v| < 2^53
//            | shortest(v)                              ; other doubles, see below
//
// Numbers: simdjson types every literal as int64, uint64 or double. Integers
// keep their digits ("-0" is the integer 0). A double that is integral with
// |v| < 2^53 prints as its integer digits, so 1.0, 1e0 and 1 agree. Any other
// double prints with std::to_chars shortest round-trip form: scientific when
// |v| >= 2^53 (so no double ever prints as a digits-only token that could be
// mistaken for an exact 64-bit integer), the shorter of fixed / scientific
// otherwise. Integer literals beyond 64 bits are read as the nearest double.
//
// Hash: XXH3-128 over the canonical text with the ignored top-level members
// left out, as if they had never been there (commas included).

#include "engine/canonical_json.h"

#include <simdjson.h>

#include <algorithm>
#include <bit>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstring>
#include <memory>
#include <utility>

#define XXH_INLINE_ALL  // lets the compiler inline the hash into the hot path
#include <xxhash.h>

#include "engine/json_scan.h"

namespace syncmgr {
namespace {

namespace dom = simdjson::dom;

// Integral doubles below this magnitude print as integer digits; every
// integer in this range is exactly representable.
constexpr double kExactIntegerLimit = 9007199254740992.0;  // 2^53
// Thread-local buffers above this size are released after use, so one huge
// item does not pin its memory in every worker thread. Unit: bytes.
constexpr size_t kRetainedScratchBytes = size_t{1} << 20;
// Longest key quoted in an error message. Unit: bytes.
constexpr size_t kMaxKeyInMessage = 100;

// A top-level member's bytes in the canonical text: [begin, end), without
// the separating comma.
struct MemberSpan {
  size_t begin;
  size_t end;
  bool ignored;
};

// A member of the object being written: sorted before it is written.
struct PendingMember {
  std::string_view key;
  dom::element value;
};

// Per-thread scratch reused across calls, so a call allocates only its output.
struct Scratch {
  dom::parser parser;
  std::unique_ptr<char[]> padded;
  size_t padded_capacity = 0;
  std::vector<PendingMember> members;  // a stack: one sorted range per open object
  std::vector<MemberSpan> spans;
};

Scratch& ThreadScratch() {
  thread_local Scratch scratch;
  return scratch;
}

// Appends to a std::string through a raw pointer: std::string's own
// push_back/append re-check capacity and re-terminate on every call, which
// showed up as the top cost of the writer.
class OutBuf {
 public:
  OutBuf(std::string* s, size_t initial) : s_(s) {
    s_->resize(std::max<size_t>(initial, 64));
    begin_ = p_ = s_->data();
    end_ = begin_ + s_->size();
  }
  // Cuts the string to what was written. Call once, at the end.
  void Finish() { s_->resize(size()); }

  size_t size() const { return static_cast<size_t>(p_ - begin_); }
  void push_back(char c) {
    if (p_ == end_) Grow(1);
    *p_++ = c;
  }
  void append(const char* data, size_t n) {
    if (static_cast<size_t>(end_ - p_) < n) Grow(n);
    if (n != 0) std::memcpy(p_, data, n);
    p_ += n;
  }
  void append(std::string_view v) { append(v.data(), v.size()); }

 private:
  void Grow(size_t n) {
    const size_t used = size();
    s_->resize(std::max(s_->size() * 2, used + n));
    begin_ = s_->data();
    p_ = begin_ + used;
    end_ = begin_ + s_->size();
  }

  std::string* s_;
  char* begin_;
  char* p_;
  char* end_;
};

bool IsIgnored(std::string_view key, const std::vector<std::string>& ignore_fields) {
  for (const std::string& f : ignore_fields) {
    if (f == key) return true;
  }
  return false;
}

// The letter of JSON's short escape for a control byte (\b \t \n \f \r at
// 8, 9, 10, 12, 13), or 0 when it has none and takes \u00XX.
char ShortEscape(unsigned char c) { return c < 14 ? "\0\0\0\0\0\0\0\0btn\0fr"[c] : 0; }

// For 8 bytes loaded from memory: the number of leading bytes (in memory
// order) that need no escape, i.e. are not < 0x20, '"' or '\\'; 8 if none.
// Classic "has byte less than / equal to" bit tricks: borrows can flag a
// byte after a true match, never before one, so the first flag is exact.
unsigned CleanPrefix(uint64_t x) {
  constexpr uint64_t k01 = 0x0101010101010101ULL;
  constexpr uint64_t k80 = 0x8080808080808080ULL;
  const uint64_t quote = x ^ (k01 * '"');
  const uint64_t backslash = x ^ (k01 * '\\');
  const uint64_t flags =
      (((x - k01 * 0x20) & ~x) | ((quote - k01) & ~quote) | ((backslash - k01) & ~backslash)) & k80;
  if (flags == 0) return 8;
  if constexpr (std::endian::native == std::endian::little) {
    return static_cast<unsigned>(std::countr_zero(flags)) / 8;
  } else {
    return static_cast<unsigned>(std::countl_zero(flags)) / 8;
  }
}

void AppendEscapedString(std::string_view s, OutBuf* out) {
  out->push_back('"');
  const char* p = s.data();
  const char* end = p + s.size();
  const char* run = p;
  while (p != end) {
    // Skip clean bytes 8 at a time: most string bytes need no escape.
    if (end - p >= 8) {
      uint64_t block;
      std::memcpy(&block, p, sizeof(block));
      const unsigned clean = CleanPrefix(block);
      p += clean;
      if (clean == 8) continue;
    }
    const auto c = static_cast<unsigned char>(*p++);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    --p;
    out->append(run, static_cast<size_t>(p - run));
    out->push_back('\\');
    if (c == '"' || c == '\\') {
      out->push_back(static_cast<char>(c));
    } else if (char e = ShortEscape(c)) {
      out->push_back(e);
    } else {
      static constexpr char kHex[] = "0123456789abcdef";
      const char u[] = {'u', '0', '0', kHex[c >> 4], kHex[c & 0xf]};
      out->append(u, sizeof(u));
    }
    run = ++p;
  }
  out->append(run, static_cast<size_t>(end - run));
  out->push_back('"');
}

template <typename Int>
void AppendInteger(Int v, OutBuf* out) {
  char buf[24];
  auto res = std::to_chars(buf, buf + sizeof(buf), v);
  out->append(buf, static_cast<size_t>(res.ptr - buf));
}

void AppendDouble(double v, OutBuf* out) {
  if (std::fabs(v) < kExactIntegerLimit && v == std::trunc(v)) {
    // Exact conversion; -0.0 becomes 0.
    AppendInteger(static_cast<int64_t>(v), out);
    return;
  }
  char buf[32];
  auto res = std::fabs(v) >= kExactIntegerLimit
                 ? std::to_chars(buf, buf + sizeof(buf), v, std::chars_format::scientific)
                 : std::to_chars(buf, buf + sizeof(buf), v);
  out->append(buf, static_cast<size_t>(res.ptr - buf));
}

// The key in a form fit for an error message: escaped, cut at a UTF-8
// character boundary.
std::string KeyForMessage(std::string_view key) {
  if (key.size() > kMaxKeyInMessage) {
    size_t n = kMaxKeyInMessage;
    while (n > 0 && (static_cast<unsigned char>(key[n]) & 0xC0) == 0x80) --n;
    key = key.substr(0, n);
  }
  std::string s;
  OutBuf buf(&s, key.size() + 2);
  AppendEscapedString(key, &buf);
  buf.Finish();
  return s;
}

// Writes the canonical form of a DOM in one recursive pass.
class CanonicalWriter {
 public:
  CanonicalWriter(OutBuf* out, Scratch* scratch, const std::vector<std::string>* ignore)
      : out_(out), members_(&scratch->members), spans_(&scratch->spans), ignore_(ignore) {}

  // Writes the top-level object; records member spans when fields are ignored.
  Status WriteTop(dom::object obj) {
    spans_->clear();
    members_->clear();
    if (!WriteObject(obj, 1)) return std::move(error_);
    return Status::Ok();
  }

 private:
  bool WriteValue(dom::element el, int depth) {
    switch (el.type()) {
      case dom::element_type::OBJECT:
        return WriteObject(el.get_object().value_unsafe(), depth + 1);
      case dom::element_type::ARRAY:
        return WriteArray(el.get_array().value_unsafe(), depth + 1);
      case dom::element_type::INT64:
        AppendInteger(el.get_int64().value_unsafe(), out_);
        return true;
      case dom::element_type::UINT64:
        AppendInteger(el.get_uint64().value_unsafe(), out_);
        return true;
      case dom::element_type::DOUBLE:
        AppendDouble(el.get_double().value_unsafe(), out_);
        return true;
      case dom::element_type::STRING:
        AppendEscapedString(el.get_string().value_unsafe(), out_);
        return true;
      case dom::element_type::BOOL:
        out_->append(el.get_bool().value_unsafe() ? "true" : "false");
        return true;
      case dom::element_type::NULL_VALUE:
        out_->append("null");
        return true;
    }
    return Fail(Status::Internal("unknown JSON element type"));
  }

  bool CheckDepth(int depth) {
    if (depth <= kMaxJsonDepth) return true;
    return Fail(Status::InvalidArgument("nesting deeper than " + std::to_string(kMaxJsonDepth) +
                                        " levels"));
  }

  bool WriteArray(dom::array arr, int depth) {
    if (!CheckDepth(depth)) return false;
    out_->push_back('[');
    bool first = true;
    for (dom::element el : arr) {
      if (!first) out_->push_back(',');
      first = false;
      if (!WriteValue(el, depth)) return false;
    }
    out_->push_back(']');
    return true;
  }

  bool WriteObject(dom::object obj, int depth) {
    if (!CheckDepth(depth)) return false;
    // This object's members occupy [base, end) of the shared stack; nested
    // objects push above it, so index (not iterators: the vector may grow).
    const size_t base = members_->size();
    for (dom::key_value_pair kv : obj) members_->push_back({kv.key, kv.value});
    const size_t end = members_->size();
    auto first = members_->begin() + static_cast<ptrdiff_t>(base);
    auto last = members_->begin() + static_cast<ptrdiff_t>(end);
    // string_view compares bytes as unsigned char: UTF-8 byte order is code
    // point order. Most keys differ in their first byte: decide that inline.
    auto by_key = [](const PendingMember& a, const PendingMember& b) {
      if (!a.key.empty() && !b.key.empty() && a.key[0] != b.key[0]) {
        return static_cast<unsigned char>(a.key[0]) < static_cast<unsigned char>(b.key[0]);
      }
      return a.key < b.key;
    };
    if (!std::is_sorted(first, last, by_key)) std::sort(first, last, by_key);
    // Indexes, not `it + 1 < last`: for an empty object that steps past
    // the end (of a null pointer in a fresh thread's scratch: UB).
    for (size_t i = base + 1; i < end; ++i) {
      const std::string_view key = (*members_)[i].key;
      if ((*members_)[i - 1].key == key) {
        return Fail(Status::InvalidArgument("duplicate key " + KeyForMessage(key)));
      }
    }
    const bool record_spans = depth == 1 && !ignore_->empty();
    out_->push_back('{');
    for (size_t i = base; i < end; ++i) {
      const PendingMember m = (*members_)[i];
      if (i != base) out_->push_back(',');
      const size_t begin = out_->size();
      AppendEscapedString(m.key, out_);
      out_->push_back(':');
      if (!WriteValue(m.value, depth)) return false;
      if (record_spans) spans_->push_back({begin, out_->size(), IsIgnored(m.key, *ignore_)});
    }
    out_->push_back('}');
    members_->resize(base);
    return true;
  }

  bool Fail(Status st) {
    error_ = std::move(st);
    return false;
  }

  OutBuf* out_;
  std::vector<PendingMember>* members_;
  std::vector<MemberSpan>* spans_;
  const std::vector<std::string>* ignore_;
  Status error_;
};

Hash128 FromXxh(XXH128_hash_t h) { return Hash128{h.high64, h.low64}; }

// Hash of `text` (a canonical object) keeping only the non-ignored members.
Hash128 HashMembers(std::string_view text, const std::vector<MemberSpan>& spans) {
  bool any_ignored = false;
  for (const MemberSpan& s : spans) any_ignored |= s.ignored;
  if (!any_ignored) return FromXxh(XXH3_128bits(text.data(), text.size()));
  XXH3_state_t state;
  XXH3_128bits_reset(&state);
  XXH3_128bits_update(&state, "{", 1);
  bool first = true;
  for (const MemberSpan& s : spans) {
    if (s.ignored) continue;
    if (!first) XXH3_128bits_update(&state, ",", 1);
    first = false;
    XXH3_128bits_update(&state, text.data() + s.begin, s.end - s.begin);
  }
  XXH3_128bits_update(&state, "}", 1);
  return FromXxh(XXH3_128bits_digest(&state));
}

struct ScannedMember {
  std::string key;  // unescaped
  std::string_view value;
  size_t begin;
  size_t end;
};

// Splits a canonical object into its top-level members. Stops quietly at
// anything that is not canonical (the callers' REQUIRES excludes it).
std::vector<ScannedMember> ScanMembers(std::string_view text) {
  std::vector<ScannedMember> members;
  if (text.size() < 2 || text[0] != '{') return members;
  size_t pos = 1;
  while (pos < text.size() && text[pos] == '"') {
    const size_t begin = pos;
    const size_t key_end = json_scan::StringEnd(text, pos);
    if (key_end == std::string_view::npos || key_end >= text.size() || text[key_end] != ':') break;
    const size_t end = json_scan::ValueEnd(text, key_end + 1);
    if (end == std::string_view::npos) break;
    const std::string_view raw_key = text.substr(begin + 1, key_end - begin - 2);
    members.push_back(
        {json_scan::Unescape(raw_key), text.substr(key_end + 1, end - key_end - 1), begin, end});
    pos = end + 1;  // past ',' (or '}')
  }
  return members;
}

// Copies `json` into a buffer with simdjson's required padding.
const char* PaddedCopy(Scratch* scratch, std::string_view json) {
  const size_t need = json.size() + simdjson::SIMDJSON_PADDING;
  if (scratch->padded_capacity < need) {
    scratch->padded_capacity = std::max(need, scratch->padded_capacity * 2);
    scratch->padded = std::make_unique<char[]>(scratch->padded_capacity);
  }
  if (!json.empty()) std::memcpy(scratch->padded.get(), json.data(), json.size());
  std::memset(scratch->padded.get() + json.size(), 0, simdjson::SIMDJSON_PADDING);
  return scratch->padded.get();
}

// simdjson 3.0.1 rejects integer literals beyond 64 bits with NUMBER_ERROR.
// We want them as the nearest double instead, so after that error this
// rewrites each such literal with a ".0" suffix (a double literal of the
// same value) and the caller parses again. Returns false if none was found.
bool RewriteBigIntegers(std::string_view json, std::string* rewritten) {
  rewritten->clear();
  size_t copied = 0;  // json[0, copied) is in *rewritten already
  for (size_t i = 0; i < json.size();) {
    if (json[i] == '"') {
      i = json_scan::StringEnd(json, i);
      if (i == std::string_view::npos) break;
      continue;
    }
    if (json[i] != '-' && (json[i] < '0' || json[i] > '9')) {
      ++i;
      continue;
    }
    // A number token: [i, end).
    size_t end = i + 1;
    while (end < json.size() && (std::isalnum(static_cast<unsigned char>(json[end])) ||
                                 json[end] == '.' || json[end] == '+' || json[end] == '-')) {
      ++end;
    }
    const std::string_view token = json.substr(i, end - i);
    const std::string_view digits = token.substr(token[0] == '-' ? 1 : 0);
    const bool plain_integer = !digits.empty() && (digits[0] != '0' || digits.size() == 1) &&
                               digits.find_first_not_of("0123456789") == std::string_view::npos;
    int64_t as_int;
    uint64_t as_uint;
    if (plain_integer &&
        std::from_chars(token.data(), token.data() + token.size(), as_int).ec != std::errc() &&
        std::from_chars(token.data(), token.data() + token.size(), as_uint).ec != std::errc()) {
      rewritten->append(json.substr(copied, end - copied)).append(".0");
      copied = end;
    }
    i = end;
  }
  if (copied == 0) return false;
  rewritten->append(json.substr(copied));
  return true;
}

Status ErrorFromSimdjson(simdjson::error_code err) {
  if (err == simdjson::DEPTH_ERROR) {
    return Status::InvalidArgument("nesting deeper than " + std::to_string(kMaxJsonDepth) +
                                   " levels");
  }
  return Status::InvalidJson(std::string("malformed JSON: ") + simdjson::error_message(err));
}

// For "expected a JSON object, got ...".
const char* NonObjectName(dom::element_type t) {
  using T = dom::element_type;
  return t == T::ARRAY        ? "an array"
         : t == T::STRING     ? "a string"
         : t == T::BOOL       ? "a boolean"
         : t == T::NULL_VALUE ? "null"
                              : "a number";
}

}  // namespace

std::string Hash128::Hex() const {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string s(32, '0');
  for (int i = 0; i < 16; ++i) {
    s[static_cast<size_t>(i)] = kHex[(hi >> (60 - 4 * i)) & 0xf];
    s[static_cast<size_t>(16 + i)] = kHex[(lo >> (60 - 4 * i)) & 0xf];
  }
  return s;
}

Status CanonicalizeObject(std::string_view json, const std::vector<std::string>& ignore_fields,
                          CanonicalDoc* out) {
  Scratch& scratch = ThreadScratch();
  dom::element root;
  auto err = scratch.parser
                 .parse(reinterpret_cast<const uint8_t*>(PaddedCopy(&scratch, json)), json.size(),
                        /*realloc_if_needed=*/false)
                 .get(root);
  std::string rewritten;
  if (err == simdjson::NUMBER_ERROR && RewriteBigIntegers(json, &rewritten)) {
    err = scratch.parser
              .parse(reinterpret_cast<const uint8_t*>(PaddedCopy(&scratch, rewritten)),
                     rewritten.size(), /*realloc_if_needed=*/false)
              .get(root);
  }
  Status st;
  if (err) {
    st = ErrorFromSimdjson(err);
  } else if (root.type() != dom::element_type::OBJECT) {
    st = Status::InvalidArgument(std::string("expected a JSON object, got ") +
                                 NonObjectName(root.type()));
  } else {
    // Canonical text is rarely longer than the input (only number forms
    // like 1e5 grow); OutBuf grows if it is.
    OutBuf buf(&out->json, json.size() + 16);
    CanonicalWriter writer(&buf, &scratch, &ignore_fields);
    st = writer.WriteTop(root.get_object().value_unsafe());
    buf.Finish();
    if (st.ok()) {
      out->hash = HashMembers(out->json, scratch.spans);
    } else {
      out->json.clear();  // no half-written form for a caller to store by mistake
    }
  }
  if (json.size() > kRetainedScratchBytes) {
    scratch.parser = dom::parser();
    scratch.padded.reset();
    scratch.padded_capacity = 0;
    scratch.members = {};
  }
  return st;
}

Hash128 HashCanonical(std::string_view canonical, const std::vector<std::string>& ignore_fields) {
  if (ignore_fields.empty()) return FromXxh(XXH3_128bits(canonical.data(), canonical.size()));
  std::vector<MemberSpan> spans;
  for (const ScannedMember& m : ScanMembers(canonical)) {
    spans.push_back({m.begin, m.end, IsIgnored(m.key, ignore_fields)});
  }
  return HashMembers(canonical, spans);
}

std::vector<std::string> ChangedFields(std::string_view before, std::string_view after,
                                       const std::vector<std::string>& ignore_fields) {
  const std::vector<ScannedMember> a = ScanMembers(before);
  const std::vector<ScannedMember> b = ScanMembers(after);
  std::vector<std::string> changed;
  auto add = [&](const std::string& key) {
    if (!IsIgnored(key, ignore_fields)) changed.push_back(key);
  };
  // Both member lists are sorted by unescaped key bytes: a merge join.
  size_t i = 0;
  size_t j = 0;
  while (i < a.size() || j < b.size()) {
    if (j == b.size() || (i < a.size() && a[i].key < b[j].key)) {
      add(a[i++].key);
    } else if (i == a.size() || b[j].key < a[i].key) {
      add(b[j++].key);
    } else {
      if (a[i].value != b[j].value) add(a[i].key);
      ++i;
      ++j;
    }
  }
  return changed;
}

uint64_t RawHash(std::string_view bytes) { return XXH3_64bits(bytes.data(), bytes.size()); }

bool IsWellFormedObject(std::string_view json) {
  Scratch& scratch = ThreadScratch();
  dom::element root;
  auto err = scratch.parser
                 .parse(reinterpret_cast<const uint8_t*>(PaddedCopy(&scratch, json)), json.size(),
                        /*realloc_if_needed=*/false)
                 .get(root);
  const bool ok = !err && root.type() == dom::element_type::OBJECT;
  if (json.size() > kRetainedScratchBytes) {
    scratch.parser = dom::parser();
    scratch.padded.reset();
    scratch.padded_capacity = 0;
  }
  return ok;
}

bool IsWellFormedScalar(std::string_view json) {
  if (json.empty() || json.size() > kRetainedScratchBytes) return false;
  Scratch& scratch = ThreadScratch();
  dom::element root;
  auto err = scratch.parser
                 .parse(reinterpret_cast<const uint8_t*>(PaddedCopy(&scratch, json)), json.size(),
                        /*realloc_if_needed=*/false)
                 .get(root);
  return !err && root.type() != dom::element_type::OBJECT &&
         root.type() != dom::element_type::ARRAY;
}

}  // namespace syncmgr
