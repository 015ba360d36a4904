// LogChain: which stored messages of a tenant's log subject count
// (docs/scaling.md, "What counts").
//
// nats-server 2.9 checks a publish's fence (expected last subject
// sequence) when the stream leader proposes it, against what it has
// applied so far, so two publishes with the same fence in flight together
// may both be stored. The stream therefore may hold messages that must not
// count, and every node must agree which. The rule, applied to the
// subject's messages in stream order:
//
//   a Fence counts, always (a new writer starts its chain there);
//   a Commit counts iff the message stored right before it on the subject
//     is the one it names as `prev` (its fence when published) and that
//     message counts.
//
// A writer knows its commit counts when, after the acknowledgement, the
// first message on the subject after `prev` is its own and `prev` counted
// (PublishOptions::verify_fence checks the first part; the writer's chain
// gives the second: it only publishes after messages that counted). So a
// writer acknowledges exactly the commits every node will apply.
//
// A reader must see every message of the subject for this to hold. Because
// every message names its predecessor, a reader that missed one finds out
// at the next message that names it (kMissedMessage) instead of judging.
//
// Thread-safety: a value; one per tenant, used by that tenant's reader.
#pragma once

#include <cstdint>

namespace syncmgr::cluster {

class LogChain {
 public:
  // A subject whose last message seen is at `last_seq` (0: none yet) and
  // counted or not. A node resumes with what it stored with its views.
  explicit LogChain(uint64_t last_seq = 0, bool last_counts = true)
      : last_seq_(last_seq), last_counts_(last_counts) {}

  enum class Verdict {
    kCounts,        // fold it (a Commit) or start the chain there (a Fence)
    kDoesNotCount,  // stored, but superseded: skip it
    kAlreadySeen,   // at or before the last message seen (a re-read): skip it
    // It names as `prev` a message after the last one this chain saw: the
    // reader missed at least that one (a writer only names messages it saw
    // stored on the subject). Nothing changes; re-read the subject from
    // last_seq() + 1 (leader reads) before deciding anything.
    kMissedMessage,
  };

  // The next message of the subject, stored at `stream_seq`, naming `prev`.
  Verdict Next(uint64_t stream_seq, uint64_t prev, bool is_fence) {
    if (stream_seq <= last_seq_) return Verdict::kAlreadySeen;
    if (prev > last_seq_ && prev < stream_seq) return Verdict::kMissedMessage;
    const bool counts = is_fence || (prev == last_seq_ && last_counts_);
    last_seq_ = stream_seq;
    last_counts_ = counts;
    return counts ? Verdict::kCounts : Verdict::kDoesNotCount;
  }

  uint64_t last_seq() const { return last_seq_; }
  bool last_counts() const { return last_counts_; }

 private:
  uint64_t last_seq_;
  bool last_counts_;
};

}  // namespace syncmgr::cluster
