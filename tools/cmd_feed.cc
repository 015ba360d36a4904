// syncmgr feed [TENANT] [--since N] [--source S] [--target T] [--types a,b]
//              [--fields f,g] [--follow]                       (SPEC §5)
//
// Prints the change feed as NDJSON: one event per line, the bytes of the
// API's feed events (wire::WriteFeedEvent), in seq order, each once.
//
// Remote mode pages through GET /feed; --follow adds `wait=` (a long-poll),
// so an idle follower costs one held request. On a data directory it reads
// the log through the server's own feed reader on a secondary open (no lock:
// a running server may have the directory open), and --follow polls it,
// catching up with the server's writes (Engine::CatchUpWithPrimary).
//
// --follow runs until SIGINT or SIGTERM (exit 0, after a whole line). A
// read that fails for a passing reason (the server restarting, a dropped
// connection, a catch-up that failed) is retried from the last seq printed,
// with a bounded backoff: nothing is printed twice and nothing is skipped.
#include <algorithm>
#include <cstdio>

#include "server/feed_reader.h"
#include "server/feed_request.h"
#include "tools/cli.h"
#include "tools/local_backend.h"
#include "tools/stop_signal.h"
#include "wire/api_parse.h"
#include "wire/feed_json.h"

namespace syncmgr::cli {

namespace {

using Query = std::vector<std::pair<std::string, std::string>>;

// Events per read (the API's largest page).
constexpr uint32_t kPageEvents = 1000;
// Remote --follow: how long one read waits for new events, seconds (the
// server allows up to 60 by default).
constexpr uint32_t kLongPollWaitS = 30;
// Local --follow: how often the log is looked at when idle.
constexpr std::chrono::milliseconds kLocalPoll{300};
// Retries of a failed read (--follow): the first delay, doubled up to the
// last.
constexpr std::chrono::milliseconds kFirstRetry{200};
constexpr std::chrono::milliseconds kMaxRetry{5000};

struct FeedBatch {
  std::vector<wire::RawFeedEvent> events;  // in seq order
  uint64_t last_seq = 0;                   // the last seq read (matching or not)
  bool at_end = false;                     // read up to the end of the log
};

class FeedReader {
 public:
  virtual ~FeedReader() = default;
  // One page of events after `after`. With `follow`, the read may wait a
  // while for new ones.
  virtual StatusOr<FeedBatch> Read(uint64_t after, bool follow) = 0;
  // True when a failed read may succeed later (--follow retries it).
  virtual bool Retryable(const Status& status) const = 0;
};

// GET /feed pages of a server.
class RemoteFeedReader : public FeedReader {
 public:
  RemoteFeedReader(Backend& backend, Query filter) : backend_(backend), filter_(std::move(filter)) {}

  StatusOr<FeedBatch> Read(uint64_t after, bool follow) override {
    ApiCall call{.path = "/feed", .query = filter_};
    call.query.emplace_back("since", std::to_string(after));
    call.query.emplace_back("limit", std::to_string(kPageEvents));
    if (follow) call.query.emplace_back("wait", std::to_string(kLongPollWaitS));
    SYNCMGR_ASSIGN_OR_RETURN(std::string body, CallForBody(backend_, call));
    FeedBatch batch;
    SYNCMGR_RETURN_IF_ERROR(wire::ParseFeedPage(body, &batch.events, &batch.last_seq));
    // An empty page that did not move: nothing after `after` (yet).
    batch.at_end = batch.events.empty() && batch.last_seq <= after;
    return batch;
  }

  bool Retryable(const Status& status) const override {
    // The server unreachable, restarting (503) or full of subscribers (429).
    return status.code() == Code::kUnavailable || status.code() == Code::kTooManyRequests;
  }

