// Session: parking a live streamed response (the change feed, see
// feed_live_stream.h). A parked session holds no worker and no thread: a
// timer (keep-alives, long-poll deadline) and a waiter in the FeedHub; the
// first of the two to fire resumes it, the other is made stale by the
// generation number.
#include <boost/asio/post.hpp>

#include "server/server_state.h"
#include "server/session.h"

namespace syncmgr::server {

namespace beast = boost::beast;
namespace net = boost::asio;

void Session::ParkLiveStream() {
  if (closed_ || live_ == nullptr) return;
  parked_ = true;
  const uint64_t generation = ++park_generation_;
  if (!park_timer_) park_timer_ = std::make_unique<net::steady_timer>(stream_.get_executor());
  park_timer_->expires_after(live_->ParkTimeout());
  // The timer's handler is what keeps a parked session alive.
  park_timer_->async_wait([self = shared_from_this(), generation](beast::error_code ec) {
    if (!ec) self->OnLiveWake(generation);
  });
  std::weak_ptr<Session> weak = weak_from_this();
  live_->Park([weak, generation] {
    if (std::shared_ptr<Session> self = weak.lock()) {
      net::post(self->stream_.get_executor(),
                [self, generation] { self->OnLiveWake(generation); });
    }
  });
}

void Session::OnLiveWake(uint64_t generation) {
  if (closed_ || !parked_ || generation != park_generation_) return;  // stale
  parked_ = false;
  park_timer_->cancel();
  PumpResponse();
}

void Session::StopLiveStream() {
  if (live_ == nullptr) return;
  live_->RequestStop();
  if (parked_) OnLiveWake(park_generation_);
}

void Session::ReleaseResponseStream() {
  live_ = nullptr;
  response_stream_.reset();
}

}  // namespace syncmgr::server
