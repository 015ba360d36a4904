// Unit tests of the server's small parts: JSON writer, RFC 3339 times,
// parameter parsing, the router, the routing steps (dispatch.h, cors.h)
// the error table, and the head of a buffered answer (response_head.h).
#include <gtest/gtest.h>

#include <boost/beast/http.hpp>
#include <limits>
#include <map>
#include <sstream>

#include "server/cors.h"
#include "server/dispatch.h"
#include "server/errors.h"
#include "server/params.h"
#include "server/response_head.h"
#include "server/router.h"
#include "server/server.h"
#include "wire/json_writer.h"
#include "wire/time_format.h"

namespace syncmgr::server {
namespace {

// The JSON writer and time format moved to the wire layer; their tests stay
// here until tests/ mirrors the source.
using wire::AppendJsonString;
using wire::FormatRfc3339;
using wire::JsonWriter;
using wire::ParseRfc3339;

std::string Quoted(std::string_view s) {
  std::string out;
  AppendJsonString(&out, s);
  return out;
}

TEST(JsonWriter, EscapesPerRfc8259) {
  EXPECT_EQ(Quoted("plain"), "\"plain\"");
  EXPECT_EQ(Quoted("a\"b\\c"), R"("a\"b\\c")");
  EXPECT_EQ(Quoted("\n\r\t\b\f"), R"("\n\r\t\b\f")");
  EXPECT_EQ(Quoted(std::string("\x01\x1f", 2)), R"("\u0001\u001f")");
  EXPECT_EQ(Quoted(std::string("nul\0x", 5)), R"("nul\u0000x")");
  EXPECT_EQ(Quoted("/"), "\"/\"");      // '/' needs no escape
  EXPECT_EQ(Quoted("é€😀"), "\"é€😀\"");  // valid UTF-8 as is
}

TEST(JsonWriter, ReplacesInvalidUtf8) {
  EXPECT_EQ(Quoted("a\xff"
                   "b"),
            "\"a\xEF\xBF\xBD"
            "b\"");
  EXPECT_EQ(Quoted("\xC0\xAF"), "\"\xEF\xBF\xBD\xEF\xBF\xBD\"");                  // overlong
  EXPECT_EQ(Quoted("\xED\xA0\x80"), "\"\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\"");  // surrogate
  EXPECT_EQ(Quoted("\xE2\x82"), "\"\xEF\xBF\xBD\xEF\xBF\xBD\"");                  // truncated
}

TEST(JsonWriter, NestingAndCommas) {
  std::string out;
  JsonWriter w(&out);
  w.BeginObject();
  w.Key("a").Uint(1);
  w.Key("b").BeginArray().Int(-2).Bool(true).Null().Raw(R"({"x":1})").EndArray();
  w.Key("c").BeginObject().EndObject();
  w.Key("d").Double(0.2);
  w.Key("e").Double(std::numeric_limits<double>::infinity());
  w.EndObject();
  EXPECT_EQ(out, R"({"a":1,"b":[-2,true,null,{"x":1}],"c":{},"d":0.2,"e":null})");
}

TEST(TimeFormat, FormatsUtcWithMicroseconds) {
  EXPECT_EQ(FormatRfc3339(0), "1970-01-01T00:00:00.000000Z");
  EXPECT_EQ(FormatRfc3339(1795856948123456), "2026-11-28T09:09:08.123456Z");
  EXPECT_EQ(FormatRfc3339(-1), "1969-12-31T23:59:59.999999Z");
}

TEST(TimeFormat, ParsesRfc3339) {
  EXPECT_EQ(ParseRfc3339("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(ParseRfc3339("2026-11-28T09:09:08.123456Z"), 1795856948123456);
  EXPECT_EQ(ParseRfc3339("2026-11-28T10:09:08.123456789+01:00"), 1795856948123456);
  EXPECT_EQ(ParseRfc3339("1970-01-01T00:00:00.5Z"), 500000);
  for (const char* bad :
       {"", "2026-11-28", "2026-11-28T09:09:08", "2026-13-01T00:00:00Z", "2026-02-30T00:00:00Z",
        "2026-11-28T09:09:08.Z", "12345", "2026-11-28T09:09:08Zjunk", "2026-11-28T25:00:00Z"}) {
    EXPECT_FALSE(ParseRfc3339(bad)) << bad;
  }
}

TEST(Params, PercentDecode) {
  std::string out;
  EXPECT_TRUE(PercentDecode("a%2Fb%20c", false, &out));
  EXPECT_EQ(out, "a/b c");
  EXPECT_TRUE(PercentDecode("a+b", true, &out));
  EXPECT_EQ(out, "a b");
  EXPECT_TRUE(PercentDecode("a+b", false, &out));
  EXPECT_EQ(out, "a+b");
  EXPECT_FALSE(PercentDecode("%", false, &out));
  EXPECT_FALSE(PercentDecode("%4", false, &out));
  EXPECT_FALSE(PercentDecode("%zz", false, &out));
}

TEST(Params, ParseUintIsStrict) {
  EXPECT_EQ(*ParseUint("n", "0", 0, 10), 0u);
  EXPECT_EQ(*ParseUint("n", "18446744073709551615", 0, std::numeric_limits<uint64_t>::max()),
            std::numeric_limits<uint64_t>::max());
  for (const char* bad : {"", "-1", "+1", " 1", "1 ", "1e3", "0x10", "18446744073709551616",
                          "99999999999999999999999", "11"}) {
    StatusOr<uint64_t> v = ParseUint("n", bad, 0, 10);
    EXPECT_FALSE(v.ok()) << bad;
    if (!v.ok()) {
      EXPECT_EQ(v.status().code(), Code::kInvalidArgument);
    }
  }
}

TEST(Router, MatchesPatternsAndDecodesParams) {
  const Router& router = ApiRouter();
  RouteMatch m = router.Match(HttpMethod::kGet, "/targets/7/properties/a%2Fb/history");
  ASSERT_NE(m.route, nullptr);
  EXPECT_EQ(m.route->pattern, "/targets/{id}/properties/{external_id}/history");
  EXPECT_EQ(m.params.Get("id"), "7");
  EXPECT_EQ(m.params.Get("external_id"), "a/b");

  m = router.Match(HttpMethod::kDelete, "/sources/1");
  EXPECT_EQ(m.route, nullptr);
  EXPECT_EQ(m.allow, "GET");

  m = router.Match(HttpMethod::kGet, "/nope");
  EXPECT_EQ(m.route, nullptr);
  EXPECT_TRUE(m.allow.empty());

  m = router.Match(HttpMethod::kGet, "/sources//properties");  // empty parameter
  EXPECT_EQ(m.route, nullptr);
  m = router.Match(HttpMethod::kGet, "/sources/1/");
  EXPECT_EQ(m.route, nullptr);

  m = router.Match(HttpMethod::kGet, "/sources/1/properties/%zz");
  ASSERT_NE(m.route, nullptr);
  EXPECT_TRUE(m.bad_encoding);
}

TEST(Router, ParseQueryRefusesUnknownAndRepeated) {
  const Router& router = ApiRouter();
  RouteMatch m = router.Match(HttpMethod::kPost, "/sync/1/2");
  ASSERT_NE(m.route, nullptr);
  QueryParams q;
  EXPECT_TRUE(ParseQuery("dry_run=true&on_conflict=keep", *m.route, &q).ok());
  EXPECT_EQ(q.Get("dry_run"), "true");
  QueryParams q2;
  EXPECT_EQ(ParseQuery("dryrun=true", *m.route, &q2).code(), Code::kInvalidArgument);
  QueryParams q3;
  EXPECT_EQ(ParseQuery("dry_run=1&dry_run=0", *m.route, &q3).code(), Code::kInvalidArgument);
  QueryParams q4;
  EXPECT_EQ(ParseQuery("dry_run=%", *m.route, &q4).code(), Code::kInvalidArgument);
  QueryParams q5;
  EXPECT_TRUE(ParseQuery("&&dry_run=true&", *m.route, &q5).ok());
}

TEST(Router, RouteTableIsExposed) {
  const std::vector<RouteInfo> routes = Server::Routes();
  EXPECT_GE(routes.size(), 25u);
  bool found = false;
  for (const RouteInfo& r : routes)
    found |= r.method == "POST" && r.pattern == "/sources/{id}/import";
  EXPECT_TRUE(found);
}

// The router steps Session::Dispatch hands to (dispatch.h, cors.h).
const std::vector<std::string> kOrigins = {"https://site.example"};

RequestHead Head(HttpMethod method, std::string_view name, std::string_view target,
                 std::string_view origin = "https://site.example") {
  RequestHead head;
  head.method = method;
  head.method_name = name;
  head.target = target;
  head.origin = origin;
  return head;
}

// The status routing answers at once with; 0 if it routed the request.
int AnswerStatus(const Routing& r) { return r.answer ? r.answer->status : 0; }

TEST(Dispatch, TargetMustBeAnAbsolutePath) {
  Routing r = RouteRequest(Head(HttpMethod::kGet, "GET", "sources"), ApiRouter(), kOrigins);
  EXPECT_EQ(AnswerStatus(r), 400);
  EXPECT_EQ(r.route, nullptr);
  EXPECT_EQ(r.cors_origin, "");  // refused before CORS is looked at
  EXPECT_EQ(r.request, nullptr);

  StatusOr<Target> t = ParseTarget("/a/b?x=1?y");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->path, "/a/b");
  EXPECT_EQ(t->query, "x=1?y");
  EXPECT_EQ(ParseTarget("*").status().code(), Code::kInvalidArgument);
}

TEST(Dispatch, PreflightOfAGetRoute) {
  Routing r =
      RouteRequest(Head(HttpMethod::kOptions, "OPTIONS", "/sources"), ApiRouter(), kOrigins);
  ASSERT_EQ(AnswerStatus(r), 204);
  ASSERT_NE(r.route, nullptr);
  EXPECT_EQ(r.route->pattern, "/sources");
  EXPECT_EQ(r.cors_origin, "https://site.example");
  std::map<std::string, std::string> headers(r.answer->headers.begin(), r.answer->headers.end());
  EXPECT_EQ(headers["Allow"], "GET, OPTIONS");
  EXPECT_EQ(headers["Access-Control-Allow-Origin"], "https://site.example");
  EXPECT_EQ(headers["Access-Control-Allow-Methods"], "GET");

  // Another origin: answered, without Access-Control-*.
  r = RouteRequest(Head(HttpMethod::kOptions, "OPTIONS", "/sources", "https://evil.example"),
                   ApiRouter(), kOrigins);
  ASSERT_EQ(AnswerStatus(r), 204);
  ASSERT_EQ(r.answer->headers.size(), 1u);
  EXPECT_EQ(r.answer->headers[0].first, "Allow");

  // No GET route here: OPTIONS is just another method (405).
  r = RouteRequest(Head(HttpMethod::kOptions, "OPTIONS", "/sync/1/2"), ApiRouter(), kOrigins);
  EXPECT_EQ(AnswerStatus(r), 405);
}

TEST(Dispatch, NoRouteWrongMethodAndBadEncoding) {
  Routing r =
      RouteRequest(Head(HttpMethod::kDelete, "DELETE", "/sources/1"), ApiRouter(), kOrigins);
  ASSERT_EQ(AnswerStatus(r), 405);
  EXPECT_EQ(r.route, nullptr);
  EXPECT_EQ(r.cors_origin, "https://site.example");
  ASSERT_EQ(r.answer->headers.size(), 1u);
  EXPECT_EQ(r.answer->headers[0], (std::pair<std::string, std::string>("Allow", "GET")));
  EXPECT_NE(r.answer->body.find("DELETE is not allowed here; allowed: GET"), std::string::npos);

  const std::string long_path = "/" + std::string(500, 'x');
  r = RouteRequest(Head(HttpMethod::kOther, "PATCH", long_path), ApiRouter(), kOrigins);
  ASSERT_EQ(AnswerStatus(r), 404);
  EXPECT_NE(r.answer->body.find("no route for PATCH /xxx"), std::string::npos);
  EXPECT_EQ(r.answer->body.find(std::string(200, 'x')), std::string::npos);  // quoted in part

  r = RouteRequest(Head(HttpMethod::kGet, "GET", "/sources/1/properties/%zz"), ApiRouter(),
                   kOrigins);
  EXPECT_EQ(AnswerStatus(r), 400);
  EXPECT_NE(r.route, nullptr);  // logged under its route
}

TEST(Dispatch, BuildsTheHandlersRequest) {
  RequestHead head = Head(HttpMethod::kGet, "GET", "/imports?source_id=3&limit=%31");
  head.content_type = " Application/JSON ; charset=utf-8";
  head.accept = "text/event-stream";
  head.last_event_id = "";
  head.api_key = "k";
  Routing r = RouteRequest(head, ApiRouter(), kOrigins);
  ASSERT_EQ(AnswerStatus(r), 0);
  ASSERT_NE(r.route, nullptr);
  EXPECT_EQ(r.route->pattern, "/imports");
  ASSERT_NE(r.request, nullptr);
  EXPECT_EQ(r.request->method, HttpMethod::kGet);
  EXPECT_EQ(r.request->query.Get("source_id"), "3");
  EXPECT_EQ(r.request->query.Get("limit"), "1");
  EXPECT_EQ(r.request->content_type, "application/json");
  EXPECT_EQ(r.request->accept, "text/event-stream");
  EXPECT_EQ(r.request->last_event_id, std::optional<std::string>(""));  // sent, empty
  EXPECT_EQ(r.api_key, std::optional<std::string>("k"));

  head.target = "/imports?limit=1&limit=2";  // a bad query: answered, under its route
  r = RouteRequest(head, ApiRouter(), kOrigins);
  EXPECT_EQ(AnswerStatus(r), 400);
  EXPECT_NE(r.route, nullptr);
  EXPECT_EQ(r.request, nullptr);
}

TEST(Cors, OnlyListedOriginsAndOnlyGets) {
  EXPECT_EQ(AllowedOrigin("https://site.example", kOrigins), "https://site.example");
  EXPECT_EQ(AllowedOrigin("https://site.example.evil", kOrigins), "");
  EXPECT_EQ(AllowedOrigin("", kOrigins), "");
  EXPECT_EQ(CorsAnswerHeaders(HttpMethod::kGet, "https://site.example").size(), 2u);
  EXPECT_TRUE(CorsAnswerHeaders(HttpMethod::kPost, "https://site.example").empty());
  EXPECT_TRUE(CorsAnswerHeaders(HttpMethod::kGet, "").empty());
}

TEST(Errors, OneTableForEveryCode) {
  EXPECT_EQ(ErrorFor(Code::kInvalidJson).http_status, 400);
  EXPECT_EQ(ErrorFor(Code::kInvalidJson).code, "invalid_json");
  EXPECT_EQ(ErrorFor(Code::kInvalidArgument).code, "invalid_request");
  EXPECT_EQ(ErrorFor(Code::kUnauthorized).http_status, 401);
  EXPECT_EQ(ErrorFor(Code::kForbidden).http_status, 403);
  EXPECT_EQ(ErrorFor(Code::kNotFound).http_status, 404);
  EXPECT_EQ(ErrorFor(Code::kConflict).http_status, 409);
  EXPECT_EQ(ErrorFor(Code::kMassRemoval).code, "mass_removal");
  EXPECT_EQ(ErrorFor(Code::kPayloadTooLarge).http_status, 413);
  EXPECT_EQ(ErrorFor(Code::kUnsupportedMediaType).http_status, 415);
  EXPECT_EQ(ErrorFor(Code::kUnavailable).http_status, 503);
  EXPECT_EQ(ErrorFor(Code::kLagging).http_status, 503);
  EXPECT_EQ(ErrorFor(Code::kLagging).code, "lagging");
  EXPECT_EQ(ErrorFor(Code::kNoSpace).http_status, 507);
  EXPECT_EQ(ErrorFor(Code::kNoSpace).code, "insufficient_storage");
  EXPECT_EQ(ErrorFor(Code::kCorruption).http_status, 500);
  EXPECT_EQ(ErrorFor(Code::kInternal).code, "internal");
  EXPECT_EQ(ErrorBody({404, "not_found"}, "no \"x\""),
            R"({"error":{"code":"not_found","message":"no \"x\""}})");
  // A 500 never leaks details.
  EXPECT_EQ(ErrorBody({500, "internal"}, "rocksdb: /secret/path"),
            R"({"error":{"code":"internal","message":"internal error"}})");
}

// What Beast's serializer writes for `response` (the path every buffered
// answer took before AppendResponseHead, and still takes when it declines).
std::string BeastBytes(const ApiResponse& response, const HeaderViews& cors, bool keep_alive) {
  namespace http = boost::beast::http;
  http::response<http::string_body> m(static_cast<http::status>(response.status), 11);
  AddCommonFields(m.base(), response, cors);
  m.body() = response.body;
  m.keep_alive(keep_alive);
  m.prepare_payload();
  std::ostringstream out;
  out << m;
  return out.str();
}

// AppendResponseHead and the body, or "declined".
std::string DirectBytes(const ApiResponse& response, const HeaderViews& cors, bool keep_alive) {
  std::string out = "prefix";  // appended to, never replaced
  if (!AppendResponseHead(response, cors, keep_alive, &out)) {
    EXPECT_EQ(out, "prefix");
    return "declined";
  }
  EXPECT_EQ(out.substr(0, 6), "prefix");
  return out.substr(6) + response.body;
}

ApiResponse Answer(int status, std::string body, std::string content_type = "application/json") {
  ApiResponse r;
  r.status = status;
  r.body = std::move(body);
  r.content_type = std::move(content_type);
  return r;
}

TEST(ResponseHead, SameBytesAsBeast) {
  const HeaderViews cors = CorsAnswerHeaders(HttpMethod::kGet, "https://app.example");
  ASSERT_FALSE(cors.empty());
  std::vector<ApiResponse> answers;
  answers.push_back(Answer(200, R"({"external_id":"L1","data":{"a":1}})"));
  answers.push_back(Answer(200, ""));
  answers.push_back(Answer(200, std::string(70000, 'x'), "application/x-ndjson"));
  answers.push_back(Answer(200, "plain", ""));  // no Content-Type
  answers.push_back(ErrorResponse(Status::NotFound("property \"x\" not found")));
  answers.push_back(ErrorResponse(Status::Unauthorized("invalid API key")));
  answers.push_back(ErrorResponse(Status::Unavailable("too many connections")));
  answers.push_back(ErrorResponse(Status(Code::kNoSpace, "disk full")));
  answers.push_back(Answer(201, "{}"));
  answers.push_back(Answer(299, "{}"));  // a code without a reason phrase
  ApiResponse allow = Answer(405, "{}");
  allow.headers.emplace_back("Allow", "GET, PUT");
  answers.push_back(std::move(allow));
  ApiResponse several = Answer(302, "");
  several.headers.emplace_back("Location", "/ui/");
  several.headers.emplace_back("X-Frame-Options", "DENY");
  answers.push_back(std::move(several));
  for (const ApiResponse& a : answers) {
    for (const bool keep_alive : {true, false}) {
      for (const HeaderViews& c : {HeaderViews{}, cors}) {
        SCOPED_TRACE(std::to_string(a.status) + (keep_alive ? " keep-alive" : " close") +
                     (c.empty() ? "" : " cors"));
        EXPECT_EQ(DirectBytes(a, c, keep_alive), BeastBytes(a, c, keep_alive));
      }
    }
  }
  EXPECT_EQ(DirectBytes(Answer(200, "{}"), {}, false),
            "HTTP/1.1 200 OK\r\nServer: syncmgr\r\nContent-Type: application/json\r\n"
            "Cache-Control: no-store\r\nConnection: close\r\nContent-Length: 2\r\n\r\n{}");
}

TEST(ResponseHead, DeclinesWhereBeastWouldMergeOrOmit) {
  // No body, no Content-Length: Beast's way.
  EXPECT_EQ(DirectBytes(PreflightResponse("https://app.example"), {}, true), "declined");
  EXPECT_EQ(DirectBytes(Answer(304, ""), {}, true), "declined");
  EXPECT_EQ(DirectBytes(Answer(101, ""), {}, true), "declined");
  // A name set twice, or one Beast or AddCommonFields sets: set() merges.
  for (const std::string name : {"cache-control", "Content-Length", "CONNECTION", "Server",
                                 "Content-Type", "Transfer-Encoding"}) {
    ApiResponse a = Answer(200, "{}");
    a.headers.emplace_back(name, "v");
    SCOPED_TRACE(name);
    EXPECT_EQ(DirectBytes(a, {}, true), "declined");
    // Beast's path still answers it (the same bytes as before).
    EXPECT_NE(BeastBytes(a, {}, true).find("\r\n\r\n{}"), std::string::npos);
  }
  ApiResponse twice = Answer(200, "{}");
  twice.headers.emplace_back("X-A", "1");
  twice.headers.emplace_back("x-a", "2");
  EXPECT_EQ(DirectBytes(twice, {}, true), "declined");
  ApiResponse vary = Answer(200, "{}");
  vary.headers.emplace_back("Vary", "Accept");
  EXPECT_EQ(DirectBytes(vary, CorsAnswerHeaders(HttpMethod::kGet, "https://a.example"), true),
            "declined");
}

}  // namespace
}  // namespace syncmgr::server
