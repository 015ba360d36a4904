#include "engine/import_parser.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

namespace syncmgr {
namespace {

struct Parsed {
  Status status;
  std::vector<ParsedItem> items;
  std::optional<ImportMode> mode;
  std::optional<bool> allow;
  uint64_t bytes = 0;
};

ImportParserOptions Json(std::string id_field = "", std::vector<std::string> ignore = {}) {
  return ImportParserOptions{BodyFormat::kJson, std::move(id_field), std::move(ignore)};
}
ImportParserOptions Ndjson() { return ImportParserOptions{BodyFormat::kNdjson, "", {}}; }

// Feeds `body` split at the given offsets (ascending) and finishes.
Parsed ParseSplit(std::string_view body, const ImportParserOptions& options,
                  const std::vector<size_t>& splits) {
  ImportParser parser(options);
  Parsed out;
  auto sink = [&](ParsedItem&& item) {
    out.items.push_back(std::move(item));
    return Status::Ok();
  };
  size_t from = 0;
  for (size_t cut : splits) {
    out.status = parser.Feed(body.substr(from, cut - from), sink);
    from = cut;
    if (!out.status.ok()) return out;
  }
  out.status = parser.Feed(body.substr(from), sink);
  if (out.status.ok()) out.status = parser.Finish(sink);
  out.mode = parser.body_mode();
  out.allow = parser.body_allow_mass_removal();
  out.bytes = parser.bytes();
  EXPECT_EQ(parser.items() >= out.items.size(), true);
  return out;
}

Parsed Parse(std::string_view body, const ImportParserOptions& options = Json()) {
  return ParseSplit(body, options, {});
}

Parsed ParseBytewise(std::string_view body, const ImportParserOptions& options) {
  std::vector<size_t> splits;
  for (size_t i = 1; i < body.size(); ++i) splits.push_back(i);
  return ParseSplit(body, options, splits);
}

std::vector<std::string> Ids(const Parsed& p) {
  std::vector<std::string> ids;
  for (const auto& item : p.items) ids.push_back(item.external_id);
  return ids;
}

// Everything an item carries, as one comparable string.
std::string Describe(const Parsed& p) {
  std::string s = p.status.ToString() + "\n";
  for (const auto& item : p.items) {
    s += std::to_string(item.index) + " " + item.external_id + " " + item.doc.json + " " +
         item.doc.hash.Hex() + " " + std::to_string(item.raw_hash) + "\n";
  }
  s += p.mode ? (p.mode == ImportMode::kFull ? "full" : "upsert") : "-";
  s += p.allow ? (*p.allow ? " allow" : " deny") : " -";
  return s;
}

TEST(ImportParserTest, ArrayOfObjects) {
  Parsed p = Parse(R"( [ {"external_id":"a","x":1.0} , {"id":"b"},{"id":7,"external_id":"c"}] )");
  ASSERT_TRUE(p.status.ok()) << p.status.ToString();
  EXPECT_EQ(Ids(p), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(p.items[0].doc.json, R"({"external_id":"a","x":1})");
  EXPECT_EQ(p.items[0].raw_hash, RawHash(R"({"external_id":"a","x":1.0})"));
  EXPECT_EQ(p.items[2].index, 2u);
  EXPECT_FALSE(p.mode.has_value());
  EXPECT_TRUE(Parse("[]").status.ok());
  EXPECT_TRUE(Parse(" [\n] ").items.empty());
}

TEST(ImportParserTest, WrapperObjectInAnyOrder) {
  Parsed p = Parse(R"({"mode":"full","data":[{"id":"1"}],"allow_mass_removal":true})");
  ASSERT_TRUE(p.status.ok()) << p.status.ToString();
  EXPECT_EQ(Ids(p), std::vector<std::string>{"1"});
  EXPECT_EQ(p.mode, ImportMode::kFull);
  EXPECT_EQ(p.allow, true);
  p = Parse(R"({ "data" : [ ] , "mode" : "upsert" , "allow_mass_removal" : false })");
  ASSERT_TRUE(p.status.ok()) << p.status.ToString();
  EXPECT_EQ(p.mode, ImportMode::kUpsert);
  EXPECT_EQ(p.allow, false);
  p = Parse(R"({"d\u0061ta":[{"id":"x"}]})");  // escaped member names are the same names
  ASSERT_TRUE(p.status.ok()) << p.status.ToString();
  EXPECT_FALSE(p.mode.has_value());
  EXPECT_FALSE(p.allow.has_value());
}

TEST(ImportParserTest, NdjsonSkipsBlankLinesAndToleratesCrlf) {
  const std::string body =
      "\r\n{\"id\":\"a\"}\r\n\r\n   \t\r\n  {\"id\":\"b\", \"v\": [1,\n2]}  \r\n{\"id\":3}";
  Parsed p = Parse(body, Ndjson());
  // The object spanning two lines is two malformed lines.
  EXPECT_EQ(p.status.code(), Code::kInvalidJson);
  EXPECT_NE(p.status.message().find("item 1:"), std::string::npos) << p.status.message();

  const std::string good =
      "\r\n{\"id\":\"a\"}\r\n\r\n   \t\r\n  {\"id\":\"b\", \"v\": 1}  \r\n"
      "{\"id\":3}\n\n";
  p = Parse(good, Ndjson());
  ASSERT_TRUE(p.status.ok()) << p.status.ToString();
  EXPECT_EQ(Ids(p), (std::vector<std::string>{"a", "b", "3"}));
  EXPECT_EQ(p.items[1].raw_hash, RawHash("{\"id\":\"b\", \"v\": 1}"));
  EXPECT_EQ(p.items[2].index, 2u);
  EXPECT_EQ(p.bytes, good.size());
  // No final newline.
  EXPECT_EQ(Ids(Parse("{\"id\":\"z\"}", Ndjson())), std::vector<std::string>{"z"});
}

TEST(ImportParserTest, IdRules) {
  // external_id wins over id; id is the fallback only when it is absent.
  EXPECT_EQ(Ids(Parse(R"([{"id":"b","external_id":"a"},{"id":"c"}])")),
            (std::vector<std::string>{"a", "c"}));
  // Integers become their decimal digits.
  EXPECT_EQ(
      Ids(Parse(R"([{"id":42},{"id":-7},{"id":18446744073709551615},{"id":0},)"
                R"({"id":-9223372036854775808}])")),
      (std::vector<std::string>{"42", "-7", "18446744073709551615", "0", "-9223372036854775808"}));
  // 1.0 is the canonical value 1 (same data, same hash), hence id "1".
  EXPECT_EQ(Ids(Parse(R"([{"id":1.0},{"id":2e0}])")), (std::vector<std::string>{"1", "2"}));
  // Strings are decoded.
  EXPECT_EQ(Ids(Parse(R"([{"id":"a\"b\\c\u00e9\n"}])")), std::vector<std::string>{"a\"b\\cé\n"});
  // A custom id_field has no fallback.
  EXPECT_EQ(Ids(Parse(R"([{"sku":"S1","id":"x"}])", Json("sku"))), std::vector<std::string>{"S1"});
  Parsed p = Parse(R"([{"id":"x"}])", Json("sku"));
  EXPECT_EQ(p.status.code(), Code::kInvalidArgument);
  EXPECT_EQ(p.status.message(), "item 0: missing \"sku\"");
  EXPECT_EQ(Ids(Parse(R"([{"k\"ey":"v"}])", Json("k\"ey"))), std::vector<std::string>{"v"});
  // 256 bytes is fine.
  const std::string id256(kMaxExternalIdBytes, 'x');
  EXPECT_EQ(Ids(Parse("[{\"id\":\"" + id256 + "\"}]")), std::vector<std::string>{id256});
}

