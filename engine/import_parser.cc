// ImportParser: a push-style splitter. The body is never held whole: a small
// byte state machine finds where each item starts and ends (tracking strings,
// escapes and bracket depth), only the bytes of the item being read are kept,
// and simdjson (via CanonicalizeObject) validates each complete item.
//
// Body grammar checked here (the items themselves are checked by simdjson):
//   json-body   := ws ( array | wrapper ) ws
//   array       := '[' ws [ item ws *( ',' ws item ws ) ] ']'
//   wrapper     := '{' ws [ member ws *( ',' ws member ws ) ] '}'   ; "data" required
//   member      := '"data"' ws ':' ws array
//                | '"mode"' ws ':' ws ( '"upsert"' | '"full"' )
//                | '"allow_mass_removal"' ws ':' ws ( 'true' | 'false' )
//   ndjson-body := *( ws-line | ws item ws '\n' ) [ ws item ws ]   ; ws: ' ' '\t' '\r'
// An empty JSON body (no value) is InvalidJson; an NDJSON body without a
// single line is zero items, like `[]`.
//
// Limits: an item (an NDJSON line) of more than kMaxItemBytes is refused with
// PayloadTooLarge, so memory is bounded by that, not by the body size.

#include "engine/import_parser.h"

#include <simdjson.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include <cstring>
#include <utility>

#include "engine/json_scan.h"

