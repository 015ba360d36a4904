#include "engine/canonical_json.h"
#include "engine/json_scan.h"

#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

namespace syncmgr {
namespace {

const std::vector<std::string> kNoIgnore;

// Canonical text of `json`, or the error's code name and message.
std::string Canon(std::string_view json, const std::vector<std::string>& ignore = kNoIgnore) {
  CanonicalDoc doc;
  Status st = CanonicalizeObject(json, ignore, &doc);
  if (!st.ok()) return st.ToString();
  return doc.json;
}

Hash128 HashOf(std::string_view json, const std::vector<std::string>& ignore = kNoIgnore) {
  CanonicalDoc doc;
  Status st = CanonicalizeObject(json, ignore, &doc);
  EXPECT_TRUE(st.ok()) << st.ToString();
  return doc.hash;
}

Code CodeOf(std::string_view json) {
  CanonicalDoc doc;
  return CanonicalizeObject(json, kNoIgnore, &doc).code();
}

// Canonical text of a lone number.
std::string Num(const std::string& literal) {
  std::string c = Canon("{\"n\":" + literal + "}");
  if (c.rfind("{\"n\":", 0) != 0) return c;
  return c.substr(5, c.size() - 6);
}

TEST(CanonicalJsonTest, KeyOrderAndWhitespaceDoNotMatter) {
  const char* a = R"({"b":1,"a":[1,2,{"d":true,"c":null}],"é":"x"})";
  const char* b =
      " {\n\t\"é\" : \"x\" ,\r\n \"a\" : [ 1 , 2 , { \"c\" : null , \"d\" : true } ] ,"
      " \"b\" : 1 } ";
  EXPECT_EQ(Canon(a), R"({"a":[1,2,{"c":null,"d":true}],"b":1,"é":"x"})");
  EXPECT_EQ(Canon(a), Canon(b));
  EXPECT_EQ(HashOf(a), HashOf(b));
  EXPECT_NE(HashOf(a), HashOf(R"({"b":2,"a":[1,2,{"d":true,"c":null}],"é":"x"})"));
  // Array order is data, not presentation.
  EXPECT_NE(HashOf(R"({"a":[1,2]})"), HashOf(R"({"a":[2,1]})"));
}

TEST(CanonicalJsonTest, KeysSortByCodePointNotUtf16) {
  // U+FF61 sorts before U+1F600 by code point (and UTF-8 bytes), after it in
  // UTF-16 code units.
  EXPECT_EQ(Canon(R"({"😀":1,"｡":2,"z":3,"é":4,"A":5,"":6})"),
            R"({"":6,"A":5,"z":3,"é":4,"｡":2,"😀":1})");
  // Prefixes sort first; bytes >= 0x80 sort after ASCII.
  EXPECT_EQ(Canon(R"({"ab":1,"a":2,"a\u0000":3,"\u007f":4})"),
            "{\"a\":2,\"a\\u0000\":3,\"ab\":1,\"\x7f\":4}");
}

TEST(CanonicalJsonTest, IntegralNumbersHashAlike) {
  for (const char* one : {"1", "1.0", "1e0", "1E0", "10e-1", "0.1e1", "1.000"}) {
    EXPECT_EQ(Num(one), "1") << one;
  }
  EXPECT_EQ(HashOf(R"({"n":1.0})"), HashOf(R"({"n":1})"));
  EXPECT_EQ(HashOf(R"({"n":1e0})"), HashOf(R"({"n":1})"));
  for (const char* zero : {"0", "-0", "0.0", "-0.0", "0e5", "-0e-5"}) {
    EXPECT_EQ(Num(zero), "0") << zero;
  }
  EXPECT_EQ(Num("-12.0"), "-12");
  EXPECT_EQ(Num("1e15"), "1000000000000000");
  EXPECT_EQ(Num("9007199254740991.0"), "9007199254740991");  // 2^53 - 1
}

TEST(CanonicalJsonTest, OtherDoublesUseShortestForm) {
  EXPECT_EQ(Num("1.5"), "1.5");
  EXPECT_EQ(Num("0.1"), "0.1");
  EXPECT_EQ(Num("-123456.789"), "-123456.789");
  EXPECT_EQ(Num("0.30000000000000004"), "0.30000000000000004");
  EXPECT_EQ(Num("1.50"), "1.5");
  EXPECT_EQ(Num("0.0001"), "1e-04");  // shorter than 0.0001
  EXPECT_EQ(Num("0.001"), "0.001");
  EXPECT_EQ(Num("1e-7"), "1e-07");
  EXPECT_EQ(Num("2.5e-300"), "2.5e-300");
  // From 2^53 up, doubles are always scientific, so a digits-only token is
  // always an exact integer.
  EXPECT_EQ(Num("9007199254740992.0"), "9.007199254740992e+15");
  EXPECT_EQ(Num("1e16"), "1e+16");
  EXPECT_EQ(Num("1E300"), "1e+300");
  EXPECT_EQ(Num("-1.5e20"), "-1.5e+20");
}

TEST(CanonicalJsonTest, SixtyFourBitIntegersKeepTheirDigits) {
  EXPECT_EQ(Num("9007199254740993"), "9007199254740993");  // 2^53 + 1: not a double
  EXPECT_EQ(Num("9223372036854775807"), "9223372036854775807");
  EXPECT_EQ(Num("-9223372036854775808"), "-9223372036854775808");
  EXPECT_EQ(Num("18446744073709551615"), "18446744073709551615");
  EXPECT_EQ(Num("10000000000000000"), "10000000000000000");
  EXPECT_NE(HashOf(R"({"n":9007199254740993})"), HashOf(R"({"n":9007199254740992})"));
}

TEST(CanonicalJsonTest, IntegersBeyondSixtyFourBitsBecomeDoubles) {
  EXPECT_EQ(Num("18446744073709551616"), "1.8446744073709552e+19");
  EXPECT_EQ(Num("-9223372036854775809"), "-9.223372036854776e+18");
  EXPECT_EQ(Num("123456789012345678901234567890"), "1.2345678901234568e+29");
  EXPECT_EQ(Num("18446744073709551616"), Num("18446744073709551616.0"));
  // Inside strings, in keys, and next to other numbers nothing is rewritten.
  EXPECT_EQ(Canon(R"({"99999999999999999999":"99999999999999999999","a":[1.5e3,)"
                  R"(99999999999999999999,-1]})"),
            R"({"99999999999999999999":"99999999999999999999","a":[1500,1e+20,-1]})");
  // Still malformed: leading zeros, out of double range.
  EXPECT_EQ(CodeOf(R"({"n":0123456789012345678901})"), Code::kInvalidJson);
  EXPECT_EQ(CodeOf(R"({"n":1e400,"m":99999999999999999999})"), Code::kInvalidJson);
}

TEST(CanonicalJsonTest, StringsUseMinimalEscaping) {
  EXPECT_EQ(Canon(R"({"s":"\u0041\/\b\f\n\r\t\u0001\u001F\"\\\u007f\u0020"})"),
            "{\"s\":\"A/\\b\\f\\n\\r\\t\\u0001\\u001f\\\"\\\\\x7f \"}");
  EXPECT_EQ(Canon(R"({"s":"\u0000"})"), R"({"s":"\u0000"})");
  // Non-ASCII is raw UTF-8, whether it came escaped or not.
  EXPECT_EQ(Canon(R"({"s":"\u00e9\u20ac\ud83d\ude00"})"), R"({"s":"é€😀"})");
  EXPECT_EQ(Canon(R"({"s":"é€😀"})"), R"({"s":"é€😀"})");
  EXPECT_EQ(Canon(R"({"s":"\u2028<>&'"})"), "{\"s\":\"\xe2\x80\xa8<>&'\"}");
  // Keys are escaped the same way.
  EXPECT_EQ(Canon(R"({"a\nb":1})"), R"({"a\nb":1})");
}

TEST(CanonicalJsonTest, RejectsBadInput) {
  EXPECT_EQ(CodeOf(""), Code::kInvalidJson);
  EXPECT_EQ(CodeOf("   "), Code::kInvalidJson);
  EXPECT_EQ(CodeOf(R"({"a":1)"), Code::kInvalidJson);
  EXPECT_EQ(CodeOf(R"({"a":1,})"), Code::kInvalidJson);
  EXPECT_EQ(CodeOf(R"({"a":tru})"), Code::kInvalidJson);
  EXPECT_EQ(CodeOf(R"({"a":1} {"b":2})"), Code::kInvalidJson);
  EXPECT_EQ(CodeOf(R"({"a":'x'})"), Code::kInvalidJson);
  EXPECT_EQ(CodeOf("{\"a\":\"\xff\"}"), Code::kInvalidJson);      // invalid UTF-8
  EXPECT_EQ(CodeOf("{\"a\":\"\xc3\"}"), Code::kInvalidJson);      // truncated sequence
  EXPECT_EQ(CodeOf("{\"\xed\xa0\x80\":1}"), Code::kInvalidJson);  // encoded surrogate
  EXPECT_EQ(CodeOf(R"({"a":"\ud800"})"), Code::kInvalidJson);     // lone surrogate
  EXPECT_EQ(CodeOf("{\"a\":\"x\ny\"}"), Code::kInvalidJson);      // raw control char
  CanonicalDoc doc;
  Status st = CanonicalizeObject(R"({"a":)", kNoIgnore, &doc);
  EXPECT_NE(st.message().find("malformed JSON"), std::string::npos) << st.message();

  for (const char* not_object : {"[]", "[{}]", "1", "\"s\"", "null", "true"}) {
    EXPECT_EQ(CodeOf(not_object), Code::kInvalidArgument) << not_object;
  }
  st = CanonicalizeObject("[1]", kNoIgnore, &doc);
  EXPECT_EQ(st.message(), "expected a JSON object, got an array");
}

TEST(CanonicalJsonTest, RejectsDuplicateKeys) {
  CanonicalDoc doc;
  Status st = CanonicalizeObject(R"({"x":1,"y":2,"x":1})", kNoIgnore, &doc);
  EXPECT_EQ(st.code(), Code::kInvalidArgument);
  EXPECT_EQ(st.message(), "duplicate key \"x\"");
  EXPECT_EQ(CodeOf(R"({"a":[{"k":1,"k":2}]})"), Code::kInvalidArgument);
  EXPECT_EQ(CodeOf(R"({"a":1,"\u0061":2})"), Code::kInvalidArgument);  // same key, escaped
  EXPECT_EQ(Canon(R"({"a":{"k":1},"b":{"k":1}})"), R"({"a":{"k":1},"b":{"k":1}})");
}

std::string Nested(int depth, char open, char close) {
  // `depth` containers in total, the outermost an object.
  std::string s = "{\"v\":";
  for (int i = 1; i < depth; ++i) s += open == '{' ? "{\"v\":" : "[";
  s += "1";
  for (int i = 1; i < depth; ++i) s.push_back(close);
  return s + "}";
}

TEST(CanonicalJsonTest, NestingLimitIsSixtyFour) {
  EXPECT_EQ(CodeOf(Nested(kMaxJsonDepth, '{', '}')), Code::kOk);
  EXPECT_EQ(CodeOf(Nested(kMaxJsonDepth, '[', ']')), Code::kOk);
  CanonicalDoc doc;
  Status st = CanonicalizeObject(Nested(kMaxJsonDepth + 1, '{', '}'), kNoIgnore, &doc);
  EXPECT_EQ(st.code(), Code::kInvalidArgument);
  EXPECT_NE(st.message().find("64"), std::string::npos) << st.message();
  EXPECT_EQ(CodeOf(Nested(kMaxJsonDepth + 1, '[', ']')), Code::kInvalidArgument);
  // Far past simdjson's own limit too.
  EXPECT_EQ(CodeOf(Nested(5000, '[', ']')), Code::kInvalidArgument);
}

TEST(CanonicalJsonTest, IgnoredFieldsAreLeftOutOfTheHashOnly) {
  const std::vector<std::string> ignore = {"scraped_at", "zz"};
  const char* with = R"({"price":100,"scraped_at":"2024-01-01","title":"Flat"})";
  CanonicalDoc doc;
  ASSERT_TRUE(CanonicalizeObject(with, ignore, &doc).ok());
  EXPECT_EQ(doc.json, with);  // the field is kept in the data
  EXPECT_EQ(doc.hash, HashOf(R"({"price":100,"title":"Flat"})"));
  EXPECT_EQ(doc.hash, HashOf(R"({"title":"Flat","price":100,"scraped_at":"2025"})", ignore));
  // First, last, several, and every member ignored: commas as if absent.
  EXPECT_EQ(HashOf(R"({"a":1,"b":2,"zz":3})", ignore), HashOf(R"({"a":1,"b":2})"));
  EXPECT_EQ(HashOf(R"({"scraped_at":0,"a":1,"b":2})", ignore), HashOf(R"({"a":1,"b":2})"));
  EXPECT_EQ(HashOf(R"({"scraped_at":0,"a":1,"zz":{"x":[1]}})", ignore), HashOf(R"({"a":1})"));
  EXPECT_EQ(HashOf(R"({"scraped_at":0,"zz":1})", ignore), HashOf("{}"));
  // Only top-level members are ignored.
  EXPECT_NE(HashOf(R"({"a":{"zz":1}})", ignore), HashOf(R"({"a":{}})"));
}

TEST(CanonicalJsonTest, HashCanonicalMatchesCanonicalizeObject) {
  const std::vector<std::vector<std::string>> ignores = {
      {}, {"b"}, {"a", "c"}, {"nope"}, {"a", "b", "c", "k\"ey"}, {"k\"ey"}};
  for (const auto& ignore : ignores) {
    for (const char* json :
         {R"({"c":[1,{"b":2}],"a":"x,y}","b":null,"k\"ey":1})", "{}", R"({"b":{"c":"}"}})"}) {
      CanonicalDoc doc;
      ASSERT_TRUE(CanonicalizeObject(json, ignore, &doc).ok());
      EXPECT_EQ(HashCanonical(doc.json, ignore), doc.hash) << json;
    }
  }
}

