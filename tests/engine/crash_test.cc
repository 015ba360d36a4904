// Crash atomicity and durability: a child process runs imports and syncs and
// reports each acknowledged operation on a pipe; the parent SIGKILLs it at a
// random instant, reopens the directory and checks that
//   * every acknowledged operation is present (durable),
//   * every import is wholly present or wholly absent (atomic),
//   * the log ends on a commit boundary, and
//   * the views equal the fold of the log.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <random>
#include <set>

#include "tests/engine/engine_fixture.h"

namespace syncmgr::testing {
namespace {

constexpr int kCycles = 8;          // kill cycles per test run (bounded)
constexpr int kMaxOpsPerChild = 400;  // the child stops by itself after this many

std::string ImportBody(int op, int items) {
  std::string body = "[";
  for (int i = 0; i < items; ++i) {
    body += (i ? "," : "") + std::string("{\"external_id\":\"op") + std::to_string(op) + "-" +
            std::to_string(i) + "\",\"pad\":\"" + std::string(200 + (i % 5) * 100, 'x') + "\"}";
  }
  return body + "]";
}

int ItemsOf(int op) { return 1 + (op * 37) % 60; }

// Child: open, work, report "op\n" after each acknowledged import; never returns.
[[noreturn]] void ChildMain(const std::string& path, int first_op, int write_fd) {
  EngineOptions o;
  o.path = path;
  o.write_chunk_bytes = 16 << 10;  // many imports write ahead before committing
  o.import_buffer_bytes = 8 << 10;
  auto e = Engine::Open(o);
  if (!e.ok()) _exit(3);
  Engine& engine = **e;
  for (int op = first_op; op < first_op + kMaxOpsPerChild; ++op) {
    auto r = engine.Import(1, 1, ImportOptions(), ImportBody(op, ItemsOf(op)));
    if (!r.ok()) _exit(4);
    std::string line = std::to_string(op) + "\n";
    if (write(write_fd, line.data(), line.size()) < 0) _exit(5);
    if (op % 3 == 0 && !engine.Sync(1, 1, 1, SyncOptions()).ok()) _exit(6);
  }
  _exit(0);
}

TEST(CrashTest, KilledAtRandomInstantsLosesNothingAcknowledgedAndNothingIsPartial) {
  TempDir dir;
  std::string path = dir.sub("db");
  SeedCatalog(path, "crash");
  if (HasFatalFailure()) return;
  std::mt19937 rng(20261125);
  std::set<int> acked;
  int next_op = 0;
  for (int cycle = 0; cycle < kCycles; ++cycle) {
    int fds[2];
    ASSERT_EQ(pipe(fds), 0);
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      close(fds[0]);
      ChildMain(path, next_op, fds[1]);
    }
    close(fds[1]);
    // Read acknowledgements until a random instant, then kill -9.
    auto deadline =
        std::chrono::steady_clock::now() + std::chrono::milliseconds(200 + rng() % 1500);
    std::string buf;
    char chunk[4096];
    while (std::chrono::steady_clock::now() < deadline) {
      pollfd p{fds[0], POLLIN, 0};
      if (poll(&p, 1, 20) > 0) {
        ssize_t n = read(fds[0], chunk, sizeof(chunk));
        if (n <= 0) break;
        buf.append(chunk, n);
      }
    }
    kill(pid, SIGKILL);
    int status = 0;
    waitpid(pid, &status, 0);
    ssize_t n;
    while ((n = read(fds[0], chunk, sizeof(chunk))) > 0) buf.append(chunk, n);
    close(fds[0]);
    int max_started = next_op;
    for (size_t pos = 0; pos < buf.size();) {
      size_t nl = buf.find('\n', pos);
      if (nl == std::string::npos) break;
      int op = std::stoi(buf.substr(pos, nl - pos));
      acked.insert(op);
      max_started = std::max(max_started, op + 1);
      pos = nl + 1;
    }
    // The op after the last ack may or may not have committed.
    next_op = max_started + 1;

    EngineOptions o;
    o.path = path;
    auto e = Engine::Open(o);
    ASSERT_TRUE(e.ok()) << "cycle " << cycle << ": " << e.status().ToString();
    Engine& engine = **e;
    for (int op = 0; op < next_op; ++op) {
      int present = 0, items = ItemsOf(op);
      for (int i = 0; i < items; ++i) {
        std::string id = "op" + std::to_string(op) + "-" + std::to_string(i);
        if (engine.GetProperty(1, {StreamKind::kSource, 1}, id, {}).ok()) ++present;
      }
      ASSERT_TRUE(present == 0 || present == items)
          << "cycle " << cycle << ": import " << op << " is partial: " << present << "/" << items;
      if (acked.count(op)) {
        ASSERT_EQ(present, items) << "cycle " << cycle << ": acknowledged import " << op
                                  << " was lost";
      }
    }
    // The log ends on a commit boundary: its last event closes an operation.
    auto last = engine.LastSeq(1);
    ASSERT_TRUE(last.ok());
    LogQuery q;
    q.after_seq = *last - 1;
    auto page = engine.ReadLog(1, q);
    ASSERT_TRUE(page.ok());
    if (!page->events.empty()) {
      EventType t = page->events.back().type;
      EXPECT_TRUE(t == EventType::kImportCompleted || t == EventType::kSyncCompleted)
          << "cycle " << cycle << ": log ends on " << static_cast<int>(t);
    }
    std::vector<std::string> diffs;
    Status v = engine.VerifyViews(&diffs);
    ASSERT_TRUE(v.ok()) << "cycle " << cycle << ": " << v.ToString()
                        << (diffs.empty() ? "" : "\n" + diffs[0]);
  }
  EXPECT_GT(acked.size(), 0u);
}

}  // namespace
}  // namespace syncmgr::testing
