// InfoLog: RocksDB's informational log (DBOptions::info_log) written so that
// it can never take the process down. Internal to engine/.
//
// Why: Debian's librocksdb 7.8.3 is built with assertions, and its own LOG
// writer (EnvLogger over WritableFileWriter) trips
// `Assertion 'sync_without_flush_called_' failed` and aborts the process
// when an append to the LOG fails with ENOSPC and RocksDB logs again — which
// it does at once when a WAL write fails on a full disk
// (docs/reliability.md, "Disk full"). This logger writes each line with one
// write(2) on a descriptor of its own and drops the line on any error; it
// never syncs (the LOG is diagnostics, not data). The file is `path`
// ("DIR/LOG"); past `max_bytes` it is renamed to "DIR/LOG.old" (replacing
// the previous one) and a new one is started, so the LOG takes at most
// 2 × max_bytes.
//
// Thread-safety: safe for concurrent use (RocksDB logs from many threads).
#pragma once

#include <rocksdb/env.h>

#include <cstdint>
#include <memory>
#include <string>

namespace syncmgr {

// Default size of one LOG file before it is rotated: 16 MiB.
inline constexpr uint64_t kInfoLogMaxBytes = 16ull << 20;

std::shared_ptr<rocksdb::Logger> NewInfoLog(const std::string& path,
                                            uint64_t max_bytes = kInfoLogMaxBytes);

}  // namespace syncmgr
