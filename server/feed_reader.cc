#include "server/feed_reader.h"

#include <algorithm>
#include <variant>

#include "engine/engine.h"

namespace syncmgr::server {

namespace {

// Log records one engine read looks at, at most: bounds the time of each
// step, so the overall budget (max_scanned) is kept to within one step.
constexpr uint32_t kStepScan = 4096;

// The engine indexes a sync.completed event under its source and its target;
// the feed gives it to its target only (its `stream`), so a source's feed has
// only that source's events and two merged streams never repeat one.
// Tenant-wide events (no stream) are in no stream's feed.
bool OfStream(const LogEvent& e, const StreamRef& s) {
  return e.stream && e.stream->kind == s.kind && e.stream->id == s.id;
}

uint64_t EventBytes(const LogEvent& e) {
  const auto* target = std::get_if<TargetInfo>(&e.catalog);  // its config can be large
  return e.external_id.size() + e.hash.size() + (e.data ? e.data->size() : 0) +
         e.summary_json.size() + (target != nullptr ? target->config_json.size() : 0) + 128;
}

}  // namespace

bool FeedFilter::Accepts(const LogEvent& event) const {
  if (types_mask != 0 && (types_mask & (1u << static_cast<unsigned>(event.type))) == 0) {
    return false;
  }
  if (fields.empty()) return true;
  const bool update = event.type == EventType::kPropertyUpdated ||
                      (event.type == EventType::kPropertyManualEdit && event.changed_fields);
  if (!update) return true;
  if (!event.changed_fields) return false;
  for (const std::string& f : *event.changed_fields) {
    if (std::find(fields.begin(), fields.end(), f) != fields.end()) return true;
  }
  return false;
}

StatusOr<FeedPage> ReadFeed(Engine& engine, TenantId tenant, const FeedFilter& filter,
                            uint64_t after_seq, const FeedReadLimits& limits) {
  FeedPage page;
  page.last_seq = after_seq;
  // The end as of now; the log only grows, so reaching it means caught up
  // with everything committed before this call.
  SYNCMGR_ASSIGN_OR_RETURN(const uint64_t end, engine.LastSeq(tenant));
  uint64_t data_bytes = 0;
  for (;;) {
    if (page.last_seq >= end) {
      page.at_end = true;
      break;
    }
    if (page.events.size() >= limits.max_events || data_bytes >= limits.max_data_bytes ||
        page.scanned >= limits.max_scanned) {
      break;
    }
    const uint32_t want = static_cast<uint32_t>(limits.max_events - page.events.size());
    const uint32_t budget =
        static_cast<uint32_t>(std::min<uint64_t>(kStepScan, limits.max_scanned - page.scanned));
    std::vector<LogEvent> step;
    uint64_t step_last = page.last_seq;
    if (filter.streams.size() <= 1) {
      LogQuery q;
      q.after_seq = page.last_seq;
      if (!filter.streams.empty()) q.stream = filter.streams.front();
      q.limit = want;
      q.scan_budget = budget;
      q.every_kind = true;  // the feed shows every event of the log
      SYNCMGR_ASSIGN_OR_RETURN(LogPage lp, engine.ReadLog(tenant, q));
      for (LogEvent& e : lp.events) {
        if (!q.stream || OfStream(e, *q.stream)) step.push_back(std::move(e));
      }
      step_last = lp.last_seq;
    } else {
      // Two streams: read both from the same position; everything up to the
      // lower of their scanned positions is complete on both sides.
      std::vector<LogPage> parts;
      uint64_t common = UINT64_MAX;
      for (const StreamRef& s : filter.streams) {
        LogQuery q;
        q.after_seq = page.last_seq;
        q.stream = s;
        q.limit = want;
        q.scan_budget = budget;
        q.every_kind = true;
        SYNCMGR_ASSIGN_OR_RETURN(LogPage lp, engine.ReadLog(tenant, q));
        common = std::min(common, lp.last_seq);
        parts.push_back(std::move(lp));
      }
      for (size_t i = 0; i < parts.size(); ++i) {
        for (LogEvent& e : parts[i].events) {
          if (e.seq <= common && OfStream(e, filter.streams[i])) step.push_back(std::move(e));
        }
      }
      std::sort(step.begin(), step.end(),
                [](const LogEvent& a, const LogEvent& b) { return a.seq < b.seq; });
      if (step.size() > want) {
        step.resize(want);
        common = step.back().seq;
      }
      step_last = common;
    }
    page.scanned += budget;
    if (step_last <= page.last_seq) break;  // no progress (cannot happen below `end`)
    page.last_seq = step_last;
    for (LogEvent& e : step) {
      if (!filter.Accepts(e)) continue;
      data_bytes += EventBytes(e);
      page.events.push_back(std::move(e));
    }
    if (page.last_seq >= end) page.at_end = true;
  }
  return page;
}

}  // namespace syncmgr::server