struct BadCase {
  const char* body;
  Code code;
  const char* message_part;
};

TEST(ImportParserTest, RejectsBadIds) {
  const std::string long_id(kMaxExternalIdBytes + 1, 'x');
  const std::string long_body = R"([{"id":"a"},{"id":")" + long_id + "\"}]";
  const BadCase cases[] = {
      {R"([{"name":"x"}])", Code::kInvalidArgument, "item 0: missing \"external_id\" (or \"id\")"},
      {R"([{"id":"a"},{"id":""}])", Code::kInvalidArgument, "item 1: \"id\" is empty"},
      {R"([{"external_id":""}])", Code::kInvalidArgument, "item 0: \"external_id\" is empty"},
      {long_body.c_str(), Code::kInvalidArgument, "item 1: \"id\" is longer than 256 bytes"},
      {R"([{"id":1.5}])", Code::kInvalidArgument, "item 0: \"id\" must be a string or an integer"},
      {R"([{"id":1e300}])", Code::kInvalidArgument, "a floating-point number"},
      {R"([{"id":18446744073709551616}])", Code::kInvalidArgument, "a floating-point number"},
      {R"([{"id":true}])", Code::kInvalidArgument, "not a boolean"},
      {R"([{"id":null}])", Code::kInvalidArgument, "not null"},
      {R"([{"id":{"a":1}}])", Code::kInvalidArgument, "not an object"},
      {R"([{"id":["a"]}])", Code::kInvalidArgument, "not an array"},
      // external_id present but bad: no fallback to id.
      {R"([{"external_id":null,"id":"a"}])", Code::kInvalidArgument, "item 0: \"external_id\""},
  };
  for (const BadCase& c : cases) {
    Parsed p = Parse(c.body);
    EXPECT_EQ(p.status.code(), c.code) << c.body << " -> " << p.status.ToString();
    EXPECT_NE(p.status.message().find(c.message_part), std::string::npos)
        << c.body << " -> " << p.status.ToString();
  }
}

