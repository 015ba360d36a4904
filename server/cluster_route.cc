// Reads that wait for a seq (min_seq, SPEC §7) and, in cluster mode,
// writes that run on the tenant's owner (cluster_route.h).
#include <charconv>
#include <thread>

#include "cluster/node.h"
#include "engine/engine.h"
#include "server/cluster_route.h"
#include "server/params.h"

namespace syncmgr::server {

namespace http = boost::beast::http;

namespace {

// Pause between two attempts to reach a tenant's owner that did not answer
// (its lease expires meanwhile and this node may take the tenant).
constexpr auto kOwnerRetryWait = std::chrono::milliseconds(250);

// Request header fields that describe the hop, not the request: never
// forwarded (the Forwarder sets its own).
bool HopByHop(std::string_view name) {
  for (std::string_view h : {"host", "connection", "keep-alive", "transfer-encoding",
                             "content-length", "expect", "te", "trailer", "upgrade",
                             "proxy-connection", "proxy-authorization"}) {
    if (boost::beast::iequals(name, h)) return true;
  }
  return false;
}

ApiResponse RetryLater(const Status& status) {
  ApiResponse r = ErrorResponse(status);
  r.headers.emplace_back("Retry-After", "1");
  return r;
}

}  // namespace

ForwardCapture CaptureForForwarding(
    const ServerOptions& options, HttpMethod method,
    const http::request_parser<http::empty_body>& parser) {
  ForwardCapture out;
  if (options.cluster == nullptr) return out;
  if (method != HttpMethod::kPost && method != HttpMethod::kPut && method != HttpMethod::kDelete) {
    return out;
  }
  const auto& req = parser.get();
  ForwardRequest f;
  f.method = std::string(req.method_string());
  f.target = std::string(req.target());
  for (const auto& field : req) {
    if (boost::beast::iequals(field.name_string(), kForwardedByHeader)) {
      out.forwarded_in = true;
      continue;
    }
    if (HopByHop(field.name_string())) continue;
    f.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
  }
  f.has_body = parser.chunked() || parser.content_length().value_or(0) > 0;
  if (f.has_body && !parser.chunked()) {
    if (auto length = parser.content_length()) f.content_length = *length;
  }
  out.request = std::move(f);
  return out;
}

bool CatchUpWithCluster(ServerState& state) {
  cluster::Node* node = state.options.cluster;
  if (node == nullptr) return false;
  return node->CatchUp(std::chrono::steady_clock::now() +
                       std::chrono::milliseconds(state.options.min_seq_wait_ms));
}

std::optional<ApiResponse> WaitForMinSeq(ServerState& state, const ApiRequest& request) {
  const std::optional<std::string_view> raw = request.query.Get("min_seq");
  if (!raw.has_value()) return std::nullopt;
  uint64_t seq = 0;
  auto [end, ec] = std::from_chars(raw->data(), raw->data() + raw->size(), seq);
  if (raw->empty() || ec != std::errc() || end != raw->data() + raw->size()) {
    return ErrorResponse(
        Status::InvalidArgument("min_seq must be a non-negative integer (a seq an answer gave)"));
  }
  TenantId tenant = 0;
  if (request.caller.kind == Caller::Kind::kTenant) {
    tenant = request.caller.tenant;
  } else if (std::optional<std::string_view> token = request.query.Get("token")) {
    StatusOr<FeedTokenInfo> info = state.engine.AuthenticateFeedToken(*token);
    if (info.ok()) tenant = info->tenant;
  }
  if (tenant == 0) return std::nullopt;  // the handler refuses the request
  Status waited = state.engine.WaitForSeq(
      tenant, seq, std::chrono::milliseconds(state.options.min_seq_wait_ms));
  if (!waited.ok()) return RetryLater(waited);
  return std::nullopt;
}

std::optional<Forwarded> ForwardIfNotOwner(ServerState& state, const Route& route,
                                           const ApiRequest& request,
                                           const ForwardCapture& capture, bool has_body) {
  cluster::Node* node = state.options.cluster;
  if (node == nullptr || !capture.request.has_value()) return std::nullopt;
  auto answer = [](ApiResponse r) {
    Forwarded f;
    f.answer = std::move(r);
    return std::optional<Forwarded>(std::move(f));
  };
  // The tenant the write goes to. Admin writes that create tenants or
  // back up this node's directory run here.
  TenantId tenant = 0;
  if (request.caller.kind == Caller::Kind::kTenant) {
    tenant = request.caller.tenant;
  } else if (route.pattern == "/tenants/{id}/keys") {
    StatusOr<uint32_t> id = PathId32(request, "id", "tenant");
    if (!id.ok()) return std::nullopt;  // the handler answers 400
    tenant = *id;
  } else if (route.pattern == "/keys/{prefix}") {
    StatusOr<TenantId> owner = node->TenantOfKeyPrefix(request.path.Get("prefix"));
    if (!owner.ok()) {
      // Unknown prefix: the handler answers (404, or 400 for a malformed one).
      if (owner.status().code() == Code::kNotFound) return std::nullopt;
      return answer(RetryLater(owner.status()));
    }
    tenant = *owner;
  } else {
    return std::nullopt;
  }
  using Clock = std::chrono::steady_clock;
  const auto deadline =
      Clock::now() + std::chrono::milliseconds(state.options.cluster_write_wait_ms);
  while (true) {
    StatusOr<cluster::Node::WriteRoute> where = node->RouteWrite(tenant, deadline);
    if (!where.ok()) {
      return answer(RetryLater(Status(where.status().code(),
                                      "the write was not applied: " + where.status().message())));
    }
    if (where->local) return std::nullopt;
    if (capture.forwarded_in) {
      // One hop only: the node that sent it believed this one the owner.
      return answer(RetryLater(Status::Unavailable(
          "this node is not the tenant's writer (any more); the write was not applied; retry")));
    }
    ForwardOptions fo;
    // A paused or partitioned owner keeps the connection open: give up on
    // it once it has lost the tenant (its lease expired and maybe taken).
    fo.owner_holds = [node, tenant, owner = where->owner_node] {
      StatusOr<std::string> holder = node->LeaseHolderOf(tenant);
      return !holder.ok() || *holder == owner;  // no answer from NATS: keep waiting
    };
    StatusOr<std::unique_ptr<Forwarder>> forwarder =
        Forwarder::Open(where->owner_url, *capture.request, node->options().node, fo);
    if (forwarder.ok()) {
      node->NoteForwarded();
      if (!has_body) return answer((*forwarder)->Finish());
      Forwarded f;
      f.sink = std::make_unique<ForwardingSink>(std::move(*forwarder));
      f.sink_limit = route.body_sink ? state.options.max_import_bytes : state.options.max_body_bytes;
      return std::optional<Forwarded>(std::move(f));
    }
    // The owner does not answer: once its lease expires, this node (or
    // another) takes the tenant; RouteWrite will say.
    if (Clock::now() + kOwnerRetryWait >= deadline) {
      return answer(RetryLater(Status::Unavailable(
          "the write was not applied: " + forwarder.status().message() + "; retry")));
    }
    std::this_thread::sleep_for(kOwnerRetryWait);
  }
}

}  // namespace syncmgr::server