TEST(CanonicalJsonTest, GoldenHashes) {
  // Pinned values, quoted in docs/canonical-hash.md and checked against the
  // xxhash library's own XXH128 canonical (big-endian) output. Changing the
  // form or the hash changes every stored hash: never silently.
  EXPECT_EQ(HashOf("{}").Hex(), "dc7048f8f8747f561349cde127705c16");
  EXPECT_EQ(HashOf(R"({ "b": 1.0, "a": "x" })").Hex(), "e02de5863dafb8f60dfe6f7343dc2fe8");
  const char* scraped = R"({"scraped_at":"2024-05-01","b":1e0,"a":"x"})";
  EXPECT_EQ(HashOf(scraped).Hex(), "d9fe8998482af5170b34eb014e0d2936");
  EXPECT_EQ(HashOf(scraped, {"scraped_at"}).Hex(), "e02de5863dafb8f60dfe6f7343dc2fe8");
  EXPECT_EQ(RawHash("{}"), 1389868326933519382u);
}

TEST(CanonicalJsonTest, HexIsHiThenLo) {
  Hash128 h{0x0123456789abcdefULL, 0xfedcba9876543210ULL};
  EXPECT_EQ(h.Hex(), "0123456789abcdeffedcba9876543210");
  EXPECT_EQ(Hash128{}.Hex(), std::string(32, '0'));
}

