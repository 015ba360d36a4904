// The request log's default sink (server/request_log.h, RequestLogWriter):
// lines are written in batches, not one write per request, and still never
// split, interleaved, reordered within a thread or lost on a clean stop —
// on the writer alone with many threads, and on the real `syncmgr serve`
// stopped by SIGTERM right after its last answer.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <sstream>
#include <thread>

#include "server/request_log.h"
#include "tests/engine/engine_fixture.h"
#include "tests/support/serve_process.h"

namespace syncmgr::testing {
namespace {

using namespace std::chrono_literals;
using server::RequestLogWriter;

// What a writer wrote, batch by batch.
struct Captured {
  std::mutex mu;
  std::vector<std::string> batches;
  std::string all() {
    std::lock_guard lock(mu);
    std::string out;
    for (const std::string& b : batches) out += b;
    return out;
  }
  size_t count() {
    std::lock_guard lock(mu);
    return batches.size();
  }
};

RequestLogWriter::Write Into(Captured* c) {
  return [c](std::string_view lines) {
    std::lock_guard lock(c->mu);
    c->batches.emplace_back(lines);
  };
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

// The line's exact bytes (docs/api.md "Request log"), whoever builds it.
TEST(FormatRequestLogTest, WritesTheDocumentedLine) {
  server::RequestLogRecord r;
  r.method = "GET";
  r.route = "/targets/{id}/properties/{external_id}";
  r.status = 200;
  r.duration_s = 0.0012345;
  r.caller = server::Caller{server::Caller::Kind::kTenant, 3};
  r.bytes_in = 0;
  r.bytes_out = 1972;
  EXPECT_EQ(server::FormatRequestLog(r, 1764000000123456),
            R"({"time":"2025-11-24T16:00:00.123456Z","method":"GET",)"
            R"("route":"/targets/{id}/properties/{external_id}","status":200,)"
            R"("duration_ms":1.234,"tenant":3,"bytes_in":0,"bytes_out":1972})");
  r.method = "POST";
  r.route = "unmatched";
  r.status = 404;
  r.duration_s = 12.5;
  r.caller = server::Caller{server::Caller::Kind::kAdmin, 0};
  r.bytes_in = 18446744073709551615ull;
  EXPECT_EQ(server::FormatRequestLog(r, 0),
            R"({"time":"1970-01-01T00:00:00.000000Z","method":"POST","route":"unmatched",)"
            R"("status":404,"duration_ms":12500.000,"tenant":null,"admin":true,)"
            R"("bytes_in":18446744073709551615,"bytes_out":1972})");
  r.method = "PATCH";
  r.route = "/a\"b";
  r.caller = server::Caller{};
  r.duration_s = 0;
  // A second later in the same minute, then the same second again.
  EXPECT_EQ(server::FormatRequestLog(r, 1764000001000001),
            R"({"time":"2025-11-24T16:00:01.000001Z","method":"PATCH","route":"/a\"b",)"
            R"("status":404,"duration_ms":0.000,"tenant":null,)"
            R"("bytes_in":18446744073709551615,"bytes_out":1972})");
  EXPECT_EQ(server::FormatRequestLog(r, 1764000001999999).substr(0, 37),
            R"({"time":"2025-11-24T16:00:01.999999Z")");
  EXPECT_EQ(server::FormatRequestLog(r, 1764000000123456).substr(0, 37),
            R"({"time":"2025-11-24T16:00:00.123456Z")");
}

TEST(RequestLogWriterTest, ManyThreadsLinesComeOutWholeInOrderAndNoneIsLost) {
  constexpr int kThreads = 8, kPerThread = 5000;
  Captured captured;
  {
    RequestLogWriter writer(4096, 50ms, Into(&captured));
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&writer, t] {
        for (int i = 0; i < kPerThread; ++i) {
          // Lines of varying length, so that batches end anywhere.
          writer.Append("{\"t\":" + std::to_string(t) + ",\"i\":" + std::to_string(i) + ",\"pad\":\"" +
                        std::string(i % 97, 'x') + "\"}");
        }
      });
    }
    for (std::thread& t : threads) t.join();
  }  // destruction flushes
  std::vector<std::string> batches;
  {
    std::lock_guard lock(captured.mu);
    batches = captured.batches;
  }
  for (const std::string& b : batches) {
    ASSERT_FALSE(b.empty());
    EXPECT_EQ(b.back(), '\n') << "a batch ends inside a line";
  }
  std::map<int, int> next;  // thread -> the next i expected from it
  size_t lines = 0;
  for (const std::string& line : Lines(captured.all())) {
    ++lines;
    int t = -1, i = -1;
    ASSERT_EQ(std::sscanf(line.c_str(), "{\"t\":%d,\"i\":%d,", &t, &i), 2) << line;
    ASSERT_EQ(line, "{\"t\":" + std::to_string(t) + ",\"i\":" + std::to_string(i) +
                        ",\"pad\":\"" + std::string(i % 97, 'x') + "\"}");
    EXPECT_EQ(i, next[t]) << "thread " << t << "'s lines out of order";
    next[t] = i + 1;
  }
  EXPECT_EQ(lines, size_t{kThreads} * kPerThread);
  for (int t = 0; t < kThreads; ++t) EXPECT_EQ(next[t], kPerThread);
  // Batched: far fewer writes than lines.
  EXPECT_LT(batches.size(), lines / 10);
}

