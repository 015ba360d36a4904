// LiveWait: parking a live answer (the change feed, feed_live_stream.h)
// while it has nothing to send. A parked answer holds no worker and no
// thread — a timer (the stream's ParkTimeout: keep-alives, a long-poll's
// deadline, a token's expiry) and a waiter the stream registers (in the
// FeedHub). The first of the two to fire resumes the answer; a wake that
// belongs to an earlier park is stale (generation number) and ignored.
//
// Part of a StreamedAnswer (streamed_answer.h).
//
// Thread-safety: on the session's strand, except the stream's wake (any
// thread; it only posts to the strand).
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstdint>
#include <functional>
#include <memory>

#include "server/feed_live_stream.h"

namespace syncmgr::server {

class LiveWait : public std::enable_shared_from_this<LiveWait> {
 public:
  // REQUIRES: `stream` outlives every call below.
  LiveWait(boost::asio::any_io_executor strand, LiveStream& stream);

  // Calls `resume` on the strand, once, when the stream's wake or its
  // ParkTimeout comes, whichever is first. Until then the pending timer
  // (holding `resume`) is what keeps the answer and its session alive.
  // REQUIRES: not parked; no Next of the stream running.
  void Park(std::function<void()> resume);
  bool parked() const { return parked_; }
  // The deadline of each piece's write, ms.
  uint32_t write_timeout_ms() const { return write_timeout_ms_; }

  // The server is stopping: the stream's next Next ends it (resumable); a
  // parked answer resumes now.
  void Stop();
  // The connection is closed: a parked answer is let go, not resumed.
  void Cancel();

 private:
  void OnWake(uint64_t generation);

  LiveStream& stream_;
  const uint32_t write_timeout_ms_;
  boost::asio::steady_timer timer_;
  bool parked_ = false;
  uint64_t generation_ = 0;  // of the current (or last) park
};

}  // namespace syncmgr::server
