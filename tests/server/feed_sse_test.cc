// GET /feed as Server-Sent Events over real HTTP on loopback: framing,
// resumption (Last-Event-ID), keep-alives, checkpoints and caught_up, fan-out
// to 200 subscribers served from one test thread, a subscriber that never
// reads, the per-tenant subscriber limit, and shutdown with streams open.
// Every loop is bounded; no timing is asserted.
#include <gtest/gtest.h>

#include <chrono>
#include <set>
#include <thread>

#include "tests/support/feed_client.h"
#include "tests/support/feed_test_util.h"

namespace syncmgr::testing {
namespace {

using std::chrono::milliseconds;
constexpr milliseconds kWait{20'000};

TestServerOptions SseOptions(uint32_t max_subscribers = 256) {
  TestServerOptions o;
  o.server.feed_keepalive_ms = 200;
  o.server.feed_max_subscribers_per_tenant = max_subscribers;
  o.server.feed_write_timeout_ms = 60'000;
  return o;
}

const std::vector<std::pair<std::string, std::string>> kSse = {{"Accept", "text/event-stream"}};

class SseTest : public ::testing::Test {
 protected:
  explicit SseTest(TestServerOptions o = SseOptions()) : server_(std::move(o)) {}
  void SetUp() override {
    tenant_ = server_.CreateTenant("Acme");
    client_ = std::make_unique<HttpClient>(server_.Client(tenant_.api_key));
    ASSERT_EQ(client_->Post("/sources", R"({"name":"portal"})").status, 201);
    ASSERT_EQ(client_->Post("/sources", R"({"name":"other"})").status, 201);
    ASSERT_EQ(client_->Post("/targets", R"({"name":"website"})").status, 201);
  }
  uint64_t LastSeq() { return *server_.engine().LastSeq(tenant_.id); }
  std::vector<std::pair<std::string, std::string>> Headers(
      std::vector<std::pair<std::string, std::string>> extra = {}) {
    std::vector<std::pair<std::string, std::string>> h = kSse;
    h.emplace_back("X-API-Key", tenant_.api_key);
    for (auto& e : extra) h.push_back(std::move(e));
    return h;
  }
  static bool HasEvent(const FeedConnection& c, const std::string& type) {
    for (const SseEvent& e : c.events()) {
      if (e.event == type) return true;
    }
    return false;
  }
  static uint64_t LastFeedSeq(const FeedConnection& c) {
    std::vector<SseEvent> ev = c.FeedEvents();
    return ev.empty() ? 0 : std::stoull(ev.back().id);
  }

  TestServer server_;
  TestServer::Tenant tenant_;
  std::unique_ptr<HttpClient> client_;
};

TEST_F(SseTest, FramingCaughtUpAndLiveEvents) {
  ImportN(*client_, 1, 3, "a", 1);
  const uint64_t backlog_end = LastSeq();
  FeedConnection c(server_.port());
  ASSERT_TRUE(c.Open("/feed?since=0", Headers())) << c.error();
  ASSERT_TRUE(c.WaitFor([&] { return HasEvent(c, "caught_up"); }, kWait));
  EXPECT_EQ(c.status(), 200);
  EXPECT_EQ(c.Header("content-type"), "text/event-stream");
  EXPECT_EQ(c.Header("cache-control"), "no-store");
  std::vector<SseEvent> ev = c.FeedEvents();
  ASSERT_EQ(ev.size(), 5u + 4);  // the catalog (tenant, key, 2 sources, target), the import
  for (size_t i = 0; i < ev.size(); ++i) {
    EXPECT_EQ(ev[i].id, std::to_string(1 + i));
    JsonDoc data = ParseJson(ev[i].data);
    EXPECT_EQ(uint64_t(data["seq"]), 1 + i);
    EXPECT_EQ(std::string_view(data["type"]), ev[i].event);
  }
  EXPECT_EQ(ev[0].event, "tenant.created");
  EXPECT_EQ(ev[5].event, "property.created");
  EXPECT_EQ(ev[8].event, "import.completed");
  // caught_up comes once, after the backlog, with the position as its id.
  const SseEvent& caught = c.events().back();
  EXPECT_EQ(caught.event, "caught_up");
  EXPECT_EQ(caught.id, std::to_string(backlog_end));
  // Live: a commit is delivered without reconnecting.
  ImportN(*client_, 1, 1, "b", 1);
  ASSERT_TRUE(c.WaitFor([&] { return LastFeedSeq(c) == LastSeq(); }, kWait));
  int caught_ups = 0;
  for (const SseEvent& e : c.events()) caught_ups += e.event == "caught_up";
  EXPECT_EQ(caught_ups, 1);
  // The raw framing of one event.
  EXPECT_NE(c.body().find("id: 6\nevent: property.created\ndata: {\"seq\":6,"), std::string::npos);
}

TEST_F(SseTest, KeepAliveAndCheckpointDuringSparseTraffic) {
  FeedConnection c(server_.port());
  ASSERT_TRUE(c.Open("/feed?since=0&target_id=1", Headers())) << c.error();
  ASSERT_TRUE(c.WaitFor([&] { return HasEvent(c, "caught_up"); }, kWait));
  // Idle: keep-alive comments.
  ASSERT_TRUE(c.WaitFor([&] { return !c.comments().empty(); }, kWait));
  EXPECT_EQ(c.comments().front(), "keep-alive");
  // Traffic that never matches the filter: the position still advances.
  ImportN(*client_, 1, 2, "s", 1);
  const uint64_t end = LastSeq();
  ASSERT_TRUE(c.WaitFor(
      [&] {
        for (const SseEvent& e : c.events()) {
          if (e.event == "checkpoint" && e.id == std::to_string(end)) return true;
        }
        return false;
      },
      kWait));
  ASSERT_EQ(c.FeedEvents().size(), 1u);  // the target's creation only
  EXPECT_EQ(c.FeedEvents().front().event, "target.created");
  // A checkpoint's id resumes the stream from there.
  ASSERT_EQ(client_->Post("/sync/1/1", "").status, 200);
  FeedConnection again(server_.port());
  ASSERT_TRUE(again.Open("/feed?target_id=1", Headers({{"Last-Event-ID", std::to_string(end)}})));
  ASSERT_TRUE(again.WaitFor([&] { return HasEvent(again, "caught_up"); }, kWait));
  std::vector<SseEvent> ev = again.FeedEvents();
  ASSERT_EQ(ev.size(), 3u);  // 2 created + sync.completed, all after `end`
  EXPECT_EQ(ev.front().id, std::to_string(end + 1));
}

TEST_F(SseTest, LastEventIdResumesExactlyOnceAndWinsOverSince) {
  ImportN(*client_, 1, 5, "a", 1);
  FeedConnection c(server_.port());
  ASSERT_TRUE(c.Open("/feed?since=0", Headers()));
  ASSERT_TRUE(c.WaitFor([&] { return c.FeedEvents().size() >= 3; }, kWait));
  const std::vector<SseEvent> first = c.FeedEvents();
  c.Close();
  const std::string resume_id = first[2].id;
  ImportN(*client_, 1, 5, "a", 2);
  ImportN(*client_, 2, 2, "b", 1);
  FeedConnection r(server_.port());
  ASSERT_TRUE(r.Open("/feed?since=0", Headers({{"Last-Event-ID", resume_id}})));
  ASSERT_TRUE(r.WaitFor([&] { return HasEvent(r, "caught_up"); }, kWait));
  std::vector<uint64_t> seqs;
  for (size_t i = 0; i <= 2; ++i) seqs.push_back(std::stoull(first[i].id));
  for (const SseEvent& e : r.FeedEvents()) seqs.push_back(std::stoull(e.id));
  std::set<uint64_t> unique(seqs.begin(), seqs.end());
  EXPECT_EQ(unique.size(), seqs.size());
  EXPECT_EQ(seqs.size(), LastSeq());
  for (size_t i = 1; i < seqs.size(); ++i) EXPECT_EQ(seqs[i], seqs[i - 1] + 1);
}

// 200 subscribers, one test thread polling them all: each gets every event
// of a burst of imports, in order, once.
TEST_F(SseTest, TwoHundredSubscribersReceiveEveryEvent) {
  constexpr int kSubscribers = 200;
  std::vector<std::unique_ptr<FeedConnection>> conns;
  std::vector<FeedConnection*> ptrs;
  const uint64_t start = LastSeq();
  for (int i = 0; i < kSubscribers; ++i) {
    conns.push_back(std::make_unique<FeedConnection>(server_.port()));
    ASSERT_TRUE(conns.back()->Open("/feed?since=" + std::to_string(start), Headers()))
        << conns.back()->error();
    ptrs.push_back(conns.back().get());
  }
  ASSERT_TRUE(PollAll(ptrs, [](const FeedConnection& c) { return HasEvent(c, "caught_up"); },
                      milliseconds(60'000)));
  std::thread writer([&] {
    HttpClient w = server_.Client(tenant_.api_key);
    for (int i = 0; i < 10; ++i) ImportN(w, 1 + i % 2, 5, "burst" + std::to_string(i) + "_", i);
  });
  writer.join();
  const uint64_t end = LastSeq();
  EXPECT_EQ(end - start, 10u * 6);
  ASSERT_TRUE(PollAll(ptrs, [&](const FeedConnection& c) { return LastFeedSeq(c) >= end; },
                      milliseconds(120'000)));
  for (int i = 0; i < kSubscribers; ++i) {
    std::vector<SseEvent> ev = conns[i]->FeedEvents();
    ASSERT_EQ(ev.size(), end - start) << "subscriber " << i;
    for (size_t k = 0; k < ev.size(); ++k) {
      ASSERT_EQ(ev[k].id, std::to_string(start + 1 + k)) << "subscriber " << i;
    }
  }
}

// A subscriber that never reads holds a bounded buffer; imports go on, other
// subscribers are fed, and once it reads it continues from its position.
TEST_F(SseTest, SubscriberThatNeverReadsDoesNotBlockWriters) {
  FeedConnection stuck(server_.port());
  ASSERT_TRUE(stuck.Open("/feed?since=0", Headers(), /*rcvbuf=*/4096));
  FeedConnection live(server_.port());
  ASSERT_TRUE(live.Open("/feed?since=0", Headers()));
  const std::string pad(8000, 'x');
  for (int i = 0; i < 40; ++i) {  // ~16 MB of events: far more than the socket buffers
    ImportN(*client_, 1, 50, "k", i, pad);
    live.ReadAvailable();
  }
  const uint64_t end = LastSeq();
  ASSERT_TRUE(live.WaitFor([&] { return LastFeedSeq(live) >= end; }, milliseconds(60'000)));
  EXPECT_EQ(live.FeedEvents().size(), end);
  // Now it reads: everything arrives, in order, once.
  ASSERT_TRUE(stuck.WaitFor([&] { return LastFeedSeq(stuck) >= end; }, milliseconds(60'000)))
      << stuck.FeedEvents().size();
  std::vector<SseEvent> ev = stuck.FeedEvents();
  ASSERT_EQ(ev.size(), end);
  for (size_t k = 0; k < ev.size(); ++k) ASSERT_EQ(ev[k].id, std::to_string(1 + k));
}

class SseLimitTest : public SseTest {
 protected:
  SseLimitTest() : SseTest(SseOptions(/*max_subscribers=*/3)) {}
};

TEST_F(SseLimitTest, PerTenantSubscriberLimit) {
  std::vector<std::unique_ptr<FeedConnection>> conns;
  for (int i = 0; i < 2; ++i) {
    conns.push_back(std::make_unique<FeedConnection>(server_.port()));
    ASSERT_TRUE(conns.back()->Open("/feed", Headers()));
    ASSERT_TRUE(conns.back()->WaitFor([&] { return HasEvent(*conns.back(), "caught_up"); }, kWait));
  }
  // A waiting long-poll counts too: once it waits, its status line is out.
  FeedConnection poll(server_.port());
  ASSERT_TRUE(poll.Open("/feed?since=" + std::to_string(LastSeq()) + "&wait=3",
                        {{"X-API-Key", tenant_.api_key}}));
  ASSERT_TRUE(poll.WaitFor([&] { return poll.status() != 0; }, kWait));
  ASSERT_EQ(poll.status(), 200);
  ASSERT_FALSE(poll.complete());  // still waiting
  const uint64_t before = LastSeq();

  FeedConnection refused(server_.port());
  ASSERT_TRUE(refused.Open("/feed", Headers()));
  ASSERT_TRUE(refused.WaitFor([&] { return refused.complete(); }, kWait));
  EXPECT_EQ(refused.status(), 429);
  JsonDoc err = ParseJson(refused.body());
  EXPECT_EQ(std::string_view(err["error"]["code"]), "too_many_requests");
  EXPECT_EQ(client_->Get("/feed?wait=1").status, 429);
  EXPECT_EQ(client_->Get("/feed").status, 200);  // a plain page is not a subscriber
  EXPECT_EQ(LastSeq(), before);
  // Another tenant is not affected.
  const auto other = server_.CreateTenant("Other");
  FeedConnection b(server_.port());
  ASSERT_TRUE(b.Open("/feed", {{"Accept", "text/event-stream"}, {"X-API-Key", other.api_key}}));
  ASSERT_TRUE(b.WaitFor([&] { return HasEvent(b, "caught_up"); }, kWait));

  // The long-poll ends (empty, at its deadline) and frees its slot.
  ASSERT_TRUE(poll.WaitFor([&] { return poll.complete(); }, kWait));
  EXPECT_TRUE(ParseFeedPage(poll.body()).events.empty());
  FeedConnection third(server_.port());
  ASSERT_TRUE(third.Open("/feed", Headers()));
  ASSERT_TRUE(third.WaitFor([&] { return third.status() != 0; }, kWait));
  EXPECT_EQ(third.status(), 200);

  // A closed subscriber frees its slot (noticed at its next keep-alive).
  conns[0]->Close();
  int status = 0;
  for (int i = 0; i < 100 && status != 200; ++i) {
    FeedConnection c(server_.port());
    ASSERT_TRUE(c.Open("/feed", Headers()));
    c.WaitFor([&] { return c.status() != 0; }, kWait);
    status = c.status();
    if (status != 200) std::this_thread::sleep_for(milliseconds(100));
  }
  EXPECT_EQ(status, 200);
}

TEST_F(SseTest, StopEndsOpenStreams) {
  FeedConnection c(server_.port());
  ASSERT_TRUE(c.Open("/feed", Headers()));
  ASSERT_TRUE(c.WaitFor([&] { return HasEvent(c, "caught_up"); }, kWait));
  server_.Stop();  // returns without waiting for the stream's client
  ASSERT_TRUE(c.WaitFor([&] { return c.closed(); }, kWait));
  EXPECT_TRUE(c.complete());  // ended cleanly (last chunk), so a client just resumes
}

}  // namespace
}  // namespace syncmgr::testing
