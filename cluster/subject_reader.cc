// SubjectReader over a JetStream ordered consumer (synchronous
// subscription).
#include "cluster/subject_reader.h"

#include <thread>

#include <fmt/format.h>

#include "cluster/nats_internal.h"

namespace syncmgr::cluster {

namespace {

constexpr int64_t kNanosPerMilli = 1'000'000;

struct MetaDataDeleter {
  void operator()(jsMsgMetaData* m) const { jsMsgMetaData_Destroy(m); }
};

}  // namespace

struct SubjectReader::Impl {
  Connection* conn = nullptr;
  std::string what;  // "read syncmgr.log.* of SYNCMGR_LOG"
  SubscriptionPtr sub;
};

SubjectReader::SubjectReader(std::unique_ptr<Impl> impl, uint64_t start_seq)
    : impl_(std::move(impl)), position_(start_seq - 1) {}

SubjectReader::~SubjectReader() {
  // Deletes the ephemeral consumer now rather than at its inactivity
  // threshold; a failure only leaves it to that threshold.
  if (impl_->sub != nullptr) natsSubscription_Unsubscribe(impl_->sub.get());
}

StatusOr<std::unique_ptr<SubjectReader>> SubjectReader::Open(Connection* conn,
                                                             const std::string& stream,
                                                             const std::string& filter,
                                                             uint64_t start_seq,
                                                             const SubjectReaderOptions& options) {
  if (start_seq == 0) start_seq = 1;
  auto impl = std::make_unique<Impl>();
  impl->conn = conn;
  impl->what = fmt::format("read {} of {}", filter, stream);
  Connection::Impl* ci = conn->impl();

  jsSubOptions so;
  jsSubOptions_Init(&so);
  so.Stream = stream.c_str();
  so.Ordered = true;
  so.Config.DeliverPolicy = js_DeliverByStartSequence;
  so.Config.OptStartSeq = start_seq;
  so.Config.Heartbeat = options.heartbeat.count() * kNanosPerMilli;
  jsOptions jo = ci->RequestOptions(options.open_attempt_timeout);
  const auto deadline = std::chrono::steady_clock::now() + options.open_timeout;
  while (true) {
    natsSubscription* raw = nullptr;
    jsErrCode jerr = static_cast<jsErrCode>(0);
    natsStatus s = js_SubscribeSync(&raw, ci->js, filter.c_str(), &jo, &so, &jerr);
    impl->sub.reset(raw);
    if (s == NATS_OK) break;
    impl->sub.reset();
    Status st = NatsError(s, jerr, impl->what);
    if (st.code() != Code::kUnavailable || std::chrono::steady_clock::now() >= deadline) {
      return st;
    }
    std::this_thread::sleep_for(options.open_retry_wait);
  }
  // The client's default pending limits (65,536 messages, 64 MiB) bound
  // what waits here unread; past them it drops messages, and the ordered
  // consumer, seeing the gap, re-creates itself after the last delivered.
  return std::unique_ptr<SubjectReader>(new SubjectReader(std::move(impl), start_seq));
}

StatusOr<std::optional<StoredMessage>> SubjectReader::Next(Millis timeout) {
  natsMsg* raw = nullptr;
  natsStatus s = natsSubscription_NextMsg(&raw, impl_->sub.get(), std::max<int64_t>(1, timeout.count()));
  NatsMsgPtr msg(raw);
  if (s == NATS_TIMEOUT) return std::optional<StoredMessage>();
  if (s != NATS_OK) return NatsError(s, static_cast<jsErrCode>(0), impl_->what);
  jsMsgMetaData* meta_raw = nullptr;
  s = natsMsg_GetMetaData(&meta_raw, raw);
  std::unique_ptr<jsMsgMetaData, MetaDataDeleter> meta(meta_raw);
  if (s != NATS_OK) return NatsError(s, static_cast<jsErrCode>(0), impl_->what + " (metadata)");
  uint64_t seq = meta->Sequence.Stream;
  if (seq <= position_) {
    return Status::Internal(fmt::format("{}: stream sequence {} after {}: out of order",
                                        impl_->what, seq, position_));
  }
  position_ = seq;
  return std::optional<StoredMessage>(ToStoredMessage(raw, seq, meta->Timestamp));
}

}  // namespace syncmgr::cluster
