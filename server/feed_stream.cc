#include "server/feed_stream.h"

#include <algorithm>

#include "engine/engine.h"
#include "wire/feed_json.h"
#include "wire/json_writer.h"

namespace syncmgr::server {

namespace {

// One read of an SSE piece: at most this many events and log records.
constexpr uint32_t kSseMaxEvents = 64;
constexpr uint64_t kSseMaxScanned = 65'536;
// A long-poll answer's data, at most (one event more at most).
constexpr uint64_t kLongPollMaxBytes = 4u << 20;
constexpr uint64_t kLongPollMaxScanned = 100'000;

int64_t WallMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void AppendFrame(std::string* out, uint64_t id, std::string_view event, std::string_view data) {
  out->append("id: ").append(std::to_string(id)).append("\nevent: ");
  out->append(event).append("\ndata: ").append(data).append("\n\n");
}

std::string PositionJson(uint64_t seq) { return "{\"last_seq\":" + std::to_string(seq) + "}"; }

std::chrono::milliseconds AtLeastOneMs(std::chrono::steady_clock::duration d) {
  return std::max(std::chrono::milliseconds(1),
                  std::chrono::ceil<std::chrono::milliseconds>(d));
}

}  // namespace

void WriteFeedPage(std::string* out, const FeedPage& page) {
  wire::JsonWriter w(out);
  w.BeginObject().Key("events").BeginArray();
  for (const LogEvent& e : page.events) wire::WriteFeedEvent(w, e);
  w.EndArray().Key("last_seq").Uint(page.last_seq).EndObject();
}

// ---- FeedStreamBase -------------------------------------------------------------

FeedStreamBase::FeedStreamBase(FeedStreamOptions options)
    : options_(std::move(options)), position_(options_.position) {}

FeedStreamBase::~FeedStreamBase() { options_.hub->Cancel(options_.tenant, wait_handle_); }

void FeedStreamBase::Park(std::function<void()> wake) {
  options_.hub->Cancel(options_.tenant, wait_handle_);
  wait_handle_ = 0;
  if (!at_end_ || stop_.load() || Expired()) {  // more to read or to end: no waiting
    wake();
    return;
  }
  wait_handle_ = options_.hub->Wait(options_.tenant, position_, std::move(wake));
}

bool FeedStreamBase::Expired() const {
  return options_.expires_at_us && WallMicros() >= *options_.expires_at_us;
}

std::chrono::milliseconds FeedStreamBase::UntilExpiry() const {
  if (!options_.expires_at_us) return std::chrono::milliseconds::max();
  const int64_t left_us = *options_.expires_at_us - WallMicros();
  return std::chrono::milliseconds(std::max<int64_t>(1, (left_us + 999) / 1000));
}

// ---- SseStream -------------------------------------------------------------------

SseStream::SseStream(FeedStreamOptions options)
    : FeedStreamBase(std::move(options)),
      last_write_(Clock::now()),
      last_id_(position_),
      last_id_time_(last_write_) {}

Status SseStream::Next(std::string* out, bool* done) {
  *done = false;
  if (stop_.load() || Expired()) {  // resumable: the client reconnects with Last-Event-ID
    *done = true;
    return Status::Ok();
  }
  FeedReadLimits limits;
  limits.max_events = kSseMaxEvents;
  limits.max_data_bytes = kSsePieceBytes;
  limits.max_scanned = kSseMaxScanned;
  SYNCMGR_ASSIGN_OR_RETURN(FeedPage page, ReadFeed(*options_.engine, options_.tenant,
                                                   options_.filter, position_, limits));
  const Clock::time_point now = Clock::now();
  for (const LogEvent& e : page.events) {
    AppendFrame(out, e.seq, wire::EventTypeName(e.type), wire::FeedEventJson(e));
    last_id_ = e.seq;
    last_id_time_ = now;
  }
  position_ = page.last_seq;
  at_end_ = page.at_end;
  if (at_end_ && !caught_up_sent_) {
    AppendFrame(out, position_, "caught_up", PositionJson(position_));
    caught_up_sent_ = true;
    last_id_ = position_;
    last_id_time_ = now;
  }
  // A sparse filter: tell the client how far it has got, so that it resumes
  // from there rather than re-scanning what matched nothing.
  if (position_ > last_id_ && now - last_id_time_ >= options_.keepalive) {
    AppendFrame(out, position_, "checkpoint", PositionJson(position_));
    last_id_ = position_;
    last_id_time_ = now;
  }
  if (out->empty() && now - last_write_ >= options_.keepalive) out->append(": keep-alive\n\n");
  if (!out->empty()) last_write_ = now;
  return Status::Ok();
}

std::chrono::milliseconds SseStream::ParkTimeout() const {
  const Clock::time_point due =
      (position_ > last_id_ ? last_id_time_ : last_write_) + options_.keepalive;
  return std::min(AtLeastOneMs(due - Clock::now()), UntilExpiry());
}

// ---- LongPollStream ----------------------------------------------------------------

LongPollStream::LongPollStream(FeedStreamOptions options, uint32_t limit,
                               Clock::time_point deadline)
    : FeedStreamBase(std::move(options)), limit_(limit), deadline_(deadline) {}

Status LongPollStream::Next(std::string* out, bool* done) {
  const bool last_chance = stop_.load() || Expired() || Clock::now() >= deadline_;
  FeedReadLimits limits;
  limits.max_events = limit_;
  limits.max_data_bytes = kLongPollMaxBytes;
  limits.max_scanned = kLongPollMaxScanned;
  SYNCMGR_ASSIGN_OR_RETURN(FeedPage page, ReadFeed(*options_.engine, options_.tenant,
                                                   options_.filter, position_, limits));
  position_ = page.last_seq;
  at_end_ = page.at_end;
  *done = !page.events.empty() || last_chance;
  if (*done) WriteFeedPage(out, page);
  return Status::Ok();
}

std::chrono::milliseconds LongPollStream::ParkTimeout() const {
  return std::min(AtLeastOneMs(deadline_ - Clock::now()), UntilExpiry());
}

}  // namespace syncmgr::server
