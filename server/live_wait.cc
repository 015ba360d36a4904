#include "server/live_wait.h"

#include <boost/asio/post.hpp>

namespace syncmgr::server {

namespace net = boost::asio;

LiveWait::LiveWait(net::any_io_executor strand, LiveStream& stream)
    : stream_(stream), write_timeout_ms_(stream.write_timeout_ms()), timer_(std::move(strand)) {}

void LiveWait::Park(std::function<void()> resume) {
  parked_ = true;
  const uint64_t generation = ++generation_;
  // Only the timer's handler resumes: a wake cancels the timer, which runs
  // the handler at once.
  timer_.expires_after(stream_.ParkTimeout());
  timer_.async_wait([self = shared_from_this(), generation,
                     resume = std::move(resume)](boost::system::error_code) {
    if (!self->parked_ || generation != self->generation_) return;  // cancelled, or stale
    self->parked_ = false;
    resume();
  });
  stream_.Park([weak = weak_from_this(), generation, strand = timer_.get_executor()] {
    net::post(strand, [weak, generation] {
      if (const std::shared_ptr<LiveWait> self = weak.lock()) self->OnWake(generation);
    });
  });
}

void LiveWait::OnWake(uint64_t generation) {
  if (parked_ && generation == generation_) timer_.cancel();
}

void LiveWait::Stop() {
  stream_.RequestStop();
  if (parked_) timer_.cancel();
}

void LiveWait::Cancel() {
  parked_ = false;
  timer_.cancel();
}

}  // namespace syncmgr::server