TEST(ImportParserTest, RejectsBadBodies) {
  std::string deep = R"([{"id":"a","v":)";
  for (int i = 1; i < kMaxJsonDepth; ++i) deep += "[";
  std::string ok_deep = deep + "1" + std::string(kMaxJsonDepth - 1, ']') + "}]";
  std::string too_deep = deep + "[1" + std::string(kMaxJsonDepth, ']') + "}]";
  ASSERT_TRUE(Parse(ok_deep).status.ok()) << Parse(ok_deep).status.ToString();
  const BadCase cases[] = {
      {"", Code::kInvalidJson, "empty body"},
      {" \n\t ", Code::kInvalidJson, "empty body"},
      {"[{\"id\":\"a\"}", Code::kInvalidJson, "truncated"},
      {"[{\"id\":\"a\"", Code::kInvalidJson, "truncated"},
      {R"({"data":[{"id":"a"}])", Code::kInvalidJson, "truncated"},
      {R"([{"id":"a"}] [])", Code::kInvalidJson, "after the end"},
      {R"([{"id":"a"}] x)", Code::kInvalidJson, "after the end"},
      {R"([{"id":"a"},])", Code::kInvalidJson, "trailing comma"},
      {R"([,{"id":"a"}])", Code::kInvalidJson, "expected an item"},
      {R"([{"id":"a"} {"id":"b"}])", Code::kInvalidJson, "expected ',' or ']' after item 0"},
      {R"([{"id":"a"},{"id":"b",}])", Code::kInvalidJson, "item 1: malformed JSON"},
      {R"([{"id":"a"},{"id":tru}])", Code::kInvalidJson, "item 1:"},
      {"[{\"id\":\"a\",\"s\":\"\xff\"}]", Code::kInvalidJson, "item 0:"},  // invalid UTF-8
      {R"([{"id":"a","x":1,"x":2}])", Code::kInvalidArgument, "item 0: duplicate key \"x\""},
      {R"([{"id":"a"},[1]])", Code::kInvalidArgument, "item 1: expected a JSON object"},
      {R"([{"id":"a"},"s"])", Code::kInvalidArgument, "item 1: expected a JSON object"},
      {R"([{"id":"a"},42])", Code::kInvalidArgument, "item 1: expected a JSON object"},
      {R"([null])", Code::kInvalidArgument, "item 0: expected a JSON object"},
      {too_deep.c_str(), Code::kInvalidArgument, "item 0: nesting deeper than 64"},
      {R"({"data":[],"mode":"replace"})", Code::kInvalidArgument, "unknown mode \"replace\""},
      {R"({"mode":"FULL","data":[]})", Code::kInvalidArgument, "unknown mode"},
      {R"({"mode":1,"data":[]})", Code::kInvalidArgument, "unknown mode"},
      {R"({"data":[],"allow_mass_removal":"yes"})", Code::kInvalidArgument, "allow_mass_removal"},
      {R"({"data":[],"extra":1})", Code::kInvalidArgument, "unknown body member \"extra\""},
      {R"({"mode":"full"})", Code::kInvalidArgument, "no \"data\""},
      {R"({})", Code::kInvalidArgument, "no \"data\""},
      {R"({"data":{"id":"a"}})", Code::kInvalidArgument, "\"data\" must be an array"},
      {R"({"data":[],"data":[]})", Code::kInvalidArgument, "duplicate body member \"data\""},
      {R"({"data":[],})", Code::kInvalidJson, "expected a member name"},
      {R"({"data" [])", Code::kInvalidJson, "expected ':'"},
      {R"({"data":[]} ,)", Code::kInvalidJson, "after the end"},
      {R"({"mode":"upsert","data":[{"id":"a"}] "x")", Code::kInvalidJson, "expected ',' or '}'"},
      {"\"text\"", Code::kInvalidArgument, "body must be a JSON array"},
      {"42", Code::kInvalidArgument, "body must be a JSON array"},
      {"<xml/>", Code::kInvalidJson, "unexpected character"},
      {"\xEF\xBB\xBF[]", Code::kInvalidJson, "unexpected character"},  // no BOM
  };
  for (const BadCase& c : cases) {
    for (bool bytewise : {false, true}) {
      Parsed p = bytewise ? ParseBytewise(c.body, Json()) : Parse(c.body);
      EXPECT_EQ(p.status.code(), c.code) << c.body << " -> " << p.status.ToString();
      EXPECT_NE(p.status.message().find(c.message_part), std::string::npos)
          << c.body << " -> " << p.status.ToString();
    }
  }
}