namespace syncmgr {
namespace {

// Largest single item (or NDJSON line) accepted. Unit: bytes. 16 MiB.
constexpr size_t kMaxItemBytes = size_t{16} << 20;
// Largest member name or "mode" / "allow_mass_removal" value of the wrapper
// object kept while reading it. Unit: bytes.
constexpr size_t kMaxMemberBytes = 1024;

bool IsJsonSpace(char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; }

// Bytes that may continue a number or a literal (true, false, null).
bool IsScalarByte(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '+' ||
         c == '-' || c == '.';
}

enum class State {
  kStart,       // before the top-level value
  kArrayFirst,  // after '[': an item or ']'
  kArrayNext,   // after ',': an item
  kArrayAfter,  // after an item: ',' or ']'
  kObjFirst,    // after '{': a member name or '}'
  kObjNext,     // after ',': a member name
  kObjColon,    // after a member name: ':'
  kObjValue,    // after ':': the member's value
  kObjAfter,    // after a member: ',' or '}'
  kCapture,     // inside a value whose bytes are kept (see Purpose)
  kEnd,         // after the top-level value: only whitespace
};

// What the value being captured is.
enum class Purpose { kItem, kMemberName, kMode, kAllowMassRemoval };
enum class Member { kNone, kData, kMode, kAllowMassRemoval };
// Shape of the value being captured: how its end is found.
enum class Shape { kNested, kScalar };  // kNested: a string, object or array

// The id member names, in priority order ("" for none).
void IdKeys(const ImportParserOptions& options, std::string keys[2]) {
  if (!options.id_field.empty()) {
    keys[0] = options.id_field;
    keys[1].clear();
  } else {
    keys[0] = "external_id";
    keys[1] = "id";
  }
}

// One past the end of the (possibly nested) raw value starting at raw[pos],
// or npos. Strings are skipped with memchr; whitespace inside is fine.
size_t RawValueEnd(std::string_view raw, size_t pos) {
  const char c = raw[pos];
  if (c == '"') return json_scan::StringEnd(raw, pos);
  if (c != '{' && c != '[') {
    size_t i = pos;
    while (i < raw.size() && IsScalarByte(raw[i])) ++i;
    return i == pos ? std::string_view::npos : i;
  }
  size_t depth = 0;
  for (size_t i = pos; i < raw.size();) {
    const char b = raw[i];
    if (b == '"') {
      i = json_scan::StringEnd(raw, i);
      if (i == std::string_view::npos) return i;
      continue;
    }
    if (b == '{' || b == '[') {
      ++depth;
    } else if (b == '}' || b == ']') {
      if (depth == 0) return std::string_view::npos;
      if (--depth == 0) return i + 1;
    }
    ++i;
  }
  return std::string_view::npos;
}

size_t SkipSpace(std::string_view raw, size_t i) {
  while (i < raw.size() && IsJsonSpace(raw[i])) ++i;
  return i;
}

// The raw-bytes fast path's scan of one item (ImportParserOptions::
// defer_canonical): reads the top-level members, finds the id and hashes
// the bytes with each ignored member masked; with `check_ignored`, an
// ignored member's value must be a well-formed scalar (only a deferred item
// needs it: one canonicalized at once is validated by the canonicalizer).
// False when the item is not a candidate (then it is canonicalized as
// usual). On well-formed JSON the scan is exact.
//
// Why an item whose hash equals a stored one needs no validation: that
// hash was taken by this scan of an item W that was accepted, so W is
// well-formed UTF-8 and holds no 0xFF byte; 0xFF in W's hashed stream marks
// its masked members only. An item X with the same stream has, outside its
// own masked members, W's bytes outside W's, in the same places. The scan
// reads both alike up to the first place they differ, which can only be a
// masked member: there W's scan stood where a key begins, and so does X's,
// which then reads a member too (a raw 0xFF byte there is not a key) whose
// value is a well-formed scalar (checked below), and both go on alike. So X
// is W with well-formed scalar members of the same names in place of W's:
// well-formed, with the same canonical form once they are left out.
bool ScanRaw(std::string_view raw, const std::vector<std::string>& ignore,
             const std::string id_keys[2], bool check_ignored, std::string* id, uint64_t* hash) {
  size_t i = SkipSpace(raw, 0);
  if (i >= raw.size() || raw[i] != '{') return false;
  ++i;
  XXH3_state_t state;
  XXH3_64bits_reset(&state);
  size_t segment = 0;  // start of the bytes not hashed yet
  std::string_view found[2];
  bool have[2] = {false, false};
  uint64_t ignored_seen = 0;  // bit k: ignore[k] met (at most 64 are tracked)
  if (ignore.size() > 64) return false;
  i = SkipSpace(raw, i);
  if (i < raw.size() && raw[i] == '}') {
    ++i;
  } else {
    while (true) {
      if (i >= raw.size() || raw[i] != '"') return false;
      const size_t key_begin = i;
      const void* q = std::memchr(raw.data() + i + 1, '"', raw.size() - i - 1);
      if (q == nullptr) return false;
      const size_t key_end = static_cast<size_t>(static_cast<const char*>(q) - raw.data());
      const std::string_view key = raw.substr(i + 1, key_end - i - 1);
      if (key.find('\\') != std::string_view::npos) return false;  // escaped keys: slow path
      i = SkipSpace(raw, key_end + 1);
      if (i >= raw.size() || raw[i] != ':') return false;
      i = SkipSpace(raw, i + 1);
      if (i >= raw.size()) return false;
      const size_t value_begin = i;
      const size_t value_end = RawValueEnd(raw, i);
      if (value_end == std::string_view::npos) return false;
      const std::string_view value = raw.substr(value_begin, value_end - value_begin);
      for (size_t k = 0; k < ignore.size(); ++k) {
        if (ignore[k] != key) continue;
        const uint64_t bit = uint64_t{1} << k;
        if ((ignored_seen & bit) != 0) return false;  // duplicate: let the canonicalizer refuse it
        if (value[0] == '{' || value[0] == '[') return false;  // nested: depth unchecked
        // Its error comes from the canonicalizer.
        if (check_ignored && !IsWellFormedScalar(value)) return false;
        ignored_seen |= bit;
        XXH3_64bits_update(&state, raw.data() + segment, key_begin - segment);
        XXH3_64bits_update(&state, "\xff", 1);
        segment = value_end;
        break;
      }
      for (int k = 0; k < 2; ++k) {
        if (id_keys[k].empty() || key != id_keys[k]) continue;
        if (have[k]) return false;
        have[k] = true;
        found[k] = value;
      }
      i = SkipSpace(raw, value_end);
      if (i >= raw.size()) return false;
      if (raw[i] == ',') {
        i = SkipSpace(raw, i + 1);
        continue;
      }
      if (raw[i] != '}') return false;
      ++i;
      break;
    }
  }
  if (SkipSpace(raw, i) != raw.size()) return false;
  const int k = have[0] ? 0 : 1;
  if (!have[k]) return false;
  const std::string_view v = found[k];
  if (v.size() < 3 || v.size() - 2 > kMaxExternalIdBytes || v[0] != '"' ||
      v.find('\\') != std::string_view::npos) {
    return false;
  }
  id->assign(v.substr(1, v.size() - 2));
  XXH3_64bits_update(&state, raw.data() + segment, raw.size() - segment);
  *hash = XXH3_64bits_digest(&state);
  return true;
}

std::string ItemPrefixOf(uint64_t index) { return "item " + std::to_string(index) + ": "; }

// Reads the id from the canonical form, so the id is a function of the
// stored data: 1, 1.0 and 1e0 are the same canonical value "1" and the same
// id; a number whose canonical form is not plain digits is not an integer.
Status ExtractIdFrom(std::string_view canonical, const ImportParserOptions& options,
                     const std::string id_keys[2], uint64_t index, std::string* id) {
  const std::string prefix = ItemPrefixOf(index);
  std::string_view found[2];
  bool have[2] = {false, false};
  size_t pos = 1;  // past '{'
  while (pos < canonical.size() && canonical[pos] == '"') {
    const size_t key_end = json_scan::StringEnd(canonical, pos);
    if (key_end == std::string_view::npos || key_end >= canonical.size()) break;
    const std::string_view raw_key = canonical.substr(pos + 1, key_end - pos - 2);
    const size_t value_end = json_scan::ValueEnd(canonical, key_end + 1);
    if (value_end == std::string_view::npos) break;
    const std::string key = json_scan::Unescape(raw_key);
    for (int k = 0; k < 2; ++k) {
      if (!id_keys[k].empty() && key == id_keys[k]) {
        found[k] = canonical.substr(key_end + 1, value_end - key_end - 1);
        have[k] = true;
      }
    }
    if (have[0]) break;   // the first choice wins; no need to read further
    pos = value_end + 1;  // past ',' or '}'
  }
  const int k = have[0] ? 0 : 1;
  const std::string name =
      options.id_field.empty() ? (have[0] ? "external_id" : "id") : options.id_field;
  if (!have[k]) {
    return Status::InvalidArgument(prefix +
                                   (options.id_field.empty()
                                        ? std::string("missing \"external_id\" (or \"id\")")
                                        : "missing \"" + options.id_field + "\""));
  }
  const std::string_view v = found[k];
  auto wrong = [&](const char* what) {
    return Status::InvalidArgument(prefix + "\"" + name +
                                   "\" must be a string or an integer, not " + what);
  };
  if (v.empty()) return wrong("an unreadable value");
  if (v[0] == '"') {
    const std::string_view body = v.substr(1, v.size() - 2);
    *id = json_scan::Unescape(body);
    if (id->empty()) return Status::InvalidArgument(prefix + "\"" + name + "\" is empty");
    if (id->size() > kMaxExternalIdBytes) {
      return Status::InvalidArgument(prefix + "\"" + name + "\" is longer than " +
                                     std::to_string(kMaxExternalIdBytes) + " bytes");
    }
    return Status::Ok();
  }
  if (v[0] == '{') return wrong("an object");
  if (v[0] == '[') return wrong("an array");
  if (v[0] == 't' || v[0] == 'f') return wrong("a boolean");
  if (v[0] == 'n') return wrong("null");
  const size_t digits_begin = v[0] == '-' ? 1 : 0;
  if (v.size() == digits_begin ||
      v.find_first_not_of("0123456789", digits_begin) != std::string_view::npos) {
    return wrong("a floating-point number");
  }
  *id = std::string(v);
  return Status::Ok();
}

}  // namespace

struct ImportParser::Impl {
  explicit Impl(ImportParserOptions opts) : options(std::move(opts)) { IdKeys(options, id_keys); }

