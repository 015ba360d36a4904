// The head of a buffered answer (status line and header fields).
//
// The fields every answer carries are set on Beast's header by
// AddCommonFields (streamed answers, and buffered ones that take Beast's
// path). A buffered answer's head is otherwise written directly by
// AppendResponseHead, the same bytes Beast's serializer would write for it,
// and sent with its body in one write: Beast's fields allocate a node per
// field and its serializer walks them per write, ~6 % of a single-property
// GET's CPU with the allocations (issue 18, bench/report_notes.md).
// tests/server/http_units_test.cc compares both byte for byte.
//
// Thread-safety: pure functions.
#pragma once

#include <boost/beast/http/fields.hpp>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "server/http_types.h"

namespace syncmgr::server {

using HeaderViews = std::vector<std::pair<std::string_view, std::string_view>>;

// Sets Server, Content-Type (unless empty), Cache-Control, the handler's
// headers (response.headers), then `cors` (CorsAnswerHeaders), each with
// Beast's set(): a later field replaces an earlier one of the same name.
void AddCommonFields(boost::beast::http::fields& fields, const ApiResponse& response,
                     const HeaderViews& cors);

// Appends to `*out` the head Beast writes for `response`'s status and body
// with AddCommonFields(fields, response, cors), keep_alive(keep_alive) and
// prepare_payload(): HTTP/1.1, the fields in that order, "Connection:
// close" unless kept alive, Content-Length. Returns false and appends
// nothing where the bytes could differ from Beast's: a status that carries
// no body (1xx, 204, 304), or a field name met twice (case-insensitively) or
// naming one prepare_payload or keep_alive manage. Such answers take
// Beast's path.
bool AppendResponseHead(const ApiResponse& response, const HeaderViews& cors, bool keep_alive,
                        std::string* out);

}  // namespace syncmgr::server
