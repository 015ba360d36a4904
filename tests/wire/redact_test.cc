// The one config redactor (wire/redact.h), which every answer uses: the HTTP
// API, the command line in both modes and push delivery.
#include "wire/redact.h"

#include <gtest/gtest.h>

#include <string>

#include "wire/json_writer.h"

namespace syncmgr::wire {
namespace {

// {"dsn": <dsn>} with the DSN quoted as JSON.
std::string DsnConfig(const std::string& dsn) {
  std::string out = R"({"dsn":)";
  AppendJsonString(&out, dsn);
  return out + "}";
}

TEST(RedactConfig, EverySecretKindIsHidden) {
  // Canonical (keys in byte order), as the engine stores configs.
  const std::string config =
      R"({"batch_size":10,"bearer_token":"tok-123","on_failure":"pause","password":"pw-456",)"
      R"("secret":"whsec_789","url":"https://example.com/hook","username":"u"})";
  const RedactedConfig shown = RedactConfig(config);
  EXPECT_FALSE(shown.unreadable);
  EXPECT_EQ(shown.json,
            R"({"batch_size":10,"bearer_token":"***","on_failure":"pause","password":"***",)"
            R"("secret":"***","url":"https://example.com/hook","username":"u"})");
  for (const char* secret : {"tok-123", "pw-456", "whsec_789"}) {
    EXPECT_EQ(shown.json.find(secret), std::string::npos) << secret;
  }
}

TEST(RedactConfig, TheRuleDoesNotDependOnTheType) {
  // Whatever target this config belongs to, a secret's name hides it.
  EXPECT_EQ(RedactConfig(R"({"password":"x","table":"t"})").json,
            R"({"password":"***","table":"t"})");
  // Only strings are secrets' values; anything else is shown as stored.
  EXPECT_EQ(RedactConfig(R"({"secret":null})").json, R"({"secret":null})");
}

TEST(RedactConfig, DsnPasswordIsHiddenInBothForms) {
  EXPECT_EQ(RedactConfig(DsnConfig("postgresql://u:hunter2@db:5432/x?sslmode=require")).json,
            DsnConfig("postgresql://u:***@db:5432/x?sslmode=require"));
  EXPECT_EQ(RedactConfig(DsnConfig("postgres://db/x?password=hunter2")).json,
            DsnConfig("postgres://db/x?password=***"));
  EXPECT_EQ(RedactConfig(DsnConfig("host=db user=u password='hun ter2' dbname=x")).json,
            DsnConfig("host=db user=u password='***' dbname=x"));
  // libpq reads no password here: nothing to hide, shown as it is.
  EXPECT_EQ(RedactConfig(DsnConfig("host=db dbname=x")).json, DsnConfig("host=db dbname=x"));
  // Not a DSN libpq can read: nothing of it is shown.
  EXPECT_EQ(RedactConfig(DsnConfig("host='unterminated password=hunter2")).json, DsnConfig("***"));
}

TEST(RedactConfig, NothingToHideIsShownByteForByte) {
  const std::string config = R"({"dir":"/srv/out","max_attempts":3})";
  const RedactedConfig shown = RedactConfig(config);
  EXPECT_EQ(shown.json, config);
  EXPECT_FALSE(shown.unreadable);
  // No config stored (an internal target): {}.
  EXPECT_EQ(RedactConfig("").json, "{}");
  EXPECT_FALSE(RedactConfig("").unreadable);
}

TEST(RedactConfig, UnparsableConfigIsNeverEchoed) {
  for (const char* config :
       {"not json", R"({"password":"hunter2")", R"("password=hunter2")", R"(["hunter2"])", "null",
        "42", "{\"password\":\"hunter2\"} trailing"}) {
    const RedactedConfig shown = RedactConfig(config);
    EXPECT_EQ(shown.json, "{}") << config;
    EXPECT_TRUE(shown.unreadable) << config;
  }
}

}  // namespace
}  // namespace syncmgr::wire
