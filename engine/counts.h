// Per-stream counts (SPEC §4: a source's or target's "live_count", a
// target's "manual_count") and the on-disk format upgrade that stores them.
// Internal to engine/.
//
// From on-disk format 3 (kFormatCounts) on, the fold keeps both counts in
// each stream's StreamMeta and, per target, the manual bitmap (fold.h): a
// count costs one point read. A directory of format 1 or 2 opened without
// upgrading (read-only, secondary, `backup --db`) has neither, and is read
// as it is, never written: the live count is the cardinality of the live
// bitmap (one read and a decode: a few KiB per million listings), the
// manual count a scan of the target's state (O(listings)).
//
// Thread-safety: functions of their arguments; the Store is thread-safe.
#pragma once

#include <rocksdb/write_batch.h>

#include <cstdint>

#include "engine/fold.h"
#include "engine/status.h"
#include "engine/store.h"
#include "engine/types.h"

namespace syncmgr {

struct StreamCounts {
  uint64_t live = 0;
  uint64_t manual = 0;  // targets only
};

// The counts of a stream now (a stream without properties has zero).
StatusOr<StreamCounts> ReadStreamCounts(const Store& store, TenantId tenant, StreamRef stream);

// The dense ids of the live properties of `target` whose last change was
// manual, found by scanning its state (what the manual bitmap holds from
// format 3 on). O(listings of the target).
StatusOr<Bitmap> ScanManualIds(const Store& store, TenantId tenant, uint32_t target_id,
                               const IteratorOptions& options = {});

// The format upgrade to format 3: adds to `batch` the records the fold of
// the log would have written at format 3 and a directory of format 1 or 2
// lacks — every stream's StreamMeta with its counts (the live count from its
// live bitmap), and every target's manual bitmap (from a scan of its state)
// — byte for byte as the fold writes them, so VerifyViews holds on the
// upgraded directory. Writes nothing itself (Store::CommitUpgrade writes the
// batch with the format record). Costs one scan of every target's state.
Status AddCountViews(const Store& store, rocksdb::WriteBatch* batch);

}  // namespace syncmgr
