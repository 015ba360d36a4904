// The engine's streamed input and output: ImportSession (an import body in,
// chunk by chunk) and PropertyCursor (a property listing out, row by row).
// Made by Engine::BeginImport and Engine::ListProperties (engine/engine.h).
//
// Thread-safety: neither is thread-safe; use each from one thread at a time
// (not necessarily the same one throughout). Both may be used while other
// threads use the Engine, and must be destroyed before the Engine is.
#pragma once

#include <cstdint>
#include <string_view>

#include "engine/status.h"
#include "engine/types.h"

namespace syncmgr {

// An import in progress. Feed the body with Append (in chunks of any size),
// then Finish. Destroying a session without Finish discards it: nothing of it
// becomes visible. Append and Finish block (RocksDB reads and writes, and
// from the first full buffer on, the tenant's write lock); the destructor may
// block briefly to delete records the session wrote ahead.
//
// Errors. Once Append or Finish has returned an error, the session is dead:
// every later call returns that error, and nothing of the import is ever
// visible. The codes:
//   InvalidJson      the body or an item is not well-formed JSON (or UTF-8);
//   InvalidArgument  an item is not an object, lacks its id or has an id that
//                    is neither a non-empty string of at most 256 bytes nor
//                    an integer; nests deeper than kMaxJsonDepth; repeats a
//                    key; an id appears twice in the body; the body's "mode"
//                    contradicts ImportOptions::mode when mode_explicit;
//   PayloadTooLarge  one item (an NDJSON line) is larger than 16 MiB;
//   MassRemoval      (Finish, full mode) the import would remove more than
//                    the source's max_removal_ratio of its live properties
//                    and allow_mass_removal is not set;
//   NoSpace, Unavailable, NotFound, Corruption, Internal
//                    as for every write (Engine, "Errors"): once the body
//                    outgrows the import buffer, Append already writes, so
//                    it can return them too.
// Messages about items name the item by its 0-based index ("item 3: ...").
class ImportSession {
 public:
  virtual ~ImportSession() = default;
  // Consumes the next chunk of the body. Returns the first error found so
  // far (see above).
  virtual Status Append(std::string_view chunk) = 0;
  // Ends the input, applies the import atomically and returns its result:
  // its import id, the seq of its import.completed event and its counts.
  // Internal if called again after it succeeded. Once it succeeded the
  // session has freed the import's buffers and batches: keeping it costs
  // next to nothing.
  virtual StatusOr<ImportResult> Finish() = 0;
  // Items parsed so far (for progress reporting).
  virtual uint64_t items_received() const = 0;
};

// Streams properties in external_id byte order.
class PropertyCursor {
 public:
  virtual ~PropertyCursor() = default;
  // Fills *out with the next property; false at the end or on error (check
  // status()).
  virtual bool Next(PropertyRecord* out) = 0;
  // OK, or why Next stopped early: Corruption (a record or the log entry it
  // points at fails a check or is missing) or another store error.
  virtual Status status() const = 0;
};

}  // namespace syncmgr
