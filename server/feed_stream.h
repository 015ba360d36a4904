// The change feed's answers (SPEC §4 "Change feed", docs/feed.md):
//
//  * a JSON page `{"events": [...], "last_seq": N}` (WriteFeedPage);
//  * a long-poll: the same page, held (LongPollStream) until a matching
//    event commits or `wait` ends;
//  * Server-Sent Events (SseStream): `id: SEQ` / `event: TYPE` /
//    `data: JSON` per event; `event: checkpoint` (id = last seq scanned)
//    at least every keep-alive interval while the position advances without
//    matching events; one `event: caught_up` once the backlog is delivered;
//    a `: keep-alive` comment after an interval without any write.
//
// Both streams are LiveStreams: caught up, they park their connection on
// the FeedHub instead of holding a thread, and read the log from their own
// position in bounded pieces (kSsePieceBytes) on the worker pool. A
// subscriber that stops reading therefore holds at most one piece being
// written and one fetched; it is fed again from the log when its socket
// drains, and is disconnected after feed_write_timeout_ms without progress.
//
// Thread-safety: LiveStream's (one caller at a time; RequestStop from any
// thread).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "server/feed_hub.h"
#include "server/feed_live_stream.h"
#include "server/feed_reader.h"

namespace syncmgr::server {

// A piece of an SSE stream holds events up to about this many bytes (one
// event more at most).
inline constexpr uint64_t kSsePieceBytes = 64u << 10;

// Appends `{"events": [...], "last_seq": N}`.
void WriteFeedPage(std::string* out, const FeedPage& page);

struct FeedStreamOptions {
  Engine* engine = nullptr;
  FeedHub* hub = nullptr;
  TenantId tenant = 0;
  FeedFilter filter;
  uint64_t position = 0;  // events after this seq
  // SSE: keep-alive and checkpoint interval. Long-poll: unused.
  std::chrono::milliseconds keepalive{15'000};
  uint32_t write_timeout_ms = 120'000;
  // A feed token's expiry (wall clock, µs): the answer ends then.
  std::optional<int64_t> expires_at_us;
  FeedHub::Admission admission;  // released with the stream
};

class FeedStreamBase : public LiveStream {
 public:
  explicit FeedStreamBase(FeedStreamOptions options);
  ~FeedStreamBase() override;

  void Park(std::function<void()> wake) override;
  uint32_t write_timeout_ms() const override { return options_.write_timeout_ms; }
  void RequestStop() override { stop_.store(true); }

 protected:
  using Clock = std::chrono::steady_clock;
  bool Expired() const;
  // Time left until the token expires (max() without a token).
  std::chrono::milliseconds UntilExpiry() const;

  FeedStreamOptions options_;
  uint64_t position_;     // last seq scanned
  bool at_end_ = false;   // the last read reached the end of the log
  std::atomic<bool> stop_{false};
  uint64_t wait_handle_ = 0;
};

class SseStream final : public FeedStreamBase {
 public:
  explicit SseStream(FeedStreamOptions options);
  Status Next(std::string* out, bool* done) override;
  std::chrono::milliseconds ParkTimeout() const override;

 private:
  Clock::time_point last_write_;    // last piece produced
  uint64_t last_id_;                // last `id:` sent
  Clock::time_point last_id_time_;  // when it was sent
  bool caught_up_sent_ = false;
};

class LongPollStream final : public FeedStreamBase {
 public:
  // `limit`: events per answer; `deadline`: when an empty answer is sent.
  LongPollStream(FeedStreamOptions options, uint32_t limit, std::chrono::steady_clock::time_point deadline);
  Status Next(std::string* out, bool* done) override;
  std::chrono::milliseconds ParkTimeout() const override;

 private:
  uint32_t limit_;
  Clock::time_point deadline_;
};

}  // namespace syncmgr::server
