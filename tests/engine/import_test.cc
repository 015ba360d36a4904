// Import semantics (SPEC §4 Import) on a real engine.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <limits>
#include <set>
#include <string>

#include "engine/id_set.h"
#include "tests/engine/engine_fixture.h"

namespace syncmgr::testing {
namespace {

class ImportTest : public EngineTest {};

TEST_F(ImportTest, CreatesThenReimportIsUnchangedAndMakesNoVersions) {
  TenantId t = NewTenant();
  uint32_t s = NewSource(t);
  std::string body = R"({"data":[{"external_id":"a","price":1},{"external_id":"b","price":2}]})";
  auto r1 = Import(t, s, body);
  ASSERT_TRUE(r1.ok()) << r1.status().ToString();
  EXPECT_EQ(r1->stats.received, 2u);
  EXPECT_EQ(r1->stats.created, 2u);
  auto r2 = Import(t, s, body);
  ASSERT_TRUE(r2.ok());
  EXPECT_EQ(r2->stats.unchanged, 2u);
  EXPECT_EQ(r2->stats.created + r2->stats.updated, 0u);
  EXPECT_GT(r2->import_id, r1->import_id);  // still logged
  auto h = engine_->History(t, Src(s), "a");
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(h->size(), 1u);
  auto imports = engine_->ListImports(t, std::nullopt, 10);
  ASSERT_TRUE(imports.ok());
  ASSERT_EQ(imports->size(), 2u);
  EXPECT_EQ((*imports)[0].id, r2->import_id);  // newest first
}

TEST_F(ImportTest, KeyOrderAndWhitespaceDoNotChangeTheHash) {
  TenantId t = NewTenant();
  uint32_t s = NewSource(t);
  ASSERT_TRUE(Import(t, s, R"([{"external_id":"a","x":1,"y":[1,2]}])").ok());
  auto r = Import(t, s, "[ {\"y\" : [ 1 , 2 ],\n \"x\": 1.0, \"external_id\": \"a\"} ]");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->stats.unchanged, 1u);
}

TEST_F(ImportTest, IgnoreFieldsAreLeftOutOfTheHash) {
  TenantId t = NewTenant();
  uint32_t s = NewSource(t, {"scraped_at"});
  ASSERT_TRUE(Import(t, s, R"([{"external_id":"a","p":1,"scraped_at":"mon"}])").ok());
  auto r = Import(t, s, R"([{"external_id":"a","p":1,"scraped_at":"tue"}])");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->stats.unchanged, 1u);
  r = Import(t, s, R"([{"external_id":"a","p":2,"scraped_at":"wed"}])");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->stats.updated, 1u);
  auto h = engine_->History(t, Src(s), "a");
  ASSERT_TRUE(h.ok());
  ASSERT_EQ(h->size(), 2u);
  ASSERT_TRUE((*h)[1].changed_fields.has_value());
  EXPECT_EQ(*(*h)[1].changed_fields, std::vector<std::string>{"p"});
}

TEST_F(ImportTest, IntegerIdsBecomeDecimalStringsAndIdFallsBackToId) {
  TenantId t = NewTenant();
  uint32_t s = NewSource(t);
  ASSERT_TRUE(Import(t, s, R"([{"id":42,"p":1},{"external_id":7}])").ok());
  EXPECT_TRUE(engine_->GetProperty(t, Src(s), "42", {}).ok());
  EXPECT_TRUE(engine_->GetProperty(t, Src(s), "7", {}).ok());
}

TEST_F(ImportTest, NdjsonBodies) {
  TenantId t = NewTenant();
  uint32_t s = NewSource(t);
  ImportOptions o;
  o.format = BodyFormat::kNdjson;
  auto r = engine_->Import(t, s, o, "{\"external_id\":\"a\"}\n\n{\"external_id\":\"b\"}\n");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->stats.created, 2u);
}

