// delivery_bench: push delivery to a fast local webhook receiver (issue 9).
//
//   throughput  a sync of N listings into a webhook target; events/s from the
//               sync's commit until the receiver has every event;
//   latency     M single manual edits, one at a time; per event, the time from
//               its commit (the engine call returned) to the receiver having
//               it (the request arrived; it is answered at once). p50 / p99.
//
// The commit instant is the engine's commit notification (durable and
// visible). In-process: a real Engine (synced writes), the real Server with its
// delivery engine, libcurl, and a loopback receiver (tests/support/
// webhook_receiver: one thread per connection, answers 200 at once).
// Prints one JSON object on stdout. `--tiny` is the CI smoke size.
//
//   delivery_bench [--tiny] [--events N] [--edits M] [--batch-size B]
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <simdjson.h>

#include "engine/engine.h"
#include "server/server.h"
#include "tests/support/webhook_receiver.h"

namespace {

using Clock = std::chrono::steady_clock;
using syncmgr::testing::ReceivedRequest;

int Fail(const std::string& what) {
  std::fprintf(stderr, "delivery_bench: %s\n", what.c_str());
  return 1;
}

// seq -> arrival time of the first request that carried it.
std::map<uint64_t, Clock::time_point> Arrivals(const std::vector<ReceivedRequest>& requests) {
  std::map<uint64_t, Clock::time_point> out;
  simdjson::dom::parser parser;
  for (const ReceivedRequest& r : requests) {
    simdjson::dom::element root;
    if (parser.parse(r.body).get(root) != simdjson::SUCCESS) continue;
    simdjson::dom::array events;
    if (root["events"].get_array().get(events) != simdjson::SUCCESS) continue;
    for (simdjson::dom::element e : events) {
      uint64_t seq = 0;
      if (e["seq"].get_uint64().get(seq) == simdjson::SUCCESS) out.emplace(seq, r.at);
    }
  }
  return out;
}

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t i = static_cast<size_t>(p * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

}  // namespace

int main(int argc, char** argv) {
  uint64_t events = 20000, edits = 300, batch_size = 100;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> uint64_t { return i + 1 < argc ? std::strtoull(argv[++i], nullptr, 10) : 0; };
    if (a == "--tiny") {
      events = 300;
      edits = 20;
    } else if (a == "--events") {
      events = next();
    } else if (a == "--edits") {
      edits = next();
    } else if (a == "--batch-size") {
      batch_size = next();
    } else {
      return Fail("unknown argument " + a);
    }
  }
  if (events == 0 || batch_size == 0 || batch_size > 10000) return Fail("bad sizes");

  char templ[] = "/tmp/delivery-bench-XXXXXX";
  if (::mkdtemp(templ) == nullptr) return Fail("mkdtemp");
  const std::string dir = templ;

