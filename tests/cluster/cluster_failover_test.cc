// Failover of a tenant's owner in cluster mode (SPEC §7, docs/scaling.md
// "Ownership"): a paused owner (SIGSTOP) in the middle of a large import
// loses its tenant to another node, which writes; woken up (SIGCONT), its
// pending appends are refused by the fence or superseded, nothing it sends
// counts anywhere, and every node ends with the same views. No test here
// asserts how long a failover takes.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <string>
#include <thread>

#include "cluster/connection.h"
#include "cluster/layout.h"
#include "tests/support/process.h"
#include "tests/support/feed_test_util.h"
#include "tests/support/syncmgr_cluster.h"
#include "tests/support/test_server.h"

namespace syncmgr::testing {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;


std::string Items(int from, int to, const std::string& tag, size_t pad = 0) {
  std::string body = "[";
  for (int i = from; i < to; ++i) {
    if (body.size() > 1) body += ",";
    body += R"({"external_id":")" + tag + std::to_string(i) + R"(","pad":")" +
            std::string(pad, 'z') + R"("})";
  }
  return body + "]";
}

TEST(ClusterFailoverTest, AZombieOwnerIsFencedAndNothingItSendsAfterWakingCounts) {
  SyncmgrCluster c(SYNCMGR_BIN);
  ASSERT_TRUE(c.Start()) << c.error();
  HttpClient admin = c.Admin(0);
  HttpResponse created = admin.Post("/tenants", R"({"name":"acme"})");
  ASSERT_EQ(created.status, 201) << created.body;
  const uint32_t tenant = static_cast<uint32_t>(uint64_t(ParseJson(created.body)["id"]));
  const std::string key(std::string_view(ParseJson(created.body)["api_key"]));
  ASSERT_EQ(c.OwnerOf(tenant), 0);
  HttpClient a = c.Client(0, key);
  ASSERT_EQ(RetryPost(a, "/sources", R"({"name":"portal"})").status, 201);
  ASSERT_EQ(RetryPost(a, "/sources/1/import", Items(0, 10, "base")).status, 200);

  // The stream's end now; a chunk of the large import moves it.
  cluster::ConnectOptions co;
  co.servers = c.nats().ClientUrls();
  auto conn = cluster::Connection::Connect(co);
  ASSERT_TRUE(conn.ok()) << conn.status().ToString();
  const std::string stream(cluster::kLogStream);
  auto before = (*conn)->GetStreamState(stream);
  ASSERT_TRUE(before.ok());

  // A large import to the owner (several 1 MiB chunks before its commit).
  HttpResponse zombie_answer;
  std::thread zombie_client([&] {
    HttpClient z = c.Client(0, key);
    z.set_timeout(180s);
    z.set_retry_stale(false);
    zombie_answer = z.Post("/sources/1/import", Items(0, 12000, "zombie", 400));
  });
  // Paused in the middle of it: once its first chunk is stored (bounded).
  bool mid_operation = false;
  const auto watch_until = Clock::now() + 60s;
  while (Clock::now() < watch_until) {
    auto now = (*conn)->GetStreamState(stream);
    if (now.ok() && now->last_seq > before->last_seq) {
      mid_operation = true;
      break;
    }
    std::this_thread::sleep_for(1ms);
  }
  ASSERT_TRUE(c.Pause(0));
  EXPECT_TRUE(mid_operation) << "the import stored nothing in time";

  // Another node takes the tenant (once the zombie's lease expires) and
  // writes.
  HttpClient b = c.Client(1, key);
  HttpResponse after = RetryPost(b, "/sources/1/import", Items(0, 5, "after"));
  ASSERT_EQ(after.status, 200) << after.body << c.Logs();
  const int new_owner = c.OwnerOf(tenant);
  EXPECT_NE(new_owner, 0);

  // The zombie wakes up and goes on with its import: refused.
  ASSERT_TRUE(c.Resume(0));
  zombie_client.join();
  HttpResponse more = RetryPost(b, "/sources/1/import", Items(5, 8, "after"));
  ASSERT_EQ(more.status, 200) << more.body;
  const uint64_t seq = uint64_t(ParseJson(more.body)["seq"]);
  const bool zombie_acked = zombie_answer.status == 200;
  std::printf("the paused owner's import: %d %s\n", zombie_answer.status,
              zombie_answer.body.substr(0, 300).c_str());
  if (mid_operation) {
    EXPECT_NE(zombie_answer.status, 200) << "the paused owner's import counted: "
                                         << zombie_answer.body;
  }
  // Every node: the same views, with the writes after the takeover, and
  // the zombie's import wholly there (acknowledged) or wholly absent.
  std::string first_list;
  for (int node = 0; node < c.size(); ++node) {
    SCOPED_TRACE("node " + std::to_string(node));
    HttpClient r = c.Client(node, key);
    HttpResponse list = r.Get("/sources/1/properties?min_seq=" + std::to_string(seq));
    ASSERT_EQ(list.status, 200) << list.body;
    if (node == 0) first_list = list.body;
    EXPECT_EQ(list.body, first_list);
    EXPECT_EQ(r.Get("/sources/1/properties/after7").status, 200);
    EXPECT_EQ(r.Get("/sources/1/properties/zombie0").status, zombie_acked ? 200 : 404);
    EXPECT_EQ(r.Get("/sources/1/properties/zombie11999").status, zombie_acked ? 200 : 404);
  }
  // The woken node writes nothing itself any more: its writes go to the
  // new owner (or it takes the tenant back through a new fence).
  HttpResponse via_zombie = RetryPost(a, "/sources/1/import", Items(0, 2, "late"));
  EXPECT_EQ(via_zombie.status, 200) << via_zombie.body;
  // Views = fold(log) on every node.
  for (int node = 0; node < c.size(); ++node) {
    std::optional<int> code = c.Stop(node);
    EXPECT_EQ(code.value_or(-1), 0) << node;
    ProcessResult v = RunProcess({SYNCMGR_BIN, "replay", "--db", c.db(node), "--verify"});
    EXPECT_EQ(v.exit_code, 0) << node << ": " << v.out << v.err;
  }
}

}  // namespace
}  // namespace syncmgr::testing