TEST(ImportParserTest, EmptyNdjsonIsZeroItems) {
  for (const char* body : {"", "\n\r\n  \n"}) {
    Parsed p = Parse(body, Ndjson());
    EXPECT_TRUE(p.status.ok()) << p.status.ToString();
    EXPECT_TRUE(p.items.empty());
  }
}

TEST(ImportParserTest, RejectsBadNdjson) {
  const BadCase cases[] = {
      {"{\"id\":\"a\"}\n[1]\n", Code::kInvalidArgument, "item 1: expected a JSON object"},
      {"{\"id\":\"a\"}\n{\"id\":\"b\"} {\"id\":\"c\"}\n", Code::kInvalidJson, "item 1:"},
      {"{\"id\":\"a\"}\n{\"id\":\"b\"", Code::kInvalidJson, "item 1:"},
      {"{\"x\":1}", Code::kInvalidArgument, "item 0: missing"},
      {"{\"id\":\"\xc3\"}", Code::kInvalidJson, "item 0:"},
      {"\xEF\xBB\xBF{\"id\":\"a\"}", Code::kInvalidJson, "item 0:"},  // no BOM
  };
  for (const BadCase& c : cases) {
    Parsed p = Parse(c.body, Ndjson());
    EXPECT_EQ(p.status.code(), c.code) << c.body << " -> " << p.status.ToString();
    EXPECT_NE(p.status.message().find(c.message_part), std::string::npos)
        << c.body << " -> " << p.status.ToString();
  }
}

