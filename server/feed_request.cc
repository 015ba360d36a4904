#include "server/feed_request.h"

#include <limits>
#include <string>
#include <string_view>

#include "engine/engine.h"
#include "server/params.h"
#include "wire/feed_json.h"

namespace syncmgr::server {

namespace {

// "a,b,c" → {"a", "b", "c"}; an empty item is an error.
StatusOr<std::vector<std::string>> SplitList(std::string_view name, std::string_view text) {
  std::vector<std::string> out;
  size_t pos = 0;
  for (;;) {
    const size_t comma = text.find(',', pos);
    const std::string_view item =
        text.substr(pos, comma == std::string_view::npos ? std::string_view::npos : comma - pos);
    if (item.empty()) {
      return Status::InvalidArgument("'" + std::string(name) +
                                     "' must be a comma-separated list without empty items");
    }
    if (item.size() > kMaxFeedFieldBytes) {
      return Status::InvalidArgument("'" + std::string(name) + "' has an item longer than " +
                                     std::to_string(kMaxFeedFieldBytes) + " bytes");
    }
    out.emplace_back(item);
    if (out.size() > kMaxFeedFields) {
      return Status::InvalidArgument("'" + std::string(name) + "' has more than " +
                                     std::to_string(kMaxFeedFields) + " items");
    }
    if (comma == std::string_view::npos) break;
    pos = comma + 1;
  }
  return out;
}

// An optional stream id: not a number → 400; a number no stream can have
// (0, past 2^32-1) → 404, as on the stream's own routes.
StatusOr<uint32_t> StreamParam(const QueryParams& query, std::string_view name) {
  StatusOr<std::optional<uint64_t>> id =
      QueryUint(query, name, 0, std::numeric_limits<uint64_t>::max());
  if (!id.ok()) return id.status();
  if (!*id) return uint32_t{0};
  if (**id == 0 || **id > std::numeric_limits<uint32_t>::max()) {
    return Status::NotFound(std::string(name == "source_id" ? "source " : "target ") +
                            std::to_string(**id) + " does not exist");
  }
  return static_cast<uint32_t>(**id);
}

bool WantsEventStream(std::string_view accept) {
  return accept.find("text/event-stream") != std::string_view::npos;
}

}  // namespace

StatusOr<FeedRequest> ParseFeedRequest(const ApiRequest& req, Engine& engine,
                                       uint32_t max_wait_s) {
  FeedRequest out;
  out.sse = WantsEventStream(req.accept);

  // Who: a tenant key, or a feed token (not both: one credential per request).
  std::optional<FeedTokenInfo> token;
  if (const std::optional<std::string_view> t = req.query.Get("token")) {
    if (req.caller.kind != Caller::Kind::kNone) {
      return Status::InvalidArgument("send either X-API-Key or 'token', not both");
    }
    StatusOr<FeedTokenInfo> info = engine.AuthenticateFeedToken(*t);
    if (!info.ok()) return info.status();  // 401; an I/O error stays a 500
    token = *info;
    out.tenant = info->tenant;
    out.token_expires_at_us = info->expires_at_us;
  } else if (req.caller.kind == Caller::Kind::kTenant) {
    out.tenant = req.caller.tenant;
  } else {
    return Status::Unauthorized("missing X-API-Key header (or a feed token in 'token')");
  }

  // Which streams.
  SYNCMGR_ASSIGN_OR_RETURN(const uint32_t source_id, StreamParam(req.query, "source_id"));
  SYNCMGR_ASSIGN_OR_RETURN(const uint32_t target_id, StreamParam(req.query, "target_id"));
  uint32_t source = source_id, target = target_id;
  if (token && (token->source_id != 0 || token->target_id != 0)) {
    if (source != 0 && source != token->source_id) {
      return Status::Forbidden("this feed token does not allow source " + std::to_string(source));
    }
    if (target != 0 && target != token->target_id) {
      return Status::Forbidden("this feed token does not allow target " + std::to_string(target));
    }
    if (source == 0 && target == 0) {  // none asked: every stream the token names
      source = token->source_id;
      target = token->target_id;
    }
  }
  if (source != 0) {
    SYNCMGR_RETURN_IF_ERROR(engine.GetSource(out.tenant, source).status());
    out.filter.streams.push_back(StreamRef{StreamKind::kSource, source});
  }
  if (target != 0) {
    SYNCMGR_RETURN_IF_ERROR(engine.GetTarget(out.tenant, target).status());
    out.filter.streams.push_back(StreamRef{StreamKind::kTarget, target});
  }

  // What.
  if (const std::optional<std::string_view> types = req.query.Get("types")) {
    SYNCMGR_ASSIGN_OR_RETURN(std::vector<std::string> names, SplitList("types", *types));
    for (const std::string& name : names) {
      EventType type;
      if (!wire::ParseEventType(name, &type)) {
        return Status::InvalidArgument("'types': unknown event type '" + name +
                                       "' (known: " + wire::EventTypeNames() + ")");
      }
      out.filter.types_mask |= 1u << static_cast<unsigned>(type);
    }
  }
  if (const std::optional<std::string_view> fields = req.query.Get("fields")) {
    SYNCMGR_ASSIGN_OR_RETURN(out.filter.fields, SplitList("fields", *fields));
  }
  SYNCMGR_ASSIGN_OR_RETURN(const std::optional<uint64_t> limit,
                           QueryUint(req.query, "limit", 1, kMaxFeedLimit));
  if (limit) out.limit = static_cast<uint32_t>(*limit);
  SYNCMGR_ASSIGN_OR_RETURN(const std::optional<uint64_t> wait,
                           QueryUint(req.query, "wait", 0, max_wait_s));
  if (wait) out.wait_s = static_cast<uint32_t>(*wait);

  // From where.
  SYNCMGR_ASSIGN_OR_RETURN(
      const std::optional<uint64_t> since,
      QueryUint(req.query, "since", 0, std::numeric_limits<uint64_t>::max()));
  out.position = since.value_or(0);
  if (out.sse && req.last_event_id && !req.last_event_id->empty()) {
    SYNCMGR_ASSIGN_OR_RETURN(out.position,
                             ParseUint("Last-Event-ID", *req.last_event_id, 0,
                                       std::numeric_limits<uint64_t>::max()));
  }
  SYNCMGR_ASSIGN_OR_RETURN(const uint64_t last, engine.LastSeq(out.tenant));
  if (out.position > last) {
    return Status::InvalidArgument("the position " + std::to_string(out.position) +
                                   " is past the end of this tenant's log (last seq " +
                                   std::to_string(last) + ")");
  }
  return out;
}

}  // namespace syncmgr::server
