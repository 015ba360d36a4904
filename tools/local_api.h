// LocalApiCall: answers an ApiCall in this process with the server's own
// routes (server::ApiRouter) on an open engine — how the read commands work
// on a data directory (`--db`) and still print the bytes a server would.
//
// The caller is the operator for admin routes and `call.tenant` for the
// others (no key is checked: whoever can open the data directory owns it).
// Query parameters are checked as the server checks them; the body of a
// streamed answer (a property list) is produced piece by piece.
//
// Thread-safety: as the engine's; one call at a time per thread.
#pragma once

#include "engine/engine.h"
#include "tools/api_call.h"

namespace syncmgr::cli {

// A 2xx answer's body goes to `on_body`; any other answer is returned as the
// error it carries (the API's code and message).
Status LocalApiCall(Engine& engine, const ApiCall& call, const AnswerPieceFn& on_body);

}  // namespace syncmgr::cli
