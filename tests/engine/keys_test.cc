// The key codec: order-preserving, no two tuples alias, and every key kind
// decodes back to what was encoded while malformed keys are refused.
#include "engine/keys.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <string>
#include <vector>

namespace syncmgr::keys {
namespace {

TEST(KeysTest, IntegersAreBigEndianSoBytesSortNumerically) {
  EXPECT_LT(Log(1, 255), Log(1, 256));
  EXPECT_LT(Log(1, ~0ull), Log(2, 0));
  std::string s;
  PutU64(&s, 0x0102030405060708ull);
  EXPECT_EQ(GetU64(s), 0x0102030405060708ull);
  EXPECT_EQ(s[0], '\x01');
}

TEST(KeysTest, EscapedStringsRoundTripAndKeepOrder) {
  std::vector<std::string> ids = {"", "a", std::string("a\0", 2), std::string("a\0b", 3), "ab",
                                  "b", std::string("\xff", 1)};
  std::vector<std::string> encoded;
  for (const auto& id : ids) {
    std::string k;
    PutEscaped(&k, id);
    std::string back;
    auto used = GetEscaped(k, &back);
    ASSERT_TRUE(used.has_value());
    EXPECT_EQ(*used, k.size());
    EXPECT_EQ(back, id);
    encoded.push_back(k);
  }
  EXPECT_TRUE(std::is_sorted(encoded.begin(), encoded.end()));
}

TEST(KeysTest, HistoryKeysOfOneIdNeverInterleaveWithAnother) {
  StreamRef s{StreamKind::kSource, 1};
  // "a" at any seq sorts before "a\0..." and "ab" at any seq.
  EXPECT_LT(History(1, s, "a", ~0ull), History(1, s, std::string("a\0", 2), 0));
  EXPECT_LT(History(1, s, "a", ~0ull), History(1, s, "ab", 0));
  std::string prefix = HistoryPrefix(1, s, "a");
  EXPECT_TRUE(History(1, s, "a", 5).starts_with(prefix));
  EXPECT_FALSE(History(1, s, "ab", 5).starts_with(prefix));
  EXPECT_LT(History(1, s, "a", 5), PrefixEnd(prefix));
  EXPECT_GT(History(1, s, "ab", 0), PrefixEnd(prefix));
}

TEST(KeysTest, StreamsAndTenantsArePrefixSeparated) {
  StreamRef src{StreamKind::kSource, 1}, tgt{StreamKind::kTarget, 1};
  EXPECT_FALSE(State(1, src, "x").starts_with(StatePrefix(1, tgt)));
  EXPECT_FALSE(State(1, src, "x").starts_with(StatePrefix(2, src)));
  EXPECT_TRUE(State(1, src, "x").starts_with(StatePrefix(1, src)));
  EXPECT_EQ(PrefixEnd(std::string("a\xff", 2)), "b");
}

// ---- Decoders ------------------------------------------------------------------

constexpr StreamRef kSrc{StreamKind::kSource, 7};
constexpr StreamRef kTgt{StreamKind::kTarget, 0xfffffffe};

bool SameStream(StreamRef a, StreamRef b) { return a.kind == b.kind && a.id == b.id; }

const std::string kHash(32, '\x5a');  // a SHA-256 stand-in

TEST(KeysDecodeTest, EveryKeyKindRoundTrips) {
  TenantId t = 0;
  StreamRef st;
  uint64_t u64 = 0;
  uint32_t a = 0, b = 0;
  std::string_view view;
  std::string owned;

  ASSERT_TRUE(DecodeLog(Log(3, 0x0102030405060708ull), &t, &u64));
  EXPECT_EQ(t, 3u);
  EXPECT_EQ(u64, 0x0102030405060708ull);

  ASSERT_TRUE(DecodeStreamIndex(StreamIndex(4, kTgt, 99), &t, &st, &u64));
  EXPECT_EQ(t, 4u);
  EXPECT_TRUE(SameStream(st, kTgt));
  EXPECT_EQ(u64, 99u);

  const std::string with_nul("a\0b\xff", 4);
  const std::string state = State(5, kSrc, with_nul);  // `view` points into it
  ASSERT_TRUE(DecodeState(state, &t, &st, &view));
  EXPECT_EQ(t, 5u);
  EXPECT_TRUE(SameStream(st, kSrc));
  EXPECT_EQ(view, with_nul);

  ASSERT_TRUE(DecodeHistory(History(6, kSrc, with_nul, 12), &t, &st, &owned, &u64));
  EXPECT_EQ(t, 6u);
  EXPECT_TRUE(SameStream(st, kSrc));
  EXPECT_EQ(owned, with_nul);
  EXPECT_EQ(u64, 12u);

  ASSERT_TRUE(DecodeDense(Dense(7, kTgt, 42), &t, &st, &a));
  EXPECT_EQ(t, 7u);
  EXPECT_TRUE(SameStream(st, kTgt));
  EXPECT_EQ(a, 42u);

  ASSERT_TRUE(DecodeTenantRecord(TenantRecord(8), &t));
  EXPECT_EQ(t, 8u);
  ASSERT_TRUE(DecodeSourceRecord(SourceRecord(9, 10), &t, &a));
  EXPECT_EQ(t, 9u);
  EXPECT_EQ(a, 10u);
  ASSERT_TRUE(DecodeTargetRecord(TargetRecord(11, 12), &t, &a));
  EXPECT_EQ(t, 11u);
  EXPECT_EQ(a, 12u);
  const std::string token = FeedToken(kHash);
  ASSERT_TRUE(DecodeFeedToken(token, &view));
  EXPECT_EQ(view, kHash);

  const std::string api_key = ApiKeyRecord(kHash);
  ASSERT_TRUE(DecodeApiKeyRecord(api_key, &view));
  EXPECT_EQ(view, kHash);

  ASSERT_TRUE(DecodeImportLog(ImportLog(13, 14), &t, &u64));
  EXPECT_EQ(t, 13u);
  EXPECT_EQ(u64, 14u);
  ASSERT_TRUE(DecodeSyncLog(SyncLog(15, 16), &t, &u64));
  EXPECT_EQ(t, 15u);
  EXPECT_EQ(u64, 16u);
  ASSERT_TRUE(DecodeOpLogValue(OpLogValue(17), &u64));
  EXPECT_EQ(u64, 17u);

  ASSERT_TRUE(DecodeTenantMeta(TenantMeta(18), &t));
  EXPECT_EQ(t, 18u);
  ASSERT_TRUE(DecodeClusterCursor(ClusterCursor(18), &t));
  EXPECT_EQ(t, 18u);
  ASSERT_TRUE(DecodeClusterCursor(ClusterCursor(0), &t));
  EXPECT_EQ(t, 0u);
  ASSERT_TRUE(DecodeStreamMeta(StreamMeta(19, kTgt), &t, &st));
  EXPECT_EQ(t, 19u);
  EXPECT_TRUE(SameStream(st, kTgt));
  ASSERT_TRUE(DecodePair(Pair(20, 21, 22), &t, &a, &b));
  EXPECT_EQ(t, 20u);
  EXPECT_EQ(a, 21u);
  EXPECT_EQ(b, 22u);

  ASSERT_TRUE(DecodeLiveBitmap(LiveBitmap(23, kSrc), &t, &st));
  EXPECT_EQ(t, 23u);
  EXPECT_TRUE(SameStream(st, kSrc));
  ASSERT_TRUE(DecodeManualBitmap(ManualBitmap(35, 36), &t, &a));
  EXPECT_EQ(t, 35u);
  EXPECT_EQ(a, 36u);
  ASSERT_TRUE(DecodeSourceDirty(SourceDirty(24, 25, 26), &t, &a, &b));
  EXPECT_EQ(t, 24u);
  EXPECT_EQ(a, 25u);
  EXPECT_EQ(b, 26u);
  ASSERT_TRUE(DecodeTargetDirty(TargetDirty(27, 28, 29), &t, &a, &b));
  EXPECT_EQ(t, 27u);
  EXPECT_EQ(a, 28u);
  EXPECT_EQ(b, 29u);

  ASSERT_TRUE(DecodeDeliveryState(DeliveryState(30, 31), &t, &a));
  EXPECT_EQ(t, 30u);
  EXPECT_EQ(a, 31u);
  ASSERT_TRUE(DecodeDeadLetterKey(DeadLetterKey(32, 33, 34), &t, &a, &u64));
  EXPECT_EQ(t, 32u);
  EXPECT_EQ(a, 33u);
  EXPECT_EQ(u64, 34u);
}

// The layout is the on-disk format: these bytes must never change.
TEST(KeysDecodeTest, EncodersWriteTheDocumentedBytes) {
  using namespace std::string_literals;
  EXPECT_EQ(Log(1, 2), "\0\0\0\x01\0\0\0\0\0\0\0\x02"s);
  EXPECT_EQ(State(1, kSrc, "x"), "\0\0\0\x01\x01\0\0\0\x07x"s);
  EXPECT_EQ(History(1, kSrc, "x", 2), "\0\0\0\x01\x01\0\0\0\x07x\0\x01\0\0\0\0\0\0\0\x02"s);
  EXPECT_EQ(StreamMeta(1, kSrc), "\0\0\0\x01"s + "D\x01\0\0\0\x07"s);
  EXPECT_EQ(Pair(1, 2, 3), "\0\0\0\x01P\0\0\0\x02\0\0\0\x03"s);
  EXPECT_EQ(ManualBitmap(1, 7), "\0\0\0\x01\0\0\0\x07"s);
  EXPECT_EQ(FeedToken(kHash), "\0\0\0\0F"s + kHash);
  EXPECT_EQ(ApiKeyRecord(kHash), kHash);
  EXPECT_EQ(DeadLetterKey(1, 2, 3), "\0\0\0\x01X\0\0\0\x02\0\0\0\0\0\0\0\x03"s);
  EXPECT_EQ(OpLogValue(5), "\0\0\0\0\0\0\0\x05"s);
}

// One decoder per kind, taking a key and saying whether it parses.
struct KeyKind {
  const char* name;
  std::string sample;
  std::function<bool(std::string_view)> decode;
};

std::vector<KeyKind> AllKinds() {
  TenantId t = 0;
  StreamRef st;
  uint64_t u64 = 0;
  uint32_t a = 0, b = 0;
  std::string_view view;
  std::string owned;
  // The lambdas write into locals captured by value: only the result counts.
  return {
      {"log", Log(1, 2), [=](std::string_view k) mutable { return DecodeLog(k, &t, &u64); }},
      {"stream", StreamIndex(1, kSrc, 2),
       [=](std::string_view k) mutable { return DecodeStreamIndex(k, &t, &st, &u64); }},
      {"state", State(1, kSrc, "i"),  // a one-byte id: any shorter key is malformed
       [=](std::string_view k) mutable { return DecodeState(k, &t, &st, &view); }},
      {"history", History(1, kSrc, "id", 2),
       [=](std::string_view k) mutable { return DecodeHistory(k, &t, &st, &owned, &u64); }},
      {"dense", Dense(1, kSrc, 2),
       [=](std::string_view k) mutable { return DecodeDense(k, &t, &st, &a); }},
      {"tenant record", TenantRecord(1),
       [=](std::string_view k) mutable { return DecodeTenantRecord(k, &t); }},
      {"source record", SourceRecord(1, 2),
       [=](std::string_view k) mutable { return DecodeSourceRecord(k, &t, &a); }},
      {"target record", TargetRecord(1, 2),
       [=](std::string_view k) mutable { return DecodeTargetRecord(k, &t, &a); }},
      {"feed token", FeedToken(kHash),
       [=](std::string_view k) mutable { return DecodeFeedToken(k, &view); }},
      {"api key", ApiKeyRecord(kHash),
       [=](std::string_view k) mutable { return DecodeApiKeyRecord(k, &view); }},
      {"import log", ImportLog(1, 2),
       [=](std::string_view k) mutable { return DecodeImportLog(k, &t, &u64); }},
      {"sync log", SyncLog(1, 2),
       [=](std::string_view k) mutable { return DecodeSyncLog(k, &t, &u64); }},
      {"tenant meta", TenantMeta(1),
       [=](std::string_view k) mutable { return DecodeTenantMeta(k, &t); }},
      {"cluster cursor", ClusterCursor(1),
       [=](std::string_view k) mutable { return DecodeClusterCursor(k, &t); }},
      {"stream meta", StreamMeta(1, kSrc),
       [=](std::string_view k) mutable { return DecodeStreamMeta(k, &t, &st); }},
      {"pair", Pair(1, 2, 3),
       [=](std::string_view k) mutable { return DecodePair(k, &t, &a, &b); }},
      {"live bitmap", LiveBitmap(1, kSrc),
       [=](std::string_view k) mutable { return DecodeLiveBitmap(k, &t, &st); }},
      {"manual bitmap", ManualBitmap(1, 2),
       [=](std::string_view k) mutable { return DecodeManualBitmap(k, &t, &a); }},
      {"source dirty", SourceDirty(1, 2, 3),
       [=](std::string_view k) mutable { return DecodeSourceDirty(k, &t, &a, &b); }},
      {"target dirty", TargetDirty(1, 2, 3),
       [=](std::string_view k) mutable { return DecodeTargetDirty(k, &t, &a, &b); }},
      {"delivery state", DeliveryState(1, 2),
       [=](std::string_view k) mutable { return DecodeDeliveryState(k, &t, &a); }},
      {"dead letter", DeadLetterKey(1, 2, 3),
       [=](std::string_view k) mutable { return DecodeDeadLetterKey(k, &t, &a, &u64); }},
  };
}

TEST(KeysDecodeTest, DecodersRefuseTruncatedAndExtendedKeys) {
  for (const KeyKind& kind : AllKinds()) {
    SCOPED_TRACE(kind.name);
    ASSERT_TRUE(kind.decode(kind.sample));
    for (size_t n = 0; n < kind.sample.size(); ++n) {
      EXPECT_FALSE(kind.decode(std::string_view(kind.sample).substr(0, n))) << "length " << n;
    }
    // A state key ends with its raw external_id, so more bytes are a longer
    // id, not a malformed key.
    if (std::string_view(kind.name) != "state") {
      EXPECT_FALSE(kind.decode(kind.sample + "x"));
      EXPECT_FALSE(kind.decode(kind.sample + std::string(1, '\0')));
    }
  }
}

TEST(KeysDecodeTest, DecodersRefuseKeysOfOtherKinds) {
  const std::vector<KeyKind> kinds = AllKinds();
  // Kinds live in their own column families, so a decoder need not tell
  // them apart; still, only the state decoder, whose key ends with a raw id
  // of any bytes, takes other kinds' samples: those of the keys that start
  // with a stream too.
  auto state_shaped = [](std::string_view decoder, std::string_view key) {
    return decoder == "state" && (key == "stream" || key == "history" || key == "dense");
  };
  for (const KeyKind& decoder : kinds) {
    for (const KeyKind& key : kinds) {
      if (decoder.name == key.name || state_shaped(decoder.name, key.name)) continue;
      EXPECT_FALSE(decoder.decode(key.sample))
          << decoder.name << " decoder accepted a " << key.name << " key";
    }
  }
}

TEST(KeysDecodeTest, DecodersRefuseMalformedParts) {
  TenantId t;
  StreamRef st;
  uint64_t seq;
  std::string id;
  std::string_view view;
  // An unknown stream kind.
  std::string bad_kind = State(1, kSrc, "id");
  bad_kind[4] = 3;
  EXPECT_FALSE(DecodeState(bad_kind, &t, &st, &view));
  bad_kind[4] = 0;
  EXPECT_FALSE(DecodeState(bad_kind, &t, &st, &view));
  // A state key must name an id.
  EXPECT_FALSE(DecodeState(StatePrefix(1, kSrc), &t, &st, &view));
  // A history id whose escape is broken (0x00 followed by neither 0xFF nor
  // 0x01), or whose terminator is missing.
  std::string history = History(1, kSrc, "id", 2);
  std::string broken = history;
  broken[11] = '\x02';  // the 0x01 of the id's terminator
  EXPECT_FALSE(DecodeHistory(broken, &t, &st, &id, &seq));
  EXPECT_FALSE(DecodeHistory(HistoryStreamPrefix(1, kSrc) + "id" + std::string(8, '\0'), &t, &st,
                             &id, &seq));
  // A feed token key under a tenant other than 0.
  std::string token = FeedToken(kHash);
  token[3] = 1;
  EXPECT_FALSE(DecodeFeedToken(token, &view));
  // An API key record is exactly a SHA-256.
  EXPECT_FALSE(DecodeApiKeyRecord(std::string(31, 'a'), &view));
  EXPECT_FALSE(DecodeApiKeyRecord(std::string(33, 'a'), &view));
}

TEST(KeysDecodeTest, DecodedOrderIsEncodedOrder) {
  // Within each kind, byte order of the keys is the order of their tuples.
  std::vector<std::string> log;
  for (TenantId t : {1u, 2u, 256u, 0xffffffffu}) {
    for (uint64_t s : {0ull, 1ull, 255ull, 256ull, ~0ull}) log.push_back(Log(t, s));
  }
  EXPECT_TRUE(std::is_sorted(log.begin(), log.end()));
  std::vector<std::string> history;
  const std::vector<std::string> ids = {
      "", std::string("\0", 1), std::string("\0\0", 2), "a", std::string("a\0", 2), "ab", "b"};
  for (StreamRef s : {StreamRef{StreamKind::kSource, 1}, StreamRef{StreamKind::kSource, 2},
                      StreamRef{StreamKind::kTarget, 1}}) {
    for (const std::string& id : ids) {
      for (uint64_t seq : {1ull, 2ull, 1ull << 40}) history.push_back(History(1, s, id, seq));
    }
  }
  ASSERT_TRUE(std::is_sorted(history.begin(), history.end()));
  // And decoding gives the tuples back in that order.
  std::vector<std::pair<std::string, uint64_t>> decoded;
  for (const std::string& k : history) {
    TenantId t;
    StreamRef s;
    std::string id;
    uint64_t seq;
    ASSERT_TRUE(DecodeHistory(k, &t, &s, &id, &seq));
    if (s.kind == StreamKind::kSource && s.id == 1) decoded.emplace_back(id, seq);
  }
  EXPECT_TRUE(std::is_sorted(decoded.begin(), decoded.end()));
  EXPECT_EQ(decoded.size(), ids.size() * 3);
  std::vector<std::string> dead;
  for (uint32_t target : {1u, 2u}) {
    for (uint64_t id : {1ull, 2ull, 300ull}) dead.push_back(DeadLetterKey(1, target, id));
  }
  EXPECT_TRUE(std::is_sorted(dead.begin(), dead.end()));
  EXPECT_TRUE(DeadLetterKey(1, 1, ~0ull) < DeadLetterPrefix(1, 2));
}

TEST(KeysDecodeTest, ReaderReadsValuesAndRefusesShortOnes) {
  std::string v;
  v.push_back('\x01');
  PutU64(&v, 7);
  PutLengthPrefixed(&v, "error");
  Reader r(v);
  uint8_t b = 0;
  uint64_t n = 0;
  std::string s;
  ASSERT_TRUE(r.U8(&b) && r.U64(&n) && r.LengthPrefixed(&s));
  EXPECT_TRUE(r.Done());
  EXPECT_EQ(b, 1);
  EXPECT_EQ(n, 7u);
  EXPECT_EQ(s, "error");
  // A length that runs past the end is refused and nothing is consumed.
  std::string cut = v.substr(0, v.size() - 1);
  Reader short_reader(cut);
  ASSERT_TRUE(short_reader.U8(&b) && short_reader.U64(&n));
  EXPECT_FALSE(short_reader.LengthPrefixed(&s));
  EXPECT_EQ(short_reader.Rest().size(), 4u + 4u);
}

}  // namespace
}  // namespace syncmgr::keys