TEST(RequestLogWriterTest, ALoneLineIsWrittenWithoutAFlushOrAFullBatch) {
  Captured captured;
  RequestLogWriter writer(1 << 20, 20ms, Into(&captured));
  writer.Append("{\"one\":1}");
  // Bounded wait: the interval is 20 ms; allow 10 s.
  for (int i = 0; i < 1000 && captured.count() == 0; ++i) std::this_thread::sleep_for(10ms);
  EXPECT_EQ(captured.all(), "{\"one\":1}\n");
  writer.Append("{\"two\":2}");
  writer.Flush();
  EXPECT_EQ(captured.all(), "{\"one\":1}\n{\"two\":2}\n");
  writer.Flush();  // nothing waits: nothing written
  EXPECT_EQ(captured.count(), 2u);
}

// The real server, its log on stderr (no sink configured): every request
// it answered has its line in the log once SIGTERM has stopped it, also the
// ones answered just before the stop.
TEST(RequestLogServeTest, EveryAnsweredRequestIsLoggedAfterACleanStop) {
  TempDir tmp;
  ServeOptions options;
  options.binary = SYNCMGR_BIN;
  options.db = tmp.sub("db");
  options.log = tmp.sub("serve.log");
  ServeProcess serve(options);
  ASSERT_TRUE(serve.Start());
  constexpr int kClients = 4, kPerClient = 300;
  std::atomic<int> answered{0};
  std::vector<std::thread> clients;
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&] {
      HttpClient client = serve.Client("");
      for (int i = 0; i < kPerClient; ++i) {
        if (client.Get("/health").status == 200) answered.fetch_add(1);
      }
    });
  }
  for (std::thread& t : clients) t.join();
  ASSERT_EQ(answered.load(), kClients * kPerClient);
  // Stopped at once: most of the lines are still held in memory.
  EXPECT_EQ(serve.Stop(SIGTERM), 0);
  size_t health = 0;
  for (const std::string& line : Lines(serve.ReadLog())) {
    if (line.find("\"route\":\"/health\"") == std::string::npos) continue;
    EXPECT_EQ(line.front(), '{') << line;
    EXPECT_EQ(line.back(), '}') << line;
    ++health;
  }
  // /health also answered ServeProcess::Start's readiness probe.
  EXPECT_GE(health, size_t{kClients} * kPerClient);
  EXPECT_LE(health, size_t{kClients} * kPerClient + 300);
}

}  // namespace
}  // namespace syncmgr::testing
