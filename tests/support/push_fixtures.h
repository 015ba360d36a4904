// Helpers for push delivery tests: a webhook receiver's own view of what it
// was sent (signature check with its own HMAC code, folding the events into
// a state), and waiting on GET /targets/{id}/delivery.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "tests/support/http_client.h"
#include "tests/support/webhook_receiver.h"

namespace syncmgr::testing {

// One event of a webhook body, as the receiver reads it.
struct PushedEvent {
  uint64_t seq = 0;
  std::string type;
  std::string external_id;
  std::string data;  // minified JSON; "" when null
};

// Parses {"target_id", "events": [...]}; fails the test on a bad body.
std::vector<PushedEvent> ParseWebhookBody(const std::string& body, uint32_t* target_id = nullptr);

// Standard Webhooks: "v1," + base64(HMAC-SHA256(key, id "." timestamp "."
// body)), computed here with OpenSSL independently of the server's code.
// `secret` is "whsec_" + base64(key).
bool SignatureValid(const ReceivedRequest& request, const std::string& secret);

// Folds events (seq order) the way a receiver keeping the highest seq per
// property does: external_id -> data of the live properties.
std::map<std::string, std::string> FoldEvents(std::vector<PushedEvent> events);

// external_id -> minified data of GET /targets/{id}/properties.
std::map<std::string, std::string> TargetState(HttpClient& client, uint32_t target_id);

// Polls GET /targets/{id}/delivery until pending_events is 0 and the state is
// idle (up to `timeout_s`); returns the last answer's body.
std::string WaitDeliveryIdle(HttpClient& client, uint32_t target_id, int timeout_s = 60);

// GET /targets/{id}/delivery parsed: state, delivered_seq, pending_events,
// dead_letters, last_error ("" if null).
struct DeliveryView {
  int http_status = 0;
  std::string state;
  uint64_t delivered_seq = 0;
  uint64_t pending_events = 0;
  uint64_t dead_letters = 0;
  std::string last_error;
};
DeliveryView GetDelivery(HttpClient& client, uint32_t target_id);

}  // namespace syncmgr::testing
