// checkpoint_tool DIR OUT: the `syncmgr backup --db DIR --out OUT` of builds
// that predate that command, for make_golden.sh's flushed form.
//
// check_format_compatible.sh compiles it against an old build's own engine
// (its engine/store.h and libsyncmgr_engine.a), so DIR is opened with that
// build's column families and options; then a RocksDB checkpoint is written,
// as `syncmgr backup` does (memtables flushed into table files, the table
// files linked, MANIFEST, OPTIONS and WAL copied). Not part of the build:
// it uses only what every build's store.h has had (Store::Open, db()).
#include <rocksdb/utilities/checkpoint.h>

#include <cstdio>
#include <memory>

#include "engine/store.h"

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: checkpoint_tool DIR OUT\n");
    return 2;
  }
  syncmgr::StoreOptions options;
  options.path = argv[1];
  options.create_if_missing = false;
  auto store = syncmgr::Store::Open(options);
  if (!store.ok()) {
    std::fprintf(stderr, "checkpoint_tool: %s\n", store.status().ToString().c_str());
    return 1;
  }
  rocksdb::Checkpoint* raw = nullptr;
  rocksdb::Status s = rocksdb::Checkpoint::Create((*store)->db(), &raw);
  std::unique_ptr<rocksdb::Checkpoint> checkpoint(raw);
  if (s.ok()) s = checkpoint->CreateCheckpoint(argv[2]);
  if (!s.ok()) {
    std::fprintf(stderr, "checkpoint_tool: %s\n", s.ToString().c_str());
    return 1;
  }
  return 0;
}
