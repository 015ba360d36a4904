// How a push target's cursor moves (SPEC §4 "Push delivery", docs/push.md
// "Operating it"): the rules the delivery engine and the offline command line
// (delivery/offline.h) share, on the stored DeliveryRecord.
//
//   * delivery moves it forward to the last seq of a batch the receiver
//     acknowledged or that went to the dead letters (Advance);
//   * a rewind (redeliver) moves it back, never forward, and remembers where
//     it came from (Rewind): until delivery has passed that seq again, the
//     receiver's own cursor (postgres keeps one with its data) does not move
//     ours forward — otherwise a restart would undo the rewind
//     (RewindUnderWay).
//
// Thread-safety: pure functions on a record the caller owns.
#pragma once

#include <cstdint>
#include <string>

#include "engine/delivery_types.h"
#include "engine/status.h"

namespace syncmgr::delivery {

// True while a rewind has not been delivered past yet.
inline bool RewindUnderWay(const DeliveryRecord& r) { return r.rewind_until > r.delivered_seq; }

// Sets the cursor back to `from_seq`: everything after it is sent again.
// InvalidArgument (and `*r` unchanged) if from_seq is past the cursor.
inline Status Rewind(DeliveryRecord* r, uint64_t from_seq) {
  if (from_seq > r->delivered_seq) {
    return Status::InvalidArgument("from_seq " + std::to_string(from_seq) +
                                   " is past the cursor (delivered_seq " +
                                   std::to_string(r->delivered_seq) +
                                   "): redeliver rewinds, it never skips events");
  }
  // A second rewind before the first one is done keeps the higher mark: the
  // receiver's cursor waits until everything the first one re-sends is sent.
  if (from_seq < r->delivered_seq && r->delivered_seq > r->rewind_until) {
    r->rewind_until = r->delivered_seq;
  }
  r->delivered_seq = from_seq;
  return Status::Ok();
}

// Moves the cursor forward to `seq` (a batch's last seq). Returns true when
// this ended a rewind: the receiver's own cursor counts again from here.
inline bool Advance(DeliveryRecord* r, uint64_t seq) {
  r->delivered_seq = seq;
  if (r->rewind_until == 0 || RewindUnderWay(*r)) return false;
  r->rewind_until = 0;
  return true;
}

}  // namespace syncmgr::delivery
