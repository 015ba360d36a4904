// Connection: a client of a NATS JetStream cluster, the log of record in
// cluster mode (docs/scaling.md). A thin layer over the NATS C client
// (libnats 3.4): streams, fenced publishes, reads of stored messages.
//
// Errors are Status values (engine/status.h); no exception and no NATS type
// crosses this header. The codes mean:
//   Conflict         the stream refused a conditional write: the subject's
//                    last sequence is not the one expected (IsFenced), or a
//                    key-value revision moved (kv.h). Nothing was written.
//   Unavailable      no answer in time, no JetStream leader, no quorum, not
//                    connected. For a publish the message may or may not be
//                    stored ("outcome unknown" in the message) unless it
//                    says otherwise.
//   NotFound         no such stream, or no message where one was asked for.
//   PayloadTooLarge  over the server's max_payload or the stream's limit.
//   InvalidArgument  a malformed subject, server URL or configuration, or a
//                    stream that exists with another configuration.
//   Internal         anything else the client library reports.
//
// Thread-safety: a Connection is safe for concurrent use from many threads
// without outside locking (the NATS client serialises what it must).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/status.h"

namespace syncmgr::cluster {

using Millis = std::chrono::milliseconds;

struct ConnectOptions {
  // Servers to try, each "nats://host:port" (or "host:port"). Required. The
  // client also learns the rest of the cluster from the server it reaches.
  std::vector<std::string> servers;
  // Client name the servers show in their monitoring. Default: "syncmgr".
  std::string name = "syncmgr";
  // One TCP connect and handshake. Default: 2 s.
  Millis connect_timeout{2000};
  // Pause between two passes over the server list while reconnecting; the
  // client reconnects for as long as the Connection lives. Default: 250 ms.
  Millis reconnect_wait{250};
  // Client PINGs; after `max_pings_out` unanswered ones the server counts as
  // gone and the client reconnects elsewhere. Default: 2 s and 2.
  Millis ping_interval{2000};
  int max_pings_out = 2;
  // Answer to one JetStream API request (stream create or info, message
  // get). Default: 5 s.
  Millis request_timeout{5000};
  // Whole Publish, retries included (PublishOptions::timeout overrides it).
  // Default: 10 s, so a publish outlasts a stream leader election (a few
  // seconds in nats-server 2.9).
  Millis publish_timeout{10000};
  // Wait for one acknowledgement before the publish is retried (retried
  // only when that cannot store it twice: see Publish). Default: 2 s.
  Millis publish_attempt_timeout{2000};
  // Pause before retrying a publish nobody received (no stream leader, not
  // connected). Default: 100 ms.
  Millis publish_retry_wait{100};
};

// Splits "nats://h1:4222,nats://h2:4222" (commas, optional spaces) into
// server URLs. InvalidArgument if empty or an entry is not nats://host:port
// or host:port.
StatusOr<std::vector<std::string>> ParseServerList(std::string_view list);

enum class Storage { kFile, kMemory };

struct StreamConfig {
  std::string name;                   // [A-Za-z0-9_-]+
  std::vector<std::string> subjects;  // may use * and > wildcards
  int replicas = 3;
  Storage storage = Storage::kFile;
  // Largest message, headers included; -1: the server's max_payload.
  int32_t max_msg_bytes = -1;
  // Messages kept per subject; -1: all. The key-value layout uses 1.
  int64_t max_msgs_per_subject = -1;
  // Messages older than this are removed; 0: kept forever.
  Millis max_age{0};
  // How long a message id (PublishOptions::msg_id) is remembered; 0: the
  // server's default (2 min, or max_age when that is shorter).
  Millis duplicate_window{0};
  // Any replica answers direct gets, not only the leader (the key-value
  // layout sets it; nothing here reads through it).
  bool allow_direct = true;
  bool allow_rollup = false;
  bool deny_delete = false;
  bool deny_purge = false;
  // At a limit, refuse new messages instead of dropping old ones.
  bool discard_new = false;
};

struct StreamPeer {
  std::string name;  // server name
  bool current = false;  // caught up with the leader
  bool offline = false;
  uint64_t lag = 0;  // operations behind the leader
};

struct StreamState {
  uint64_t messages = 0;
  uint64_t bytes = 0;
  uint64_t first_seq = 0;
  uint64_t last_seq = 0;
  int replicas = 0;                // configured
  std::string leader;              // server name; empty: none now
  std::vector<StreamPeer> peers;   // the replicas other than the leader
};

struct PublishOptions {
  // The stream the message must land in (Nats-Expected-Stream); required
  // with `expected_last_subject_seq` + `msg_id` (see Publish).
  std::string stream;
  // Nats-Msg-Id: within the stream's duplicate window, a second message
  // with the same id is not stored again; the acknowledgement names the
  // first one (duplicate = true).
  std::string msg_id;
  // The fence: store only if the subject's last message in the stream has
  // this sequence (0: the subject has no message yet).
  //
  // nats-server 2.9 checks a non-zero expectation when the stream leader
  // proposes the message, against the messages applied so far: two
  // publishes with the same expectation in flight together may both be
  // stored (fixed in nats-server 2.11). 0 is checked when applied, which is
  // exact. See verify_fence.
  std::optional<uint64_t> expected_last_subject_seq;
  // After the acknowledgement, check that this message is the first one on
  // the subject after expected_last_subject_seq; if another came in between
  // (the race above), answer Conflict ("superseded": it is stored but does
  // not count, and readers of the log must skip it as docs/scaling.md
  // says). Costs one leader read (NextMessage). Needs `stream`.
  bool verify_fence = false;
  // Store only if the stream's last message (any subject) has this
  // sequence (>= 1). Checked when applied, so exact on nats-server 2.9 too;
  // for streams written through one key (KvBucket::UpdateSerial).
  std::optional<uint64_t> expected_last_stream_seq;
  // Further headers, stored with the message.
  std::vector<std::pair<std::string, std::string>> headers;
  // Overrides ConnectOptions::publish_timeout.
  std::optional<Millis> timeout;
};

struct PublishAck {
  uint64_t stream_seq = 0;  // where the message is stored
  bool duplicate = false;   // it had been stored before, under the same msg_id
};

struct StoredMessage {
  std::string subject;
  uint64_t stream_seq = 0;
  int64_t time_ns = 0;  // when the stream stored it (the leader's clock)
  std::string payload;
  std::vector<std::pair<std::string, std::string>> headers;

