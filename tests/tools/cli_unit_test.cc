// Unit tests of the command line's pieces that need no process: the import
// format rule, the argument parser, JSON writing and reading.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "server/feed_reader.h"
#include "server/feed_stream.h"
#include "tools/api_call.h"
#include "tools/args.h"
#include "tools/import_input.h"
#include "tools/ndjson_convert.h"
#include "wire/api_parse.h"
#include "wire/api_render.h"
#include "wire/feed_json.h"
#include "wire/json_writer.h"
#include "wire/redact.h"
#include "wire/time_format.h"

namespace syncmgr::cli {
namespace {

TEST(CliSniffImportFormat, ArrayIsJson) {
  EXPECT_EQ(SniffImportFormat("  [{\"id\": 1}]", false), Sniff::kJson);
  EXPECT_EQ(SniffImportFormat("[", false), Sniff::kJson);
}

TEST(CliSniffImportFormat, SeveralObjectsAreNdjson) {
  EXPECT_EQ(SniffImportFormat("{\"id\":1}\n{\"id\":2}\n", false), Sniff::kNdjson);
  // Even when the first listing has a "data" array member.
  EXPECT_EQ(SniffImportFormat("{\"data\":[1],\"id\":1}\n{\"id\":2}", false), Sniff::kNdjson);
}

TEST(CliSniffImportFormat, WrapperIsJson) {
  EXPECT_EQ(SniffImportFormat("{\"data\": [{\"id\": 1}]}", true), Sniff::kJson);
  EXPECT_EQ(SniffImportFormat("{\"mode\":\"full\",\"data\" : [ ]}\n", true), Sniff::kJson);
  EXPECT_EQ(SniffImportFormat("{\"allow_mass_removal\":true,\"data\":[]}", true), Sniff::kJson);
}

TEST(CliSniffImportFormat, SingleListingIsNdjson) {
  EXPECT_EQ(SniffImportFormat("{\"id\": 1, \"data\": [1]}\n", true), Sniff::kNdjson);
  EXPECT_EQ(SniffImportFormat("{\"data\": {\"x\": 1}}", true), Sniff::kNdjson);
}

TEST(CliSniffImportFormat, PrettyPrintedObjectIsJson) {
  EXPECT_EQ(SniffImportFormat("{\n  \"data\": [\n", false), Sniff::kJson);
  EXPECT_EQ(SniffImportFormat("{\"id\": 1,\n \"x\": 2}", false), Sniff::kJson);
}

TEST(CliSniffImportFormat, NeedsMoreUntilDecided) {
  EXPECT_EQ(SniffImportFormat("", false), Sniff::kNeedMore);
  EXPECT_EQ(SniffImportFormat("{\"data\": [{\"id\": 1}", false), Sniff::kNeedMore);
  // Complete object, but is anything following?
  EXPECT_EQ(SniffImportFormat("{\"id\": 1}", false), Sniff::kNeedMore);
  // Window full on one line: decided by what was seen.
  EXPECT_EQ(SniffImportFormat("{\"data\": [{\"id\": 1}", true), Sniff::kJson);
  EXPECT_EQ(SniffImportFormat("{\"id\": \"x\", \"p\": [1", true), Sniff::kNdjson);
}

TEST(CliSniffImportFormat, StringsDoNotConfuseTheScanner) {
  EXPECT_EQ(SniffImportFormat("{\"data\": [\"}\\\"{\"]}", true), Sniff::kJson);
  EXPECT_EQ(SniffImportFormat("{\"id\": \"a}b\"}\n{\"id\": 2}", false), Sniff::kNdjson);
}

TEST(CliSniffImportFormat, EmptyOrGarbageIsJson) {
  // The engine then reports the error of a JSON body.
  EXPECT_EQ(SniffImportFormat("", true), Sniff::kJson);
  EXPECT_EQ(SniffImportFormat("hello", true), Sniff::kJson);
}

TEST(CliFormatFromFileName, Extensions) {
  EXPECT_EQ(FormatFromFileName("a.ndjson"), BodyFormat::kNdjson);
  EXPECT_EQ(FormatFromFileName("dir/a.jsonl"), BodyFormat::kNdjson);
  EXPECT_EQ(FormatFromFileName("a.json"), std::nullopt);
  EXPECT_EQ(FormatFromFileName("-"), std::nullopt);
}

TEST(CliFileImportInput, ReplaysSniffedBytesThenTheRest) {
  std::string path = ::testing::TempDir() + "/cli_unit_input_" + std::to_string(::getpid());
  std::string content = "{\"id\":1}\n{\"id\":2}\n";
  content += std::string(3 << 20, ' ');  // longer than one read
  content += "{\"id\":3}\n";
  std::ofstream(path) << content;
  auto input = FileImportInput::Open(path);
  ASSERT_TRUE(input.ok());
  auto format = (*input)->DetectFormat();
  ASSERT_TRUE(format.ok());
  EXPECT_EQ(*format, BodyFormat::kNdjson);
  EXPECT_EQ((*input)->size_hint(), content.size());
  std::string all, chunk;
  for (int i = 0; i < 100; ++i) {
    ASSERT_TRUE((*input)->Next(&chunk, 1 << 20).ok());
    if (chunk.empty()) break;
    all += chunk;
  }
  EXPECT_EQ(all, content);
  std::filesystem::remove(path);
}

TEST(CliFileImportInput, MissingFileIsNotFound) {
  auto input = FileImportInput::Open("/nonexistent/x.json");
  ASSERT_FALSE(input.ok());
  EXPECT_EQ(input.status().code(), Code::kNotFound);
}

// An input that yields `text` in pieces of `piece` bytes.
class PiecewiseInput : public ImportInput {
 public:
  PiecewiseInput(std::string text, size_t piece) : text_(std::move(text)), piece_(piece) {}
  Status Next(std::string* chunk, size_t) override {
    *chunk = text_.substr(pos_, piece_);
    pos_ += chunk->size();
    return Status::Ok();
  }
  uint64_t size_hint() const override { return text_.size(); }
  uint64_t bytes_read() const override { return pos_; }

