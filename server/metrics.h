// Metrics: the server's counters, rendered in the Prometheus text format
// (version 0.0.4) at GET /metrics.
//
//   syncmgr_http_requests_total{method,route,status}       counter
//   syncmgr_http_request_duration_seconds{route}           histogram
//   syncmgr_http_open_connections                          gauge
//   syncmgr_http_connections_rejected_total                counter (max_connections)
//   syncmgr_events_appended_total                          counter (all tenants)
//   syncmgr_imports_total{status="success"|"error"}        counter
//   syncmgr_syncs_total{status,dry_run}                    counter
//   syncmgr_sync_conflicts_total                           counter
//   syncmgr_delivery_*{tenant,target,type}                 push delivery (SetExtraRenderer)
//
// `route` is the route pattern ("/sources/{id}"), never a raw path, so the
// number of series stays bounded; unmatched paths count as "unmatched".
//
// Thread-safety: safe for concurrent use from many threads.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <tuple>
#include <unordered_map>

#include "engine/types.h"

namespace syncmgr::server {

class Metrics {
 public:
  void ObserveRequest(std::string_view method, std::string_view route, int status, double seconds);
  void ConnectionOpened() { open_connections_.fetch_add(1, std::memory_order_relaxed); }
  void ConnectionClosed() { open_connections_.fetch_sub(1, std::memory_order_relaxed); }
  void ConnectionRejected() { rejected_connections_.fetch_add(1, std::memory_order_relaxed); }
  void ImportFinished(bool success);
  void SyncFinished(bool success, bool dry_run, uint64_t conflicts);
  // A commit of `tenant` made its log end at `last_seq` (Engine commit
  // subscription); counts the events appended since the last one seen.
  void OnCommit(TenantId tenant, uint64_t last_seq);
  // Seeds a tenant's last seq at start, so that OnCommit counts only what
  // this process appended.
  void SeedLastSeq(TenantId tenant, uint64_t last_seq);

  int64_t open_connections() const { return open_connections_.load(std::memory_order_relaxed); }
  std::string RenderPrometheus() const;
  // Text appended to RenderPrometheus (push delivery's per-target series,
  // delivery/delivery_engine.h). Set once at start, before serving.
  void SetExtraRenderer(std::function<std::string()> render) { extra_ = std::move(render); }

  // Upper bounds (seconds) of the latency histogram buckets (+Inf implied).
  static constexpr std::array<double, 13> kBuckets = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                                      0.25,  0.5,    1,     2.5,  10,    60};

 private:
  struct Histogram {
    std::array<uint64_t, kBuckets.size() + 1> counts{};  // last: +Inf
    double sum = 0;
    uint64_t count = 0;
  };

  std::function<std::string()> extra_;  // constant once serving
  std::atomic<int64_t> open_connections_{0};
  std::atomic<uint64_t> rejected_connections_{0};

  mutable std::mutex mu_;
  // guarded by mu_:
  // Transparent comparators: a request already counted is found without
  // building the key's strings (issue 18: ObserveRequest runs per request).
  std::map<std::tuple<std::string, std::string, int>, uint64_t, std::less<>> requests_;
  std::map<std::string, Histogram, std::less<>> latency_;
  std::unordered_map<TenantId, uint64_t> last_seq_;
  uint64_t events_appended_ = 0;
  uint64_t imports_ok_ = 0, imports_failed_ = 0;
  std::map<std::pair<bool, bool>, uint64_t> syncs_;  // (success, dry_run) → count
  uint64_t conflicts_ = 0;
};

}  // namespace syncmgr::server