TEST(ImportParserTest, EverySplitPointGivesTheSameItems) {
  const std::string tricky = R"({"id":"a\"]}","s":"}]\\\"[{\\","n":[1,{"x":-2.50e1}],"t":true})";
  struct Case {
    std::string body;
    ImportParserOptions options;
    Code code;
    size_t items;
  };
  const std::vector<Case> cases = {
      {" [" + tricky + ",\n {\"id\":12,\"v\":null} ,{\"id\":\"é😀\"}, 7] ", Json(),
       Code::kInvalidArgument, 3},  // the scalar 7 ends at a split point too
      {" [" + tricky + ",\n {\"id\":12,\"v\":null} ,{\"id\":\"é😀\"}] ", Json(), Code::kOk, 3},
      {"{\"allow_mass_removal\":true, \"d\\u0061ta\":[" + tricky +
           ",{\"id\":\"b\",\"k\":false}],\"mode\":\"full\"}",
       Json(), Code::kOk, 2},
      {"\n" + tricky + "\r\n\r\n  {\"id\":\"b\"}\n\t{\"id\":3}", Ndjson(), Code::kOk, 3},
      {"[{\"id\":\"a\"},{\"id\":\"b\",\"c\":\"\xff\"}]", Json(), Code::kInvalidJson, 1},
  };
  for (const auto& [body, options, code, items] : cases) {
    const Parsed reference = Parse(body, options);
    ASSERT_EQ(reference.status.code(), code) << body << " -> " << reference.status.ToString();
    ASSERT_EQ(reference.items.size(), items) << body;
    const std::string whole = Describe(reference);
    EXPECT_EQ(Describe(ParseBytewise(body, options)), whole) << body;
    for (size_t a = 0; a <= body.size(); ++a) {
      ASSERT_EQ(Describe(ParseSplit(body, options, {a})), whole) << body << " split at " << a;
      for (size_t b = a; b <= body.size(); b += 7) {
        ASSERT_EQ(Describe(ParseSplit(body, options, {a, b})), whole) << a << "," << b;
      }
    }
  }
}

// Whole lines parsed apart (ParseNdjsonLines, as on the parse worker) and
// adopted by the parser give what Feed gives for the same bytes: the same
// items, numbers, hashes and deferred bytes, and the parser goes on after
// them. A piece with a bad line fails on its own; fed to the parser instead,
// the same bytes give the body's own error (item number included).
TEST(ImportParserTest, LinesParsedApartAndAdoptedMatchFeed) {
  for (bool defer : {false, true}) {
    ImportParserOptions options = Ndjson();
    options.ignore_fields = {"seen"};
    options.defer_canonical = defer;
    const std::string body =
        "{\"id\":\"a\",\"p\":1,\"seen\":\"x\"}\n\n  {\"id\":\"b\",\"q\":[1,2]}\r\n"
        "{\"external_id\":7,\"p\":{\"k\":\"v\"}}\n   \n{\"id\":\"c\\u0041\"}\n"
        "{\"id\":\"d\",\"p\":2}\n{\"id\":\"e\"}";
    const std::string whole = Describe(ParseSplit(body, options, {}));
    for (size_t a = 0; a <= body.size(); ++a) {
      if (a != 0 && body[a - 1] != '\n') continue;  // a piece starts at a line
      for (size_t b = a; b <= body.size(); ++b) {
        if (b != a && body[b - 1] != '\n') continue;  // and ends after one
        ImportParser parser(options);
        Parsed out;
        auto sink = [&](ParsedItem&& item) {
          if (!item.raw_view.empty()) OwnRaw(&item);
          out.items.push_back(std::move(item));
          return Status::Ok();
        };
        ASSERT_TRUE(parser.Feed(std::string_view(body).substr(0, a), sink).ok());
        ASSERT_TRUE(parser.at_line_start());
        std::vector<ParsedItem> apart;
        const std::string_view lines = std::string_view(body).substr(a, b - a);
        ASSERT_TRUE(ParseNdjsonLines(options, lines, &apart).ok());
        ASSERT_TRUE(parser.Adopt(lines, std::move(apart), sink).ok());
        out.status = parser.Feed(std::string_view(body).substr(b), sink);
        if (out.status.ok()) out.status = parser.Finish(sink);
        out.bytes = parser.bytes();
        EXPECT_EQ(out.bytes, body.size());
        EXPECT_EQ(Describe(out), whole) << a << ".." << b;
        for (const ParsedItem& item : out.items) EXPECT_EQ(item.deferred, !item.raw.empty());
      }
    }
  }
  // A bad line: the piece fails alone; the parser numbers it in the body.
  ImportParserOptions options = Ndjson();
  options.defer_canonical = true;
  const std::string head = "{\"id\":\"a\"}\n{\"id\":\"b\"}\n";
  const std::string piece = "{\"id\":\"c\"}\n{\"id\":\"d\",}\n";
  std::vector<ParsedItem> apart;
  const Status alone = ParseNdjsonLines(options, piece, &apart);
  ASSERT_FALSE(alone.ok());
  EXPECT_EQ(alone.message().rfind("item 1: ", 0), 0u) << alone.ToString();
  const Parsed whole = Parse(head + piece, options);
  ASSERT_FALSE(whole.status.ok());
  EXPECT_EQ(whole.status.message().rfind("item 3: ", 0), 0u) << whole.status.ToString();
  // Only whole lines are accepted.
  EXPECT_EQ(ParseNdjsonLines(options, "{\"id\":\"a\"}", &apart).code(), Code::kInternal);
  ImportParser mid_line(options);
  ASSERT_TRUE(mid_line.Feed("{\"id\":", [](ParsedItem&&) { return Status::Ok(); }).ok());
  EXPECT_FALSE(mid_line.at_line_start());
  EXPECT_EQ(mid_line.Adopt("", {}, [](ParsedItem&&) { return Status::Ok(); }).code(),
            Code::kInternal);
}

