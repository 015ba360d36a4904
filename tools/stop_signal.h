// SIGINT and SIGTERM as a request to stop, for commands that run until told
// to (`syncmgr feed --follow`): a signal sets a flag that their loop and the
// HTTP client (HttpClientOptions::cancel) poll, so the command ends after a
// whole line of output, within ~100 ms, and exits 0. More signals change
// nothing (SIGKILL still ends it at once).
//
// Thread-safety: the flag is an atomic, set from a signal handler.
#pragma once

#include <atomic>
#include <chrono>

namespace syncmgr::cli {

// Installs the handlers (idempotent).
void InstallStopHandlers();
// The flag the handlers set.
const std::atomic<bool>& StopFlag();
inline bool StopRequested() { return StopFlag().load(std::memory_order_relaxed); }
// Sleeps for `duration`, waking early (within ~50 ms) once a stop is
// requested. True when it was.
bool SleepUnlessStopped(std::chrono::milliseconds duration);

}  // namespace syncmgr::cli
