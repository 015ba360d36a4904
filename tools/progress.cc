#include "tools/progress.h"

#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>

namespace syncmgr::cli {

namespace {

constexpr int kDefaultColumns = 80;
constexpr int kMinBarWidth = 10;

int TerminalColumns() {
  winsize ws{};
  if (::ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) return ws.ws_col;
  return kDefaultColumns;
}

}  // namespace

std::string HumanBytes(uint64_t bytes) {
  static const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double value = static_cast<double>(bytes);
  size_t unit = 0;
  while (value >= 1024 && unit + 1 < std::size(kUnits)) {
    value /= 1024;
    ++unit;
  }
  char buf[32];
  if (unit == 0) {
    std::snprintf(buf, sizeof(buf), "%llu B", static_cast<unsigned long long>(bytes));
  } else {
    std::snprintf(buf, sizeof(buf), "%.1f %s", value, kUnits[unit]);
  }
  return buf;
}

bool ProgressBar::TerminalAttached() {
  return ::isatty(STDOUT_FILENO) == 1 && ::isatty(STDERR_FILENO) == 1;
}

ProgressBar::ProgressBar(std::string label, bool enabled)
    : active_(enabled && TerminalAttached()), label_(std::move(label)) {}

ProgressBar::~ProgressBar() { Clear(); }

void ProgressBar::Update(uint64_t done, uint64_t total) {
  if (!active_) return;
  done_ = done;
  total_ = total;
  auto now = std::chrono::steady_clock::now();
  if (drawn_ && now - last_draw_ < kRedrawInterval && (total == 0 || done < total)) return;
  last_draw_ = now;
  Draw();
}

void ProgressBar::SetPhase(std::string phase) {
  if (!active_) return;
  label_ = std::move(phase);
  Draw();
}

void ProgressBar::Draw() {
  std::string line = label_;
  auto show = [&](uint64_t v) { return unit_.empty() ? HumanBytes(v) : std::to_string(v); };
  std::string amount = show(done_);
  if (total_ == 0 && !unit_.empty()) amount += " " + unit_;
  if (total_ > 0) {
    uint64_t done = std::min(done_, total_);
    int percent = static_cast<int>(done * 100 / total_);
    amount += " / " + show(total_) + (unit_.empty() ? "" : " " + unit_) + "  " +
              std::to_string(percent) + "%";
    int width = TerminalColumns() - static_cast<int>(line.size() + amount.size()) - 6;
    if (width >= kMinBarWidth) {
      int filled =
          static_cast<int>(static_cast<double>(done) / static_cast<double>(total_) * width);
      line += " [" + std::string(filled, '#') + std::string(width - filled, '.') + "]";
    }
  }
  line += "  " + amount;
  if (static_cast<int>(line.size()) >= TerminalColumns()) line.resize(TerminalColumns() - 1);
  std::fprintf(stderr, "\r\033[K%s", line.c_str());
  std::fflush(stderr);
  drawn_ = true;
}

void ProgressBar::Clear() {
  if (!active_ || !drawn_) return;
  std::fprintf(stderr, "\r\033[K");
  std::fflush(stderr);
  drawn_ = false;
}

}  // namespace syncmgr::cli
