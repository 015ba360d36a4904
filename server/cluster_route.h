// What Session::Prepare does, on a worker and after authentication, for
// reads that wait for a seq (min_seq, SPEC §7) and, in cluster mode, for
// writes another node runs (docs/scaling.md, "Forwarding writes"). Internal
// to server/.
//
// Thread-safety: pure functions of their arguments, which the caller owns
// for the call (the session's request, on one worker at a time).
#pragma once

#include <memory>
#include <optional>

#include <boost/beast/http.hpp>

#include "server/forward.h"
#include "server/http_types.h"
#include "server/router.h"
#include "server/server_state.h"

namespace syncmgr::server {

// A write as it would be forwarded, captured from its header on the
// session's strand (the header parser moves on before Prepare runs).
struct ForwardCapture {
  std::optional<ForwardRequest> request;  // set: a write, in cluster mode
  bool forwarded_in = false;  // it came from another node (one hop only)
};
ForwardCapture CaptureForForwarding(
    const ServerOptions& options, HttpMethod method,
    const boost::beast::http::request_parser<boost::beast::http::empty_body>& parser);

// Cluster mode, for a key this node does not know: it may be one another
// node just issued. True once the node caught up with the log of record
// (authenticate again then); false in single-node mode or out of time.
bool CatchUpWithCluster(ServerState& state);

// `min_seq=N`: waits (ServerOptions::min_seq_wait_ms) for the tenant's
// views to reach seq N. An answer to send instead of running the route (a
// malformed min_seq, or 503 lagging), or nullopt to go on.
std::optional<ApiResponse> WaitForMinSeq(ServerState& state, const ApiRequest& request);

// Cluster mode: where a write of a tenant another node owns goes.
struct Forwarded {
  std::optional<ApiResponse> answer;      // the owner's answer (or why there was none), or
  std::unique_ptr<RequestBodySink> sink;  // the body goes to the owner through this
  uint64_t sink_limit = 0;
};
// nullopt: the write runs here (single-node mode, this node owns the
// tenant, or a route that runs where it arrives).
std::optional<Forwarded> ForwardIfNotOwner(ServerState& state, const Route& route,
                                           const ApiRequest& request,
                                           const ForwardCapture& capture, bool has_body);

}  // namespace syncmgr::server
