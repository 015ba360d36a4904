// KvCounter: a compare-and-set loop over one key.
#include "cluster/counter.h"

#include <charconv>
#include <random>
#include <thread>

#include <fmt/format.h>

namespace syncmgr::cluster {

KvCounter::KvCounter(const KvBucket* bucket, std::string key, CounterOptions options)
    : bucket_(bucket), key_(std::move(key)), options_(options) {}

StatusOr<uint64_t> KvCounter::Next() {
  thread_local std::minstd_rand rng(std::random_device{}());
  for (int attempt = 0; attempt < options_.max_attempts; ++attempt) {
    StatusOr<uint64_t> written = Status::Ok();
    uint64_t next = 0;
    StatusOr<KvEntry> entry = bucket_->Get(key_);
    if (entry.ok()) {
      uint64_t last = 0;
      const std::string& v = entry->value;
      auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), last);
      if (ec != std::errc() || end != v.data() + v.size()) {
        return Status::Corruption(
            fmt::format("counter {}/{} holds \"{}\", not a number", bucket_->name(), key_, v));
      }
      next = last + 1;
      written = bucket_->UpdateSerial(key_, std::to_string(next), entry->revision);
    } else if (entry.status().code() == Code::kNotFound) {
      next = 1;
      written = bucket_->Create(key_, "1");
    } else {
      return entry.status();
    }
    if (written.ok()) return next;
    if (!IsFenced(written.status())) return written.status();
    // Another caller took this id first: read again after a short pause.
    const auto max_us = std::chrono::duration_cast<std::chrono::microseconds>(options_.max_backoff);
    if (max_us.count() > 0) {
      std::uniform_int_distribution<int64_t> pause(0, max_us.count());
      std::this_thread::sleep_for(std::chrono::microseconds(pause(rng)));
    }
  }
  return Status::Unavailable(fmt::format("counter {}/{}: {} attempts lost to other callers",
                                         bucket_->name(), key_, options_.max_attempts));
}

}  // namespace syncmgr::cluster
