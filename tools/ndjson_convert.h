// JsonArrayToNdjson: turns a JSON array body ([item, item, ...]) into NDJSON
// (one item per line) as it streams, without parsing the items.
//
// Why: a server caps JSON request bodies (16 MiB by default) but streams
// NDJSON imports of any size, so remote mode sends a JSON array file as
// NDJSON. The import is the same: the same items in the same order (each
// item's bytes are kept, only whitespace outside strings is dropped), so the
// server reports the same stats and the same per-item errors.
//
// Errors in the array's own structure (a missing comma, a trailing comma,
// bytes after the closing bracket, a truncated body, a raw control
// character in a string) are InvalidJson, found here; the items themselves
// are checked by the server.
//
// Thread-safety: not thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "tools/backend.h"

namespace syncmgr::cli {

class JsonArrayToNdjson : public ImportInput {
 public:
  // REQUIRES: `inner` outlives this and yields a body whose first
  // non-whitespace byte is '['. nullptr: push mode (Push, Finish), for a
  // body that arrives in pieces (an answer read from the server).
  explicit JsonArrayToNdjson(ImportInput* inner) : inner_(inner) {}

  Status Next(std::string* chunk, size_t max_bytes) override;

  // Push mode: converts the next piece, appending the items it completes to
  // *out, one line each. Finish: the array must have ended.
  Status Push(std::string_view piece, std::string* out) { return Convert(piece, out); }
  Status Finish() const;
  // The size of the input (the output is at most as large).
  uint64_t size_hint() const override { return inner_ != nullptr ? inner_->size_hint() : 0; }

  uint64_t bytes_read() const override { return input_bytes_; }

 private:
  enum class State { kBeforeArray, kFirstItemOrEnd, kItem, kInItem, kAfterItem, kDone };

  // Converts `in` and appends to *out.
  Status Convert(std::string_view in, std::string* out);
  Status Error(const std::string& what) const;

  ImportInput* inner_;
  State state_ = State::kBeforeArray;
  int depth_ = 0;  // nesting inside the current item
  bool in_string_ = false;
  bool escape_ = false;
  uint64_t items_ = 0;
  uint64_t input_bytes_ = 0;
  bool input_ended_ = false;
  std::string buffer_;
};

}  // namespace syncmgr::cli
