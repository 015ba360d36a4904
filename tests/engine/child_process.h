// RunSelfAsChild: runs this test program again as a child process that
// writes report lines to a pipe, for tests that cut the power under a
// child (power_loss_test.cc, bulk_ingest_test.cc).
//
// A fresh process image, not a bare fork(): fork() copies no thread, and
// RocksDB's default Env keeps its background thread pool (started by the
// parent's engines) in a state a forked child cannot use — no flush would
// ever run there, and an operation that waits for one (a bulk ingestion
// whose keys overlap a memtable) would wait forever.
#pragma once

#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <string>

namespace syncmgr::testing {

struct ChildOutput {
  int exit_code = -1;  // 128 + signal if killed; -1 if it could not start
  std::string out;     // what it wrote to its report fd
};

// Starts /proc/self/exe with --gtest_filter=`filter` and the environment
// variable `env_name` set to `spec` + " " + the report fd, reads what it
// writes there until it exits (SIGKILL after `timeout`).
inline ChildOutput RunSelfAsChild(const std::string& filter, const char* env_name,
                                  const std::string& spec, std::chrono::seconds timeout) {
  ChildOutput rep;
  int fds[2];
  if (pipe(fds) != 0) return rep;
  pid_t pid = fork();
  if (pid == 0) {
    close(fds[0]);
    setenv(env_name, (spec + " " + std::to_string(fds[1])).c_str(), 1);
    std::string arg = "--gtest_filter=" + filter;
    char* argv[] = {const_cast<char*>("/proc/self/exe"), arg.data(), nullptr};
    execv("/proc/self/exe", argv);
    _exit(6);
  }
  close(fds[1]);
  char chunk[4096];
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd p{fds[0], POLLIN, 0};
    if (poll(&p, 1, 100) <= 0) continue;
    ssize_t n = read(fds[0], chunk, sizeof(chunk));
    if (n <= 0) break;  // the child is gone
    rep.out.append(chunk, static_cast<size_t>(n));
  }
  close(fds[0]);
  if (std::chrono::steady_clock::now() >= deadline) kill(pid, SIGKILL);
  int status = 0;
  waitpid(pid, &status, 0);
  rep.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return rep;
}

}  // namespace syncmgr::testing