TEST_F(ImportTest, FullModeRemovesAbsentAndKeepsHistory) {
  TenantId t = NewTenant();
  uint32_t s = NewSource(t, {}, /*ratio=*/0.5);
  ASSERT_TRUE(Import(t, s, R"([{"external_id":"a"},{"external_id":"b"},{"external_id":"c"}])").ok());
  auto r = Import(t, s, R"([{"external_id":"a"},{"external_id":"b"},{"external_id":"d"}])",
                  ImportMode::kFull);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->stats.removed, 1u);
  EXPECT_EQ(r->stats.created, 1u);
  EXPECT_EQ(r->stats.unchanged, 2u);
  EXPECT_EQ(engine_->GetProperty(t, Src(s), "c", {}).status().code(), Code::kNotFound);
  auto h = engine_->History(t, Src(s), "c");
  ASSERT_TRUE(h.ok());
  ASSERT_EQ(h->size(), 2u);
  EXPECT_TRUE((*h)[1].removed);
  EXPECT_EQ((*h)[1].version, 2u);
  // Re-created after removal: version 3.
  ASSERT_TRUE(Import(t, s, R"([{"external_id":"c"}])").ok());
  auto p = engine_->GetProperty(t, Src(s), "c", {});
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->version, 3u);
}

TEST_F(ImportTest, MassRemovalGuardRefusesAndWritesNothing) {
  TenantId t = NewTenant();
  uint32_t s = NewSource(t);
  std::string body = "[";
  for (int i = 0; i < 10; ++i) body += (i ? "," : "") + std::string("{\"external_id\":\"") +
                                       std::to_string(i) + "\"}";
  body += "]";
  ASSERT_TRUE(Import(t, s, body).ok());
  uint64_t before = *engine_->LastSeq(t);
  auto r = Import(t, s, R"([{"external_id":"0"}])", ImportMode::kFull);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kMassRemoval);
  EXPECT_EQ(*engine_->LastSeq(t), before);
  EXPECT_EQ(List(t, Src(s)).size(), 10u);
  // Explicitly allowed: goes through.
  r = Import(t, s, R"([{"external_id":"0"}])", ImportMode::kFull, /*allow=*/true);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->stats.removed, 9u);
  // The body may carry the mode too.
  r = Import(t, s, R"({"mode":"full","data":[]})");
  EXPECT_EQ(r.status().code(), Code::kMassRemoval);
}

struct BadCase {
  const char* name;
  std::string body;
  Code code;
};

TEST_F(ImportTest, EveryBadInputIsATypedErrorAndWritesNothing) {
  TenantId t = NewTenant();
  uint32_t s = NewSource(t);
  ASSERT_TRUE(Import(t, s, R"([{"external_id":"keep","v":1}])").ok());
  std::string deep = "{\"external_id\":\"d\",\"x\":";
  for (int i = 0; i < 70; ++i) deep += "[";
  for (int i = 0; i < 70; ++i) deep += "]";
  deep += "}";
  std::vector<BadCase> cases = {
      {"malformed", R"([{"external_id":"a",])", Code::kInvalidJson},
      {"invalid utf8", "[{\"external_id\":\"a\",\"t\":\"\xff\xfe\"}]", Code::kInvalidJson},
      {"not an object", R"([{"external_id":"a"}, 3])", Code::kInvalidArgument},
      {"missing id", R"([{"external_id":"a"},{"p":1}])", Code::kInvalidArgument},
      {"empty id", R"([{"external_id":""}])", Code::kInvalidArgument},
      {"long id", "[{\"external_id\":\"" + std::string(257, 'x') + "\"}]", Code::kInvalidArgument},
      {"duplicate id", R"([{"external_id":"a"},{"external_id":"a"}])", Code::kInvalidArgument},
      {"too deep", "[" + deep + "]", Code::kInvalidArgument},
      {"unknown mode", R"({"mode":"replace","data":[]})", Code::kInvalidArgument},
  };
  uint64_t seq = *engine_->LastSeq(t);
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    auto r = Import(t, s, c.body);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), c.code) << r.status().ToString();
    EXPECT_EQ(*engine_->LastSeq(t), seq);
    auto list = List(t, Src(s));
    ASSERT_EQ(list.size(), 1u);
    EXPECT_EQ(list[0].external_id, "keep");
  }
  ExpectViewsEqualFold();
}

