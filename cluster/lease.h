// Lease: who may write a tenant (docs/scaling.md, "Ownership"). A key in a
// key-value bucket whose TTL is the lease's: the holder renews it (a
// compare-and-set on the revision it wrote last) well within the TTL; if it
// stops, the stream drops the key after the TTL and another node may take
// it. No clock is read here: expiry is the bucket's (the server's) doing.
//
// A lease alone never makes a writer safe -- a paused holder wakes up
// believing it still holds one. Writes are made safe by the fence on the
// log (Connection::Publish with expected_last_subject_seq); the lease only
// decides who should write and where to forward writes.
//
// Thread-safety: a Lease is used by one thread at a time (its holder's
// renewal loop). The KvBucket must outlive it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "cluster/kv.h"
#include "cluster/messages.h"
#include "engine/status.h"

namespace syncmgr::cluster {

// The bucket of leases: TTL `ttl`. Renew well within it (a third of it is
// the usual pace). Default TTL: 10 s; tests use a short one.
KvBucketConfig LeaseBucketConfig(std::string name, Millis ttl = Millis(10000), int replicas = 3);

class Lease {
 public:
  // The lease `key` of `bucket`, wanted by `me`. Holds nothing yet.
  Lease(const KvBucket* bucket, std::string key, LeaseHolder me);

  // Takes the lease if nobody holds it (never taken, released or expired),
  // or adopts it if `me` -- same node and incarnation -- holds it already.
  // Returns the holder after the attempt: `me` if taken. Unavailable on
  // errors (then nothing is known to be held).
  StatusOr<LeaseHolder> TryAcquire();
  // Writes the lease again (compare-and-set on the revision held), which
  // restarts its TTL. Conflict: the lease is lost -- it expired (and may
  // have been taken); stop acting as its holder. Unavailable: unknown; try
  // again, and count it lost once the TTL has passed since the last
  // successful renewal began.
  Status Renew();
  // Gives the lease up so another node may take it at once (a delete
  // compare-and-set on the revision held). Conflict if it was lost already.
  Status Release();
  // Who holds the lease now; nullopt: nobody. A leader read.
  StatusOr<std::optional<LeaseHolder>> Observe() const;

  bool held() const { return revision_ != 0; }
  // The bucket revision written last by this holder; 0 when not held.
  uint64_t revision() const { return revision_; }
  const std::string& key() const { return key_; }

 private:
  const KvBucket* bucket_;
  std::string key_;
  LeaseHolder me_;
  std::string value_;  // EncodeLease(me_)
  uint64_t revision_ = 0;
};

}  // namespace syncmgr::cluster
