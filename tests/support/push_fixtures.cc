#include "tests/support/push_fixtures.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <simdjson.h>

#include <algorithm>
#include <chrono>
#include <thread>

#include "tests/support/test_server.h"

namespace syncmgr::testing {

namespace {

std::string Base64(const unsigned char* data, size_t n) {
  std::string out(4 * ((n + 2) / 3) + 1, '\0');
  int len = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), data,
                            static_cast<int>(n));
  out.resize(static_cast<size_t>(len));
  return out;
}

std::string Unbase64(const std::string& in) {
  std::string out(in.size(), '\0');
  int len = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                            reinterpret_cast<const unsigned char*>(in.data()),
                            static_cast<int>(in.size()));
  if (len < 0) return "";
  size_t pad = 0;
  if (!in.empty() && in.back() == '=') ++pad;
  if (in.size() > 1 && in[in.size() - 2] == '=') ++pad;
  out.resize(static_cast<size_t>(len) - pad);
  return out;
}

}  // namespace

std::vector<PushedEvent> ParseWebhookBody(const std::string& body, uint32_t* target_id) {
  std::vector<PushedEvent> out;
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (parser.parse(body).get(root) != simdjson::SUCCESS) {
    ADD_FAILURE() << "webhook body is not JSON: " << body.substr(0, 300);
    return out;
  }
  uint64_t tid = 0;
  EXPECT_EQ(root["target_id"].get_uint64().get(tid), simdjson::SUCCESS);
  if (target_id != nullptr) *target_id = static_cast<uint32_t>(tid);
  simdjson::dom::array events;
  if (root["events"].get_array().get(events) != simdjson::SUCCESS) {
    ADD_FAILURE() << "webhook body has no events array";
    return out;
  }
  for (simdjson::dom::element e : events) {
    PushedEvent p;
    EXPECT_EQ(e["seq"].get_uint64().get(p.seq), simdjson::SUCCESS);
    std::string_view type;
    EXPECT_EQ(e["type"].get_string().get(type), simdjson::SUCCESS);
    p.type = std::string(type);
    std::string_view ext;
    if (e["external_id"].get_string().get(ext) == simdjson::SUCCESS) p.external_id = ext;
    simdjson::dom::element data;
    if (e["data"].get(data) == simdjson::SUCCESS && !data.is_null()) {
      p.data = simdjson::minify(data);
    }
    out.push_back(std::move(p));
  }
  return out;
}

bool SignatureValid(const ReceivedRequest& request, const std::string& secret) {
  if (secret.rfind("whsec_", 0) != 0) return false;
  const std::string key = Unbase64(secret.substr(6));
  const std::string id = request.Header("webhook-id");
  const std::string ts = request.Header("webhook-timestamp");
  const std::string content = id + "." + ts + "." + request.body;
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(content.data()), content.size(), mac, &len);
  const std::string expected = "v1," + Base64(mac, len);
  // The header may list several space-separated signatures.
  const std::string header = request.Header("webhook-signature");
  size_t pos = 0;
  while (pos <= header.size()) {
    size_t end = header.find(' ', pos);
    if (end == std::string::npos) end = header.size();
    if (header.substr(pos, end - pos) == expected) return true;
    pos = end + 1;
  }
  return false;
}

std::map<std::string, std::string> FoldEvents(std::vector<PushedEvent> events) {
  std::stable_sort(events.begin(), events.end(),
                   [](const PushedEvent& a, const PushedEvent& b) { return a.seq < b.seq; });
  std::map<std::string, std::string> state;
  for (const PushedEvent& e : events) {
    if (e.type.rfind("property.", 0) != 0) continue;
    if (e.type == "property.removed" || e.data.empty()) {
      state.erase(e.external_id);
    } else {
      state[e.external_id] = e.data;
    }
  }
  return state;
}

std::map<std::string, std::string> TargetState(HttpClient& client, uint32_t target_id) {
  std::map<std::string, std::string> state;
  HttpResponse r = client.Get("/targets/" + std::to_string(target_id) + "/properties");
  EXPECT_EQ(r.status, 200) << r.body;
  JsonDoc doc = ParseJson(r.body);
  simdjson::dom::array list;
  if (doc.root().get_array().get(list) != simdjson::SUCCESS) return state;
  for (simdjson::dom::element p : list) {
    std::string_view ext;
    EXPECT_EQ(p["external_id"].get_string().get(ext), simdjson::SUCCESS);
    simdjson::dom::element data;
    EXPECT_EQ(p["data"].get(data), simdjson::SUCCESS);
    state[std::string(ext)] = simdjson::minify(data);
  }
  return state;
}

DeliveryView GetDelivery(HttpClient& client, uint32_t target_id) {
  DeliveryView v;
  HttpResponse r = client.Get("/targets/" + std::to_string(target_id) + "/delivery");
  v.http_status = r.status;
  if (r.status != 200) return v;
  JsonDoc doc = ParseJson(r.body);
  std::string_view state;
  if (doc["state"].get_string().get(state) == simdjson::SUCCESS) v.state = state;
  if (doc["delivered_seq"].get_uint64().get(v.delivered_seq)) {
  }
  if (doc["pending_events"].get_uint64().get(v.pending_events)) {
  }
  if (doc["dead_letters"].get_uint64().get(v.dead_letters)) {
  }
  std::string_view error;
  if (doc["last_error"].get_string().get(error) == simdjson::SUCCESS) v.last_error = error;
  return v;
}

std::string WaitDeliveryIdle(HttpClient& client, uint32_t target_id, int timeout_s) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
  std::string body;
  while (std::chrono::steady_clock::now() < deadline) {
    HttpResponse r = client.Get("/targets/" + std::to_string(target_id) + "/delivery");
    body = r.body;
    DeliveryView v = GetDelivery(client, target_id);
    if (v.http_status == 200 && v.pending_events == 0 && v.state == "idle") return body;
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  ADD_FAILURE() << "delivery of target " << target_id << " did not finish: " << body;
  return body;
}

}  // namespace syncmgr::testing
