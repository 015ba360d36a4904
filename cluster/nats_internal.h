// What cluster/'s .cc files share about the NATS C client: the Connection's
// internals, owning handles and the one mapping of NATS errors to Status.
// Internal to cluster/: no public header includes it.
#pragma once

#include <nats/nats.h>

#include <memory>
#include <string>
#include <string_view>

#include "cluster/connection.h"

namespace syncmgr::cluster {

struct Connection::Impl {
  ConnectOptions options;
  natsConnection* nc = nullptr;
  jsCtx* js = nullptr;
  int64_t max_payload = 0;

  ~Impl();
  // JetStream request options with `wait` (milliseconds) as the timeout.
  jsOptions RequestOptions(Millis wait) const;
};

// Owning handles for the NATS client's objects.
struct NatsMsgDeleter {
  void operator()(natsMsg* m) const { natsMsg_Destroy(m); }
};
using NatsMsgPtr = std::unique_ptr<natsMsg, NatsMsgDeleter>;

struct PubAckDeleter {
  void operator()(jsPubAck* a) const { jsPubAck_Destroy(a); }
};
using PubAckPtr = std::unique_ptr<jsPubAck, PubAckDeleter>;

struct StreamInfoDeleter {
  void operator()(jsStreamInfo* si) const { jsStreamInfo_Destroy(si); }
};
using StreamInfoPtr = std::unique_ptr<jsStreamInfo, StreamInfoDeleter>;

struct SubscriptionDeleter {
  void operator()(natsSubscription* s) const { natsSubscription_Destroy(s); }
};
using SubscriptionPtr = std::unique_ptr<natsSubscription, SubscriptionDeleter>;

// The Status for a NATS call that returned `s` (and, for JetStream calls,
// the JetStream error code `js_err`, 0 if none). `what` says what was being
// done ("publish to syncmgr.log.7"). Includes the client library's last
// error text for this thread. See connection.h for what each code means.
Status NatsError(natsStatus s, jsErrCode js_err, std::string_view what);
// The same mapping for a message made elsewhere (a JetStream API answer read
// by hand): no client library text is added.
Status MapNatsError(natsStatus s, jsErrCode js_err, std::string msg);

// True for JetStream error codes the server answers without storing
// anything, that a later attempt may overcome (no leader yet, offline).
bool IsTransientJsError(jsErrCode js_err);

// A message id no other publish of any process uses: a random 64-bit
// prefix drawn once per process, and a counter. For writes whose retries
// must be recognised (PublishOptions::msg_id).
std::string UniqueMessageId();

// A message's headers, payload, subject, stream sequence and time.
// `stream_seq` and `time_ns` come from the message itself (messages read
// with js_GetMsg / js_DirectGetMsg) or are given (subscription messages).
StoredMessage ToStoredMessage(natsMsg* msg, uint64_t stream_seq, int64_t time_ns);

}  // namespace syncmgr::cluster
