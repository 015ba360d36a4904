// The webhook push target (SPEC §4 "Push delivery") against real receivers
// on loopback: a schedule of failures still ends with every event delivered
// in seq order, every request correctly signed, and a folded state equal to
// the target's; dead letters, pause / resume / redeliver; secrets never
// shown; outbound safety.
#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <map>
#include <set>
#include <thread>

#include "delivery/outbound.h"
#include "engine/engine.h"
#include "tests/support/push_fixtures.h"
#include "tests/support/test_server.h"
#include "tests/support/webhook_receiver.h"

namespace syncmgr::testing {
namespace {

constexpr char kSecret[] = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
constexpr char kToken[] = "tok-very-secret-4711";

TestServerOptions PushOptions(bool allow_private = true) {
  TestServerOptions o;
  o.server.allow_private_push = allow_private;
  o.server.delivery_backoff_base_ms = 20;  // keep retries short
  return o;
}

class WebhookTest : public ::testing::Test {
 protected:
  explicit WebhookTest(bool allow_private = true) : server_(PushOptions(allow_private)) {
    auto tenant = server_.CreateTenant("Acme");
    tenant_ = tenant.id;
    client_ = std::make_unique<HttpClient>(server_.Client(tenant.api_key));
    EXPECT_EQ(client_->Post("/sources", R"({"name":"portal"})").status, 201);
  }

  uint32_t CreateWebhook(const std::string& url, const std::string& extra = "") {
    std::string body = R"({"name":"site","type":"webhook","config":{"url":")" + url +
                       R"(","secret":")" + kSecret + R"(","bearer_token":")" + kToken + "\"" +
                       extra + "}}";
    HttpResponse r = client_->Post("/targets", body);
    EXPECT_EQ(r.status, 201) << r.body;
    uint64_t id = 0;
    if (ParseJson(r.body)["id"].get_uint64().get(id)) {
  }
    return static_cast<uint32_t>(id);
  }

  // Imports `n` listings (version `v`) into source 1 and syncs them into
  // every target in `targets`.
  void ImportAndSync(int n, int v, const std::vector<uint32_t>& targets, bool full = false) {
    std::string data = "[";
    for (int i = 0; i < n; ++i) {
      if (i > 0) data += ",";
      data += R"({"external_id":"p)" + std::to_string(i) + R"(","price":)" +
              std::to_string(1000 * v + i) + "}";
    }
    data += "]";
    HttpResponse r = client_->Post(std::string("/sources/1/import") +
                                       (full ? "?mode=full&allow_mass_removal=true" : ""),
                                   "{\"data\":" + data + "}");
    ASSERT_EQ(r.status, 200) << r.body;
    for (uint32_t t : targets) {
      r = client_->Post("/sync/1/" + std::to_string(t), "");
      ASSERT_EQ(r.status, 200) << r.body;
    }
  }

  // Every event of the target's stream, as the engine has it.
  std::vector<uint64_t> TargetSeqs(uint32_t target) {
    LogQuery q;
    q.stream = StreamRef{StreamKind::kTarget, target};
    q.limit = 100000;
    StatusOr<LogPage> page = server_.engine().ReadLog(tenant_, q);
    EXPECT_TRUE(page.ok());
    std::vector<uint64_t> seqs;
    for (const LogEvent& e : page->events) seqs.push_back(e.seq);
    return seqs;
  }

