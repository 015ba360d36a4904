// Values that exist only as API answers: no engine type holds them. The
// layers that compute them (delivery/) and the ones that show them
// (server/, tools/) meet here.
//
// Plain values; safe to copy between threads.
#pragma once

#include <cstdint>
#include <string>

namespace syncmgr::wire {

// GET /targets/{id}/delivery (and pause, resume, redeliver): one push
// target's delivery, as the delivery engine (or, without a server, the
// stored delivery record) sees it.
struct DeliveryStatus {
  std::string state;  // "idle" | "delivering" | "retrying" | "paused"
  uint64_t delivered_seq = 0;
  uint64_t pending_events = 0;
  std::string last_error;          // "" if none
  int64_t last_attempt_at_us = 0;  // 0: never
  int64_t next_attempt_at_us = 0;  // 0: none scheduled
  uint64_t dead_letters = 0;
};

}  // namespace syncmgr::wire
