// Key layout of every column family, built and parsed in this one place.
//
// Integers are big-endian so byte order is numeric order. Strings that are
// followed by more components use an order-preserving, self-delimiting
// encoding (0x00 -> 0x00 0xFF, end -> 0x00 0x01), so no two tuples alias and
// keys sort by the string's bytes first. A string that ends the key is
// written raw.
//
//   log      := tenant:u32 seq:u64                                  -> fb.Event
//   stream   := tenant:u32 kind:u8 stream:u32 seq:u64               -> type:u8
//   state    := tenant:u32 kind:u8 stream:u32 external_id:raw       -> fb.PropertyState
//   history  := tenant:u32 kind:u8 stream:u32 external_id:esc seq:u64 -> version:u32
//   dense    := tenant:u32 kind:u8 stream:u32 dense_id:u32          -> external_id
//   catalog  := tenant:u32 'N'                                      -> fb.TenantRecord
//             | tenant:u32 'S' source:u32                           -> fb.SourceRecord
//             | tenant:u32 'T' target:u32                           -> fb.TargetRecord
//             | 0:u32 'F' sha256(feed token):32                    -> fb.FeedTokenRecord
//               (tenant 0 never exists: the index from a token to its tenant)
//   auth     := sha256(key):32 bytes                                -> fb.ApiKeyRecord
//   oplog    := tenant:u32 'I' import_id:u64                        -> seq:u64
//             | tenant:u32 'Y' sync_id:u64                          -> seq:u64
//   meta     := tenant:u32 'M'                                      -> fb.TenantMeta
//             | tenant:u32 'D' kind:u8 stream:u32                   -> fb.StreamMeta
//             | tenant:u32 'P' source:u32 target:u32                -> fb.PairRecord
//   bitmaps  := tenant:u32 'L' kind:u8 stream:u32                   -> roaring (live ids)
//             | tenant:u32 'S' source:u32 target:u32                -> roaring (source ids
//                                                                      changed since the
//                                                                      pair's last sync)
//             | tenant:u32 'T' source:u32 target:u32                -> roaring (target ids
//                                                                      changed by others)
//   delivery := tenant:u32 'C' target:u32                           -> DeliveryRecord (push
//                                                                      delivery cursor and
//                                                                      state; delivery_store.cc)
//             | tenant:u32 'X' target:u32 dead_letter_id:u64        -> DeadLetter
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "engine/types.h"

namespace syncmgr::keys {

void PutU32(std::string* dst, uint32_t v);
void PutU64(std::string* dst, uint64_t v);
uint32_t GetU32(std::string_view src);  // REQUIRES: src.size() >= 4
uint64_t GetU64(std::string_view src);  // REQUIRES: src.size() >= 8
// Order-preserving escaped string (see above).
void PutEscaped(std::string* dst, std::string_view s);
// Parses an escaped string at the start of `src`; returns bytes consumed, or
// nullopt if malformed.
std::optional<size_t> GetEscaped(std::string_view src, std::string* out);

std::string Log(uint32_t tenant, uint64_t seq);
std::string LogPrefix(uint32_t tenant);

std::string StreamPrefix(uint32_t tenant, StreamRef stream);
std::string StreamIndex(uint32_t tenant, StreamRef stream, uint64_t seq);

std::string State(uint32_t tenant, StreamRef stream, std::string_view external_id);
// Prefix of every state key of a stream; the external_id follows it.
std::string StatePrefix(uint32_t tenant, StreamRef stream);

std::string History(uint32_t tenant, StreamRef stream, std::string_view external_id, uint64_t seq);
std::string HistoryPrefix(uint32_t tenant, StreamRef stream, std::string_view external_id);
std::string HistoryStreamPrefix(uint32_t tenant, StreamRef stream);

std::string Dense(uint32_t tenant, StreamRef stream, uint32_t dense_id);

std::string TenantRecord(uint32_t tenant);
std::string SourceRecord(uint32_t tenant, uint32_t source_id);
std::string TargetRecord(uint32_t tenant, uint32_t target_id);
std::string CatalogPrefix(uint32_t tenant, char kind);
// A change-feed token's record, by the SHA-256 of the token (32 bytes).
std::string FeedToken(std::string_view token_hash);

std::string ImportLog(uint32_t tenant, uint64_t import_id);
std::string SyncLog(uint32_t tenant, uint64_t sync_id);
std::string OpLogPrefix(uint32_t tenant, char kind);

std::string TenantMeta(uint32_t tenant);
std::string StreamMeta(uint32_t tenant, StreamRef stream);
std::string Pair(uint32_t tenant, uint32_t source_id, uint32_t target_id);
std::string PairPrefix(uint32_t tenant);

std::string LiveBitmap(uint32_t tenant, StreamRef stream);
std::string SourceDirty(uint32_t tenant, uint32_t source_id, uint32_t target_id);
std::string TargetDirty(uint32_t tenant, uint32_t source_id, uint32_t target_id);

std::string DeliveryState(uint32_t tenant, uint32_t target_id);
std::string DeadLetterKey(uint32_t tenant, uint32_t target_id, uint64_t dead_letter_id);
std::string DeadLetterPrefix(uint32_t tenant, uint32_t target_id);

// The smallest key greater than every key that starts with `prefix`.
std::string PrefixEnd(std::string_view prefix);

}  // namespace syncmgr::keys