 private:
  Backend& backend_;
  const Query filter_;
};

// The log of a data directory, read on a secondary open.
class LocalFeedReader : public FeedReader {
 public:
  LocalFeedReader(LocalBackend& backend, TenantId tenant, server::FeedFilter filter)
      : backend_(backend), tenant_(tenant), filter_(std::move(filter)) {}

  StatusOr<FeedBatch> Read(uint64_t after, bool follow) override {
    if (reopen_) {
      // The last read or catch-up failed (e.g. the server restarted and
      // replaced its files): start over from the directory as it is now.
      SYNCMGR_RETURN_IF_ERROR(backend_.Reopen());
      reopen_ = false;
    } else if (follow && caught_up_) {
      if (SleepUnlessStopped(kLocalPoll)) return FeedBatch{.events = {}, .last_seq = after, .at_end = true};
      if (Status st = backend_.engine().CatchUpWithPrimary(); !st.ok()) {
        reopen_ = true;
        return st;
      }
    }
    server::FeedReadLimits limits;
    limits.max_events = kPageEvents;
    StatusOr<server::FeedPage> page =
        server::ReadFeed(backend_.engine(), tenant_, filter_, after, limits);
    if (!page.ok()) {
      reopen_ = true;
      return page.status();
    }
    FeedBatch batch{.events = {}, .last_seq = page->last_seq, .at_end = page->at_end};
    for (const LogEvent& event : page->events) {
      batch.events.push_back({event.seq, wire::FeedEventJson(event)});
    }
    caught_up_ = page->at_end;
    return batch;
  }

  bool Retryable(const Status& status) const override {
    // What the request itself got wrong stays wrong.
    return status.code() != Code::kNotFound && status.code() != Code::kInvalidArgument;
  }

