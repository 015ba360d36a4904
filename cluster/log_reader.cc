// LogReader: leader reads of the log in stream order, LogChain decisions,
// folds through Engine::ApplyFromLog.
#include "cluster/log_reader.h"

#include <cstdio>

#include <fmt/format.h>

#include "cluster/cursor.h"
#include "cluster/layout.h"
#include "cluster/log_chain.h"
#include "cluster/subject_reader.h"

namespace syncmgr::cluster {

namespace {

constexpr std::string_view kMsgIdHeader = "Nats-Msg-Id";
// Start: how long a stream without leader is waited for.
constexpr auto kStartTimeout = std::chrono::seconds(60);
// The wake-up reader's open: short, it is only a signal (a consumer placed
// on a dead replica only fails by this timeout).
constexpr Millis kWakeupOpenTimeout{2000};
constexpr Millis kWakeupAttemptTimeout{1000};
// Wake-up messages drained at once (they only say "something is new").
constexpr int kMaxDrained = 4096;

std::string MsgId(const StoredMessage& m) {
  const std::string* id = m.Header(kMsgIdHeader);
  return id == nullptr ? std::string() : *id;
}

}  // namespace

struct LogReader::Wakeup {
  std::unique_ptr<SubjectReader> reader;
};

LogReader::LogReader(Connection* conn, Engine* engine, LogReaderOptions options)
    : conn_(conn), engine_(engine), options_(std::move(options)) {}

LogReader::~LogReader() { Stop(); }

Status LogReader::Start() {
  SYNCMGR_ASSIGN_OR_RETURN(std::string raw, engine_->NodeCursor());
  SYNCMGR_ASSIGN_OR_RETURN(NodeCursor cursor, DecodeNodeCursor(raw));
  if (cursor.position > 0) {
    // The views were folded from the stream up to this message: the stream
    // must still hold it (a stream that lost acknowledged writes, or
    // another cluster's stream, must not be folded on top of them).
    const auto deadline = Clock::now() + kStartTimeout;
    StatusOr<StoredMessage> at = conn_->GetMessage(options_.stream, cursor.position);
    while (!at.ok() && at.status().code() == Code::kUnavailable && Clock::now() < deadline) {
      std::this_thread::sleep_for(options_.retry_wait);
      at = conn_->GetMessage(options_.stream, cursor.position);
    }
    if (!at.ok() && at.status().code() != Code::kNotFound) return at.status();
    if (!at.ok() || (!cursor.msg_id.empty() && MsgId(*at) != cursor.msg_id)) {
      return Status::Corruption(fmt::format(
          "this node's views were folded from stream {} up to sequence {} (message {}), which "
          "the stream no longer holds there; the stream lost or renumbered messages. Rebuild "
          "this node: move its data directory away and start it again (docs/scaling.md)",
          options_.stream, cursor.position, cursor.msg_id.empty() ? "?" : cursor.msg_id));
    }
  }
  {
    MutexLock lock(&mu_);
    position_ = cursor.position;
    running_ = true;
  }
  position_msg_id_ = cursor.msg_id;
  thread_ = std::thread([this] { Run(); });
  return Status::Ok();
}

void LogReader::Stop() {
  {
    MutexLock lock(&mu_);
    stop_ = true;
  }
  cv_.SignalAll();
  if (thread_.joinable()) thread_.join();
}

bool LogReader::Stopping() {
  MutexLock lock(&mu_);
  return stop_;
}

bool LogReader::CatchUp(Clock::time_point deadline) {
  // The stream's end now; then the caller's own leader reads tell whether
  // a log message up to it is still to be handled (the reader may be idle,
  // waiting for a wake-up: this does not wait for its next look).
  const std::string filter(kAllLogSubjects);
  while (Clock::now() < deadline) {
    StatusOr<StreamState> st = conn_->GetStreamState(options_.stream);
    if (st.ok()) {
      while (Clock::now() < deadline) {
        const uint64_t have = position();
        if (have >= st->last_seq) return true;
        StatusOr<StoredMessage> next = conn_->NextMessage(options_.stream, filter, have + 1);
        if (!next.ok() && next.status().code() == Code::kNotFound) return true;
        if (!next.ok()) break;  // no answer: start over
        if (next->stream_seq > st->last_seq) return true;
        MutexLock lock(&mu_);
        while (position_ < next->stream_seq && running_) {
          if (!cv_.WaitUntil(&mu_, deadline)) break;
        }
        if (position_ < next->stream_seq && running_) return false;  // the deadline passed
        if (!running_) return false;
      }
    }
    {
      MutexLock lock(&mu_);
      if (!running_) return false;
      const Clock::time_point until = std::min(deadline, Clock::now() + options_.retry_wait);
      while (!stop_ && cv_.WaitUntil(&mu_, until)) {
      }
    }
  }
  return false;
}

bool LogReader::WaitForTenant(TenantId tenant, uint64_t stream_seq, Clock::time_point deadline) {
  MutexLock lock(&mu_);
  while (!ReachedLocked(tenant, stream_seq) && running_) {
    if (!cv_.WaitUntil(&mu_, deadline)) break;
  }
  return ReachedLocked(tenant, stream_seq);
}

bool LogReader::ReachedLocked(TenantId tenant, uint64_t stream_seq) const {
  auto it = chain_head_.find(tenant);
  return (it != chain_head_.end() && it->second >= stream_seq) || position_ >= stream_seq;
}

void LogReader::SetPaused(bool paused) {
  {
    MutexLock lock(&mu_);
    paused_ = paused;
  }
  cv_.SignalAll();
}

bool LogReader::paused() const {
  MutexLock lock(&mu_);
  return paused_;
}

uint64_t LogReader::position() const {
  MutexLock lock(&mu_);
  return position_;
}

uint64_t LogReader::stream_last_seq() const {
  MutexLock lock(&mu_);
  return stream_last_seq_;
}

uint64_t LogReader::superseded_total() const {
  MutexLock lock(&mu_);
  return superseded_;
}

Status LogReader::error() const {
  MutexLock lock(&mu_);
  return error_;
}

void LogReader::RefreshStreamEnd() {
  StatusOr<StreamState> st = conn_->GetStreamState(options_.stream);
  if (!st.ok()) return;
  MutexLock lock(&mu_);
  stream_last_seq_ = std::max(stream_last_seq_, st->last_seq);
}

void LogReader::RefreshStreamState(bool force) {
  const auto now = Clock::now();
  if (!force && now - last_state_read_ < options_.stream_state_interval) return;
  StatusOr<StreamState> st = conn_->GetStreamState(options_.stream);
  if (!st.ok()) return;  // the gauge keeps its last value; the next read retries
  last_state_read_ = now;
  MutexLock lock(&mu_);
  stream_last_seq_ = std::max(stream_last_seq_, st->last_seq);
}

void LogReader::Run() {
  const std::string filter(kAllLogSubjects);
  Status failure;
  while (true) {
    uint64_t from = 0;
    {
      MutexLock lock(&mu_);
      while (paused_ && !stop_) cv_.Wait(&mu_);
      if (stop_) break;
      from = position_ + 1;
    }
    RefreshStreamState(/*force=*/false);
    StatusOr<StoredMessage> msg = conn_->NextMessage(options_.stream, filter, from);
    if (msg.ok()) {
      Status s = Handle(*msg);
      if (s.ok()) continue;
      if (s.code() == Code::kUnavailable) {
        std::this_thread::sleep_for(options_.retry_wait);
        continue;
      }
      failure = s;
      break;
    }
    if (msg.status().code() != Code::kNotFound) {
      std::this_thread::sleep_for(options_.retry_wait);
      continue;
    }
    // Nothing after `from` on the log subjects: everything stored before
    // the request is handled. The position moves to the stream's end as
    // read before a second look, so the lag counts other messages too.
    StatusOr<StreamState> st = conn_->GetStreamState(options_.stream);
    StatusOr<StoredMessage> again = conn_->NextMessage(options_.stream, filter, from);
    if (again.ok() || again.status().code() != Code::kNotFound) continue;  // handled next time
    {
      MutexLock lock(&mu_);
      if (st.ok()) {
        stream_last_seq_ = std::max(stream_last_seq_, st->last_seq);
        position_ = std::max(position_, st->last_seq);
      }
    }
    cv_.SignalAll();
    Idle();
  }
  if (!failure.ok()) {
    std::fprintf(stderr, "syncmgr: cluster: the log reader stopped: %s\n",
                 failure.ToString().c_str());
  }
  wakeup_.reset();
  {
    MutexLock lock(&mu_);
    error_ = failure;
    running_ = false;
  }
  cv_.SignalAll();
}

void LogReader::Idle() {
  if (wakeup_ == nullptr) {
    SubjectReaderOptions o;
    o.open_timeout = kWakeupOpenTimeout;
    o.open_attempt_timeout = kWakeupAttemptTimeout;
    StatusOr<std::unique_ptr<SubjectReader>> r = SubjectReader::Open(
        conn_, options_.stream, std::string(kAllLogSubjects), position() + 1, o);
    if (!r.ok()) {
      // No wake-up for now: look again after a pause.
      MutexLock lock(&mu_);
      const Clock::time_point until = Clock::now() + options_.idle_wait;
      while (!stop_ && cv_.WaitUntil(&mu_, until)) {
      }
      return;
    }
    wakeup_ = std::make_unique<Wakeup>();
    wakeup_->reader = std::move(*r);
  }
  StatusOr<std::optional<StoredMessage>> got = wakeup_->reader->Next(options_.idle_wait);
  if (!got.ok()) {
    wakeup_.reset();
    return;
  }
  if (!got->has_value()) return;
  for (int i = 0; i < kMaxDrained; ++i) {
    got = wakeup_->reader->Next(Millis(1));
    if (!got.ok()) {
      wakeup_.reset();
      return;
    }
    if (!got->has_value()) return;
  }
}

Status LogReader::Handle(const StoredMessage& msg) {
  std::optional<TenantId> tenant = TenantOfSubject(msg.subject);
  if (!tenant.has_value() || msg.subject != LogSubject(*tenant)) {
    return Status::Corruption(fmt::format("stream sequence {}: subject {} is not a tenant's log",
                                          msg.stream_seq, msg.subject));
  }
  StatusOr<ClusterMessage> decoded = DecodeClusterMessage(msg.payload);
  if (!decoded.ok()) {
    return Status::Corruption(fmt::format("stream sequence {} ({}): {}", msg.stream_seq,
                                          msg.subject, decoded.status().message()));
  }
  LogChain::Verdict verdict = LogChain::Verdict::kAlreadySeen;
  SYNCMGR_RETURN_IF_ERROR(Fold(*tenant, msg, *decoded, &verdict));
  {
    MutexLock lock(&mu_);
    position_ = std::max(position_, msg.stream_seq);
    uint64_t& head = chain_head_[*tenant];
    head = std::max(head, msg.stream_seq);
    if (verdict == LogChain::Verdict::kDoesNotCount) ++superseded_;
  }
  position_msg_id_ = MsgId(msg);
  cv_.SignalAll();
  const auto* fence = std::get_if<FenceMessage>(&*decoded);
  if (fence != nullptr && verdict == LogChain::Verdict::kCounts && on_fence_) {
    on_fence_(FenceSeen{*tenant, msg.stream_seq, *fence});
  }
  return Status::Ok();
}

Status LogReader::Fold(TenantId tenant, const StoredMessage& msg, const ClusterMessage& decoded,
                       LogChain::Verdict* verdict) {
  const auto* commit = std::get_if<CommitMessage>(&decoded);
  const auto* fence = std::get_if<FenceMessage>(&decoded);
  if ((commit == nullptr && fence == nullptr) ||
      (commit != nullptr ? commit->tenant : fence->tenant) != tenant) {
    return Status::Corruption(fmt::format(
        "stream sequence {} ({}) is neither a commit nor a fence of tenant {}", msg.stream_seq,
        msg.subject, tenant));
  }
  const uint64_t prev = commit != nullptr ? commit->prev : fence->prev;
  const std::string node_cursor = EncodeNodeCursor(NodeCursor{msg.stream_seq, MsgId(msg)});
  auto fetch = [this](const ChunkRef& ref) -> StatusOr<ChunkMessage> {
    SYNCMGR_ASSIGN_OR_RETURN(StoredMessage m, conn_->GetMessage(options_.stream, ref.stream_seq));
    StatusOr<ClusterMessage> chunk = DecodeClusterMessage(m.payload);
    if (!chunk.ok() || !std::holds_alternative<ChunkMessage>(*chunk)) {
      return Status::Corruption(
          fmt::format("stream sequence {} is not a chunk of an operation", ref.stream_seq));
    }
    return std::get<ChunkMessage>(std::move(*chunk));
  };
  auto decide = [&](std::string_view stored) -> StatusOr<ExternalCommit> {
    SYNCMGR_ASSIGN_OR_RETURN(TenantCursor cursor, DecodeTenantCursor(stored));
    LogChain chain(cursor.last_seq, cursor.last_counts);
    *verdict = chain.Next(msg.stream_seq, prev, fence != nullptr);
    if (*verdict == LogChain::Verdict::kMissedMessage) {
      return Status::Corruption(fmt::format(
          "stream sequence {} of {} follows sequence {}, which this node never saw (it saw the "
          "subject up to {}): the stream's numbering changed under it. Rebuild this node "
          "(docs/scaling.md)",
          msg.stream_seq, msg.subject, prev, cursor.last_seq));
    }
    ExternalCommit out;
    out.tenant_cursor = EncodeTenantCursor(TenantCursor{chain.last_seq(), chain.last_counts()});
    if (*verdict == LogChain::Verdict::kCounts && commit != nullptr) {
      out.fold = true;
      out.first_seq = commit->first_seq;
      out.last_seq = commit->last_seq;
      out.records = [commit, &fetch](const RecordFn& sink) {
        return ForEachRecord(*commit, fetch, sink);
      };
    }
    return out;
  };
  return engine_->ApplyFromLog(tenant, decide, node_cursor);
}

}  // namespace syncmgr::cluster
