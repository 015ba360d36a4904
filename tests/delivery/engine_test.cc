// The delivery engine across receivers and processes (SPEC §4 "Push
// delivery"): a dead receiver never delays imports, syncs or the other
// targets; kill -9 of a real `syncmgr serve` mid-delivery loses nothing and
// delivery resumes from the durable cursor; `syncmgr delivery` works on a
// data directory and against a server.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <csignal>
#include <set>
#include <thread>

#include "delivery/cursor.h"
#include "delivery/offline.h"
#include "engine/engine.h"
#include "tests/support/process.h"
#include "tests/support/push_fixtures.h"
#include "tests/support/serve_process.h"
#include "tests/support/test_server.h"
#include "tests/support/webhook_receiver.h"

namespace syncmgr::testing {
namespace {

std::string ImportBody(int n, int version) {
  std::string data = R"({"data":[)";
  for (int i = 0; i < n; ++i) {
    if (i > 0) data += ",";
    data += R"({"external_id":"l)" + std::to_string(i) + R"(","rooms":)" +
            std::to_string(version * 10 + i % 7) + "}";
  }
  return data + "]}";
}

uint32_t CreateWebhook(HttpClient& client, const std::string& name, const std::string& url,
                       const std::string& extra = "") {
  HttpResponse r = client.Post("/targets", R"({"name":")" + name +
                                               R"(","type":"webhook","config":{"url":")" + url +
                                               "\"" + extra + "}}");
  EXPECT_EQ(r.status, 201) << r.body;
  uint64_t id = 0;
  if (ParseJson(r.body)["id"].get_uint64().get(id)) {
  }
  return static_cast<uint32_t>(id);
}

std::vector<PushedEvent> AcceptedEvents(const std::vector<ReceivedRequest>& requests,
                                        size_t from = 0) {
  std::vector<PushedEvent> out;
  for (size_t i = from; i < requests.size(); ++i) {
    if (requests[i].answered_status != 200) continue;
    auto events = ParseWebhookBody(requests[i].body);
    out.insert(out.end(), events.begin(), events.end());
  }
  return out;
}

// Receivers that never answer (a port whose connections are never accepted,
// and one that accepts and hangs) hold delivery workers; imports and syncs
// of the same tenant and the delivery to a healthy target go on regardless.
TEST(PushDeliveryTest, DeadReceiversDelayNothingElse) {
  TestServerOptions options;
  options.server.allow_private_push = true;
  options.server.delivery_backoff_base_ms = 20;
  options.server.delivery_min_workers = 1;  // the pool must grow past the stuck ones
  TestServer server(options);
  auto tenant = server.CreateTenant("Acme");
  HttpClient client = server.Client(tenant.api_key);
  ASSERT_EQ(client.Post("/sources", R"({"name":"s"})").status, 201);

  DeadReceiver dead;
  WebhookReceiver hanging([](const ReceivedRequest&, size_t) {
    ReceiverReply reply;
    reply.delay = std::chrono::seconds(120);  // cut short when the receiver stops
    return reply;
  });
  WebhookReceiver good;
  const uint32_t t_dead = CreateWebhook(client, "dead", dead.url(), R"(,"timeout_ms":3000)");
  const uint32_t t_hang = CreateWebhook(client, "hang", hanging.url(), R"(,"timeout_ms":3000)");
  const uint32_t t_good = CreateWebhook(client, "good", good.url(), R"(,"batch_size":7)");

  for (int round = 1; round <= 4; ++round) {
    HttpResponse r = client.Post("/sources/1/import", ImportBody(15, round));
    ASSERT_EQ(r.status, 200) << r.body;
    for (uint32_t t : {t_dead, t_hang, t_good}) {
      r = client.Post("/sync/1/" + std::to_string(t), "");
      ASSERT_EQ(r.status, 200) << r.body;
    }
  }
  // Every sync completed and logged.
  HttpResponse logs = client.Get("/sync_logs?limit=100");
  ASSERT_EQ(logs.status, 200);
  EXPECT_EQ(simdjson::dom::array(ParseJson(logs.body).root()).size(), 12u);

  WaitDeliveryIdle(client, t_good);
  EXPECT_EQ(FoldEvents(AcceptedEvents(good.requests())), TargetState(client, t_good));

  for (uint32_t t : {t_dead, t_hang}) {
    DeliveryView v = GetDelivery(client, t);
    EXPECT_EQ(v.delivered_seq, 0u) << t;
    EXPECT_GT(v.pending_events, 0u) << t;
    EXPECT_TRUE(v.state == "retrying" || v.state == "delivering") << v.state;
  }
  hanging.Stop();  // lets the stuck connections go before the server stops
}

// A real `syncmgr serve --allow-private-push` child process, started.
std::unique_ptr<ServeProcess> Serve(const std::string& db, const std::string& log) {
  ServeOptions o;
  o.binary = SYNCMGR_BIN;
  o.db = db;
  o.log = log;
  o.flags = {"--allow-private-push"};  // the receiver is on loopback
  auto serve = std::make_unique<ServeProcess>(o);
  serve->Start();
  return serve;
}

ProcessResult Syncmgr(std::vector<std::string> args) {
  args.insert(args.begin(), SYNCMGR_BIN);
  ProcessOptions options;
  options.timeout = std::chrono::seconds(60);
  return RunProcess(args, options);
}

uint64_t JsonUint(const std::string& json, const char* key) {
  uint64_t v = 0;
  if (ParseJson(json)[key].get_uint64().get(v)) {
  }
  return v;
}

std::string JsonString(const std::string& json, const char* key) {
  JsonDoc doc = ParseJson(json);
  std::string_view v;
  if (doc[key].get_string().get(v) != simdjson::SUCCESS) return "";
  return std::string(v);
}

TEST(PushDeliveryTest, KillDashNineMidDeliveryLosesNothing) {
  TempDir dir;
  const std::string db = dir.path() + "/db";
  const std::string log = dir.path() + "/serve.log";
  // A receiver slow enough that delivery is still going when the server dies.
  WebhookReceiver receiver([](const ReceivedRequest&, size_t) {
    ReceiverReply reply;
    reply.delay = std::chrono::milliseconds(25);
    return reply;
  });

  auto serve = Serve(db, log);
  HttpClient admin(serve->port());
  admin.set_api_key(serve->admin_key());
  HttpResponse r = admin.Post("/tenants", R"({"name":"Acme"})");
  ASSERT_EQ(r.status, 201) << r.body;
  const std::string key = JsonString(r.body, "api_key");
  HttpClient client(serve->port());
  client.set_api_key(key);
  ASSERT_EQ(client.Post("/sources", R"({"name":"s"})").status, 201);
  const uint32_t target = CreateWebhook(client, "site", receiver.url(), R"(,"batch_size":5)");
  ASSERT_EQ(target, 1u);
  ASSERT_EQ(client.Post("/sources/1/import", ImportBody(150, 1)).status, 200);
  r = client.Post("/sync/1/1", "");
  ASSERT_EQ(r.status, 200) << r.body;
  const uint64_t last_seq = JsonUint(r.body, "seq");

  ASSERT_TRUE(receiver.WaitUntil(
      [](const std::vector<ReceivedRequest>& reqs) { return reqs.size() >= 8; },
      std::chrono::seconds(60)));
  EXPECT_EQ(serve->Stop(SIGKILL), 128 + SIGKILL);
  serve.reset();

  // On the data directory (no server): the cursor survived.
  ProcessResult status = Syncmgr({"--db", db, "--json", "delivery", "status", "1", "1"});
  ASSERT_EQ(status.exit_code, 0) << status.err;
  const uint64_t cursor = JsonUint(status.out, "delivered_seq");
  EXPECT_GT(cursor, 0u);
  EXPECT_LT(cursor, last_seq);
  EXPECT_GT(JsonUint(status.out, "pending_events"), 0u);
  // Pause it there; the restarted server must honour that.
  ProcessResult paused = Syncmgr({"--db", db, "delivery", "pause", "1", "1"});
  ASSERT_EQ(paused.exit_code, 0) << paused.err;
  EXPECT_NE(paused.out.find("paused"), std::string::npos) << paused.out;
  ProcessResult bad = Syncmgr({"--db", db, "delivery", "redeliver", "1", "1", "--from-seq",
                               std::to_string(cursor + 1)});
  EXPECT_EQ(bad.exit_code, 1) << bad.err;

  const size_t before_restart = receiver.request_count();
  serve = Serve(db, log);
  HttpClient client2(serve->port());
  client2.set_api_key(key);
  DeliveryView v = GetDelivery(client2, 1);
  EXPECT_EQ(v.state, "paused");
  EXPECT_EQ(v.delivered_seq, cursor);

  // Resume through the server with the command line's remote mode.
  ProcessResult resumed =
      Syncmgr({"--url", serve->url(), "--api-key", key, "delivery", "resume", "1"});
  ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
  WaitDeliveryIdle(client2, 1);
  EXPECT_EQ(GetDelivery(client2, 1).delivered_seq, last_seq);

  std::vector<ReceivedRequest> requests = receiver.requests();
  ASSERT_GT(requests.size(), before_restart);
  // Resumed from the durable cursor, not from the start.
  std::vector<PushedEvent> first = ParseWebhookBody(requests[before_restart].body);
  ASSERT_FALSE(first.empty());
  EXPECT_EQ(first.front().seq, cursor + 1);
  // Nothing missing (duplicates allowed: seq is the idempotency key).
  std::vector<PushedEvent> delivered = AcceptedEvents(requests);
  std::set<uint64_t> got;
  for (const PushedEvent& e : delivered) got.insert(e.seq);
  std::set<uint64_t> want;
  {
    ProcessResult all = Syncmgr({"--url", serve->url(), "--api-key", key, "--json", "delivery",
                                 "status", "1"});
    EXPECT_EQ(all.exit_code, 0) << all.err;
  }
  for (uint64_t s = last_seq - 150; s <= last_seq; ++s) want.insert(s);  // 150 + sync.completed
  EXPECT_EQ(got, want);
  EXPECT_EQ(FoldEvents(delivered), TargetState(client2, 1));
  EXPECT_EQ(serve->Stop(SIGTERM), 0);
}

// The cursor rules (delivery/cursor.h): a rewind never skips, remembers the
// cursor it came from, keeps the higher mark when rewound again, and is over
// once delivery has passed that mark; the mark survives the engine's store.
TEST(DeliveryCursorTest, ARewindIsRememberedUntilDeliveredPast) {
  DeliveryRecord r;
  r.delivered_seq = 100;
  EXPECT_EQ(delivery::Rewind(&r, 101).code(), Code::kInvalidArgument);
  EXPECT_EQ(r.delivered_seq, 100u);
  EXPECT_EQ(r.rewind_until, 0u);
  ASSERT_TRUE(delivery::Rewind(&r, 100).ok());  // no-op: nothing to re-send
  EXPECT_FALSE(delivery::RewindUnderWay(r));
  ASSERT_TRUE(delivery::Rewind(&r, 40).ok());
  EXPECT_EQ(r.delivered_seq, 40u);
  EXPECT_EQ(r.rewind_until, 100u);
  EXPECT_TRUE(delivery::RewindUnderWay(r));
  EXPECT_FALSE(delivery::Advance(&r, 70));
  ASSERT_TRUE(delivery::Rewind(&r, 10).ok());  // again, mid-way: the higher mark stays
  EXPECT_EQ(r.rewind_until, 100u);
  EXPECT_FALSE(delivery::Advance(&r, 99));
  EXPECT_TRUE(delivery::RewindUnderWay(r));
  EXPECT_TRUE(delivery::Advance(&r, 100));
  EXPECT_FALSE(delivery::RewindUnderWay(r));
  EXPECT_EQ(r.rewind_until, 0u);
  EXPECT_FALSE(delivery::Advance(&r, 120));

  TempDir dir;
  EngineOptions o;
  o.path = dir.path() + "/db";
  auto engine = Engine::Open(o);
  ASSERT_TRUE(engine.ok()) << engine.status().ToString();
  const TenantId tenant = (*engine)->CreateTenant("acme")->tenant.id;
  TargetSpec spec;
  spec.name = "site";
  spec.type = "webhook";
  spec.config_json = R"({"url":"http://127.0.0.1:9/"})";
  const uint32_t target = (*engine)->CreateTarget(tenant, spec)->id;
  DeliveryWrite write;
  write.record.delivered_seq = 40;
  write.record.rewind_until = 100;
  ASSERT_TRUE((*engine)->WriteDelivery(tenant, target, write).ok());
  StatusOr<DeliveryRecord> back = (*engine)->GetDelivery(tenant, target);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->delivered_seq, 40u);
  EXPECT_EQ(back->rewind_until, 100u);
  // The command line's rewind on a data directory records the mark too.
  write.record = DeliveryRecord{};
  write.record.delivered_seq = 80;
  ASSERT_TRUE((*engine)->WriteDelivery(tenant, target, write).ok());
  ASSERT_TRUE(delivery::OfflineRedeliver(**engine, tenant, target, 5).ok());
  back = (*engine)->GetDelivery(tenant, target);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->delivered_seq, 5u);
  EXPECT_EQ(back->rewind_until, 80u);
}

}  // namespace
}  // namespace syncmgr::testing