TEST(ImportParserTest, IgnoreFieldsReachTheHash) {
  Parsed p = Parse(R"([{"id":"a","scraped_at":"t1"},{"id":"a","scraped_at":"t2"}])",
                   Json("", {"scraped_at"}));
  ASSERT_EQ(p.items.size(), 2u);
  EXPECT_EQ(p.items[0].doc.hash, p.items[1].doc.hash);
  // The raw hash masks ignored members too (the import's fast path).
  EXPECT_EQ(p.items[0].raw_hash, p.items[1].raw_hash);
  EXPECT_NE(p.items[0].doc.json, p.items[1].doc.json);
}

ImportParserOptions Deferred(std::vector<std::string> ignore) {
  ImportParserOptions o{BodyFormat::kNdjson, "", std::move(ignore)};
  o.defer_canonical = true;
  return o;
}

TEST(ImportParserTest, RawHashMasksOnlyIgnoredMembers) {
  const ImportParserOptions o = Json("", {"scraped_at"});
  auto hash = [&](std::string_view item) -> uint64_t {
    Parsed p = Parse("[" + std::string(item) + "]", o);
    EXPECT_TRUE(p.status.ok()) << item << " " << p.status.ToString();
    return p.items.empty() ? 0 : p.items[0].raw_hash;
  };
  const uint64_t base = hash(R"({"id":"a","p":1,"scraped_at":"t1","u":2})");
  EXPECT_EQ(base, hash(R"({"id":"a","p":1,"scraped_at" : "t2 longer","u":2})"));
  EXPECT_EQ(base, hash(R"({"id":"a","p":1,"scraped_at":12345,"u":2})"));
  // Anything else that differs changes it, even when the canonical form does not.
  EXPECT_NE(base, hash(R"({"id":"a","p":2,"scraped_at":"t1","u":2})"));
  EXPECT_NE(base, hash(R"({"id":"a","p":1.0,"scraped_at":"t1","u":2})"));
  EXPECT_NE(base, hash(R"({"id":"a","p":1,"u":2,"scraped_at":"t1"})"));
  EXPECT_NE(base, hash(R"({"id":"a","p":1,"u":2})"));
  EXPECT_NE(base, hash(R"({"id":"a", "p":1,"scraped_at":"t1","u":2})"));
  // A nested "scraped_at" is not the ignored top-level member.
  EXPECT_NE(hash(R"({"id":"a","o":{"scraped_at":1}})"), hash(R"({"id":"a","o":{"scraped_at":2}})"));
  // Without ignored members it is XXH3 of the exact bytes.
  EXPECT_EQ(hash(R"({"id":"a","x":[1,{"y":"\"}"}]})"), RawHash(R"({"id":"a","x":[1,{"y":"\"}"}]})"));
}

