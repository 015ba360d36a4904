// KvCounter: cluster-wide unique ids (tenant ids; docs/scaling.md). A key
// of a key-value bucket holding the last id handed out, as decimal text,
// advanced by compare-and-set: two callers never get the same id, on any
// node. nats-server 2.9 has no atomic increment, hence the loop; and its
// per-key compare-and-set lets two concurrent updates of one revision
// through (kv.h), so the counter uses KvBucket::UpdateSerial, exact but
// bucket-wide: the bucket must hold this counter alone.
//
// Ids are unique and increasing, not gap-free: a caller that dies after
// taking an id leaves it unused.
//
// Thread-safety: safe for concurrent use (each Next is its own
// compare-and-set loop). The KvBucket must outlive it.
#pragma once

#include <cstdint>
#include <string>

#include "cluster/kv.h"
#include "engine/status.h"

namespace syncmgr::cluster {

struct CounterOptions {
  // Compare-and-set attempts before Next gives up (Unavailable). Each lost
  // attempt means another caller got an id. Default: 100.
  int max_attempts = 100;
  // Upper bound of the random pause after a lost attempt, so that callers
  // that collided spread out. Default: 5 ms.
  Millis max_backoff{5};
};

class KvCounter {
 public:
  KvCounter(const KvBucket* bucket, std::string key, CounterOptions options = {});

  // The next id: 1 first, then increasing. Unavailable if no quorum, or
  // after max_attempts lost races; Corruption if the key holds no number.
  StatusOr<uint64_t> Next();

 private:
  const KvBucket* bucket_;
  std::string key_;
  CounterOptions options_;
};

}  // namespace syncmgr::cluster