  TestServer server_;
  TenantId tenant_ = 0;
  std::unique_ptr<HttpClient> client_;
};

// 500, a request hanging past timeout_ms, 429 with Retry-After, one batch
// refused with 400 (dead letter, then retried): every event arrives, in seq
// order, signed, and the receiver's fold equals the target.
TEST_F(WebhookTest, FailureScheduleEndsWithEveryEventInOrder) {
  WebhookReceiver receiver([](const ReceivedRequest&, size_t n) {
    ReceiverReply reply;
    if (n == 0) reply.status = 500;
    if (n == 1) {
      reply.delay = std::chrono::milliseconds(1500);  // past timeout_ms
      reply.status = 500;
    }
    if (n == 2) {
      reply.status = 429;
      reply.headers = {{"Retry-After", "1"}};
    }
    if (n == 4) reply.status = 400;  // the second batch: refused -> dead letter
    return reply;
  });
  const uint32_t target = CreateWebhook(receiver.url(), R"(,"batch_size":5,"timeout_ms":400)");
  ImportAndSync(12, 1, {target});
  ImportAndSync(12, 2, {target});
  ImportAndSync(9, 3, {target}, /*full=*/true);  // 3 removals
  ASSERT_EQ(client_->Put("/targets/" + std::to_string(target) + "/properties/p1",
                         R"({"external_id":"p1","price":1})")
                .status,
            200);
  WaitDeliveryIdle(*client_, target);

  // One dead letter: the refused batch, with the receiver's answer.
  HttpResponse r = client_->Get("/targets/" + std::to_string(target) + "/dead_letters");
  ASSERT_EQ(r.status, 200);
  JsonDoc dead = ParseJson(r.body);
  ASSERT_EQ(simdjson::dom::array(dead.root()).size(), 1u) << r.body;
  simdjson::dom::element letter = simdjson::dom::array(dead.root()).at(0);
  EXPECT_EQ(uint64_t(letter["attempts"]), 1u);
  EXPECT_NE(std::string(std::string_view(letter["last_error"])).find("HTTP 400"),
            std::string::npos);
  const uint64_t dead_id = uint64_t(letter["id"]);
  const uint64_t dead_first = uint64_t(letter["first_seq"]);
  const uint64_t dead_last = uint64_t(letter["last_seq"]);
  EXPECT_EQ(GetDelivery(*client_, target).dead_letters, 1u);

  // Retry it: delivered now, and removed.
  r = client_->Post("/targets/" + std::to_string(target) + "/dead_letters/" +
                        std::to_string(dead_id) + "/retry",
                    "");
  ASSERT_EQ(r.status, 202) << r.body;
  for (int i = 0; i < 400; ++i) {
    r = client_->Get("/targets/" + std::to_string(target) + "/dead_letters");
    if (r.body == "[]") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  EXPECT_EQ(r.body, "[]");
  // The dead letter is gone as soon as its retry is recorded, while the
  // worker that sent it may still be finishing its step: wait for idle.
  WaitDeliveryIdle(*client_, target);
  EXPECT_EQ(GetDelivery(*client_, target).dead_letters, 0u);
  EXPECT_EQ(client_->Post("/targets/" + std::to_string(target) + "/dead_letters/" +
                              std::to_string(dead_id) + "/retry",
                          "")
                .status,
            404);

  std::vector<ReceivedRequest> requests = receiver.requests();
  std::vector<PushedEvent> delivered;
  uint64_t last = 0;
  bool saw_retry_of_dead_letter = false;
  for (const ReceivedRequest& req : requests) {
    // Every request: signed, authorized, identified by its seq range.
    EXPECT_TRUE(SignatureValid(req, kSecret)) << req.Header("webhook-signature");
    EXPECT_EQ(req.Header("authorization"), std::string("Bearer ") + kToken);
    EXPECT_EQ(req.method, "POST");
    uint32_t tid = 0;
    std::vector<PushedEvent> events = ParseWebhookBody(req.body, &tid);
    EXPECT_EQ(tid, target);
    ASSERT_FALSE(events.empty());
    EXPECT_EQ(req.Header("webhook-id"), std::to_string(target) + "-" +
                                            std::to_string(events.front().seq) + "-" +
                                            std::to_string(events.back().seq));
    if (req.answered_status != 200) continue;
    if (events.front().seq == dead_first && events.back().seq == dead_last &&
        events.front().seq < last) {
      saw_retry_of_dead_letter = true;  // the retried dead letter comes late, by design
    } else {
      EXPECT_GT(events.front().seq, last) << "batches out of seq order";
      last = events.back().seq;
    }
    for (size_t i = 1; i < events.size(); ++i) EXPECT_GT(events[i].seq, events[i - 1].seq);
    delivered.insert(delivered.end(), events.begin(), events.end());
  }
  EXPECT_TRUE(saw_retry_of_dead_letter);
  EXPECT_GE(requests.size(), 6u);
  EXPECT_EQ(requests[0].Header("webhook-id"), requests[1].Header("webhook-id"))
      << "a retried batch keeps its webhook-id";

  std::set<uint64_t> got;
  for (const PushedEvent& e : delivered) got.insert(e.seq);
  std::vector<uint64_t> want = TargetSeqs(target);
  EXPECT_EQ(std::vector<uint64_t>(got.begin(), got.end()), want);
  EXPECT_EQ(FoldEvents(delivered), TargetState(*client_, target));

  DeliveryView view = GetDelivery(*client_, target);
  EXPECT_EQ(view.state, "idle");
  EXPECT_EQ(view.delivered_seq, want.back());
  EXPECT_EQ(view.last_error, "");

  // Metrics per target.
  r = server_.Client().Get("/metrics");
  EXPECT_NE(r.body.find("syncmgr_delivery_delivered_events_total{tenant=\"" +
                        std::to_string(tenant_) + "\",target=\"" + std::to_string(target) +
                        "\",type=\"webhook\"}"),
            std::string::npos);
  EXPECT_NE(r.body.find("syncmgr_delivery_ack_latency_seconds_count"), std::string::npos);
  EXPECT_NE(r.body.find("syncmgr_delivery_pending_events{"), std::string::npos);
}

TEST_F(WebhookTest, SecretsAreNeverShown) {
  WebhookReceiver receiver;
  const uint32_t target = CreateWebhook(receiver.url());
  HttpResponse created = client_->Get("/targets/" + std::to_string(target));
  ASSERT_EQ(created.status, 200);
  JsonDoc doc = ParseJson(created.body);
  EXPECT_EQ(std::string_view(doc["config"]["secret"]), "***");
  EXPECT_EQ(std::string_view(doc["config"]["bearer_token"]), "***");
  EXPECT_EQ(std::string_view(doc["config"]["url"]), receiver.url());
  ImportAndSync(3, 1, {target});
  WaitDeliveryIdle(*client_, target);
  std::vector<std::string> answers = {
      client_->Get("/targets").body, created.body,
      client_->Get("/targets/" + std::to_string(target) + "/delivery").body,
      server_.Client().Get("/metrics").body};
  for (const std::string& line : server_.LogLines()) answers.push_back(line);
  const std::string key_b64 = std::string(kSecret).substr(6);
  for (const std::string& a : answers) {
    EXPECT_EQ(a.find(key_b64), std::string::npos) << a;
    EXPECT_EQ(a.find(kToken), std::string::npos) << a;
  }
}

TEST_F(WebhookTest, BadConfigsAreRefusedAndWriteNothing) {
  const std::string base = R"({"name":"x","type":"webhook","config":)";
  for (std::string config : {
           R"({})",
           R"({"url":1})",
           R"({"url":"ftp://127.0.0.1/x"})",
           R"({"url":"not a url"})",
           R"({"url":"http://127.0.0.1:1/","secret":"nope"})",
           R"({"url":"http://127.0.0.1:1/","secret":"whsec_%%%"})",
           R"({"url":"http://127.0.0.1:1/","secret":"whsec_"})",
           R"({"url":"http://127.0.0.1:1/","bearer_token":""})",
           R"({"url":"http://127.0.0.1:1/","timeout_ms":5})",
           R"({"url":"http://127.0.0.1:1/","batch_size":0})",
           R"({"url":"http://127.0.0.1:1/","max_attempts":0})",
           R"({"url":"http://127.0.0.1:1/","on_failure":"retry"})",
           R"({"url":"http://127.0.0.1:1/","bogus":true})",
       }) {
    HttpResponse r = client_->Post("/targets", base + config + "}");
    EXPECT_EQ(r.status, 400) << config << " " << r.body;
    EXPECT_EQ(ErrorCode(r), "invalid_request") << config;
  }
  EXPECT_EQ(client_->Post("/targets", R"({"name":"x","type":"webhook"})").status, 400);
  EXPECT_EQ(client_->Post("/targets", R"({"name":"x","type":"carrier-pigeon"})").status, 400);
  EXPECT_EQ(client_->Get("/targets").body, "[]");
  // Internal targets have no delivery.
  ASSERT_EQ(client_->Post("/targets", R"({"name":"plain"})").status, 201);
  EXPECT_EQ(client_->Get("/targets/1/delivery").status, 404);
  EXPECT_EQ(client_->Get("/targets/1/dead_letters").status, 404);
  EXPECT_EQ(client_->Get("/targets/9/delivery").status, 404);
}

TEST_F(WebhookTest, PauseResumeRedeliver) {
  WebhookReceiver receiver;
  const uint32_t target = CreateWebhook(receiver.url(), R"(,"batch_size":4)");
  ImportAndSync(6, 1, {target});
  WaitDeliveryIdle(*client_, target);
  const size_t before = receiver.request_count();
  const uint64_t cursor = GetDelivery(*client_, target).delivered_seq;

  HttpResponse r = client_->Post("/targets/" + std::to_string(target) + "/delivery/pause", "");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(std::string_view(ParseJson(r.body)["state"]), "paused");
  ImportAndSync(6, 2, {target});
  DeliveryView paused = GetDelivery(*client_, target);
  EXPECT_EQ(paused.state, "paused");
  EXPECT_EQ(paused.delivered_seq, cursor);
  EXPECT_GT(paused.pending_events, 0u);
  EXPECT_EQ(receiver.request_count(), before);

  r = client_->Post("/targets/" + std::to_string(target) + "/delivery/resume", "");
  ASSERT_EQ(r.status, 200) << r.body;
  WaitDeliveryIdle(*client_, target);
  EXPECT_GT(receiver.request_count(), before);
  const uint64_t end = GetDelivery(*client_, target).delivered_seq;

  // A rewind past the cursor is refused and changes nothing.
  r = client_->Post("/targets/" + std::to_string(target) + "/delivery/redeliver?from_seq=" +
                        std::to_string(end + 1),
                    "");
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_EQ(client_->Post("/targets/" + std::to_string(target) + "/delivery/redeliver", "").status,
            400);
  EXPECT_EQ(client_->Post("/targets/" + std::to_string(target) +
                              "/delivery/redeliver?from_seq=-1",
                          "")
                .status,
            400);
  EXPECT_EQ(GetDelivery(*client_, target).delivered_seq, end);

  // Rewind to the start: everything again.
  const size_t count = receiver.request_count();
  r = client_->Post("/targets/" + std::to_string(target) + "/delivery/redeliver?from_seq=0", "");
  ASSERT_EQ(r.status, 200) << r.body;
  WaitDeliveryIdle(*client_, target);
  std::vector<ReceivedRequest> all = receiver.requests();
  std::vector<PushedEvent> again;
  for (size_t i = count; i < all.size(); ++i) {
    auto events = ParseWebhookBody(all[i].body);
    again.insert(again.end(), events.begin(), events.end());
  }
  std::vector<uint64_t> seqs;
  for (const auto& e : again) seqs.push_back(e.seq);
  EXPECT_EQ(seqs, TargetSeqs(target));
  EXPECT_EQ(FoldEvents(again), TargetState(*client_, target));
}

TEST_F(WebhookTest, MaxAttemptsDeadLetterAndPausePolicy) {
  WebhookReceiver receiver([](const ReceivedRequest&, size_t) {
    ReceiverReply reply;
    reply.status = 503;
    return reply;
  });
  const uint32_t dl = CreateWebhook(receiver.url(), R"(,"max_attempts":2)");
  HttpResponse r = client_->Post(
      "/targets", std::string(R"({"name":"p","type":"webhook","config":{"url":")") +
                      receiver.url() + R"(","max_attempts":1,"on_failure":"pause"}})");
  ASSERT_EQ(r.status, 201) << r.body;
  const uint32_t paused = 2;
  ImportAndSync(3, 1, {dl, paused});