TEST(CanonicalJsonTest, ChangedFieldsListsDifferingTopLevelKeys) {
  const std::string before = Canon(R"({"a":1,"b":{"x":[1,2]},"c":"s","d":true,"t":1})");
  const std::string after = Canon(R"({"a":1,"b":{"x":[1,3]},"d":true,"e":null,"t":2})");
  EXPECT_EQ(ChangedFields(before, after, {}), (std::vector<std::string>{"b", "c", "e", "t"}));
  EXPECT_EQ(ChangedFields(before, after, {"t", "c"}), (std::vector<std::string>{"b", "e"}));
  EXPECT_EQ(ChangedFields(before, before, {}), std::vector<std::string>{});
  EXPECT_EQ(ChangedFields("{}", after, {}), (std::vector<std::string>{"a", "b", "d", "e", "t"}));
  EXPECT_EQ(ChangedFields(after, "{}", {"a"}), (std::vector<std::string>{"b", "d", "e", "t"}));
  // 1 vs 1.0 is no change; keys with escapes come back unescaped, in
  // code point order.
  EXPECT_EQ(ChangedFields(Canon(R"({"p":1,"\n":1,"q\"":1,"é":1})"),
                          Canon(R"({"p":1.0,"\n":2,"q\"":2,"é":2})"), {}),
            (std::vector<std::string>{"\n", "q\"", "é"}));
}

