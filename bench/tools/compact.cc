// syncmgr-bench-compact DIR: compacts every column family of a Sync Manager
// data directory (flush, then a full CompactRange with the bottommost level
// rewritten), so its size on disk can be compared with the raw JSON it holds.
// Prints one JSON line: {"cf_name": sst_bytes, ..., "total": bytes}.
//
// For benchmarks only: the directory must not be open in a server (RocksDB's
// lock refuses that). Exit status 0 on success, 1 with a message otherwise.
#include <rocksdb/db.h>
#include <rocksdb/options.h>

#include <cstdio>
#include <string>

#include "engine/store.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: syncmgr-bench-compact DIR\n");
    return 2;
  }
  syncmgr::StoreOptions so;
  so.path = argv[1];
  so.create_if_missing = false;
  auto store = syncmgr::Store::Open(so);
  if (!store.ok()) {
    std::fprintf(stderr, "syncmgr-bench-compact: %s\n", store.status().message().c_str());
    return 1;
  }
  rocksdb::DB* db = (*store)->db();
  rocksdb::CompactRangeOptions co;
  co.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForce;
  std::string out = "{";
  uint64_t total = 0;
  for (int i = 0; i < syncmgr::kNumCfs; ++i) {
    auto which = static_cast<syncmgr::Cf>(i);
    rocksdb::Status s = db->CompactRange(co, (*store)->cf(which), nullptr, nullptr);
    if (!s.ok()) {
      std::fprintf(stderr, "syncmgr-bench-compact: %s\n", s.ToString().c_str());
      return 1;
    }
    uint64_t bytes = 0;
    db->GetIntProperty((*store)->cf(which), "rocksdb.total-sst-files-size", &bytes);
    total += bytes;
    out += "\"" + std::string(syncmgr::CfName(which)) + "\":" + std::to_string(bytes) + ",";
  }
  out += "\"total\":" + std::to_string(total) + "}";
  std::printf("%s\n", out.c_str());
  return 0;
}
