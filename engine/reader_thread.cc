#include "engine/reader_thread.h"

#include <algorithm>
#include <atomic>
#include <system_error>

namespace syncmgr {

namespace {

std::atomic<size_t> g_running{0};

size_t MaxRunning() {
  static const size_t max = std::max<size_t>(2, std::thread::hardware_concurrency());
  return max;
}

}  // namespace

std::unique_ptr<ReaderThread> ReaderThread::Start() {
  if (g_running.fetch_add(1) >= MaxRunning()) {
    g_running.fetch_sub(1);
    return nullptr;
  }
  std::unique_ptr<ReaderThread> r(new ReaderThread());
  try {
    r->thread_ = std::thread([raw = r.get()] { raw->Run(); });
  } catch (const std::system_error&) {
    g_running.fetch_sub(1);
    return nullptr;  // no thread: the caller reads in its own
  }
  return r;
}

ReaderThread::~ReaderThread() {
  {
    MutexLock lock(&mu_);
    stop_ = true;
  }
  work_cv_.Signal();
  thread_.join();  // after the job in hand, if any: its batch is the caller's again
  g_running.fetch_sub(1);
}

size_t ReaderThread::Running() { return g_running.load(); }

void ReaderThread::Submit(Job job) {
  {
    MutexLock lock(&mu_);
    job_ = std::move(job);
    busy_ = true;
  }
  work_cv_.Signal();
}

Status ReaderThread::Wait() {
  MutexLock lock(&mu_);
  while (busy_) done_cv_.Wait(&mu_);
  return std::move(result_);
}

void ReaderThread::Run() {
  MutexLock lock(&mu_);
  for (;;) {
    while (!stop_ && !job_) work_cv_.Wait(&mu_);
    if (!job_) return;  // stopped with nothing in hand
    Job job = std::move(job_);
    job_ = nullptr;
    lock.Unlock();
    Status s = job();
    lock.Lock();
    result_ = std::move(s);
    busy_ = false;
    done_cv_.Signal();
  }
}

}  // namespace syncmgr
