// Reading a property's state record (the `state` column family, keys.h).
// Internal to engine/.
//
// A state record exists for every (stream, external_id) that ever had a
// version, removed ones included (PropertyState::removed). The record is a
// FlatBuffers table, which wants its bytes aligned: values read straight
// from RocksDB (pinned block-cache memory, iterator values) are not, so
// every reader copies them into a std::string first. Records are trusted as
// written by ViewFolder (fold.cc) and not verified: they are read on the
// import's and the sync's hot paths.
//
// Thread-safety: functions of their arguments; the Store is thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "engine/status.h"
#include "engine/types.h"

namespace syncmgr {

namespace fb {
struct PropertyState;
}  // namespace fb
class Store;

// The state record held in `bytes` (a value of the state column family),
// copied into `*aligned`. REQUIRES: *aligned outlives the returned pointer
// and is not modified meanwhile.
const fb::PropertyState* ParseStateRecord(std::string_view bytes, std::string* aligned);

// Reads the state record of `external_id` in `stream`: null when there is
// none (the id never existed in the stream). `*value` receives the record's
// bytes; it must outlive the returned pointer. Returns a store error
// (Corruption, Internal, ...) if the read fails.
StatusOr<const fb::PropertyState*> ReadStateRecord(const Store& store, TenantId tenant,
                                                   StreamRef stream, std::string_view external_id,
                                                   std::string* value);

}  // namespace syncmgr
