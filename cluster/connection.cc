// Connection over the NATS C client: connect, streams, publish, reads.
#include "cluster/connection.h"

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <random>
#include <set>
#include <thread>

#include <fmt/format.h>
#include <openssl/evp.h>
#include <simdjson.h>

#include "cluster/nats_internal.h"

namespace syncmgr::cluster {

namespace {

using Clock = std::chrono::steady_clock;

constexpr std::string_view kMsgIdHeader = "Nats-Msg-Id";
constexpr int64_t kNanosPerMilli = 1'000'000;

Millis Remaining(Clock::time_point deadline) {
  return std::chrono::duration_cast<Millis>(deadline - Clock::now());
}

struct OptionsDeleter {
  void operator()(natsOptions* o) const { natsOptions_Destroy(o); }
};

StreamState ToStreamState(const jsStreamInfo& si) {
  StreamState st;
  st.messages = si.State.Msgs;
  st.bytes = si.State.Bytes;
  st.first_seq = si.State.FirstSeq;
  st.last_seq = si.State.LastSeq;
  if (si.Config != nullptr) st.replicas = static_cast<int>(si.Config->Replicas);
  if (si.Cluster != nullptr) {
    if (si.Cluster->Leader != nullptr) st.leader = si.Cluster->Leader;
    for (int i = 0; i < si.Cluster->ReplicasLen; ++i) {
      const jsPeerInfo* p = si.Cluster->Replicas[i];
      if (p == nullptr) continue;
      st.peers.push_back(StreamPeer{p->Name != nullptr ? p->Name : "", p->Current, p->Offline,
                                    p->Lag});
    }
  }
  return st;
}

// The first difference between the configuration asked for and the one the
// existing stream has, or "" if none that matters here.
std::string ConfigDifference(const StreamConfig& want, const jsStreamConfig& have) {
  std::set<std::string> want_subjects(want.subjects.begin(), want.subjects.end());
  std::set<std::string> have_subjects;
  for (int i = 0; i < have.SubjectsLen; ++i) have_subjects.insert(have.Subjects[i]);
  if (want_subjects != have_subjects) return "other subjects";
  if (have.Replicas != want.replicas) {
    return fmt::format("replicas {}, not {}", have.Replicas, want.replicas);
  }
  if ((have.Storage == js_FileStorage) != (want.storage == Storage::kFile)) {
    return "another storage type";
  }
  if (have.MaxMsgsPerSubject != want.max_msgs_per_subject) {
    return fmt::format("max_msgs_per_subject {}, not {}", have.MaxMsgsPerSubject,
                       want.max_msgs_per_subject);
  }
  if (have.MaxAge != want.max_age.count() * kNanosPerMilli) {
    return fmt::format("max_age {} ms, not {} ms", have.MaxAge / kNanosPerMilli,
                       want.max_age.count());
  }
  if (have.MaxMsgSize != want.max_msg_bytes) {
    return fmt::format("max_msg_size {}, not {}", have.MaxMsgSize, want.max_msg_bytes);
  }
  return "";
}

bool ValidHost(std::string_view host) {
  if (host.empty()) return false;
  return std::all_of(host.begin(), host.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_' ||
           c == '[' || c == ']' || c == ':';
  });
}

}  // namespace

// ---- Impl and helpers shared with the other files -----------------------------

Connection::Impl::~Impl() {
  if (js != nullptr) jsCtx_Destroy(js);
  if (nc != nullptr) natsConnection_Destroy(nc);
}

jsOptions Connection::Impl::RequestOptions(Millis wait) const {
  jsOptions o;
  jsOptions_Init(&o);
  o.Wait = std::max<int64_t>(1, wait.count());
  return o;
}

std::string UniqueMessageId() {
  static const uint64_t prefix = [] {
    std::random_device rd;
    return (uint64_t{rd()} << 32) ^ rd();
  }();
  static std::atomic<uint64_t> counter{0};
  return fmt::format("{:016x}-{}", prefix, counter.fetch_add(1) + 1);
}

