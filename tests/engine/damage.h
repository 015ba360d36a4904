// Damaging a data directory on purpose, for tests of what a read or a sync
// makes of it. The engine must be closed (it holds the directory's lock).
#pragma once

#include <gtest/gtest.h>
#include <rocksdb/write_batch.h>

#include <string>

#include "engine/keys.h"
#include "engine/state_read.h"
#include "engine/store.h"
#include "views_generated.h"

namespace syncmgr::testing {

// Deletes the record of `cf` at the key `key_of(state)`, where state is
// the state record of `ext` in `stream` of the directory `db`. Call
// through ASSERT_NO_FATAL_FAILURE.
template <typename KeyOf>
void DeleteRecordOfState(const std::string& db, TenantId tenant, StreamRef stream,
                         const std::string& ext, Cf cf, KeyOf key_of) {
  StoreOptions so;
  so.path = db;
  auto store = Store::Open(so);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  std::string value;
  auto st = ReadStateRecord(**store, tenant, stream, ext, &value);
  ASSERT_TRUE(st.ok() && *st != nullptr) << ext;
  rocksdb::WriteBatch b;
  ASSERT_TRUE(b.Delete((*store)->cf(cf), key_of(**st)).ok());
  ASSERT_TRUE((*store)->Write(&b, true).ok());
}

// Deletes the log record that holds the current data of `ext` in `stream`
// of the directory `db`. Call through ASSERT_NO_FATAL_FAILURE.
inline void DeleteDataRecord(const std::string& db, TenantId tenant, StreamRef stream,
                             const std::string& ext) {
  DeleteRecordOfState(db, tenant, stream, ext, Cf::kLog, [&](const fb::PropertyState& st) {
    return keys::Log(tenant, st.data_seq());
  });
}

// Deletes the dense-id record (dense id -> external id) of `ext` in
// `stream` of the directory `db`. Call through ASSERT_NO_FATAL_FAILURE.
inline void DeleteDenseRecord(const std::string& db, TenantId tenant, StreamRef stream,
                              const std::string& ext) {
  DeleteRecordOfState(db, tenant, stream, ext, Cf::kDense, [&](const fb::PropertyState& st) {
    return keys::Dense(tenant, stream, st.dense_id());
  });
}

}  // namespace syncmgr::testing
