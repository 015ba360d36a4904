// Scanning JSON text without a parser: where a string or a value ends, and
// the decoding of a string body. Shared by the canonical writer
// (canonical_json.cc) and the import parser (import_parser.cc). Internal to
// engine/.
//
// Made for canonical text (canonical_json.h: no whitespace, minimal
// escapes), which needs no reparse to be taken apart; StringEnd serves raw
// JSON text too, since it only skips escapes. On text that is not JSON the
// answers are unspecified but stay within `text`.
//
// StringEnd, ValueEnd and Unescape's common case are inline: they run once
// per member of every imported item (the import's hot path).
//
// Thread-safety: pure functions.
#pragma once

#include <cstddef>
#include <cstring>
#include <string>
#include <string_view>

namespace syncmgr::json_scan {

// One past the end of the JSON string starting at text[pos] == '"', or npos
// when it does not end within `text`.
inline size_t StringEnd(std::string_view text, size_t pos) {
  for (size_t i = pos + 1; i < text.size();) {
    // memchr is vectorized; a quote closes the string unless an odd run of
    // backslashes precedes it.
    const void* q = std::memchr(text.data() + i, '"', text.size() - i);
    if (q == nullptr) break;
    const size_t quote = static_cast<size_t>(static_cast<const char*>(q) - text.data());
    size_t backslashes = 0;
    while (quote - backslashes > i && text[quote - backslashes - 1] == '\\') ++backslashes;
    i = quote + 1;
    if (backslashes % 2 == 0) return i;
  }
  return std::string_view::npos;
}

// One past the end of the canonical value starting at text[pos] (for a
// scalar: the position of the ',', '}' or ']' after it), or npos.
inline size_t ValueEnd(std::string_view text, size_t pos) {
  size_t depth = 0;
  for (size_t i = pos; i < text.size();) {
    const char c = text[i];
    if (c == '"') {
      i = StringEnd(text, i);
      if (i == std::string_view::npos || depth == 0) return i;
      continue;
    }
    if (c == '{' || c == '[') {
      ++depth;
    } else if (c == '}' || c == ']' || c == ',') {
      if (depth == 0) return i == pos ? std::string_view::npos : i;  // end of a scalar
      if (c != ',' && --depth == 0) return i + 1;
    }
    ++i;
  }
  return std::string_view::npos;
}

// Decodes a string body (the bytes between its quotes). Canonical text
// escapes only '"', '\\' and bytes below 0x20 (as \b \f \n \r \t or
// \u00XX); the other JSON escapes ('/') decode too. A \u escape stands for
// one byte: canonical text never \u-escapes a byte of 0x20 or more.
std::string DecodeEscapes(std::string_view raw);

// DecodeEscapes, with the usual case inline: no backslash, a plain copy.
inline std::string Unescape(std::string_view raw) {
  if (raw.find('\\') == std::string_view::npos) return std::string(raw);
  return DecodeEscapes(raw);
}

}  // namespace syncmgr::json_scan
