// A bare Store (no engine) on a real RocksDB in a temporary directory, for
// tests of the store itself and of code that writes batches into it. Only
// tests that link RocksDB include it (engine/store.h brings its headers).
#pragma once

#include <gtest/gtest.h>

#include <memory>

#include "engine/store.h"
#include "tests/engine/engine_fixture.h"

namespace syncmgr::testing {

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    StoreOptions o;
    o.path = dir_.sub("db");
    auto store = Store::Open(o);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(store).value();
  }

  TempDir dir_;
  std::unique_ptr<Store> store_;
};

}  // namespace syncmgr::testing