  // The first value of header `name` (case-sensitive), or nullptr.
  const std::string* Header(std::string_view name) const;
};

// True for the Status of a publish refused by its fence (or a key-value
// update refused by its revision): Conflict, nothing written.
inline bool IsFenced(const Status& s) { return s.code() == Code::kConflict; }

class Connection {
 public:
  // Connects to one of options.servers. Unavailable if none answers within
  // connect_timeout each; InvalidArgument on a malformed URL. Once
  // connected, the client reconnects by itself (to any server of the
  // cluster) after a server dies, for as long as the Connection lives.
  static StatusOr<std::unique_ptr<Connection>> Connect(const ConnectOptions& options);
  ~Connection();  // closes the connection; outstanding calls fail
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  const ConnectOptions& options() const;
  // The server's max_payload (bytes a message may carry, headers included).
  int64_t max_payload() const;
  // True while connected (false while reconnecting).
  bool connected() const;

  // OK once this server's JetStream answers for the account: in a cluster
  // that needs a JetStream meta leader. Unavailable otherwise.
  Status CheckJetStream();

  // Creates the stream, or checks that the existing one has this
  // configuration (InvalidArgument naming the first difference).
  StatusOr<StreamState> EnsureStream(const StreamConfig& config);
  // NotFound if there is no such stream.
  StatusOr<StreamState> GetStreamState(const std::string& stream);
  // Deletes the stream and its messages. NotFound if there is none.
  Status DeleteStream(const std::string& stream);
  // Asks the stream's leader to step down so another replica is elected
  // (operations, tests). Unavailable if no leader answered or it refused.
  Status StepDownStreamLeader(const std::string& stream);

  // Publishes `payload` on `subject` and waits for the stream's
  // acknowledgement: the message is stored by a quorum of the stream's
  // replicas. Returns where it is stored.
  //
  // With expected_last_subject_seq, a refusal by the fence is Conflict
  // (IsFenced) and nothing was stored -- except when msg_id is set and the
  // message that follows the expected one on the subject carries this very
  // msg_id: then an earlier attempt of this same publish was stored (its
  // acknowledgement was lost) and that is returned with duplicate = true.
  // (nats-server 2.9 checks the fence before the message id.)
  //
  // Attempts are retried until the timeout while nobody received them (no
  // stream leader, not connected), and also after a lost acknowledgement
  // when a retry cannot store the message twice (msg_id set). Unavailable
  // when the timeout ends first; the message says whether the message may
  // have been stored ("outcome unknown").
  StatusOr<PublishAck> Publish(const std::string& subject, std::string_view payload,
                               const PublishOptions& options);

  // The last message on `subject` (no wildcards); NotFound if it has none.
  // Answered by the stream leader.
  StatusOr<StoredMessage> LastMessage(const std::string& stream, const std::string& subject);
  // The message at `stream_seq`; NotFound if there is none (or it was
  // deleted). Answered by the stream leader.
  StatusOr<StoredMessage> GetMessage(const std::string& stream, uint64_t stream_seq);
  // The first message on `subject` (wildcards allowed) with sequence >=
  // from_seq; NotFound if there is none. Answered by the stream leader (a
  // replica's copy may differ: docs/scaling.md, failure table). Its time_ns
  // is 0.
  StatusOr<StoredMessage> NextMessage(const std::string& stream, const std::string& subject,
                                      uint64_t from_seq);

  struct Impl;
  Impl* impl() const { return impl_.get(); }  // for cluster/ internals

 private:
  explicit Connection(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace syncmgr::cluster
