// SubjectReader: reads the messages of a subject filter of a stream, in
// stream order, from a given stream sequence on -- how a node follows the
// log (docs/scaling.md, "Folding the stream").
//
// Built on a JetStream ordered consumer: ephemeral, no acknowledgements, no
// redeliveries; the client library re-creates it from the last sequence it
// delivered when it detects a gap or missed heartbeats (a server died, a
// reconnect), so the reader sees each message once, in order, across
// failures of single servers. Nothing is remembered server-side: the reader's
// position is the caller's to keep (with the views it built).
//
// Thread-safety: a SubjectReader is used by one thread at a time. The
// Connection must outlive it.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "cluster/connection.h"
#include "engine/status.h"

namespace syncmgr::cluster {

struct SubjectReaderOptions {
  // Open retries while JetStream cannot create the consumer (no meta leader
  // yet: its election takes seconds after a server died). Default: 30 s.
  Millis open_timeout{30000};
  // Wait for one attempt. Short, because nats-server 2.9 places the
  // consumer on a random replica of the stream, live or not; an attempt
  // placed on a dead one only ends by this timeout. Default: 2 s.
  Millis open_attempt_timeout{2000};
  // Pause between those attempts. Default: 250 ms.
  Millis open_retry_wait{250};
  // Server heartbeats on an idle consumer; after missing a few the client
  // re-creates the consumer. Default: 2 s (nats-server needs >= 100 ms).
  Millis heartbeat{2000};
};

class SubjectReader {
 public:
  // Starts reading `filter` (a subject, wildcards allowed) of `stream` at
  // stream sequence `start_seq` (1: from the beginning). NotFound if the
  // stream does not exist; Unavailable if JetStream did not create the
  // consumer within options.open_timeout.
  static StatusOr<std::unique_ptr<SubjectReader>> Open(Connection* conn,
                                                       const std::string& stream,
                                                       const std::string& filter,
                                                       uint64_t start_seq,
                                                       const SubjectReaderOptions& options = {});
  ~SubjectReader();  // deletes the consumer
  SubjectReader(const SubjectReader&) = delete;
  SubjectReader& operator=(const SubjectReader&) = delete;

  // The next message (stream sequences strictly increase from call to
  // call), waiting up to `timeout`; nullopt if none arrived in that time.
  StatusOr<std::optional<StoredMessage>> Next(Millis timeout);

  // The stream sequence of the last message Next returned (start_seq - 1
  // before the first).
  uint64_t position() const { return position_; }

 private:
  struct Impl;
  SubjectReader(std::unique_ptr<Impl> impl, uint64_t start_seq);
  std::unique_ptr<Impl> impl_;
  uint64_t position_;
};

}  // namespace syncmgr::cluster
