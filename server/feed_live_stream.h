// LiveStream: a streamed response that may have nothing to send for a while
// and must not hold a thread meanwhile (the change feed: SSE and long-poll).
//
// The session drives it like any ResponseStream (Next on a worker, one call
// at a time), plus: when Next returns an empty piece and not done, the
// session *parks* it — on its strand it calls Park(wake) and does not call
// Next again until `wake` has been called or ParkTimeout() has passed,
// whichever is first. While parked the connection holds no worker, no
// thread and no buffered events.
//
// Thread-safety: Next, Park and ParkTimeout are called by one thread at a
// time (the session serializes them); RequestStop may be called from any
// thread at any time.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>

#include "server/http_types.h"

namespace syncmgr::server {

class LiveStream : public ResponseStream {
 public:
  // Arranges for `wake` to be called (once, from any thread; possibly at
  // once, on this thread) when Next has something to do. A wake that comes
  // after the session stopped waiting is ignored by it.
  virtual void Park(std::function<void()> wake) = 0;
  // The longest time to stay parked before Next is called anyway
  // (keep-alives, a long-poll's deadline, a token's expiry).
  virtual std::chrono::milliseconds ParkTimeout() const = 0;
  // The deadline of each piece's write, ms.
  virtual uint32_t write_timeout_ms() const = 0;
  // The server is stopping: the next Next ends the response (a long-poll
  // answers what it has, SSE ends; both are resumable).
  virtual void RequestStop() = 0;
};

}  // namespace syncmgr::server
