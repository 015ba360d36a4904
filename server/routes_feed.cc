// Change-feed routes (SPEC §4 "Change feed", docs/feed.md):
//   GET /feed          — JSON page, long-poll (`wait`) or SSE (Accept:
//                        text/event-stream); a tenant key or a feed token.
//   POST /feed_tokens  — mints a read-only feed token (tenant key).
#include <chrono>
#include <cmath>
#include <limits>

#include "engine/engine.h"
#include "server/feed_hub.h"
#include "server/feed_request.h"
#include "server/feed_stream.h"
#include "server/routes.h"
#include "server/server.h"
#include "wire/api_render.h"
#include "wire/request_json.h"

namespace syncmgr::server {
namespace {

// A JSON answer (no `wait`): at most this much event data (one event more
// at most) and this many log records looked at.
constexpr uint64_t kPageMaxBytes = 4u << 20;
constexpr uint64_t kPageMaxScanned = 100'000;

ApiResponse GetFeed(const ApiRequest& req, HandlerContext& ctx) {
  if (ctx.feed_hub == nullptr) return ErrorResponse(Status::Unavailable("the feed is not running"));
  SYNCMGR_ASSIGN_OR_RESPOND(FeedRequest feed,
                            ParseFeedRequest(req, ctx.engine, ctx.options.feed_max_wait_s));
  FeedStreamOptions so;
  so.engine = &ctx.engine;
  so.hub = ctx.feed_hub;
  so.tenant = feed.tenant;
  so.filter = feed.filter;
  so.position = feed.position;
  so.keepalive = std::chrono::milliseconds(std::max<uint32_t>(1, ctx.options.feed_keepalive_ms));
  so.write_timeout_ms = ctx.options.feed_write_timeout_ms;
  so.expires_at_us = feed.token_expires_at_us;

  if (feed.sse) {
    SYNCMGR_ASSIGN_OR_RESPOND(so.admission, ctx.feed_hub->Admit(feed.tenant));
    ApiResponse r;
    r.status = 200;
    r.content_type = "text/event-stream";
    r.headers.emplace_back("X-Accel-Buffering", "no");  // proxies: do not buffer the stream
    r.stream = std::make_unique<SseStream>(std::move(so));
    return r;
  }

  // A waiting long-poll is a subscriber too.
  if (feed.wait_s > 0) {
    SYNCMGR_ASSIGN_OR_RESPOND(so.admission, ctx.feed_hub->Admit(feed.tenant));
  }
  FeedReadLimits limits;
  limits.max_events = feed.limit;
  limits.max_data_bytes = kPageMaxBytes;
  limits.max_scanned = kPageMaxScanned;
  SYNCMGR_ASSIGN_OR_RESPOND(FeedPage page, ReadFeed(ctx.engine, feed.tenant, feed.filter,
                                                    feed.position, limits));
  if (!page.events.empty() || feed.wait_s == 0 || !page.at_end) {
    std::string out;
    WriteFeedPage(&out, page);
    return JsonResponse(200, std::move(out));
  }
  // Nothing yet: hold the answer (no thread held) until a matching event
  // commits or the wait ends.
  so.position = page.last_seq;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(feed.wait_s);
  ApiResponse r;
  r.status = 200;
  r.content_type = "application/json";
  r.stream = std::make_unique<LongPollStream>(std::move(so), feed.limit, deadline);
  return r;
}

// A stream id member: an integer in [1, 2^32-1] (400 otherwise); 0 if absent.
StatusOr<uint32_t> StreamMember(simdjson::dom::object body, std::string_view key) {
  StatusOr<std::optional<double>> v = wire::OptionalNumber(body, key);
  if (!v.ok()) return v.status();
  if (!*v) return uint32_t{0};
  const double d = **v;
  if (!(d >= 1 && d <= std::numeric_limits<uint32_t>::max()) || std::floor(d) != d) {
    return Status::InvalidArgument("'" + std::string(key) + "' must be a positive integer id");
  }
  return static_cast<uint32_t>(d);
}

ApiResponse CreateFeedToken(const ApiRequest& req, HandlerContext& ctx) {
  SYNCMGR_ASSIGN_OR_RESPOND(
      simdjson::dom::object body,
      wire::ParseObjectBody(req.body.empty() ? std::string_view("{}") : req.body));
  SYNCMGR_RESPOND_IF_ERROR(
      wire::CheckMembers(body, "the feed token request", {"source_id", "target_id", "ttl_s"}));
  FeedTokenSpec spec;
  SYNCMGR_ASSIGN_OR_RESPOND(spec.source_id, StreamMember(body, "source_id"));
  SYNCMGR_ASSIGN_OR_RESPOND(spec.target_id, StreamMember(body, "target_id"));
  SYNCMGR_ASSIGN_OR_RESPOND(std::optional<double> ttl, wire::OptionalNumber(body, "ttl_s"));
  if (ttl) {
    if (!(*ttl >= 1 && *ttl <= kMaxFeedTokenTtlS) || std::floor(*ttl) != *ttl) {
      return ErrorResponse(Status::InvalidArgument(
          "'ttl_s' must be an integer from 1 to " + std::to_string(kMaxFeedTokenTtlS)));
    }
    spec.ttl_s = static_cast<uint32_t>(*ttl);
  }
  SYNCMGR_ASSIGN_OR_RESPOND(FeedTokenIssued issued,
                            ctx.engine.CreateFeedToken(req.caller.tenant, spec));
  return JsonResponse(201, wire::ToJson(issued, wire::WriteFeedTokenIssued));
}

}  // namespace

void AddFeedRoutes(Router& router) {
  router.Add(BufferedRoute(
      HttpMethod::kGet, "/feed", GetFeed,
      {"since", "source_id", "target_id", "types", "fields", "limit", "wait", "token"},
      AuthScope::kFeed));
  router.Add(BufferedRoute(HttpMethod::kPost, "/feed_tokens", CreateFeedToken));
}

}  // namespace syncmgr::server