// The raw-bytes fast path (an item whose bytes, ignored members aside, equal
// the live version's is unchanged without canonicalization) must decide
// exactly as canonical hashing does, and still refuse bad input.
TEST_F(ImportTest, RawBytesFastPathKeepsTheSemantics) {
  TenantId t = NewTenant();
  uint32_t s = NewSource(t, {"scraped_at"}, /*ratio=*/1.0);
  auto line = [](const std::string& id, const std::string& scraped, const std::string& rest) {
    return "{\"external_id\":\"" + id + "\",\"p\":" + rest + ",\"scraped_at\":" + scraped + "}\n";
  };
  auto ndjson = [&](const std::string& body, ImportMode mode = ImportMode::kUpsert) {
    ImportOptions o;
    o.format = BodyFormat::kNdjson;
    o.mode = mode;
    return engine_->Import(t, s, o, body);
  };
  auto r = ndjson(line("a", "\"d0\"", "1") + line("b", "\"d0\"", "2") + line("c", "\"d0\"", "3"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->stats.created, 3u);
  // Day 1: only scraped_at moved (fast path), b re-spaced (slow path, same hash), c changed.
  r = ndjson(line("a", "\"d1\"", "1") + "{\"external_id\":\"b\", \"p\":2.0,\"scraped_at\":\"d1\"}\n" +
             line("c", "\"d1\"", "4"), ImportMode::kFull);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->stats.unchanged, 2u);
  EXPECT_EQ(r->stats.updated, 1u);
  EXPECT_EQ(r->stats.removed, 0u);
  // Bad input in the ignored member of an otherwise identical line is refused
  // (nothing written), as without the fast path.
  const uint64_t seq = *engine_->LastSeq(t);
  struct Bad {
    std::string body;
    Code code;
  };
  for (const Bad& bad : std::vector<Bad>{
           {line("a", "\"\xC0\"", "1"), Code::kInvalidJson},
           {line("a", "tru", "1"), Code::kInvalidJson},
           {"{\"external_id\":\"a\",\"p\":1,\"scraped_at\":\"x\",\"scraped_at\":\"y\"}\n",
            Code::kInvalidArgument},
           {line("a", "\"d2\"", "1") + line("a", "\"d3\"", "1"), Code::kInvalidArgument},
           // Malformed outside the ignored member, on lines of known ids: the
           // fast path defers them unvalidated, their canonicalization refuses
           // them, after a changed line that would otherwise be written.
           {line("c", "\"d2\"", "5") + line("a", "\"d2\"", "tru"), Code::kInvalidJson},
           {line("c", "\"d2\"", "5") + line("b", "\"d2\"", "[1,,2]"), Code::kInvalidJson},
           {line("c", "\"d2\"", "5") + line("b", "\"d2\"", "\"\xC0\""), Code::kInvalidJson},
           {line("c", "\"d2\"", "5") + line("a", "\"d2\"", "1") + "x\n", Code::kInvalidJson}}) {
    auto rb = ndjson(bad.body);
    ASSERT_FALSE(rb.ok()) << bad.body;
    EXPECT_EQ(rb.status().code(), bad.code) << bad.body << rb.status().ToString();
    EXPECT_EQ(*engine_->LastSeq(t), seq);
  }
  // A nested ignored value takes the slow path: still unchanged.
  r = ndjson(line("a", "{\"at\":[1]}", "1"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->stats.unchanged, 1u);
  // Removed, then the very same bytes again: created, not unchanged.
  r = ndjson(line("b", "\"d4\"", "2") + line("c", "\"d4\"", "4"), ImportMode::kFull);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->stats.removed, 1u);
  r = ndjson(line("a", "\"d5\"", "1"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->stats.created, 1u);
  EXPECT_EQ(r->stats.unchanged, 0u);
  auto h = engine_->History(t, Src(s), "a");
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(h->size(), 3u);  // created, removed, created
  ExpectViewsEqualFold();
}

// Bodies larger than one buffer are applied on the session's apply thread
// while the caller parses on; the raw-bytes fast path works across buffers.
TEST_F(ImportTest, PipelinedDayOverDayImport) {
  chunk_bytes_ = 16384;
  buffer_bytes_ = 8192;
  Reopen();
  TenantId t = NewTenant();
  uint32_t s = NewSource(t, {"scraped_at"});
  auto day = [](int d, int changed_every) {
    std::string body;
    for (int i = 0; i < 400; ++i) {
      const int price = (changed_every != 0 && i % changed_every == 0) ? 2 : 1;
      body += "{\"external_id\":\"L" + std::to_string(i) + "\",\"text\":\"" +
              std::string(80, 'x') + "\",\"price\":" + std::to_string(price) +
              ",\"scraped_at\":\"day" + std::to_string(d) + "\"}\n";
    }
    return body;
  };
  ImportOptions o;
  o.format = BodyFormat::kNdjson;
  o.mode = ImportMode::kFull;
  auto import_in_pieces = [&](const std::string& body) -> StatusOr<ImportResult> {
    SYNCMGR_ASSIGN_OR_RETURN(auto session, engine_->BeginImport(t, s, o));
    for (size_t at = 0; at < body.size(); at += 777) {
      SYNCMGR_RETURN_IF_ERROR(session->Append(std::string_view(body).substr(at, 777)));
    }
    return session->Finish();
  };
  auto r = import_in_pieces(day(0, 0));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->stats.created, 400u);
  r = import_in_pieces(day(1, 40));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->stats.received, 400u);
  EXPECT_EQ(r->stats.updated, 10u);
  EXPECT_EQ(r->stats.unchanged, 390u);
  EXPECT_EQ(r->stats.created + r->stats.removed, 0u);
  Reopen();
  EXPECT_EQ(List(t, Src(s)).size(), 400u);
  ExpectViewsEqualFold();
}