TEST(ImportParserTest, DeferredItemsCarryIdAndRawBytes) {
  const std::string body =
      R"({"external_id":"L1","scraped_at":"t","p":1.0})" "\n"
      R"({"external_id":7,"p":1})" "\n"             // integer id: canonicalized at once
      R"({"ext\u0065rnal_id":"x","id":"L3"})" "\n"  // escaped key: canonicalized at once
      R"({"id":"L4","scraped_at":[1]})" "\n";       // nested ignored value: canonicalized at once
  const ImportParserOptions o = Deferred({"scraped_at"});
  Parsed p = Parse(body, o);
  ASSERT_TRUE(p.status.ok()) << p.status.ToString();
  ASSERT_EQ(p.items.size(), 4u);
  EXPECT_TRUE(p.items[0].deferred);
  EXPECT_EQ(p.items[0].external_id, "L1");
  EXPECT_TRUE(p.items[0].doc.json.empty());
  EXPECT_EQ(p.items[0].raw, R"({"external_id":"L1","scraped_at":"t","p":1.0})");
  for (size_t i = 1; i < 4; ++i) {
    EXPECT_FALSE(p.items[i].deferred) << i;
    EXPECT_FALSE(p.items[i].doc.json.empty()) << i;
  }
  EXPECT_EQ(p.items[1].external_id, "7");
  EXPECT_EQ(p.items[2].external_id, "x");
  // Completing a deferred item gives exactly what the eager parser gives.
  ASSERT_TRUE(CanonicalizeDeferred(&p.items[0], o).ok());
  EXPECT_FALSE(p.items[0].deferred);
  Parsed eager = Parse(body, ImportParserOptions{BodyFormat::kNdjson, "", {"scraped_at"}});
  ASSERT_TRUE(eager.status.ok());
  EXPECT_EQ(p.items[0].doc.json, eager.items[0].doc.json);
  EXPECT_EQ(p.items[0].doc.hash, eager.items[0].doc.hash);
  EXPECT_EQ(p.items[0].raw_hash, eager.items[0].raw_hash);
  EXPECT_EQ(p.items[0].external_id, eager.items[0].external_id);
}