StoredMessage ToStoredMessage(natsMsg* msg, uint64_t stream_seq, int64_t time_ns) {
  StoredMessage out;
  if (const char* subj = natsMsg_GetSubject(msg); subj != nullptr) out.subject = subj;
  out.stream_seq = stream_seq;
  out.time_ns = time_ns;
  if (const char* data = natsMsg_GetData(msg); data != nullptr) {
    out.payload.assign(data, static_cast<size_t>(natsMsg_GetDataLength(msg)));
  }
  const char** keys = nullptr;
  int count = 0;
  if (natsMsgHeader_Keys(msg, &keys, &count) == NATS_OK) {
    for (int i = 0; i < count; ++i) {
      const char** values = nullptr;
      int n = 0;
      if (natsMsgHeader_Values(msg, keys[i], &values, &n) != NATS_OK) continue;
      for (int j = 0; j < n; ++j) out.headers.emplace_back(keys[i], values[j]);
      std::free(static_cast<void*>(values));
    }
    std::free(static_cast<void*>(keys));
  }
  return out;
}

const std::string* StoredMessage::Header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (k == name) return &v;
  }
  return nullptr;
}

// ---- Server list ---------------------------------------------------------------

StatusOr<std::vector<std::string>> ParseServerList(std::string_view list) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos <= list.size()) {
    size_t comma = list.find(',', pos);
    if (comma == std::string_view::npos) comma = list.size();
    std::string_view item = list.substr(pos, comma - pos);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    pos = comma + 1;
    if (item.empty()) {
      if (comma == list.size() && !out.empty()) break;  // a trailing comma
      return Status::InvalidArgument("the NATS server list has an empty entry");
    }
    std::string_view rest = item;
    if (rest.substr(0, 7) == "nats://") rest.remove_prefix(7);
    size_t colon = rest.rfind(':');
    if (colon == std::string_view::npos || !ValidHost(rest.substr(0, colon))) {
      return Status::InvalidArgument(
          fmt::format("NATS server \"{}\" is not nats://host:port", item));
    }
    std::string_view port = rest.substr(colon + 1);
    int value = 0;
    bool digits = !port.empty() && port.size() <= 5 &&
                  std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; });
    if (digits) value = std::atoi(std::string(port).c_str());
    if (!digits || value < 1 || value > 65535) {
      return Status::InvalidArgument(fmt::format("NATS server \"{}\" has no valid port", item));
    }
    out.push_back(fmt::format("nats://{}", rest));
  }
  if (out.empty()) return Status::InvalidArgument("the NATS server list is empty");
  return out;
}

// ---- Connection -----------------------------------------------------------------