  Status Fail(Status st) {
    dead = true;
    error = st;
    return st;
  }

  Status FeedJson(std::string_view chunk, const Sink& sink);
  Status FeedNdjson(std::string_view chunk, const Sink& sink);
  Status OnStructural(char c, size_t offset);
  void StartCapture(Purpose purpose, char first);
  size_t ScanCapture(std::string_view chunk, size_t i, bool* done);
  Status CompleteCapture(const Sink& sink);
  Status OnMemberName();
  Status EmitItem(std::string_view raw, const Sink& sink);
  std::string ItemPrefix() const { return "item " + std::to_string(items - 1) + ": "; }

  // Constant after construction.
  const ImportParserOptions options;
  std::string id_keys[2];  // the id member names, in priority order; "": none

  bool dead = false;
  Status error;
  uint64_t items = 0;
  uint64_t bytes = 0;

  // JSON form.
  State state = State::kStart;
  bool in_data = false;  // the array being read is the wrapper's "data"
  bool seen_data = false;
  Member member = Member::kNone;
  std::optional<ImportMode> mode;
  std::optional<bool> allow_mass_removal;

  // The value being captured (kCapture) or the NDJSON line being read.
  std::string buf;
  Purpose purpose = Purpose::kItem;
  Shape shape = Shape::kNested;
  size_t depth = 0;
  bool in_string = false;
  bool escape = false;
  bool in_line = false;  // NDJSON: a non-blank line has started
  // ParseNdjsonLines: deferred items borrow their bytes (raw_view).
  bool borrow_raw = false;
};

ImportParser::ImportParser(ImportParserOptions options)
    : impl_(std::make_unique<Impl>(std::move(options))) {}
ImportParser::~ImportParser() = default;

std::optional<ImportMode> ImportParser::body_mode() const { return impl_->mode; }
std::optional<bool> ImportParser::body_allow_mass_removal() const {
  return impl_->allow_mass_removal;
}
uint64_t ImportParser::items() const { return impl_->items; }

bool ImportParser::at_line_start() const {
  return !impl_->dead && impl_->options.format == BodyFormat::kNdjson && !impl_->in_line;
}

Status ImportParser::Adopt(std::string_view lines, std::vector<ParsedItem>&& items,
                           const Sink& sink) {
  Impl& m = *impl_;
  if (!at_line_start()) {
    return m.Fail(Status::Internal("import parser: lines adopted in the middle of a line"));
  }
  m.bytes += lines.size();
  for (ParsedItem& item : items) {
    item.index += m.items;
  }
  m.items += items.size();
  for (ParsedItem& item : items) {
    Status st = sink(std::move(item));
    if (!st.ok()) return m.Fail(std::move(st));
  }
  return Status::Ok();
}

Status ParseNdjsonLines(const ImportParserOptions& options, std::string_view lines,
                        std::vector<ParsedItem>* out) {
  if (!lines.empty() && lines.back() != '\n') {
    return Status::Internal("import parser: a piece of lines ends mid-line");
  }
  ImportParser::Impl m(options);
  m.borrow_raw = true;
  const ImportParser::Sink sink = [out](ParsedItem&& item) {
    out->push_back(std::move(item));
    return Status::Ok();
  };
  // FeedNdjson's loop over whole lines, each handed to EmitItem where it
  // lies instead of through the line buffer.
  const char* p = lines.data();
  const size_t n = lines.size();
  size_t i = 0;
  while (i < n) {
    while (i < n && IsJsonSpace(p[i])) ++i;  // leading whitespace, blank lines
    if (i == n) break;
    const size_t stop =
        static_cast<size_t>(static_cast<const char*>(std::memchr(p + i, '\n', n - i)) - p);
    if (stop - i > kMaxItemBytes) {
      return m.Fail(Status::PayloadTooLarge("item " + std::to_string(m.items) +
                                            ": line larger than " +
                                            std::to_string(kMaxItemBytes >> 20) + " MiB"));
    }
    size_t len = stop - i;
    while (len > 0 && IsJsonSpace(p[i + len - 1])) --len;  // "\r" of CRLF, trailing blanks
    SYNCMGR_RETURN_IF_ERROR(m.EmitItem(lines.substr(i, len), sink));
    i = stop + 1;
  }
  return Status::Ok();
}

uint64_t ImportParser::bytes() const { return impl_->bytes; }

Status ImportParser::Feed(std::string_view chunk, const Sink& sink) {
  if (impl_->dead) return impl_->error;
  impl_->bytes += chunk.size();
  return impl_->options.format == BodyFormat::kNdjson ? impl_->FeedNdjson(chunk, sink)
                                                      : impl_->FeedJson(chunk, sink);
}

Status ImportParser::Finish(const Sink& sink) {
  Impl& m = *impl_;
  if (m.dead) return m.error;
  if (m.options.format == BodyFormat::kNdjson) {
    if (m.in_line) {
      std::string line = std::move(m.buf);
      while (!line.empty() && IsJsonSpace(line.back())) line.pop_back();
      m.in_line = false;
      SYNCMGR_RETURN_IF_ERROR(m.EmitItem(line, sink));
    }
    // No line at all is a batch of zero items, like `[]`: an upsert does
    // nothing; a full import meets the mass-removal guard.
    return Status::Ok();
  }
  if (m.state == State::kStart) return m.Fail(Status::InvalidJson("empty body"));
  if (m.state != State::kEnd) {
    return m.Fail(Status::InvalidJson("truncated body: unexpected end after " +
                                      std::to_string(m.bytes) + " bytes"));
  }
  return Status::Ok();
}

Status ImportParser::Impl::FeedNdjson(std::string_view chunk, const Sink& sink) {
  size_t i = 0;
  while (i < chunk.size()) {
    if (!in_line) {
      // Leading whitespace, including whole blank lines, is skipped.
      while (i < chunk.size() && IsJsonSpace(chunk[i])) ++i;
      if (i == chunk.size()) break;
      in_line = true;
      buf.clear();
    }
    const char* nl =
        static_cast<const char*>(std::memchr(chunk.data() + i, '\n', chunk.size() - i));
    const size_t stop = nl ? static_cast<size_t>(nl - chunk.data()) : chunk.size();
    if (buf.size() + (stop - i) > kMaxItemBytes) {
      return Fail(Status::PayloadTooLarge("item " + std::to_string(items) + ": line larger than " +
                                          std::to_string(kMaxItemBytes >> 20) + " MiB"));
    }
    buf.append(chunk.data() + i, stop - i);
    i = stop;
    if (!nl) break;
    ++i;  // the '\n'
    in_line = false;
    size_t len = buf.size();
    while (len > 0 && IsJsonSpace(buf[len - 1])) --len;  // "\r" of CRLF, trailing blanks
    SYNCMGR_RETURN_IF_ERROR(EmitItem(std::string_view(buf).substr(0, len), sink));
  }
  return Status::Ok();
}

Status ImportParser::Impl::FeedJson(std::string_view chunk, const Sink& sink) {
  size_t i = 0;
  while (i < chunk.size()) {
    if (state == State::kCapture) {
      bool done = false;
      const size_t stop = ScanCapture(chunk, i, &done);
      const size_t limit = purpose == Purpose::kItem ? kMaxItemBytes : kMaxMemberBytes;
      if (buf.size() + (stop - i) > limit) {
        if (purpose == Purpose::kItem) {
          return Fail(Status::PayloadTooLarge(ItemPrefix() + "larger than " +
                                              std::to_string(kMaxItemBytes >> 20) + " MiB"));
        }
        return Fail(Status::InvalidArgument("body member name or value longer than " +
                                            std::to_string(kMaxMemberBytes) + " bytes"));
      }
      buf.append(chunk.data() + i, stop - i);
      i = stop;
      if (done) SYNCMGR_RETURN_IF_ERROR(CompleteCapture(sink));
      continue;
    }
    const char c = chunk[i];
    if (IsJsonSpace(c)) {
      ++i;
      continue;
    }
    SYNCMGR_RETURN_IF_ERROR(OnStructural(c, bytes - chunk.size() + i));
    // A value's first byte is part of the value: ScanCapture consumes it.
    if (state != State::kCapture) ++i;
  }
  return Status::Ok();
}

// Handles one non-whitespace byte outside any captured value.
Status ImportParser::Impl::OnStructural(char c, size_t offset) {
  auto bad = [&](const std::string& what) {
    return Fail(Status::InvalidJson(what + " at byte " + std::to_string(offset)));
  };
  auto array_closed = [&] {
    state = in_data ? State::kObjAfter : State::kEnd;
    in_data = false;
  };
  switch (state) {
    case State::kStart:
      if (c == '[') {
        state = State::kArrayFirst;
      } else if (c == '{') {
        state = State::kObjFirst;
      } else if (c == '"' || IsScalarByte(c)) {
        return Fail(Status::InvalidArgument(
            "body must be a JSON array of objects or an object with \"data\""));
      } else {
        return bad("unexpected character");
      }
      return Status::Ok();
    case State::kArrayFirst:
    case State::kArrayNext:
      if (c == ']') {
        if (state == State::kArrayNext) return bad("trailing comma before ']'");
        array_closed();
        return Status::Ok();
      }
      if (c != '{' && c != '[' && c != '"' && !IsScalarByte(c)) return bad("expected an item");
      StartCapture(Purpose::kItem, c);
      return Status::Ok();
    case State::kArrayAfter:
      if (c == ',') {
        state = State::kArrayNext;
      } else if (c == ']') {
        array_closed();
      } else {
        return bad("expected ',' or ']' after item " + std::to_string(items - 1));
      }
      return Status::Ok();
    case State::kObjFirst:
    case State::kObjNext:
      if (c == '}' && state == State::kObjFirst) {
        return Fail(Status::InvalidArgument("body object has no \"data\" member"));
      }
      if (c != '"') return bad("expected a member name");
      StartCapture(Purpose::kMemberName, c);
      return Status::Ok();
    case State::kObjColon:
      if (c != ':') return bad("expected ':'");
      state = State::kObjValue;
      return Status::Ok();
    case State::kObjValue:
      if (member == Member::kData) {
        if (c != '[') return Fail(Status::InvalidArgument("\"data\" must be an array"));
        in_data = true;
        state = State::kArrayFirst;
        return Status::Ok();
      }
      if (c != '{' && c != '[' && c != '"' && !IsScalarByte(c)) return bad("expected a value");
      StartCapture(member == Member::kMode ? Purpose::kMode : Purpose::kAllowMassRemoval, c);
      return Status::Ok();
    case State::kObjAfter:
      if (c == ',') {
        state = State::kObjNext;
      } else if (c == '}') {
        if (!seen_data) return Fail(Status::InvalidArgument("body object has no \"data\" member"));
        state = State::kEnd;
      } else {
        return bad("expected ',' or '}'");
      }
      return Status::Ok();
    case State::kEnd:
      return bad("unexpected data after the end of the body");
    case State::kCapture:
      break;
  }
  return Fail(Status::Internal("import parser in an impossible state"));
}

void ImportParser::Impl::StartCapture(Purpose p, char first) {
  state = State::kCapture;
  purpose = p;
  shape = (first == '{' || first == '[' || first == '"') ? Shape::kNested : Shape::kScalar;
  depth = 0;
  in_string = false;
  escape = false;
  buf.clear();
  if (p == Purpose::kItem) ++items;
}

// Scans chunk[i..] for the end of the captured value. Returns where scanning
// stopped (one past the value's last byte when *done).
size_t ImportParser::Impl::ScanCapture(std::string_view chunk, size_t i, bool* done) {
  const char* p = chunk.data();
  const size_t n = chunk.size();
  if (shape == Shape::kScalar) {
    while (i < n && IsScalarByte(p[i])) ++i;
    *done = i < n;  // the delimiter is not part of the value
    return i;
  }
  while (i < n) {
    if (escape) {
      escape = false;
      ++i;
      continue;
    }
    if (in_string) {
      // Jump to the next quote unless a backslash comes first (memchr is
      // vectorized; string bodies are most of a listing's bytes).
      const void* q = std::memchr(p + i, '"', n - i);
      const size_t quote = q ? static_cast<size_t>(static_cast<const char*>(q) - p) : n;
      const void* b = std::memchr(p + i, '\\', quote - i);
      if (b) {
        i = static_cast<size_t>(static_cast<const char*>(b) - p) + 1;
        escape = true;
        continue;
      }
      if (quote == n) return n;
      i = quote + 1;
      in_string = false;
      if (depth == 0) {
        *done = true;
        return i;
      }
      continue;
    }
    switch (p[i++]) {
      case '"':
        in_string = true;
        break;
      case '{':
      case '[':
        ++depth;
        break;
      case '}':
      case ']':
        if (--depth == 0) {
          *done = true;
          return i;
        }
        break;
      default:
        break;
    }
  }
  return i;
}

Status ImportParser::Impl::CompleteCapture(const Sink& sink) {
  switch (purpose) {
    case Purpose::kItem:
      state = State::kArrayAfter;
      return EmitItem(buf, sink);
    case Purpose::kMemberName:
      state = State::kObjColon;
      return OnMemberName();
    case Purpose::kMode:
    case Purpose::kAllowMassRemoval:
      break;
  }
  state = State::kObjAfter;
  simdjson::dom::parser parser;
  simdjson::dom::element value;
  const simdjson::padded_string padded(buf);
  if (auto err = parser.parse(padded).get(value)) {
    return Fail(
        Status::InvalidJson(std::string("malformed JSON: ") + simdjson::error_message(err)));
  }
  if (purpose == Purpose::kAllowMassRemoval) {
    if (!value.is_bool()) {
      return Fail(Status::InvalidArgument("\"allow_mass_removal\" must be true or false"));
    }
    allow_mass_removal = value.get_bool().value_unsafe();
    return Status::Ok();
  }
  const std::string_view name = value.is_string() ? value.get_string().value_unsafe() : buf;
  if (name == "upsert") {
    mode = ImportMode::kUpsert;
  } else if (name == "full") {
    mode = ImportMode::kFull;
  } else {
    return Fail(Status::InvalidArgument("unknown mode " + std::string(buf) +
                                        " (expected \"upsert\" or \"full\")"));
  }
  return Status::Ok();
}

Status ImportParser::Impl::OnMemberName() {
  simdjson::dom::parser parser;
  std::string_view name;
  const simdjson::padded_string padded(buf);
  if (auto err = parser.parse(padded).get_string().get(name)) {
    return Fail(
        Status::InvalidJson(std::string("malformed JSON: ") + simdjson::error_message(err)));
  }
  bool seen = false;
  if (name == "data") {
    member = Member::kData;
    seen = seen_data;
    seen_data = true;
  } else if (name == "mode") {
    member = Member::kMode;
    seen = mode.has_value();
  } else if (name == "allow_mass_removal") {
    member = Member::kAllowMassRemoval;
    seen = allow_mass_removal.has_value();
  } else {
    return Fail(Status::InvalidArgument("unknown body member " + buf +
                                        " (expected \"data\", \"mode\", \"allow_mass_removal\")"));
  }
  if (seen) return Fail(Status::InvalidArgument("duplicate body member " + buf));
  return Status::Ok();
}

Status ImportParser::Impl::EmitItem(std::string_view raw, const Sink& sink) {
  if (options.format == BodyFormat::kNdjson) ++items;  // JSON items count at their start
  ParsedItem item;
  item.index = items - 1;
  uint64_t scanned_hash = 0;
  const bool scanned =
      ScanRaw(raw, options.ignore_fields, id_keys, /*check_ignored=*/options.defer_canonical,
              &item.external_id, &scanned_hash);
  Status st;
  // Not validated here: an item the caller finds unchanged needs no
  // validation (ScanRaw says why), and CanonicalizeDeferred validates the
  // others. Validating every item (simdjson's whole parse) was ~12 % of a
  // day-1 import's CPU, where ~99 % of the items are unchanged.
  if (scanned && options.defer_canonical) {
    item.deferred = true;
    if (borrow_raw) {
      item.raw_view = raw;
    } else {
      item.raw.assign(raw);
    }
  } else {
    st = CanonicalizeObject(raw, options.ignore_fields, &item.doc);
    if (!st.ok()) return Fail(Status(st.code(), ItemPrefix() + st.message()));
    std::string id;
    st = ExtractIdFrom(item.doc.json, options, id_keys, item.index, &id);
    if (!st.ok()) return Fail(std::move(st));
    if (scanned && id != item.external_id) {
      return Fail(Status::Internal(ItemPrefix() + "the raw scan misread the id"));
    }
    item.external_id = std::move(id);
  }
  item.raw_hash = scanned ? scanned_hash : RawHash(raw);
  st = sink(std::move(item));
  if (!st.ok()) return Fail(std::move(st));
  return Status::Ok();
}

Status CanonicalizeDeferred(ParsedItem* item, const ImportParserOptions& options) {
  if (!item->deferred) return Status::Ok();
  Status st = CanonicalizeObject(item->raw, options.ignore_fields, &item->doc);
  if (!st.ok()) return Status(st.code(), ItemPrefixOf(item->index) + st.message());
  std::string id_keys[2];
  IdKeys(options, id_keys);
  std::string id;
  SYNCMGR_RETURN_IF_ERROR(ExtractIdFrom(item->doc.json, options, id_keys, item->index, &id));
  if (id != item->external_id) {
    return Status::Internal(ItemPrefixOf(item->index) + "the raw scan misread the id");
  }
  item->deferred = false;
  std::string().swap(item->raw);
  return Status::Ok();
}

}  // namespace syncmgr
