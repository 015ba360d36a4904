// ImportParser: turns an import body, fed in chunks of any size, into
// validated, canonicalized items without ever holding the whole body.
//
// Accepted bodies (SPEC §4 Import):
//   * kJson:   a JSON array of objects, or an object {"data": [...]} with an
//              optional "mode": "upsert" | "full" and optional
//              "allow_mass_removal": bool (members in any order);
//   * kNdjson: one JSON object per line; blank lines are skipped.
// Every item must be an object with an id: the source's id_field (default
// "external_id", falling back to "id"), a non-empty string of at most 256
// bytes or an integer (its decimal digits), nesting at most kMaxJsonDepth.
//
// Errors name the item (0-based index) and say what is wrong. Duplicate ids
// inside one batch are NOT detected here (the engine does it with its id
// map). Not thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/canonical_json.h"
#include "engine/status.h"
#include "engine/types.h"

namespace syncmgr {

inline constexpr size_t kMaxExternalIdBytes = 256;

struct ParsedItem {
  std::string external_id;
  CanonicalDoc doc;       // canonical JSON and hash (ignore_fields left out of the hash)
  // XXH3-64 of the item's raw bytes with every top-level ignore_fields member
  // ("key": value, whitespace around the colon included) replaced by one 0xFF
  // byte, so it does not change when only ignored fields do; equal to
  // RawHash(raw) when the item has no ignored member. Items the raw scan
  // cannot read (see defer_canonical) get RawHash(raw).
  uint64_t raw_hash = 0;
  uint64_t index = 0;     // 0-based position in the body
  // Set only with ImportParserOptions::defer_canonical: the item's raw bytes,
  // neither validated nor canonicalized (their top level was scanned, the
  // values of ignored members are well-formed scalars); `doc` is empty
  // until CanonicalizeDeferred, which validates them.
  bool deferred = false;
  std::string raw;
  // Set instead of `raw` by ParseNdjsonLines: a deferred item's bytes,
  // borrowed from the lines it parsed (no copy for an item the caller then
  // finds unchanged). The caller moves them into `raw` (OwnRaw) or drops
  // the item before those bytes go away.
  std::string_view raw_view;
};

// Copies a borrowed deferred item's bytes (raw_view) into raw.
inline void OwnRaw(ParsedItem* item) {
  if (item->raw_view.empty()) return;
  item->raw.assign(item->raw_view);
  item->raw_view = {};
}

struct ImportParserOptions {
  BodyFormat format = BodyFormat::kJson;
  std::string id_field;  // empty: "external_id", falling back to "id"
  std::vector<std::string> ignore_fields;
  // The import's raw-bytes fast path. When set, an item whose top level a
  // cheap byte scan can read (keys without escapes; the id a string without
  // escapes, 1..256 bytes; each ignored member at most once, with a
  // well-formed scalar value) is handed to the sink with `deferred` set, its
  // id and raw_hash filled, and its bytes in `raw`, neither validated nor
  // canonicalized: the caller either finds raw_hash equal to the one stored
  // for that id — then the item is unchanged and nothing is left to check,
  // since every byte outside the ignored scalars equals an item accepted
  // before (import_parser.cc, ScanRaw, says why that makes it well-formed) —
  // or calls CanonicalizeDeferred, which refuses a malformed item with the
  // error the parser would have given. Other items are canonicalized at
  // once. A malformed deferred item is therefore refused when it is
  // canonicalized (on the import's apply thread), not when it is parsed.
  bool defer_canonical = false;
};

// Parses `lines` — a piece of an NDJSON body made of whole lines (empty, or
// ending in '\n') — into *out, numbering items from 0, independently of any
// ImportParser: the piece of a chunk that another thread parses while the
// session's parser reads the bytes before it (ImportParser::Adopt). On an
// error *out is incomplete and the error's item number is relative to the
// piece; the caller then feeds the same bytes to its parser, which finds the
// same error with the body's own item number. Thread-safe (no shared state).
Status ParseNdjsonLines(const ImportParserOptions& options, std::string_view lines,
                        std::vector<ParsedItem>* out);

// Completes a deferred item: validates and canonicalizes item->raw into
// item->doc, with the checks and error messages ("item N: ...") the parser
// applies to other items, and checks the canonical id is the scanned one.
Status CanonicalizeDeferred(ParsedItem* item, const ImportParserOptions& options);

class ImportParser {
 public:
  using Sink = std::function<Status(ParsedItem&&)>;

  explicit ImportParser(ImportParserOptions options);
  ~ImportParser();
  ImportParser(const ImportParser&) = delete;
  ImportParser& operator=(const ImportParser&) = delete;

  // Consumes a chunk; calls `sink` for every item completed by it, in order.
  // Returns the first error (from the input or from the sink); after an
  // error the parser is dead.
  Status Feed(std::string_view chunk, const Sink& sink);
  // Ends the input: checks the body is complete (closing brackets, a "data"
  // member present for the object form) and flushes a last NDJSON line.
  Status Finish(const Sink& sink);

  // Whether the parser stands at the start of an NDJSON line (no partial
  // line buffered) and is not dead: where Adopt may continue.
  bool at_line_start() const;
  // Continues the body with `lines` (whole NDJSON lines, as for
  // ParseNdjsonLines) already parsed elsewhere into `items`: renumbers them
  // after the items read so far, counts the lines' bytes and hands each item
  // to `sink`, in order — as Feed(lines, sink) would have. REQUIRES:
  // at_line_start(), and `items` is ParseNdjsonLines(options, lines)'s
  // successful output.
  Status Adopt(std::string_view lines, std::vector<ParsedItem>&& items, const Sink& sink);

  // The body's "mode" member, if it had one (kJson object form only).
  std::optional<ImportMode> body_mode() const;
  // The body's "allow_mass_removal" member, if it had one.
  std::optional<bool> body_allow_mass_removal() const;
  uint64_t items() const;
  uint64_t bytes() const;

 private:
  friend Status ParseNdjsonLines(const ImportParserOptions&, std::string_view,
                                 std::vector<ParsedItem>*);
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace syncmgr