 private:
  LocalBackend& backend_;
  const TenantId tenant_;
  const server::FeedFilter filter_;
  bool caught_up_ = false;
  bool reopen_ = false;
};

// Checks the request as GET /feed checks it (streams of the tenant, known
// types, a position inside the log) and returns the filter.
StatusOr<server::FeedFilter> LocalFilter(Engine& engine, TenantId tenant, const Query& query,
                                         uint64_t since) {
  server::ApiRequest request;
  request.caller.kind = server::Caller::Kind::kTenant;
  request.caller.tenant = tenant;
  for (const auto& [name, value] : query) request.query.Add(name, value);
  request.query.Add("since", std::to_string(since));
  SYNCMGR_ASSIGN_OR_RETURN(server::FeedRequest parsed,
                           server::ParseFeedRequest(request, engine, /*max_wait_s=*/0));
  return parsed.filter;
}

// Prints events after *printed (each once), then flushes.
Status PrintEvents(const FeedBatch& batch, uint64_t* printed) {
  for (const wire::RawFeedEvent& event : batch.events) {
    if (event.seq <= *printed) continue;
    std::fwrite(event.json.data(), 1, event.json.size(), stdout);
    std::fputc('\n', stdout);
    *printed = event.seq;
  }
  if (std::fflush(stdout) != 0 || std::ferror(stdout)) {
    return Status::Unavailable("cannot write the output");
  }
  return Status::Ok();
}

int Feed(Context& ctx) {
  std::string tenant_arg;
  ctx.SplitTenantArg(1, &tenant_arg);
  uint64_t position = 0;
  if (std::optional<std::string> since = ctx.args().GetOptional("since")) {
    std::optional<uint64_t> seq = ParseSeq(*since);
    if (!seq) return ctx.UsageFail("--since must be a seq (a non-negative integer), got '" + *since + "'");
    position = *seq;
  }
  const bool follow = ctx.args().Has("follow");
  // Before the engine (and its threads) or the client exist.
  if (follow) InstallStopHandlers();

  int exit_code = kExitOk;
  Backend* backend = ctx.OpenBackend({.read_only = true}, &exit_code);
  if (backend == nullptr) return exit_code;
  auto tenant = ResolveTenant(*backend, tenant_arg);
  if (!tenant.ok()) return ctx.Fail(tenant.status());
  Query filter;
  if (auto source = ctx.args().GetOptional("source")) {
    auto id = ResolveSource(*backend, *tenant, *source);
    if (!id.ok()) return ctx.Fail(id.status());
    filter.emplace_back("source_id", std::to_string(*id));
  }
  if (auto target = ctx.args().GetOptional("target")) {
    auto id = ResolveTarget(*backend, *tenant, *target);
    if (!id.ok()) return ctx.Fail(id.status());
    filter.emplace_back("target_id", std::to_string(*id));
  }
  if (auto types = ctx.args().GetOptional("types")) filter.emplace_back("types", *types);
  if (auto fields = ctx.args().GetOptional("fields")) filter.emplace_back("fields", *fields);

  std::unique_ptr<FeedReader> reader;
  if (auto* local = dynamic_cast<LocalBackend*>(backend)) {
    StatusOr<server::FeedFilter> parsed = LocalFilter(local->engine(), *tenant, filter, position);
    if (!parsed.ok()) return ctx.Fail(parsed.status());
    reader = std::make_unique<LocalFeedReader>(*local, *tenant, std::move(*parsed));
  } else {
    reader = std::make_unique<RemoteFeedReader>(*backend, std::move(filter));
  }

  uint64_t printed = position;  // events up to here are printed (or were not asked for)
  std::chrono::milliseconds retry = kFirstRetry;
  bool in_outage = false;
  while (!StopRequested()) {
    StatusOr<FeedBatch> batch = reader->Read(position, follow);
    if (!batch.ok()) {
      if (StopRequested()) break;
      if (!follow || !reader->Retryable(batch.status())) return ctx.Fail(batch.status());
      if (!in_outage) {
        std::fprintf(stderr, "syncmgr: feed: %s; retrying from seq %llu\n",
                     batch.status().ToString().c_str(), static_cast<unsigned long long>(position));
        in_outage = true;
      }
      SleepUnlessStopped(retry);
      retry = std::min(retry * 2, kMaxRetry);
      continue;
    }
    if (in_outage) {
      std::fprintf(stderr, "syncmgr: feed: resumed from seq %llu\n",
                   static_cast<unsigned long long>(position));
      in_outage = false;
    }
    retry = kFirstRetry;
    if (Status st = PrintEvents(*batch, &printed); !st.ok()) return ctx.Fail(st);
    position = std::max({position, printed, batch->last_seq});
    if (batch->at_end && !follow) break;
  }
  return kExitOk;
}

}  // namespace

void AddFeedCommands(std::vector<Command>* out) {
  out->push_back(
      {{.path = "feed",
        .summary = "Print the change feed as NDJSON, one event per line; --follow stays on.",
        .args = {"TENANT"},
        .flags = {{"since", "N", "events after seq N (default 0: from the start)"},
                  {"source", "S", "only events of this source (id or name)"},
                  {"target", "T", "only events of this target (id or name)"},
                  {"types", "A,B", "only these event types (e.g. property.updated)"},
                  {"fields", "F,G", "property updates only when one of these fields changed"},
                  {"follow", "",
                   "stay on like tail -f, printing new events as they commit; resumes after a "
                   "dropped connection from the last seq printed; SIGINT/SIGTERM stop it (exit "
                   "0)"}},
        .details = "Each line is one event as the API's feed has it (docs/feed.md), in seq order,\n"
                   "each once. Remote mode: TENANT is left out (the API key's tenant). On a data\n"
                   "directory (--db) it reads a secondary open of it, so it works while a server\n"
                   "has it open; --follow then polls it.\n\n"
                   "Examples:\n"
                   "  $ syncmgr feed 1 --target website --types property.updated --fields price\n"
                   "  $ syncmgr --url http://127.0.0.1:8000 feed --since 120 --follow\n",
        .tenant_arg_optional_remotely = true},
       Feed});
}

}  // namespace syncmgr::cli
