// A one-line progress bar for long commands (import).
//
// Drawn on stderr, and only when both stdout and stderr are terminals: output
// that is piped or captured (scripts, tests) never contains it. Redraws at
// most every kRedrawInterval; the line is erased before the command prints
// its result.
//
// Thread-safety: not thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace syncmgr::cli {

class ProgressBar {
 public:
  // Minimum time between two redraws. Default: 100 ms.
  static constexpr std::chrono::milliseconds kRedrawInterval{100};

  // `enabled` false (e.g. --no-progress) keeps it silent even on a terminal.
  ProgressBar(std::string label, bool enabled);
  ~ProgressBar();
  ProgressBar(const ProgressBar&) = delete;
  ProgressBar& operator=(const ProgressBar&) = delete;

  // True when stdout and stderr are terminals.
  static bool TerminalAttached();

  // `total` 0 means unknown (stdin): shows bytes without a bar.
  void Update(uint64_t done, uint64_t total);
  // Replaces the label, e.g. "applying" once the input has been read.
  void SetPhase(std::string phase);
  // Shows amounts as counts of `unit` ("events") instead of bytes.
  void SetUnit(std::string unit) { unit_ = std::move(unit); }
  // Erases the line (idempotent).
  void Clear();

 private:
  void Draw();

  bool active_;
  std::string label_;
  std::string unit_;  // empty: bytes
  uint64_t done_ = 0;
  uint64_t total_ = 0;
  bool drawn_ = false;
  std::chrono::steady_clock::time_point last_draw_{};
};

// "1.5 MiB", "512 B".
std::string HumanBytes(uint64_t bytes);

}  // namespace syncmgr::cli