TEST(ImportParserTest, MalformedItemsAreRefusedAtOnceOrOnCompletion) {
  const ImportParserOptions o = Deferred({"scraped_at"});
  // A malformed ignored value is never deferred (an unchanged item is not
  // validated): refused at once, with "item N:".
  for (const char* line : {R"({"id":"a","scraped_at":"\u00zz"})", R"({"id":"a","scraped_at":tru})",
                           R"({"id":"a","scraped_at":01})", "{\"id\":\"a\",\"scraped_at\":\"\xC0\"}",
                           "{\"id\":\"a\",\"scraped_at\":\"\x01\"}"}) {
    Parsed p = Parse(std::string(R"({"id":"z"})") + "\n" + line + "\n", o);
    EXPECT_EQ(p.status.code(), Code::kInvalidJson) << line << " " << p.status.ToString();
    EXPECT_EQ(p.status.message().rfind("item 1: ", 0), 0u) << p.status.ToString();
    EXPECT_EQ(p.items.size(), 1u) << line;
  }
  // Malformed elsewhere: deferred unvalidated, refused on completion with
  // the error the eager parser gives.
  for (const char* line : {R"({"id":"a","x":tru})", R"({"id":"a","x":"\u00zz"})",
                           "{\"id\":\"a\",\"x\":[\"\xC0\"]}", R"({"id":"a","x":[1,,2]})"}) {
    Parsed p = Parse(std::string(R"({"id":"z"})") + "\n" + line + "\n", o);
    ASSERT_TRUE(p.status.ok()) << line << " " << p.status.ToString();
    ASSERT_EQ(p.items.size(), 2u) << line;
    EXPECT_TRUE(p.items[1].deferred) << line;
    Status st = CanonicalizeDeferred(&p.items[1], o);
    Parsed eager = Parse(std::string(R"({"id":"z"})") + "\n" + line + "\n",
                         ImportParserOptions{BodyFormat::kNdjson, "", {"scraped_at"}});
    EXPECT_EQ(st.code(), Code::kInvalidJson) << line << " " << st.ToString();
    EXPECT_EQ(st.ToString(), eager.status.ToString()) << line;
    EXPECT_EQ(st.message().rfind("item 1: ", 0), 0u) << st.ToString();
  }
  // Duplicate non-ignored keys: deferred, refused on completion.
  Parsed p = Parse(R"({"id":"a","x":1,"x":2})", o);
  ASSERT_TRUE(p.status.ok()) << p.status.ToString();
  ASSERT_EQ(p.items.size(), 1u);
  EXPECT_TRUE(p.items[0].deferred);
  Status st = CanonicalizeDeferred(&p.items[0], o);
  EXPECT_EQ(st.code(), Code::kInvalidArgument) << st.ToString();
  EXPECT_EQ(st.message().rfind("item 0: ", 0), 0u) << st.ToString();
}

TEST(ImportParserTest, DuplicateIgnoredMemberIsNotDeferred) {
  Parsed p = Parse(R"({"id":"a","scraped_at":1,"scraped_at":2})", Deferred({"scraped_at"}));
  EXPECT_EQ(p.status.code(), Code::kInvalidArgument) << p.status.ToString();  // refused at once
}

TEST(ImportParserTest, SinkErrorsStopTheParser) {
  ImportParser parser(Json());
  int calls = 0;
  auto sink = [&](ParsedItem&&) {
    ++calls;
    return calls == 2 ? Status::Conflict("duplicate id") : Status::Ok();
  };
  Status st = parser.Feed(R"([{"id":"a"},{"id":"b"},{"id":"c"}])", sink);
  EXPECT_EQ(st.code(), Code::kConflict);
  EXPECT_EQ(st.message(), "duplicate id");
  EXPECT_EQ(calls, 2);
  EXPECT_EQ(parser.Feed("]", sink).code(), Code::kConflict);  // dead: same error again
  EXPECT_EQ(parser.Finish(sink).code(), Code::kConflict);
}

TEST(ImportParserTest, ItemsLargerThanTheCapAreRefused) {
  const std::string filler(16 << 20, 'x');
  for (const ImportParserOptions& options : {Json(), Ndjson()}) {
    ImportParser parser(options);
    auto sink = [](ParsedItem&&) { return Status::Ok(); };
    const bool json = options.format == BodyFormat::kJson;
    ASSERT_TRUE(
        parser.Feed(json ? "[{\"id\":\"a\"},{\"id\":\"b\",\"s\":\"" : "{\"id\":\"a\"}\n{", sink)
            .ok());
    Status st = parser.Feed(filler, sink);
    EXPECT_EQ(st.code(), Code::kPayloadTooLarge) << st.ToString();
    EXPECT_NE(st.message().find("item 1:"), std::string::npos) << st.message();
  }
  // Just under the cap is fine.
  std::string body = R"([{"id":"a","s":")";
  body += std::string((16 << 20) - 20, 'y') + "\"}]";
  Parsed p = Parse(body);
  ASSERT_TRUE(p.status.ok()) << p.status.ToString();
  EXPECT_EQ(p.items.size(), 1u);
}

}  // namespace
}  // namespace syncmgr