// NDJSON chunks of at least 64 KiB are parsed by two threads, and once the
// tenant is locked each part's states are read on its own thread. Bodies fed
// in odd-sized pieces of more than 64 KiB (lines straddle chunks, split
// points fall everywhere) against the same bodies in pieces below it (the
// single-threaded parser): the same stats, the same stored properties and
// versions, and for a bad line anywhere the same error (code, message, item
// number) with nothing written.
class ImportSplitTest : public ImportTest {
 protected:
  struct Outcome {
    std::string result;  // stats, or the error
    std::string listed;  // every property: id, version, hash, data
    uint64_t last_seq = 0;
  };

  static std::string Line(int i, int day, int changed_every) {
    const int price = (changed_every != 0 && i % changed_every == 0) ? 100 + day : 100;
    return "{\"external_id\":\"L" + std::to_string(i) + "\",\"text\":\"" +
           std::string(60 + i % 50, 'x') + "\",\"price\":" + std::to_string(price) +
           ",\"scraped_at\":\"day" + std::to_string(day) + "\"}\n";
  }
  static std::string Day(int day, int changed_every, int n = 2000) {
    std::string body;
    for (int i = 0; i < n; ++i) {
      if (i % 97 == 5) body += "\n  \r\n";  // blank lines are skipped, not items
      body += Line(i, day, changed_every);
    }
    return body;
  }

  // Imports `body` (full mode) in pieces of `piece` bytes: its stats or its
  // error.
  std::string ImportInPieces(const std::string& body, size_t piece) {
    ImportOptions o;
    o.format = BodyFormat::kNdjson;
    o.mode = ImportMode::kFull;
    o.allow_mass_removal = true;
    auto session = engine_->BeginImport(t_, s_, o);
    EXPECT_TRUE(session.ok());
    if (!session.ok()) return session.status().ToString();
    Status st;
    for (size_t at = 0; at < body.size() && st.ok(); at += piece) {
      st = (*session)->Append(std::string_view(body).substr(at, piece));
    }
    StatusOr<ImportResult> r = st.ok() ? (*session)->Finish() : StatusOr<ImportResult>(st);
    if (!r.ok()) return r.status().ToString() + "; ";
    return fmt::format("received {} created {} updated {} unchanged {} removed {}; ",
                       r->stats.received, r->stats.created, r->stats.updated,
                       r->stats.unchanged, r->stats.removed);
  }

