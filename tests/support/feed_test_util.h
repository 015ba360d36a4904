// Helpers shared by the change-feed tests (server_feed_*_test.cc): a tenant
// with a source and a target, imports by count, and feed JSON decoding.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "tests/support/test_server.h"

namespace syncmgr::testing {

struct FeedItem {
  uint64_t seq = 0;
  std::string type;
  std::string kind;  // "source" | "target"; "" for a tenant-wide event (stream null)
  uint64_t stream_id = 0;
  std::string external_id;  // "" for import/sync events
  std::vector<std::string> changed_fields;
};

struct FeedJsonPage {
  std::vector<FeedItem> events;
  uint64_t last_seq = 0;
};

inline FeedItem ParseFeedItem(simdjson::dom::element e) {
  FeedItem it;
  it.seq = uint64_t(e["seq"]);
  it.type = std::string(std::string_view(e["type"]));
  if (!e["stream"].is_null()) {
    it.kind = std::string(std::string_view(e["stream"]["kind"]));
    it.stream_id = uint64_t(e["stream"]["id"]);
  }
  std::string_view ext;
  if (!e["external_id"].get(ext)) it.external_id = std::string(ext);
  simdjson::dom::array cf;
  if (!e["changed_fields"].get(cf)) {
    for (simdjson::dom::element f : cf) it.changed_fields.emplace_back(std::string_view(f));
  }
  return it;
}

inline FeedJsonPage ParseFeedPage(const std::string& body) {
  FeedJsonPage page;
  JsonDoc doc = ParseJson(body);
  simdjson::dom::array events;
  if (doc["events"].get(events)) {
    ADD_FAILURE() << "not a feed page: " << body;
    return page;
  }
  for (simdjson::dom::element e : events) page.events.push_back(ParseFeedItem(e));
  page.last_seq = uint64_t(doc["last_seq"]);
  return page;
}

inline std::string ErrorCodeOf(const HttpResponse& r) {
  JsonDoc doc = ParseJson(r.body);
  std::string_view code;
  if (doc["error"]["code"].get(code)) return "<none: " + r.body + ">";
  return std::string(code);
}

// Imports `n` properties "<prefix>0".."<prefix>n-1" with `price` into a
// source; fails the test unless 200.
inline void ImportN(HttpClient& c, int source, int n, const std::string& prefix, int price,
                    const std::string& pad = "") {
  std::string body = "[";
  for (int i = 0; i < n; ++i) {
    if (i) body += ",";
    body += R"({"external_id":")" + prefix + std::to_string(i) + R"(","price":)" +
            std::to_string(price) + R"(,"pad":")" + pad + R"("})";
  }
  body += "]";
  HttpResponse r = c.Post("/sources/" + std::to_string(source) + "/import", body);
  ASSERT_EQ(r.status, 200) << r.body;
}

}  // namespace syncmgr::testing