TEST(CanonicalJsonTest, RawHashIsXxh3Of64BitsOverExactBytes) {
  EXPECT_NE(RawHash(R"({"a":1})"), RawHash(R"({"a": 1})"));
  EXPECT_EQ(RawHash(R"({"a":1})"), RawHash(std::string(R"({"a":1})")));
}

TEST(CanonicalJsonTest, LargeDocumentsAndManyThreads) {
  std::string big = R"({"s":")" + std::string(3 << 20, 'x') + R"(","n":1.0})";
  CanonicalDoc doc;
  ASSERT_TRUE(CanonicalizeObject(big, kNoIgnore, &doc).ok());
  EXPECT_EQ(doc.json.size(), big.size() - 2);
  const std::string small = R"({"b":[1,2,{"z":"é","a":1e0}],"a":"x"})";
  const Hash128 expected = HashOf(small);
  std::vector<std::thread> threads;
  std::vector<int> mismatches(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 500; ++i) {
        CanonicalDoc d;
        if (!CanonicalizeObject(small, kNoIgnore, &d).ok() || d.hash != expected) ++mismatches[t];
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(mismatches, std::vector<int>(4, 0));
}

// Found by fuzz/canonical_fuzz: an empty object as the first call of a
// thread (its scratch still unallocated) stepped past a null pointer (UB).
TEST(CanonicalJsonTest, EmptyObjectFirstInAFreshThread) {
  for (const char* json : {"{}", "{\"a\":{}}", "{\"a\":[{}]}"}) {
    std::thread([json] {
      CanonicalDoc doc;
      ASSERT_TRUE(CanonicalizeObject(json, kNoIgnore, &doc).ok()) << json;
      EXPECT_EQ(doc.json, json);
    }).join();
  }
}

// The scanner shared by the canonical writer and the import parser
// (engine/json_scan.h).
TEST(JsonScanTest, FindsTheEndsOfStringsAndValues) {
  constexpr size_t npos = std::string_view::npos;
  // A quote after an odd run of backslashes is escaped; after an even one,
  // it closes the string.
  EXPECT_EQ(json_scan::StringEnd(R"("ab")", 0), 4u);
  EXPECT_EQ(json_scan::StringEnd(R"("a\"b")", 0), 6u);
  EXPECT_EQ(json_scan::StringEnd(R"("a\\"b")", 0), 5u);
  EXPECT_EQ(json_scan::StringEnd(R"("a\\\"b")", 0), 8u);
  EXPECT_EQ(json_scan::StringEnd(R"("open)", 0), npos);
  const std::string_view obj = R"({"a":{"b":["]",1]},"c":12,"d":"x"})";
  EXPECT_EQ(json_scan::ValueEnd(obj, 5), 18u);  // the nested object, '}' included
  EXPECT_EQ(obj.substr(23, json_scan::ValueEnd(obj, 23) - 23), "12");  // a scalar ends at ','
  EXPECT_EQ(json_scan::ValueEnd(obj, 30), 33u);                        // a string
  EXPECT_EQ(json_scan::ValueEnd(R"({"a":[1,2)", 5), npos);             // unterminated
  EXPECT_EQ(json_scan::ValueEnd("}", 0), npos);                        // no value at all
}

TEST(JsonScanTest, UnescapeDecodesWhatCanonicalTextEscapes) {
  EXPECT_EQ(json_scan::Unescape("plain"), "plain");
  EXPECT_EQ(json_scan::Unescape(R"(q\"b\\n\nt\tu\u0001/\/)"), std::string("q\"b\\n\nt\tu\x01//"));
  EXPECT_EQ(json_scan::Unescape(R"(\u0000)"), std::string(1, '\0'));
}

}  // namespace
}  // namespace syncmgr