  // Opens an engine on a fresh directory, imports each of `days` (full
  // mode) in pieces of `piece` bytes and says what came of it.
  Outcome Run(const std::vector<std::string>& days, size_t piece) {
    OpenFresh();
    std::string result;
    for (const std::string& body : days) result += ImportInPieces(body, piece);
    return Now(std::move(result));
  }

  void OpenFresh() {
    engine_.reset();
    const std::string path = dir_.sub("split-run");
    std::filesystem::remove_all(path);
    EngineOptions eo;
    eo.path = path;
    eo.import_buffer_bytes = 4096;  // the lock is taken early: most states are read by the parsers
    eo.write_chunk_bytes = 16384;
    eo.sync_writes = false;  // what is compared is the outcome, not its durability
    auto e = Engine::Open(eo);
    EXPECT_TRUE(e.ok()) << e.status().ToString();
    if (!e.ok()) return;
    engine_ = std::move(e).value();
    t_ = NewTenant();
    s_ = NewSource(t_, {"scraped_at"});
  }

  // The stored state now, with `result`.
  Outcome Now(std::string result) {
    Outcome out;
    out.result = std::move(result);
    for (const PropertyRecord& p : List(t_, Src(s_))) {
      out.listed += p.external_id + " v" + std::to_string(p.version) + " " + p.hash + " " +
                    p.data + "\n";
    }
    out.last_seq = *engine_->LastSeq(t_);
    ExpectViewsEqualFold();
    return out;
  }

  TenantId t_ = 0;
  uint32_t s_ = 0;
};

constexpr size_t kOneThread = 30011;  // pieces below the split threshold

TEST_F(ImportSplitTest, SameResultsAsOneParser) {
  // Day 1: scraped_at moved everywhere, every 7th price changed; day 2:
  // 20 listings gone, every 5th price changed; day 1 again.
  const std::vector<std::string> days = {Day(0, 0), Day(1, 7), Day(2, 5, 1900), Day(1, 7)};
  const Outcome one = Run(days, kOneThread);
  EXPECT_NE(one.result.find("updated 286"), std::string::npos) << one.result;
  for (size_t piece : {70001u, 100003u, 262144u}) {
    SCOPED_TRACE(piece);
    const Outcome two = Run(days, piece);
    EXPECT_EQ(two.result, one.result);
    EXPECT_EQ(two.listed, one.listed);
    EXPECT_EQ(two.last_seq, one.last_seq);
  }
}

TEST_F(ImportSplitTest, ABadLineAnywhereIsRefusedAsByOneParser) {
  const std::string day0 = Day(0, 0);
  struct Bad {
    const char* what;
    std::string line;
  };
  const std::vector<Bad> bads = {
      {"malformed", "{\"external_id\":\"Z\",\"price\":}\n"},
      {"no id", "{\"price\":1}\n"},
      // Well-formed, so deferred: refused later, on the apply thread.
      {"too deep", "{\"external_id\":\"Z\",\"d\":" + std::string(200, '[') +
                       std::string(200, ']') + "}\n"},
      {"duplicate key", "{\"external_id\":\"Z\",\"p\":1,\"p\":2}\n"},
      {"duplicate id", Line(3, 1, 0)},
  };
  const std::string day1 = Day(1, 7);
  const Outcome before = Run({day0}, kOneThread);
  ASSERT_NE(before.result.find("created 2000"), std::string::npos) << before.result;
  for (const Bad& bad : bads) {
    // The bad line at many places: early (before the lock), in the first or
    // the second part of a split chunk, across a chunk boundary, last.
    for (size_t at = 0; at <= day1.size() + 1; at += day1.size() / 9) {
      size_t cut = day1.find('\n', at);
      cut = cut == std::string::npos ? day1.size() : cut + 1;
      const std::string body = day1.substr(0, cut) + bad.line + day1.substr(cut);
      SCOPED_TRACE(std::string(bad.what) + " after byte " + std::to_string(cut));
      const std::string one = ImportInPieces(body, kOneThread);
      const std::string two = ImportInPieces(body, 70001);
      EXPECT_EQ(two, one);
      EXPECT_NE(one.find("item "), std::string::npos) << one;
      const Outcome now = Now("");
      EXPECT_EQ(now.listed, before.listed);
      EXPECT_EQ(now.last_seq, before.last_seq);
    }
  }
}

