#include "server/metrics.h"

#include <fmt/format.h>

namespace syncmgr::server {

void Metrics::ObserveRequest(std::string_view method, std::string_view route, int status,
                             double seconds) {
  std::lock_guard lock(mu_);
  auto counted = requests_.find(std::tuple<std::string_view, std::string_view, int>(method, route, status));
  if (counted == requests_.end()) {
    counted = requests_.emplace(std::tuple(std::string(method), std::string(route), status), 0).first;
  }
  ++counted->second;
  auto timed = latency_.find(route);
  if (timed == latency_.end()) timed = latency_.emplace(std::string(route), Histogram{}).first;
  Histogram& h = timed->second;
  size_t bucket = 0;
  while (bucket < kBuckets.size() && seconds > kBuckets[bucket]) ++bucket;
  ++h.counts[bucket];
  h.sum += seconds;
  ++h.count;
}

void Metrics::ImportFinished(bool success) {
  std::lock_guard lock(mu_);
  ++(success ? imports_ok_ : imports_failed_);
}

void Metrics::SyncFinished(bool success, bool dry_run, uint64_t conflicts) {
  std::lock_guard lock(mu_);
  ++syncs_[{success, dry_run}];
  if (!dry_run) conflicts_ += conflicts;
}

void Metrics::OnCommit(TenantId tenant, uint64_t last_seq) {
  std::lock_guard lock(mu_);
  uint64_t& prev = last_seq_[tenant];  // a tenant created after start begins at 0
  if (last_seq > prev) {
    events_appended_ += last_seq - prev;
    prev = last_seq;
  }
}

void Metrics::SeedLastSeq(TenantId tenant, uint64_t last_seq) {
  std::lock_guard lock(mu_);
  uint64_t& prev = last_seq_[tenant];
  if (last_seq > prev) prev = last_seq;
}

std::string Metrics::RenderPrometheus() const {
  // Rendered before taking mu_: it reads the engine, and I/O threads take mu_.
  std::string extra = extra_ ? extra_() : std::string();
  std::string out;
  auto it = std::back_inserter(out);
  std::lock_guard lock(mu_);

  fmt::format_to(it,
                 "# HELP syncmgr_http_requests_total HTTP requests answered.\n"
                 "# TYPE syncmgr_http_requests_total counter\n");
  for (const auto& [key, n] : requests_) {
    const auto& [method, route, status] = key;
    fmt::format_to(it,
                   "syncmgr_http_requests_total{{method=\"{}\",route=\"{}\",status=\"{}\"}} {}\n",
                   method, route, status, n);
  }

  fmt::format_to(it,
                 "# HELP syncmgr_http_request_duration_seconds Time from request header to "
                 "last response byte.\n"
                 "# TYPE syncmgr_http_request_duration_seconds histogram\n");
  for (const auto& [route, h] : latency_) {
    uint64_t cumulative = 0;
    for (size_t i = 0; i < kBuckets.size(); ++i) {
      cumulative += h.counts[i];
      fmt::format_to(it,
                     "syncmgr_http_request_duration_seconds_bucket{{route=\"{}\",le=\"{}\"}} {}\n",
                     route, kBuckets[i], cumulative);
    }
    fmt::format_to(it,
                   "syncmgr_http_request_duration_seconds_bucket{{route=\"{}\",le=\"+Inf\"}} {}\n"
                   "syncmgr_http_request_duration_seconds_sum{{route=\"{}\"}} {}\n"
                   "syncmgr_http_request_duration_seconds_count{{route=\"{}\"}} {}\n",
                   route, h.count, route, h.sum, route, h.count);
  }

  fmt::format_to(it,
                 "# HELP syncmgr_http_open_connections Connections open now.\n"
                 "# TYPE syncmgr_http_open_connections gauge\n"
                 "syncmgr_http_open_connections {}\n"
                 "# HELP syncmgr_http_connections_rejected_total Connections refused with 503 "
                 "(max_connections).\n"
                 "# TYPE syncmgr_http_connections_rejected_total counter\n"
                 "syncmgr_http_connections_rejected_total {}\n",
                 open_connections_.load(), rejected_connections_.load());

  fmt::format_to(it,
                 "# HELP syncmgr_events_appended_total Events appended to tenant logs by this "
                 "process.\n"
                 "# TYPE syncmgr_events_appended_total counter\n"
                 "syncmgr_events_appended_total {}\n"
                 "# HELP syncmgr_imports_total Imports finished.\n"
                 "# TYPE syncmgr_imports_total counter\n"
                 "syncmgr_imports_total{{status=\"success\"}} {}\n"
                 "syncmgr_imports_total{{status=\"error\"}} {}\n",
                 events_appended_, imports_ok_, imports_failed_);

  fmt::format_to(it,
                 "# HELP syncmgr_syncs_total Sync runs finished.\n"
                 "# TYPE syncmgr_syncs_total counter\n");
  for (bool success : {true, false}) {
    for (bool dry_run : {false, true}) {
      const auto found = syncs_.find({success, dry_run});
      fmt::format_to(it, "syncmgr_syncs_total{{status=\"{}\",dry_run=\"{}\"}} {}\n",
                     success ? "success" : "error", dry_run,
                     found == syncs_.end() ? 0 : found->second);
    }
  }
  fmt::format_to(it,
                 "# HELP syncmgr_sync_conflicts_total Conflicts met by sync runs (not dry runs).\n"
                 "# TYPE syncmgr_sync_conflicts_total counter\n"
                 "syncmgr_sync_conflicts_total {}\n",
                 conflicts_);
  out += extra;
  return out;
}

}  // namespace syncmgr::server