  syncmgr::testing::WebhookReceiver receiver;
  int rc = 0;
  {
    syncmgr::EngineOptions eo;
    eo.path = dir + "/db";
    auto engine = syncmgr::Engine::Open(eo);
    if (!engine.ok()) return Fail(engine.status().ToString());
    syncmgr::Engine& e = **engine;
    auto tenant = e.CreateTenant("bench");
    if (!tenant.ok()) return Fail(tenant.status().ToString());
    const syncmgr::TenantId t = tenant->tenant.id;
    syncmgr::SourceSpec ss;
    ss.name = "portal";
    auto source = e.CreateSource(t, ss);
    syncmgr::TargetSpec ts;
    ts.name = "site";
    ts.type = "webhook";
    ts.config_json = R"({"url":")" + receiver.url() + R"(","batch_size":)" +
                     std::to_string(batch_size) + "}";
    auto target = e.CreateTarget(t, ts);
    if (!source.ok() || !target.ok()) return Fail("catalog");

    // The commit instant: the engine's commit notification (the write is
    // durable and visible), which also wakes delivery — so the engine call
    // may return after the receiver already has the event. Subscribed before
    // the server (and its delivery engine), so it runs first.
    std::mutex commit_mu;
    std::map<uint64_t, Clock::time_point> committed_at;  // guarded by commit_mu
    const uint64_t sub = e.SubscribeCommits([&](syncmgr::TenantId, uint64_t seq) {
      std::lock_guard lock(commit_mu);
      committed_at.emplace(seq, Clock::now());
    });
    syncmgr::server::ServerOptions so;
    so.port = 0;
    so.allow_private_push = true;
    so.request_log = [](std::string_view) {};
    syncmgr::server::Server server(e, so);
    if (auto st = server.Start(); !st.ok()) return Fail(st.ToString());

    // ---- Throughput ----------------------------------------------------------
    // Listings of ~1.5 KB, like the scrapers' (SPEC §6: 1-3 KB).
    const std::string filler(1200, 'x');
    std::string body = "[";
    for (uint64_t i = 0; i < events; ++i) {
      if (i > 0) body += ",";
      body += R"({"external_id":"L)" + std::to_string(i) +
              R"(","price":)" + std::to_string(100000 + i) +
              R"(,"rooms":3,"city":"Lyon","title":"Bright flat near the river, balcony",)"
              R"("description":"A listing of about a few hundred bytes, as scrapers produce, )"
              R"(with some text to make the payload realistic for a webhook batch.","notes":")" +
              filler + "\"}";
    }
    body += "]";
    syncmgr::ImportOptions io;
    if (auto r = e.Import(t, source->id, io, body); !r.ok()) return Fail(r.status().ToString());
    auto sync = e.Sync(t, source->id, target->id, {});
    if (!sync.ok()) return Fail(sync.status().ToString());
    // From the sync's commit (its notification also woke delivery).
    Clock::time_point sync_done = Clock::now();
    {
      std::lock_guard lock(commit_mu);
      if (auto it = committed_at.find(sync->seq); it != committed_at.end()) sync_done = it->second;
    }
    const uint64_t first_seq = sync->seq - events;  // N creations + sync.completed
    const size_t want = events + 1;
    // Batches arrive in seq order: done when the sync's last event (its
    // sync.completed) has arrived.
    const std::string last_marker = "\"seq\":" + std::to_string(sync->seq) + ",";
    const bool all = receiver.WaitUntil(
        [&](const std::vector<ReceivedRequest>& reqs) {
          return !reqs.empty() && reqs.back().body.find(last_marker) != std::string::npos;
        },
        std::chrono::seconds(600));
    if (!all) {
      rc = Fail("not every event arrived");
    }
    auto arrivals = Arrivals(receiver.requests());
    Clock::time_point last = sync_done;
    for (uint64_t s = first_seq; s <= sync->seq; ++s) {
      auto it = arrivals.find(s);
      if (it != arrivals.end()) last = std::max(last, it->second);
    }
    const double seconds = std::chrono::duration<double>(last - sync_done).count();
    const size_t requests = receiver.request_count();

    // ---- Latency ----------------------------------------------------------------
    std::vector<std::pair<uint64_t, Clock::time_point>> commits;
    for (uint64_t i = 0; i < edits; ++i) {
      const std::string ext = "L" + std::to_string(i % events);
      auto p = e.PutTargetProperty(t, target->id, ext,
                                   R"({"price":)" + std::to_string(200000 + i) + "}");
      if (!p.ok()) return Fail(p.status().ToString());
      const uint64_t seq = p->seq;
      {
        std::lock_guard lock(commit_mu);
        auto it = committed_at.find(seq);
        commits.emplace_back(seq, it == committed_at.end() ? Clock::now() : it->second);
      }
      const std::string marker = "\"seq\":" + std::to_string(seq) + ",";
      if (!receiver.WaitUntil(
              [&](const std::vector<ReceivedRequest>& reqs) {
                return !reqs.empty() && reqs.back().body.find(marker) != std::string::npos;
              },
              std::chrono::seconds(30))) {
        break;
      }
    }
    e.UnsubscribeCommits(sub);
    auto arrived = Arrivals(receiver.requests());
    std::vector<double> latency_ms;
    for (const auto& [seq, at] : commits) {
      auto it = arrived.find(seq);
      if (it == arrived.end()) continue;
      latency_ms.push_back(
          std::max(0.0, std::chrono::duration<double, std::milli>(it->second - at).count()));
    }
    server.Stop();

    std::printf(
        "{\"events\":%llu,\"batch_size\":%llu,\"requests\":%zu,\"seconds\":%.3f,"
        "\"throughput_events_per_s\":%.0f,\"latency_samples\":%zu,"
        "\"ack_latency_ms\":{\"p50\":%.3f,\"p99\":%.3f}}\n",
        static_cast<unsigned long long>(events), static_cast<unsigned long long>(batch_size),
        requests, seconds, seconds > 0 ? static_cast<double>(want) / seconds : 0.0,
        latency_ms.size(), Percentile(latency_ms, 0.5), Percentile(latency_ms, 0.99));
    if (latency_ms.size() != edits) rc = Fail("some edits never arrived");
  }
  receiver.Stop();
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  return rc;
}
