// Push delivery state as the engine stores it (the `delivery` column family,
// SPEC §4 "Push delivery"): per push target, its cursor and control state,
// and its dead letters. The delivery engine (delivery/) decides what they
// hold; the engine only keeps them durable and writes each change atomically.
//
// This is operational state, not a view of the log: replay and VerifyViews
// leave it out. `syncmgr replay` parks every push target of its output
// (paused, cursor at the end of the replayed log), so serving a replayed
// directory never re-sends to real receivers.
//
// Plain values; safe to copy between threads.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace syncmgr {

struct DeliveryRecord {
  // Last seq the receiver acknowledged (or that went to a dead letter):
  // delivery resumes after it. 0: nothing delivered yet.
  uint64_t delivered_seq = 0;
  // Stopped by an operator (POST .../delivery/pause) or by on_failure:
  // "pause"; resumed by POST .../delivery/resume.
  bool paused = false;
  // Id the next dead letter gets (ids are per target, from 1, never reused).
  uint64_t next_dead_letter_id = 1;
  // Dead letters held now.
  uint64_t dead_letters = 0;
  // The receiver's last failure ("" after a success), and when the last
  // attempt was made (µs since the epoch, 0: never).
  std::string last_error;
  int64_t last_attempt_at_us = 0;
  // Set by a rewind (POST .../delivery/redeliver): the cursor it rewound
  // from. While delivered_seq is below it, the receiver's own cursor
  // (postgres) does not move ours forward, so a restart cannot undo the
  // rewind; cleared once delivery has passed it. 0: no rewind under way.
  uint64_t rewind_until = 0;
};

// A batch that could not be delivered (refused, or max_attempts failures).
struct DeadLetter {
  uint64_t id = 0;
  uint64_t first_seq = 0;
  uint64_t last_seq = 0;
  uint32_t attempts = 0;
  std::string last_error;
  int64_t failed_at_us = 0;
};

// One atomic change of a target's delivery state: the record, dead letters
// added or replaced, dead letters removed — one RocksDB WriteBatch, so a
// cursor advance and the dead letter of the batch it skips are never seen
// apart.
struct DeliveryWrite {
  DeliveryRecord record;
  std::vector<DeadLetter> put_dead_letters;
  std::vector<uint64_t> delete_dead_letters;
  // Sync the WAL before returning. Cursor advances may skip it: a process
  // crash (kill -9) loses no written record; only a power cut may lose the
  // last advances, and delivery is at least once anyway. Default: true.
  bool sync = true;
};

}  // namespace syncmgr