// A session dropped half-way (the client went away) after its apply thread
// took the tenant lock and wrote ahead: nothing visible, the lock released.
TEST_F(ImportTest, AbandonedPipelinedImportWritesNothingAndUnlocks) {
  chunk_bytes_ = 4096;
  buffer_bytes_ = 8192;
  Reopen();
  TenantId t = NewTenant();
  uint32_t s = NewSource(t);
  ASSERT_TRUE(Import(t, s, R"([{"external_id":"keep"}])").ok());
  const uint64_t seq = *engine_->LastSeq(t);
  {
    ImportOptions o;
    o.format = BodyFormat::kNdjson;
    auto session = engine_->BeginImport(t, s, o);
    ASSERT_TRUE(session.ok());
    for (int i = 0; i < 300; ++i) {
      ASSERT_TRUE((*session)
                      ->Append("{\"external_id\":\"x" + std::to_string(i) + "\",\"d\":\"" +
                               std::string(100, 'y') + "\"}\n")
                      .ok());
    }
  }  // dropped without Finish
  EXPECT_EQ(*engine_->LastSeq(t), seq);
  ASSERT_EQ(List(t, Src(s)).size(), 1u);
  auto r = Import(t, s, R"([{"external_id":"after"}])");  // would hang if the lock leaked
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  Reopen();
  EXPECT_EQ(List(t, Src(s)).size(), 2u);
  ExpectViewsEqualFold();
}

// Into a stream that never had a property the import reads no state (every
// item is new); a stream whose properties were all removed still has their
// state records, and re-created ids continue their versions.
TEST_F(ImportTest, AStreamWhosePropertiesWereAllRemovedKeepsTheirVersions) {
  TenantId t = NewTenant();
  uint32_t s = NewSource(t);
  ASSERT_TRUE(Import(t, s, R"([{"external_id":"a"},{"external_id":"b"}])").ok());
  auto r = Import(t, s, "[]", ImportMode::kFull, /*allow=*/true);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->stats.removed, 2u);
  ASSERT_TRUE(List(t, Src(s)).empty());
  r = Import(t, s, R"([{"external_id":"b","v":1},{"external_id":"c"}])");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->stats.created, 2u);
  auto b = engine_->GetProperty(t, Src(s), "b", {});
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->version, 3u);  // created, removed, created
  auto c = engine_->GetProperty(t, Src(s), "c", {});
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->version, 1u);
  ExpectViewsEqualFold();
}

// Whether the stream is empty is decided under the tenant's lock, not when
// the session begins: an import committed in between is seen.
TEST_F(ImportTest, ASessionBegunOnAnEmptySourceSeesAnImportCommittedMeanwhile) {
  TenantId t = NewTenant();
  uint32_t s = NewSource(t);
  auto session = engine_->BeginImport(t, s, ImportOptions());
  ASSERT_TRUE(session.ok()) << session.status().ToString();
  ASSERT_TRUE(Import(t, s, R"([{"external_id":"a","price":1}])").ok());
  ASSERT_TRUE((*session)->Append(R"([{"external_id":"a","price":2},{"external_id":"b"}])").ok());
  auto r = (*session)->Finish();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->stats.updated, 1u);
  EXPECT_EQ(r->stats.created, 1u);
  auto a = engine_->GetProperty(t, Src(s), "a", {});
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->version, 2u);
  ExpectViewsEqualFold();
}

TEST_F(ImportTest, UnknownSourceOrTenantIsNotFound) {
  TenantId t = NewTenant();
  EXPECT_EQ(Import(t, 99, "[]").status().code(), Code::kNotFound);
  EXPECT_EQ(Import(t + 5, 1, "[]").status().code(), Code::kNotFound);
}