 private:
  std::string text_;
  size_t piece_;
  size_t pos_ = 0;
};

// Converts `json` fed in every piece size from 1 to its length; all must
// agree. Returns the NDJSON, or "error: " + the message.
std::string ToNdjson(const std::string& json) {
  std::string first;
  for (size_t piece = 1; piece <= std::max<size_t>(json.size(), 1); ++piece) {
    PiecewiseInput inner(json, piece);
    JsonArrayToNdjson conv(&inner);
    std::string out, chunk;
    Status st;
    while (true) {
      st = conv.Next(&chunk, 1 << 20);
      if (!st.ok() || chunk.empty()) break;
      out += chunk;
    }
    std::string result = st.ok() ? out : "error: " + st.message();
    if (piece == 1) {
      first = result;
    } else if (result != first) {
      return "piece size " + std::to_string(piece) + " differs: " + result.append(" vs ") + first;
    }
  }
  return first;
}

TEST(CliJsonArrayToNdjson, ItemsBecomeLines) {
  EXPECT_EQ(ToNdjson("[]"), "");
  EXPECT_EQ(ToNdjson(" [ ] \n"), "");
  EXPECT_EQ(ToNdjson(R"([{"a": 1, "b": [1, 2]}, {"c": "x, ]}"}])"),
            "{\"a\":1,\"b\":[1,2]}\n{\"c\":\"x, ]}\"}\n");
  EXPECT_EQ(ToNdjson("[\n  {\"q\": \"a\\\"b\"},\n  {}\n]\n"), "{\"q\":\"a\\\"b\"}\n{}\n");
  // Scalars pass through as lines (the server rejects them as non-objects).
  EXPECT_EQ(ToNdjson(R"([1, "s", true, [2]])"), "1\n\"s\"\ntrue\n[2]\n");
}

TEST(CliJsonArrayToNdjson, StructureErrors) {
  EXPECT_TRUE(ToNdjson("[{}").starts_with("error: invalid JSON array: unexpected end of input"));
  EXPECT_TRUE(ToNdjson("[{} {}]").starts_with("error: invalid JSON array: expected ',' or ']'"));
  EXPECT_TRUE(ToNdjson("[{},]").starts_with("error: invalid JSON array: unexpected ']'"));
  EXPECT_TRUE(ToNdjson("[,{}]").starts_with("error: invalid JSON array: unexpected ','"));
  EXPECT_TRUE(ToNdjson("[{}] x").starts_with("error: invalid JSON array: unexpected data"));
  EXPECT_TRUE(ToNdjson("[\"a\nb\"]").starts_with("error: invalid JSON array: raw control"));
  EXPECT_TRUE(ToNdjson("{}").starts_with("error: invalid JSON array: the body does not start"));
  EXPECT_TRUE(ToNdjson("[}]").starts_with("error: invalid JSON array: unexpected '}'"));
}

