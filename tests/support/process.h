// Child processes for the tests that run real programs (the syncmgr binary,
// nats-server, postgres, an FTP server): run one with given arguments,
// environment and stdin, and collect its exit status, stdout and stderr.
// Every wait is bounded; a child that overstays its timeout is killed.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace syncmgr::testing {

struct ProcessOptions {
  // Variables set for the child; the SYNCMGR_* variables of the test's own
  // environment are removed first so tests are hermetic.
  std::vector<std::pair<std::string, std::string>> env;
  std::string stdin_data;
  // The child is killed (and the result marked timed_out) after this long.
  std::chrono::seconds timeout{120};
  // BackgroundProcess: the kernel SIGKILLs the child when the thread that
  // started it ends (PR_SET_PDEATHSIG), so a test that crashes leaves no
  // server behind. Start it from a thread that lives as long as the child
  // (the test's main thread). Default: off.
  bool die_with_parent = false;
};

struct ProcessResult {
  int exit_code = -1;  // 128 + signal when killed by a signal
  bool timed_out = false;
  std::string out;
  std::string err;
};

ProcessResult RunProcess(const std::vector<std::string>& argv, const ProcessOptions& options = {});

// "exit N (timed out)\nstdout: …\nstderr: …", for failure messages.
std::string Describe(const ProcessResult& r);

// A long-running child (syncmgr serve) whose output goes to a log file.
class BackgroundProcess {
 public:
  BackgroundProcess() = default;
  ~BackgroundProcess();  // SIGKILLs the child if still running
  BackgroundProcess(const BackgroundProcess&) = delete;
  BackgroundProcess& operator=(const BackgroundProcess&) = delete;

  // Starts argv[0] with stdout and stderr appended to `log_path`.
  bool Start(const std::vector<std::string>& argv, const ProcessOptions& options,
             const std::string& log_path);
  bool running();
  // Sends `sig` and waits up to `timeout` for the exit; returns the exit
  // code (128 + signal when killed), or nullopt if it did not exit in time.
  std::optional<int> Stop(int sig, std::chrono::seconds timeout);
  // Sends `sig` without waiting (SIGSTOP, SIGCONT). False if not running.
  bool Signal(int sig);

 private:
  pid_t pid_ = -1;
};

// Builds envp for exec: the current environment without SYNCMGR_*, plus `env`.
std::vector<std::string> ChildEnvironment(
    const std::vector<std::pair<std::string, std::string>>& env);

// A loopback TCP port that was free a moment ago (bound to port 0, read back,
// closed), for a child server's --port. 0 if none could be had.
uint16_t FreeLoopbackPort();

}  // namespace syncmgr::testing