Connection::Connection(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Connection::~Connection() = default;

const ConnectOptions& Connection::options() const { return impl_->options; }
int64_t Connection::max_payload() const { return impl_->max_payload; }
bool Connection::connected() const {
  return natsConnection_Status(impl_->nc) == NATS_CONN_STATUS_CONNECTED;
}

StatusOr<std::unique_ptr<Connection>> Connection::Connect(const ConnectOptions& options) {
  if (options.servers.empty()) return Status::InvalidArgument("no NATS server given");
  std::vector<std::string> servers;  // each as nats://host:port
  for (const auto& entry : options.servers) {
    SYNCMGR_ASSIGN_OR_RETURN(std::vector<std::string> parsed, ParseServerList(entry));
    servers.insert(servers.end(), parsed.begin(), parsed.end());
  }
  auto impl = std::make_unique<Impl>();
  impl->options = options;

  natsOptions* raw = nullptr;
  natsStatus s = natsOptions_Create(&raw);
  std::unique_ptr<natsOptions, OptionsDeleter> opts(raw);
  std::vector<const char*> urls;
  for (const auto& u : servers) urls.push_back(u.c_str());
  if (s == NATS_OK) s = natsOptions_SetServers(raw, urls.data(), static_cast<int>(urls.size()));
  if (s == NATS_OK) s = natsOptions_SetName(raw, options.name.c_str());
  if (s == NATS_OK) s = natsOptions_SetTimeout(raw, options.connect_timeout.count());
  if (s == NATS_OK) s = natsOptions_SetAllowReconnect(raw, true);
  if (s == NATS_OK) s = natsOptions_SetMaxReconnect(raw, -1);  // as long as we live
  if (s == NATS_OK) s = natsOptions_SetReconnectWait(raw, options.reconnect_wait.count());
  if (s == NATS_OK) s = natsOptions_SetPingInterval(raw, options.ping_interval.count());
  if (s == NATS_OK) s = natsOptions_SetMaxPingsOut(raw, options.max_pings_out);
  // A request in flight when the connection drops fails at once rather
  // than at its timeout; Publish decides whether to retry.
  if (s == NATS_OK) s = natsOptions_SetFailRequestsOnDisconnect(raw, true);
  if (s != NATS_OK) return NatsError(s, static_cast<jsErrCode>(0), "NATS client options");

  s = natsConnection_Connect(&impl->nc, raw);
  if (s != NATS_OK) {
    return NatsError(s, static_cast<jsErrCode>(0),
                     fmt::format("connect to NATS ({})", fmt::join(servers, ",")));
  }
  jsOptions jo = impl->RequestOptions(options.request_timeout);
  s = natsConnection_JetStream(&impl->js, impl->nc, &jo);
  if (s != NATS_OK) return NatsError(s, static_cast<jsErrCode>(0), "JetStream context");
  impl->max_payload = natsConnection_GetMaxPayload(impl->nc);
  return std::unique_ptr<Connection>(new Connection(std::move(impl)));
}

Status Connection::CheckJetStream() {
  jsAccountInfo* ai = nullptr;
  jsErrCode jerr = static_cast<jsErrCode>(0);
  jsOptions jo = impl_->RequestOptions(impl_->options.request_timeout);
  natsStatus s = js_GetAccountInfo(&ai, impl_->js, &jo, &jerr);
  if (ai != nullptr) jsAccountInfo_Destroy(ai);
  return NatsError(s, jerr, "JetStream account info");
}

StatusOr<StreamState> Connection::EnsureStream(const StreamConfig& config) {
  std::vector<const char*> subjects;
  for (const auto& subj : config.subjects) subjects.push_back(subj.c_str());
  jsStreamConfig sc;
  jsStreamConfig_Init(&sc);
  sc.Name = config.name.c_str();
  sc.Subjects = subjects.data();
  sc.SubjectsLen = static_cast<int>(subjects.size());
  sc.Replicas = config.replicas;
  sc.Storage = config.storage == Storage::kFile ? js_FileStorage : js_MemoryStorage;
  sc.MaxMsgSize = config.max_msg_bytes;
  sc.MaxMsgsPerSubject = config.max_msgs_per_subject;
  sc.MaxAge = config.max_age.count() * kNanosPerMilli;
  sc.Duplicates = config.duplicate_window.count() * kNanosPerMilli;
  sc.AllowDirect = config.allow_direct;
  sc.AllowRollup = config.allow_rollup;
  sc.DenyDelete = config.deny_delete;
  sc.DenyPurge = config.deny_purge;
  sc.Discard = config.discard_new ? js_DiscardNew : js_DiscardOld;

  jsStreamInfo* raw = nullptr;
  jsErrCode jerr = static_cast<jsErrCode>(0);
  jsOptions jo = impl_->RequestOptions(impl_->options.request_timeout);
  natsStatus s = js_AddStream(&raw, impl_->js, &sc, &jo, &jerr);
  StreamInfoPtr si(raw);
  if (s != NATS_OK && jerr == JSStreamNameExistErr) {
    // It exists with some other configuration: say how it differs.
    si.reset();
    jsErrCode jerr2 = static_cast<jsErrCode>(0);
    s = js_GetStreamInfo(&raw, impl_->js, config.name.c_str(), &jo, &jerr2);
    si.reset(raw);
    if (s != NATS_OK) return NatsError(s, jerr2, "stream info of " + config.name);
  } else if (s != NATS_OK) {
    return NatsError(s, jerr, "create stream " + config.name);
  }
  if (si == nullptr || si->Config == nullptr) {
    return Status::Internal("no stream information for " + config.name);
  }
  std::string diff = ConfigDifference(config, *si->Config);
  if (!diff.empty()) {
    return Status::InvalidArgument(
        fmt::format("stream {} exists with {}; every node must use the same cluster settings",
                    config.name, diff));
  }
  return ToStreamState(*si);
}

StatusOr<StreamState> Connection::GetStreamState(const std::string& stream) {
  jsStreamInfo* raw = nullptr;
  jsErrCode jerr = static_cast<jsErrCode>(0);
  jsOptions jo = impl_->RequestOptions(impl_->options.request_timeout);
  natsStatus s = js_GetStreamInfo(&raw, impl_->js, stream.c_str(), &jo, &jerr);
  StreamInfoPtr si(raw);
  if (s != NATS_OK) return NatsError(s, jerr, "stream info of " + stream);
  return ToStreamState(*si);
}

Status Connection::DeleteStream(const std::string& stream) {
  jsErrCode jerr = static_cast<jsErrCode>(0);
  jsOptions jo = impl_->RequestOptions(impl_->options.request_timeout);
  natsStatus s = js_DeleteStream(impl_->js, stream.c_str(), &jo, &jerr);
  return NatsError(s, jerr, "delete stream " + stream);
}

Status Connection::StepDownStreamLeader(const std::string& stream) {
  // The C client has no call for it: the JetStream API request itself.
  const std::string subject = "$JS.API.STREAM.LEADER.STEPDOWN." + stream;
  natsMsg* raw = nullptr;
  natsStatus s = natsConnection_Request(&raw, impl_->nc, subject.c_str(), nullptr, 0,
                                        impl_->options.request_timeout.count());
  NatsMsgPtr reply(raw);
  if (s != NATS_OK) return NatsError(s, static_cast<jsErrCode>(0), "step down leader of " + stream);
  std::string body(natsMsg_GetData(raw), static_cast<size_t>(natsMsg_GetDataLength(raw)));
  if (body.find("\"success\":true") == std::string::npos) {
    return Status::Unavailable("step down leader of " + stream + ": " + body);
  }
  return Status::Ok();
}

// ---- Publish ----------------------------------------------------------------------

namespace {

// After the fence refused a publish that carried a message id: was it an
// earlier attempt of this same publish that got stored? The message that
// follows the expected one on the subject says.
StatusOr<PublishAck> ResolveFence(Connection& conn, const std::string& subject,
                                  const PublishOptions& o, Clock::time_point deadline,
                                  Millis retry_wait) {
  const uint64_t expected = *o.expected_last_subject_seq;
  Status last = Status::Unavailable("no answer");
  while (Remaining(deadline).count() > 0) {
    StatusOr<StoredMessage> next = conn.NextMessage(o.stream, subject, expected + 1);
    if (next.ok()) {
      const std::string* id = next->Header(kMsgIdHeader);
      if (id != nullptr && *id == o.msg_id) return PublishAck{next->stream_seq, true};
      return Status::Conflict(fmt::format(
          "fenced: {} has stream sequence {} after the expected {}: another writer's message; "
          "nothing was stored",
          subject, next->stream_seq, expected));
    }
    last = next.status();
    if (next.status().code() == Code::kNotFound) {
      // The replica that answered may lag; the leader knows the subject's end.
      StatusOr<StoredMessage> tail = conn.LastMessage(o.stream, subject);
      if (tail.ok() && tail->stream_seq <= expected) {
        return Status::Conflict(fmt::format(
            "fenced: {} ends at stream sequence {}, not after the expected {}; nothing was stored",
            subject, tail->stream_seq, expected));
      }
      if (!tail.ok() && tail.status().code() == Code::kNotFound) {
        return Status::Conflict(fmt::format(
            "fenced: {} has no message, not the expected {}; nothing was stored", subject,
            expected));
      }
    }
    std::this_thread::sleep_for(std::min(retry_wait, std::max(Millis(1), Remaining(deadline))));
  }
  return Status::Unavailable(fmt::format(
      "outcome unknown: publish to {} was refused by its fence, and whether an earlier attempt "
      "was stored could not be read in time ({})",
      subject, last.message()));
}

// After an acknowledged fenced publish (PublishOptions::verify_fence): is
// the message the first on its subject after the expected one?
StatusOr<PublishAck> VerifyFence(Connection& conn, const std::string& subject,
                                 const PublishOptions& o, PublishAck ack,
                                 Clock::time_point deadline, Millis retry_wait) {
  const uint64_t expected = *o.expected_last_subject_seq;
  Status last = Status::Unavailable("no answer");
  do {
    StatusOr<StoredMessage> next = conn.NextMessage(o.stream, subject, expected + 1);
    if (next.ok()) {
      if (next->stream_seq == ack.stream_seq) return ack;
      return Status::Conflict(fmt::format(
          "fenced: superseded: stored at stream sequence {}, but {} came first after the "
          "expected {} on {}; this message does not count",
          ack.stream_seq, next->stream_seq, expected, subject));
    }
    // NotFound: the replica that answered has not caught up with it yet.
    last = next.status();
    std::this_thread::sleep_for(std::min(retry_wait, std::max(Millis(1), Remaining(deadline))));
  } while (Remaining(deadline).count() > 0);
  return Status::Unavailable(fmt::format(
      "outcome unknown: stored at stream sequence {} of {}, but whether another message came "
      "first after the expected {} could not be read in time ({})",
      ack.stream_seq, subject, expected, last.message()));
}

}  // namespace

StatusOr<PublishAck> Connection::Publish(const std::string& subject, std::string_view payload,
                                         const PublishOptions& o) {
  const ConnectOptions& co = impl_->options;
  const Millis total = o.timeout.value_or(co.publish_timeout);
  const Clock::time_point deadline = Clock::now() + total;
  if ((o.verify_fence && (o.stream.empty() || !o.expected_last_subject_seq.has_value())) ||
      (o.expected_last_stream_seq.has_value() && *o.expected_last_stream_seq == 0)) {
    return Status::InvalidArgument(
        "verify_fence needs stream and expected_last_subject_seq; expected_last_stream_seq "
        "must be at least 1");
  }
  const bool resolvable =
      !o.msg_id.empty() && o.expected_last_subject_seq.has_value() && !o.stream.empty();
  const bool verifiable = o.verify_fence;
  const std::string what = "publish to " + subject;
  bool maybe_stored = false;
  Status last = Status::Unavailable(what + ": no attempt was made");

  do {
    natsMsg* raw = nullptr;
    natsStatus s = natsMsg_Create(&raw, subject.c_str(), nullptr, payload.data(),
                                  static_cast<int>(payload.size()));
    NatsMsgPtr msg(raw);
    for (const auto& [name, value] : o.headers) {
      if (s == NATS_OK) s = natsMsgHeader_Add(raw, name.c_str(), value.c_str());
    }
    if (s != NATS_OK) return NatsError(s, static_cast<jsErrCode>(0), what);

    jsPubOptions po;
    jsPubOptions_Init(&po);
    po.MaxWait = std::max<int64_t>(1, std::min(co.publish_attempt_timeout, Remaining(deadline)).count());
    if (!o.msg_id.empty()) po.MsgId = o.msg_id.c_str();
    if (!o.stream.empty()) po.ExpectStream = o.stream.c_str();
    if (o.expected_last_subject_seq.has_value()) {
      if (*o.expected_last_subject_seq == 0) {
        po.ExpectNoMessage = true;
      } else {
        po.ExpectLastSubjectSeq = *o.expected_last_subject_seq;
      }
    }
    if (o.expected_last_stream_seq.has_value()) po.ExpectLastSeq = *o.expected_last_stream_seq;
    jsPubAck* ack_raw = nullptr;
    jsErrCode jerr = static_cast<jsErrCode>(0);
    s = js_PublishMsg(&ack_raw, impl_->js, msg.get(), &po, &jerr);
    PubAckPtr ack(ack_raw);
    if (s == NATS_OK && ack != nullptr) {
      PublishAck done{ack->Sequence, ack->Duplicate};
      if (!verifiable) return done;
      return VerifyFence(*this, subject, o, done, deadline, co.publish_retry_wait);
    }

    last = NatsError(s, jerr, what);
    if (jerr == JSStreamWrongLastSequenceErr) {
      if (!resolvable || !o.expected_last_subject_seq.has_value()) return last;  // Conflict
      return ResolveFence(*this, subject, o, deadline, co.publish_retry_wait);
    }
    // Answers that mean nobody stored it: worth another attempt.
    const bool not_received = s == NATS_NO_RESPONDERS || s == NATS_NOT_YET_CONNECTED ||
                              (jerr != 0 && IsTransientJsError(jerr));
    if (!not_received && last.code() != Code::kUnavailable) return last;  // permanent
    if (!not_received) {
      // Timed out or cut off after sending: it may be stored. Only a
      // message id makes another attempt safe (the stream stores it once).
      maybe_stored = true;
      if (o.msg_id.empty()) break;
    }
    std::this_thread::sleep_for(
        std::min(co.publish_retry_wait, std::max(Millis(0), Remaining(deadline))));
  } while (Remaining(deadline).count() > 0);

  return Status::Unavailable(fmt::format(
      "{}: {} ({})", what,
      maybe_stored ? "outcome unknown: no acknowledgement, the message may or may not be stored"
                   : "not stored: no JetStream leader took it in time",
      last.message()));
}

// ---- Reads ---------------------------------------------------------------------------

StatusOr<StoredMessage> Connection::LastMessage(const std::string& stream,
                                                const std::string& subject) {
  natsMsg* raw = nullptr;
  jsErrCode jerr = static_cast<jsErrCode>(0);
  jsOptions jo = impl_->RequestOptions(impl_->options.request_timeout);
  natsStatus s = js_GetLastMsg(&raw, impl_->js, stream.c_str(), subject.c_str(), &jo, &jerr);
  NatsMsgPtr msg(raw);
  if (s != NATS_OK) return NatsError(s, jerr, fmt::format("last message of {} in {}", subject, stream));
  return ToStoredMessage(raw, natsMsg_GetSequence(raw), natsMsg_GetTime(raw));
}

StatusOr<StoredMessage> Connection::GetMessage(const std::string& stream, uint64_t stream_seq) {
  natsMsg* raw = nullptr;
  jsErrCode jerr = static_cast<jsErrCode>(0);
  jsOptions jo = impl_->RequestOptions(impl_->options.request_timeout);
  natsStatus s = js_GetMsg(&raw, impl_->js, stream.c_str(), stream_seq, &jo, &jerr);
  NatsMsgPtr msg(raw);
  if (s != NATS_OK) return NatsError(s, jerr, fmt::format("message {} of {}", stream_seq, stream));
  return ToStoredMessage(raw, natsMsg_GetSequence(raw), natsMsg_GetTime(raw));
}

namespace {

// Standard base64 (what the JetStream API uses for bytes), padding allowed.
StatusOr<std::string> Base64Decode(std::string_view in) {
  if (in.size() % 4 != 0) return Status::Corruption("base64 of a length not a multiple of 4");
  std::string out(in.size() / 4 * 3, '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(in.data()),
                                static_cast<int>(in.size()));
  if (n < 0) return Status::Corruption("invalid base64");
  size_t pad = 0;
  while (pad < 2 && pad < in.size() && in[in.size() - 1 - pad] == '=') ++pad;
  out.resize(static_cast<size_t>(n) - pad);
  return out;
}

// "NATS/1.0\r\nKey: Value\r\n...\r\n\r\n" -> pairs.
std::vector<std::pair<std::string, std::string>> ParseHeaderBlock(std::string_view block) {
  std::vector<std::pair<std::string, std::string>> out;
  size_t pos = block.find("\r\n");
  while (pos != std::string_view::npos && pos + 2 < block.size()) {
    const size_t start = pos + 2;
    const size_t end = block.find("\r\n", start);
    std::string_view line = block.substr(start, end == std::string_view::npos ? end : end - start);
    const size_t colon = line.find(':');
    if (colon != std::string_view::npos) {
      std::string_view value = line.substr(colon + 1);
      while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
      out.emplace_back(std::string(line.substr(0, colon)), std::string(value));
    }
    pos = end;
  }
  return out;
}

std::string JsonString(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  return out + "\"";
}

}  // namespace

StatusOr<StoredMessage> Connection::NextMessage(const std::string& stream,
                                                const std::string& subject, uint64_t from_seq) {
  // The C client's js_GetMsg asks by sequence only and js_DirectGetMsg goes
  // to any replica; this is the JetStream API request that only the stream
  // leader answers (nats-server 2.9: jsMsgGetRequest).
  const std::string what = fmt::format("next message of {} from {} in {}", subject, from_seq, stream);
  const std::string request = fmt::format("{{\"seq\":{},\"next_by_subj\":{}}}",
                                          std::max<uint64_t>(1, from_seq), JsonString(subject));
  natsMsg* raw = nullptr;
  natsStatus s = natsConnection_Request(&raw, impl_->nc, ("$JS.API.STREAM.MSG.GET." + stream).c_str(),
                                        request.data(), static_cast<int>(request.size()),
                                        impl_->options.request_timeout.count());
  NatsMsgPtr reply(raw);
  if (s != NATS_OK) return NatsError(s, static_cast<jsErrCode>(0), what);

  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  const char* data = natsMsg_GetData(raw);
  const size_t len = static_cast<size_t>(natsMsg_GetDataLength(raw));
  if (parser.parse(data == nullptr ? "" : data, len).get(doc) != simdjson::SUCCESS) {
    return Status::Internal(what + ": the answer is not JSON");
  }
  simdjson::dom::element error;
  if (doc["error"].get(error) == simdjson::SUCCESS) {
    // Either may be absent: then 0 (a generic error) and an empty text.
    int64_t err_code = 0;
    std::string_view description;
    if (error["err_code"].get(err_code) != simdjson::SUCCESS) err_code = 0;
    if (error["description"].get(description) != simdjson::SUCCESS) description = {};
    return MapNatsError(NATS_ERR, static_cast<jsErrCode>(err_code),
                        fmt::format("{}: {}", what, description));
  }
  simdjson::dom::element m;
  std::string_view subj, data64, hdrs64;
  uint64_t seq = 0;
  if (doc["message"].get(m) != simdjson::SUCCESS || m["subject"].get(subj) != simdjson::SUCCESS ||
      m["seq"].get(seq) != simdjson::SUCCESS) {
    return Status::Internal(what + ": unexpected answer");
  }
  StoredMessage out;
  out.subject = std::string(subj);
  out.stream_seq = seq;
  if (m["data"].get(data64) == simdjson::SUCCESS) {
    SYNCMGR_ASSIGN_OR_RETURN(out.payload, Base64Decode(data64));
  }
  if (m["hdrs"].get(hdrs64) == simdjson::SUCCESS) {
    SYNCMGR_ASSIGN_OR_RETURN(std::string block, Base64Decode(hdrs64));
    out.headers = ParseHeaderBlock(block);
  }
  return out;
}

}  // namespace syncmgr::cluster