ArgParser TestParser() {
  return ArgParser({{"db", "DIR", ""}, {"json", "", ""}, {"help", "", ""}},
                   {{.path = "tenant create", .args = {"NAME"}},
                    {.path = "import",
                     .args = {"TENANT", "SOURCE", "FILE"},
                     .flags = {{"mode", "MODE", ""}, {"tag", "T", "", true}},
                     .tenant_arg_optional_remotely = true}});
}

TEST(CliArgParser, CommandsFlagsAndArguments) {
  ArgParser parser = TestParser();
  ParsedArgs args;
  ASSERT_FALSE(parser.Parse(
      {"--db", "d", "import", "1", "--mode=full", "2", "-", "--json", "--tag", "a", "--tag", "b"},
      &args));
  EXPECT_EQ(args.command(), "import");
  EXPECT_EQ(args.Get("db"), "d");
  EXPECT_EQ(args.Get("mode"), "full");
  EXPECT_TRUE(args.Has("json"));
  EXPECT_EQ(args.GetAll("tag"), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(args.positionals(), (std::vector<std::string>{"1", "2", "-"}));
  EXPECT_FALSE(parser.CheckArgCount(args, false));
}

TEST(CliArgParser, DoubleDashEndsFlags) {
  ParsedArgs args;
  ASSERT_FALSE(TestParser().Parse({"tenant", "create", "--", "--odd-name"}, &args));
  EXPECT_EQ(args.positionals(), (std::vector<std::string>{"--odd-name"}));
}

TEST(CliArgParser, UsageErrors) {
  ArgParser parser = TestParser();
  auto error_of = [&](const std::vector<std::string>& argv) {
    ParsedArgs args;
    auto e = parser.Parse(argv, &args);
    return e ? e->message : std::string();
  };
  EXPECT_EQ(error_of({"nope"}), "unknown command 'nope'");
  EXPECT_EQ(error_of({"tenant", "nope"}), "unknown command 'tenant nope'");
  EXPECT_EQ(error_of({"import", "--bogus"}), "unknown flag --bogus");
  EXPECT_EQ(error_of({"import", "-x"}), "unknown flag -x");
  EXPECT_EQ(error_of({"import", "--mode"}), "flag --mode needs a value (MODE)");
  EXPECT_EQ(error_of({"import", "--json=1"}), "flag --json takes no value");
  EXPECT_EQ(error_of({"import", "--mode", "a", "--mode", "b"}), "flag --mode given twice");
  // A command's flag is not known before the command.
  EXPECT_EQ(error_of({"--mode", "full", "import"}), "unknown flag --mode");
}

TEST(CliArgParser, ArgumentCounts) {
  ArgParser parser = TestParser();
  ParsedArgs args;
  ASSERT_FALSE(parser.Parse({"import", "1", "f"}, &args));
  auto local = parser.CheckArgCount(args, false);
  ASSERT_TRUE(local);
  EXPECT_EQ(local->message, "missing argument FILE");
  EXPECT_FALSE(parser.CheckArgCount(args, true));  // TENANT left out remotely
  ParsedArgs one;
  ASSERT_FALSE(parser.Parse({"import", "1"}, &one));
  EXPECT_EQ(parser.CheckArgCount(one, true)->message, "missing argument FILE");
  ParsedArgs extra;
  ASSERT_FALSE(parser.Parse({"tenant", "create", "a", "b"}, &extra));
  EXPECT_EQ(parser.CheckArgCount(extra, false)->message, "unexpected argument 'b'");
}

TEST(CliArgParser, ArgumentsThatLookLikeCommandsOrStdin) {
  ParsedArgs args;
  // A command's name as an argument stays an argument (a tenant named
  // "import"), and a lone "-" is stdin.
  ASSERT_FALSE(TestParser().Parse({"tenant", "create", "import"}, &args));
  EXPECT_EQ(args.positionals(), (std::vector<std::string>{"import"}));
  ParsedArgs dash;
  ASSERT_FALSE(TestParser().Parse({"import", "1", "import", "-"}, &dash));
  EXPECT_EQ(dash.positionals(), (std::vector<std::string>{"1", "import", "-"}));
}

TEST(CliArgParser, AnErrorNamesTheCommandItWasIn) {
  ArgParser parser = TestParser();
  auto command_of = [&](const std::vector<std::string>& argv) {
    ParsedArgs args;
    auto e = parser.Parse(argv, &args);
    return e ? e->command : std::string("(no error)");
  };
  EXPECT_EQ(command_of({"import", "--bogus"}), "import");
  EXPECT_EQ(command_of({"--bogus", "import"}), "");
  EXPECT_EQ(command_of({"tenant", "--bogus", "create"}), "tenant");
  EXPECT_EQ(command_of({"tenant", "nope"}), "tenant");
  EXPECT_EQ(command_of({"import", "--mode"}), "import");
}

TEST(CliArgParser, HelpTexts) {
  ArgParser parser = TestParser();
  EXPECT_NE(parser.TopLevelHelp().find("tenant create"), std::string::npos);
  EXPECT_NE(parser.GroupHelp("tenant").find("tenant create"), std::string::npos);
  std::string help = parser.CommandHelp(*parser.Find("import"));
  EXPECT_NE(help.find("Usage: syncmgr import [flags] TENANT SOURCE FILE"), std::string::npos);
  EXPECT_NE(help.find("--mode MODE"), std::string::npos);
}

TEST(CliJsonWriter, NestedValuesAndEscaping) {
  std::string out;
  wire::JsonWriter w(&out);
  w.BeginObject();
  w.Key("a");
  w.BeginArray();
  w.Uint(1);
  w.Int(-2);
  w.Double(0.5);
  w.Bool(true);
  w.Null();
  w.EndArray();
  w.Key("s");
  w.String("q\"\\\n\x01é");
  w.Key("raw");
  w.Raw("{\"x\":1}");
  w.EndObject();
  EXPECT_EQ(out, "{\"a\":[1,-2,0.5,true,null],\"s\":\"q\\\"\\\\\\n\\u0001é\",\"raw\":{\"x\":1}}");
}

// The command line shows configs with the wire layer's one redactor, the
// server's rule (tests/wire/redact_test.cc has the whole of it): a DSN's
// key=value password is shown as '***', and a config that is not an object
// is never echoed.
TEST(CliApiJson, RedactsSecrets) {
  std::string out =
      wire::RedactConfig(
          R"({"url":"http://x","secret":"whsec_abc","bearer_token":"t","batch_size":5})")
          .json;
  EXPECT_EQ(out, R"({"url":"http://x","secret":"***","bearer_token":"***","batch_size":5})");
  EXPECT_EQ(wire::RedactConfig(R"({"dsn":"postgresql://u:pw@h/db"})").json,
            R"({"dsn":"postgresql://u:***@h/db"})");
  EXPECT_EQ(wire::RedactConfig(R"({"dsn":"host=h password=pw dbname=d"})").json,
            R"({"dsn":"host=h password='***' dbname=d"})");
  EXPECT_EQ(wire::RedactConfig("not json").json, "{}");
  EXPECT_TRUE(wire::RedactConfig("not json").unreadable);
}

TEST(CliApiJson, ErrorAnswers) {
  Status st = wire::ParseApiError(404, R"({"error":{"code":"not_found","message":"source 3"}})");
  EXPECT_EQ(st.code(), Code::kNotFound);
  EXPECT_EQ(st.ToString(), "not_found: source 3");
  EXPECT_EQ(wire::ParseApiError(409, R"({"error":{"code":"mass_removal","message":"m"}})").code(),
            Code::kMassRemoval);
  Status other =
      wire::ParseApiError(431, R"({"error":{"code":"headers_too_large","message":"h"}})");
  EXPECT_EQ(other.message(), "headers_too_large: h");
  Status proxy = wire::ParseApiError(502, "<html>Bad Gateway</html>\nmore");
  EXPECT_EQ(proxy.message(), "server answered HTTP 502: <html>Bad Gateway</html>");
}

TEST(CliApiJson, RoundTripsAnswers) {
  SourceInfo source{.id = 2,
                    .name = "p",
                    .type = "scraper",
                    .id_field = "",
                    .ignore_fields = {"a"},
                    .max_removal_ratio = 0.5,
                    .created_at_us = 0,
                    .live_count = 7};
  SourceInfo back;
  ASSERT_TRUE(wire::Parse(wire::ToJson(source, wire::WriteSource), &back).ok());
  EXPECT_EQ(back.id, 2u);
  EXPECT_EQ(back.live_count, std::optional<uint64_t>(7));
  EXPECT_EQ(back.ignore_fields, std::vector<std::string>{"a"});
  EXPECT_EQ(back.max_removal_ratio, 0.5);

  SyncResult sync{.sync_id = 4,
                  .seq = 9,
                  .stats = {1, 2, 3, 4, 5},
                  .warnings = {{"x", "manual_change", "kept"}}};
  SyncResult sync_back;
  const std::string sync_json = wire::ToJson(
      sync, [](wire::JsonWriter& w, const SyncResult& r) { wire::WriteSyncResult(w, r, false); });
  ASSERT_TRUE(wire::Parse(sync_json, &sync_back).ok());
  EXPECT_EQ(sync_back.stats.conflicts, 5u);
  ASSERT_EQ(sync_back.warnings.size(), 1u);
  EXPECT_EQ(sync_back.warnings[0].message, "kept");

  ImportResult imp{.import_id = 3, .seq = 7, .stats = {5, 4, 3, 2, 1}};
  ImportResult imp_back;
  ASSERT_TRUE(wire::Parse(wire::ToJson(imp, wire::WriteImportResult), &imp_back).ok());
  EXPECT_EQ(imp_back.stats.received, 5u);
  EXPECT_EQ(imp_back.import_id, 3u);
}

TEST(CliApiJson, RoundTripsReadAnswers) {
  PropertyRecord p{.external_id = "a/b",
                   .data = R"({"external_id":"a/b","price":1.5})",
                   .hash = "0123456789abcdef0123456789abcdef",
                   .version = 3,
                   .updated_at_us = 1'700'000'000'123'456,
                   .seq = 42,
                   .source_id = 2,
                   .manually_modified = true,
                   .removed = false};
  PropertyRecord back;
  ASSERT_TRUE(wire::Parse(wire::ToJson(p, [](wire::JsonWriter& w, const PropertyRecord& r) {
                                    wire::WriteProperty(w, r, StreamKind::kTarget);
                                  }),
                                  &back)
                  .ok());
  EXPECT_EQ(back.external_id, "a/b");
  EXPECT_EQ(back.data, p.data);
  EXPECT_EQ(back.version, 3u);
  EXPECT_EQ(back.updated_at_us, p.updated_at_us);
  EXPECT_EQ(back.source_id, 2u);
  EXPECT_TRUE(back.manually_modified);

  HistoryEntry h{.version = 2,
                 .seq = 9,
                 .time_us = 5,
                 .hash = "",
                 .data = std::nullopt,
                 .removed = true,
                 .changed_fields = std::vector<std::string>{"price"},
                 .cause = CauseKind::kSync,
                 .cause_id = 4};
  std::vector<HistoryEntry> history;
  ASSERT_TRUE(wire::Parse(wire::ToJsonArray(std::vector<HistoryEntry>{h},
                                                   wire::WriteHistoryEntry),
                                 &history)
                  .ok());
  ASSERT_EQ(history.size(), 1u);
  EXPECT_TRUE(history[0].removed);
  EXPECT_FALSE(history[0].data.has_value());
  EXPECT_EQ(history[0].changed_fields, std::vector<std::string>{"price"});
  EXPECT_EQ(history[0].cause, CauseKind::kSync);
  EXPECT_EQ(history[0].cause_id, 4u);

  ApiKeyIssued issued{.info = {.prefix = "smk_0123abcd", .tenant = 7, .revoked = false,
                               .time_us = 1'000'000},
                      .api_key = "smk_0123abcd..."};
  ApiKeyIssued issued_back;
  ASSERT_TRUE(
      wire::Parse(wire::ToJson(issued, wire::WriteApiKeyIssued), &issued_back).ok());
  EXPECT_EQ(issued_back.api_key, issued.api_key);
  EXPECT_EQ(issued_back.info.prefix, "smk_0123abcd");
  EXPECT_EQ(issued_back.info.tenant, 7u);
  ApiKeyInfo revoked{.prefix = "smk_0123abcd", .tenant = 7, .revoked = true, .time_us = 2'000'000};
  ApiKeyInfo revoked_back;
  ASSERT_TRUE(wire::Parse(wire::ToJson(revoked, wire::WriteApiKey), &revoked_back).ok());
  EXPECT_TRUE(revoked_back.revoked);
  EXPECT_EQ(revoked_back.time_us, 2'000'000);
}

// The feed command prints each event of a page as its own bytes.
TEST(CliApiJson, FeedPageEventsKeepTheirBytes) {
  server::FeedPage page;
  LogEvent created;
  created.seq = 7;
  created.time_us = 1'700'000'000'000'001;
  created.type = EventType::kPropertyCreated;
  created.stream = {StreamKind::kTarget, 3};
  created.external_id = "x \"q\"";
  created.version = 1;
  created.hash = "0123456789abcdef0123456789abcdef";
  created.data = R"({"a":[1,2.5,{"b":null}],"external_id":"x \"q\""})";
  LogEvent completed;
  completed.seq = 9;
  completed.type = EventType::kImportCompleted;
  completed.summary_json = R"({"import_id":1})";
  page.events = {created, completed};
  page.last_seq = 12;
  std::string json;
  server::WriteFeedPage(&json, page);
  std::vector<wire::RawFeedEvent> events;
  uint64_t last_seq = 0;
  ASSERT_TRUE(wire::ParseFeedPage(json, &events, &last_seq).ok()) << json;
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].seq, 7u);
  EXPECT_EQ(events[0].json, wire::FeedEventJson(created));
  EXPECT_EQ(events[1].seq, 9u);
  EXPECT_EQ(events[1].json, wire::FeedEventJson(completed));
  EXPECT_EQ(last_seq, 12u);
  EXPECT_FALSE(wire::ParseFeedPage("{\"events\":[{\"x\":1}],\"last_seq\":1}", &events, &last_seq).ok());
  EXPECT_FALSE(wire::ParseFeedPage("not json", &events, &last_seq).ok());
}

TEST(CliApiCall, EncodesPathSegmentsAndQueries) {
  EXPECT_EQ(PathSegment("a/b c%é"), "a%2Fb%20c%25%C3%A9");
  EXPECT_EQ(PathSegment("A-z_0.~"), "A-z_0.~");
  EXPECT_EQ(QueryString({{"as_of", "2026-03-03T12:00:00+01:00"}, {"after", "a&b=c"}}),
            "as_of=2026-03-03T12%3A00%3A00%2B01%3A00&after=a%26b%3Dc");
  EXPECT_EQ(Target(ApiCall{.path = "/imports"}), "/imports");
  EXPECT_EQ(Target(ApiCall{.path = "/feed", .query = {{"since", "4"}}}), "/feed?since=4");
}

TEST(CliJsonArrayToNdjson, PushModeSplitsAnArrivingArray) {
  const std::string json = R"([{"a":"x,]"},{"b":[1,{"c":2}]}])";
  for (size_t piece = 1; piece <= json.size(); ++piece) {
    JsonArrayToNdjson splitter(nullptr);
    std::string out;
    for (size_t at = 0; at < json.size(); at += piece) {
      ASSERT_TRUE(splitter.Push(std::string_view(json).substr(at, piece), &out).ok());
    }
    EXPECT_TRUE(splitter.Finish().ok());
    EXPECT_EQ(out, "{\"a\":\"x,]\"}\n{\"b\":[1,{\"c\":2}]}\n") << piece;
  }
  JsonArrayToNdjson truncated(nullptr);
  std::string out;
  ASSERT_TRUE(truncated.Push("[{\"a\":1},", &out).ok());
  EXPECT_FALSE(truncated.Finish().ok());
}

TEST(CliApiJson, Rfc3339) {
  EXPECT_EQ(wire::FormatRfc3339(0), "1970-01-01T00:00:00.000000Z");
  EXPECT_EQ(wire::FormatRfc3339(1'700'000'000'123'456), "2023-11-14T22:13:20.123456Z");
}

}  // namespace
}  // namespace syncmgr::cli