TEST_F(ImportTest, LargeImportWrittenAheadInChunksIsAtomic) {
  chunk_bytes_ = 4096;  // force many write-ahead chunks
  buffer_bytes_ = 8192;
  Reopen();
  TenantId t = NewTenant();
  uint32_t s = NewSource(t);
  std::string ok = "[", bad = "[";
  for (int i = 0; i < 500; ++i) {
    std::string item = "{\"external_id\":\"id" + std::to_string(i) + "\",\"d\":\"" +
                       std::string(100, 'x') + "\"}";
    ok += (i ? "," : "") + item;
    bad += (i ? "," : "") + item;
  }
  ok += "]";
  bad += ",{\"external_id\":\"id3\"}]";  // duplicate at the very end
  uint64_t seq = *engine_->LastSeq(t);
  auto r = Import(t, s, bad);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(*engine_->LastSeq(t), seq);
  EXPECT_TRUE(List(t, Src(s)).empty());
  r = Import(t, s, ok);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(List(t, Src(s)).size(), 500u);
  Reopen();
  EXPECT_EQ(List(t, Src(s)).size(), 500u);
  ExpectViewsEqualFold();
}

// ImportOptions::body_bytes_hint reserves a new source's view batch; a
// hint too small, none, or larger than the body changes nothing else: each
// source ends with the same properties, and views == fold(log).
TEST_F(ImportTest, ABodySizeHintChangesOnlyTheReservation) {
  TenantId t = NewTenant();
  std::string body = "[";
  for (int i = 0; i < 300; ++i) {
    body += (i ? "," : "") + std::string("{\"external_id\":\"h") + std::to_string(i) +
            "\",\"d\":\"" + std::string(50 + i % 13, 'x') + "\"}";
  }
  body += "]";
  std::vector<std::vector<std::pair<std::string, std::string>>> lists;
  for (uint64_t hint : {uint64_t{0}, uint64_t{1}, uint64_t{body.size()}, uint64_t{64} << 20}) {
    SCOPED_TRACE("hint " + std::to_string(hint));
    const uint32_t s = NewSource(t);
    ImportOptions o;
    o.body_bytes_hint = hint;
    auto r = engine_->Import(t, s, o, body);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->stats.created, 300u);
    // A second import into the now non-empty source takes no reservation.
    auto again = engine_->Import(t, s, o, body);
    ASSERT_TRUE(again.ok()) << again.status().ToString();
    EXPECT_EQ(again->stats.unchanged, 300u);
    std::vector<std::pair<std::string, std::string>> rows;
    for (const PropertyRecord& p : List(t, Src(s))) rows.emplace_back(p.external_id, p.data);
    lists.push_back(std::move(rows));
  }
  for (size_t i = 1; i < lists.size(); ++i) EXPECT_EQ(lists[i], lists[0]);
  EXPECT_EQ(lists[0].size(), 300u);
  ExpectViewsEqualFold();
}

// The set of an import's new ids (engine/id_set.h) against std::set: ids
// that differ only past a zero byte, by length or in the last byte, the
// empty id, 256-byte ids, growth past several rehashes, and reuse after
// Clear.
TEST(IdSetTest, FindsEveryDuplicateAndNothingElse) {
  IdSet set;
  std::set<std::string> ref;
  auto insert = [&](const std::string& id) {
    const bool fresh = ref.insert(id).second;
    ASSERT_EQ(set.Insert(id), fresh) << "id of " << id.size() << " bytes";
  };
  for (int round = 0; round < 2; ++round) {
    for (int i = 0; i < 20000; ++i) {
      const std::string id = "P" + std::to_string((i * 7919) % 15000);  // a third are repeats
      insert(id);
      insert(id + std::string(1, '\0'));
      insert(id + std::string(1, '\0') + "x");
      if (i % 100 == 0) insert(std::string(256, static_cast<char>('a' + i % 26)));
    }
    insert("");
    insert("");
    EXPECT_EQ(set.size(), ref.size());
    for (const std::string& id : ref) EXPECT_TRUE(set.Contains(id));
    EXPECT_FALSE(set.Contains("P15000"));
    EXPECT_FALSE(set.Contains(std::string("P1") + std::string(2, '\0')));
    set.Clear();
    ref.clear();
    EXPECT_EQ(set.size(), 0u);
    EXPECT_FALSE(set.Contains("P1"));
  }
}

}  // namespace
}  // namespace syncmgr::testing