  WaitDeliveryIdle(*client_, dl);
  DeliveryView v = GetDelivery(*client_, dl);
  EXPECT_EQ(v.dead_letters, 1u);
  EXPECT_NE(v.last_error.find("HTTP 503"), std::string::npos) << v.last_error;
  r = client_->Get("/targets/" + std::to_string(dl) + "/dead_letters");
  JsonDoc doc = ParseJson(r.body);
  ASSERT_EQ(simdjson::dom::array(doc.root()).size(), 1u);
  EXPECT_EQ(uint64_t(simdjson::dom::array(doc.root()).at(0)["attempts"]), 2u);

  for (int i = 0; i < 400 && GetDelivery(*client_, paused).state != "paused"; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  DeliveryView p = GetDelivery(*client_, paused);
  EXPECT_EQ(p.state, "paused");
  EXPECT_EQ(p.delivered_seq, 0u);
  EXPECT_EQ(p.dead_letters, 0u);
  EXPECT_GT(p.pending_events, 0u);

  // The receiver recovers; resume delivers what waited.
  receiver.set_policy({});
  ASSERT_EQ(client_->Post("/targets/" + std::to_string(paused) + "/delivery/resume", "").status,
            200);
  WaitDeliveryIdle(*client_, paused);
  EXPECT_EQ(GetDelivery(*client_, paused).delivered_seq, TargetSeqs(paused).back());
}

// The dead letters of `target`, parsed.
struct Letter {
  uint64_t id = 0, first_seq = 0, last_seq = 0, attempts = 0;
  std::string last_error;
};
std::vector<Letter> DeadLetters(HttpClient& c, uint32_t target) {
  HttpResponse r = c.Get("/targets/" + std::to_string(target) + "/dead_letters");
  EXPECT_EQ(r.status, 200) << r.body;
  std::vector<Letter> out;
  JsonDoc doc = ParseJson(r.body);
  simdjson::dom::array list;
  if (doc.root().get_array().get(list) != simdjson::SUCCESS) return out;
  for (simdjson::dom::element e : list) {
    Letter l;
    l.id = uint64_t(e["id"]);
    l.first_seq = uint64_t(e["first_seq"]);
    l.last_seq = uint64_t(e["last_seq"]);
    l.attempts = uint64_t(e["attempts"]);
    l.last_error = std::string(std::string_view(e["last_error"]));
    out.push_back(l);
  }
  return out;
}

// Requests whose webhook-id names `letter`'s batch, from request `from` on.
std::vector<ReceivedRequest> SendsOf(const WebhookReceiver& receiver, uint32_t target,
                                     const Letter& letter, size_t from) {
  const std::string id = std::to_string(target) + "-" + std::to_string(letter.first_seq) + "-" +
                         std::to_string(letter.last_seq);
  std::vector<ReceivedRequest> all = receiver.requests(), out;
  for (size_t i = from; i < all.size(); ++i) {
    if (all[i].Header("webhook-id") == id) out.push_back(all[i]);
  }
  return out;
}

// A dead letter's retry is a new series of attempts under the target's
// retry policy: a receiver failing twice then accepting gets the batch on
// the third send of the series; one that keeps failing gets max_attempts
// sends, and the dead letter comes back with attempts counted from 1.
TEST_F(WebhookTest, DeadLetterRetryIsANewSeriesUnderTheRetryPolicy) {
  // Refuses everything at first: each batch is a dead letter at once.
  WebhookReceiver receiver([](const ReceivedRequest&, size_t) {
    ReceiverReply reply;
    reply.status = 400;
    return reply;
  });
  const uint32_t target = CreateWebhook(receiver.url(), R"(,"max_attempts":4)");
  ImportAndSync(3, 1, {target});
  WaitDeliveryIdle(*client_, target);
  std::vector<Letter> letters = DeadLetters(*client_, target);
  ASSERT_EQ(letters.size(), 1u);
  const Letter first = letters[0];
  EXPECT_EQ(first.attempts, 1u);
  const std::vector<PushedEvent> refused = ParseWebhookBody(receiver.requests().back().body);
  const uint64_t cursor = GetDelivery(*client_, target).delivered_seq;
  EXPECT_EQ(cursor, first.last_seq);

  // Fails twice (500), then accepts: one retry request is enough.
  size_t base = receiver.request_count();
  receiver.set_policy([base](const ReceivedRequest&, size_t n) {
    ReceiverReply reply;
    if (n < base + 2) reply.status = 500;
    return reply;
  });
  HttpResponse r = client_->Post("/targets/" + std::to_string(target) + "/dead_letters/" +
                                     std::to_string(first.id) + "/retry",
                                 "");
  ASSERT_EQ(r.status, 202) << r.body;
  ASSERT_TRUE(receiver.WaitUntil(
      [](const std::vector<ReceivedRequest>& reqs) {
        return !reqs.empty() && reqs.back().answered_status == 200;
      },
      std::chrono::seconds(30)));
  WaitDeliveryIdle(*client_, target);
  std::vector<ReceivedRequest> sends = SendsOf(receiver, target, first, base);
  ASSERT_EQ(sends.size(), 3u);
  EXPECT_EQ(sends[0].answered_status, 500);
  EXPECT_EQ(sends[1].answered_status, 500);
  EXPECT_EQ(sends[2].answered_status, 200);
  for (const ReceivedRequest& send : sends) {
    std::vector<PushedEvent> events = ParseWebhookBody(send.body);
    ASSERT_EQ(events.size(), refused.size());
    for (size_t i = 0; i < events.size(); ++i) {
      EXPECT_EQ(events[i].seq, refused[i].seq);
      EXPECT_EQ(events[i].data, refused[i].data);
    }
  }
  EXPECT_TRUE(DeadLetters(*client_, target).empty());
  DeliveryView v = GetDelivery(*client_, target);
  EXPECT_EQ(v.dead_letters, 0u);
  EXPECT_EQ(v.delivered_seq, cursor);  // a dead letter's retry never moves the cursor
  EXPECT_EQ(v.last_error, "");
  EXPECT_EQ(v.state, "idle");

  // A second dead letter, and a receiver that keeps failing (503).
  receiver.set_policy([](const ReceivedRequest&, size_t) {
    ReceiverReply reply;
    reply.status = 400;
    return reply;
  });
  ImportAndSync(3, 2, {target});
  WaitDeliveryIdle(*client_, target);
  letters = DeadLetters(*client_, target);
  ASSERT_EQ(letters.size(), 1u);
  const Letter second = letters[0];
  EXPECT_NE(second.id, first.id);
  EXPECT_EQ(second.attempts, 1u);
  base = receiver.request_count();
  receiver.set_policy([](const ReceivedRequest&, size_t) {
    ReceiverReply reply;
    reply.status = 503;
    return reply;
  });
  r = client_->Post("/targets/" + std::to_string(target) + "/dead_letters/" +
                        std::to_string(second.id) + "/retry",
                    "");
  ASSERT_EQ(r.status, 202) << r.body;
  // Back in the dead letters once the series gave up: attempts = max_attempts
  // of this series (not 1 + 4).
  Letter back;
  for (int i = 0; i < 600; ++i) {  // bounded: 600 × 25 ms
    letters = DeadLetters(*client_, target);
    if (letters.size() == 1 && letters[0].attempts != 1) {
      back = letters[0];
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  EXPECT_EQ(back.id, second.id);
  EXPECT_EQ(back.attempts, 4u);
  EXPECT_NE(back.last_error.find("HTTP 503"), std::string::npos) << back.last_error;
  WaitDeliveryIdle(*client_, target);
  sends = SendsOf(receiver, target, second, base);
  EXPECT_EQ(sends.size(), 4u);
  for (const ReceivedRequest& send : sends) EXPECT_EQ(send.answered_status, 503);
  v = GetDelivery(*client_, target);
  EXPECT_EQ(v.dead_letters, 1u);
  EXPECT_EQ(v.delivered_seq, second.last_seq);
}

// Push delivery sends a target's changes only: no catalog event reaches a
// receiver, even one created while delivery runs (its own target.created, a
// new source, a key, a feed token), though the unfiltered feed shows them.
TEST_F(WebhookTest, BatchesHoldNoCatalogEvents) {
  WebhookReceiver receiver([](const ReceivedRequest&, size_t) {
    ReceiverReply reply;
    reply.delay = std::chrono::milliseconds(30);  // delivery is still running below
    return reply;
  });
  const uint32_t first = CreateWebhook(receiver.url(), R"(,"batch_size":3)");
  ImportAndSync(12, 1, {first});
  const uint32_t second = CreateWebhook(receiver.url(), R"(,"batch_size":3)");
  ASSERT_EQ(client_->Post("/sources", R"({"name":"more"})").status, 201);
  ASSERT_EQ(client_->Post("/feed_tokens", "{}").status, 201);
  ASSERT_EQ(server_.AdminClient().Post("/tenants/" + std::to_string(tenant_) + "/keys", "").status,
            201);
  ImportAndSync(12, 2, {first, second});
  WaitDeliveryIdle(*client_, first);
  WaitDeliveryIdle(*client_, second);

  std::map<uint32_t, std::set<uint64_t>> delivered;
  for (const ReceivedRequest& req : receiver.requests()) {
    uint32_t tid = 0;
    for (const PushedEvent& e : ParseWebhookBody(req.body, &tid)) {
      EXPECT_TRUE(e.type.rfind("property.", 0) == 0 || e.type == "sync.completed")
          << "target " << tid << " was sent a " << e.type << " (seq " << e.seq << ")";
      delivered[tid].insert(e.seq);
    }
  }
  for (uint32_t target : {first, second}) {
    const std::vector<uint64_t> want = TargetSeqs(target);
    EXPECT_EQ(std::vector<uint64_t>(delivered[target].begin(), delivered[target].end()), want);
  }
  // The feed has the catalog events the receivers were not sent.
  HttpResponse feed = client_->Get("/feed?since=0&limit=1000&types=target.created");
  ASSERT_EQ(feed.status, 200);
  EXPECT_EQ(simdjson::dom::array(ParseJson(feed.body)["events"]).size(), 2u) << feed.body;
}

class PrivateRefusedTest : public WebhookTest {
 protected:
  PrivateRefusedTest() : WebhookTest(/*allow_private=*/false) {}
};

TEST_F(PrivateRefusedTest, PrivateDestinationsAreRefused) {
  for (std::string url : {"http://127.0.0.1:9/x", "http://localhost:9/", "http://10.1.2.3/",
                          "http://169.254.169.254/latest/meta-data", "http://[::1]:9/",
                          "http://192.168.0.10/", "http://100.100.100.200/",
                          "http://[fd00:ec2::254]/", "http://0.0.0.0:9/"}) {
    HttpResponse r = client_->Post(
        "/targets", R"({"name":"x","type":"webhook","config":{"url":")" + url + R"("}})");
    EXPECT_EQ(r.status, 400) << url << " " << r.body;
    EXPECT_NE(r.body.find("allow-private-push"), std::string::npos) << r.body;
  }
  EXPECT_EQ(client_->Get("/targets").body, "[]");

  // Re-checked at connect time: a target that names a loopback address
  // anyway (written around the route, as a DNS change would) never reaches it.
  WebhookReceiver receiver;
  TargetSpec spec;
  spec.name = "sneaky";
  spec.type = "webhook";
  spec.config_json = R"({"url":")" + receiver.url() + R"("})";
  StatusOr<TargetInfo> info = server_.engine().CreateTarget(tenant_, spec);
  ASSERT_TRUE(info.ok());
  ImportAndSync(2, 1, {info->id});
  DeliveryView v;
  for (int i = 0; i < 400; ++i) {
    v = GetDelivery(*client_, info->id);
    if (!v.last_error.empty()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  EXPECT_NE(v.last_error.find("outbound safety"), std::string::npos) << v.last_error;
  EXPECT_EQ(v.delivered_seq, 0u);
  EXPECT_EQ(receiver.request_count(), 0u);
}

TEST(OutboundSafety, AddressRanges) {
  auto v4 = [](const char* text) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    inet_pton(AF_INET, text, &a.sin_addr);
    return delivery::IsPrivateAddress(reinterpret_cast<sockaddr*>(&a));
  };
  auto v6 = [](const char* text) {
    sockaddr_in6 a{};
    a.sin6_family = AF_INET6;
    inet_pton(AF_INET6, text, &a.sin6_addr);
    return delivery::IsPrivateAddress(reinterpret_cast<sockaddr*>(&a));
  };
  for (const char* a : {"127.0.0.1", "10.0.0.1", "172.16.5.4", "172.31.255.255", "192.168.1.1",
                        "169.254.169.254", "100.100.100.200", "0.0.0.0", "224.0.0.1",
                        "255.255.255.255"}) {
    EXPECT_TRUE(v4(a)) << a;
  }
  for (const char* a : {"93.184.216.34", "8.8.8.8", "172.32.0.1", "11.0.0.1", "100.128.0.1"}) {
    EXPECT_FALSE(v4(a)) << a;
  }
  for (const char* a : {"::1", "::", "fe80::1", "fd00:ec2::254", "fc00::1", "ff02::1",
                        "::ffff:127.0.0.1", "::ffff:10.0.0.1", "64:ff9b::a9fe:a9fe"}) {
    EXPECT_TRUE(v6(a)) << a;
  }
  for (const char* a : {"2001:4860:4860::8888", "::ffff:8.8.8.8", "2606:4700::1111"}) {
    EXPECT_FALSE(v6(a)) << a;
  }
}

}  // namespace
}  // namespace syncmgr::testing
