// Mutex, MutexLock and CondVar: std::mutex and std::condition_variable with
// clang's thread-safety annotations, so that "guarded by mu_" is checked by
// the compiler rather than kept by comment (docs/reliability.md, "Checked
// locks"). libstdc++'s own types carry no annotations; these wrap them and
// add nothing at run time. engine/, delivery/, cluster/ and the feed hub use
// only these (scripts/check-locks.sh refuses a bare std::mutex there).
//
// The macros expand to clang attributes (-Wthread-safety, run over those
// folders by scripts/check-thread-safety.sh) and to nothing on GCC:
//
//   GUARDED_BY(mu)         a member read or written only with `mu` held
//   PT_GUARDED_BY(mu)      the object a pointer member points to, likewise
//   REQUIRES(mu...)        the caller holds `mu` (exclusively)
//   EXCLUDES(mu...)        the caller does not hold `mu` (the function takes it)
//   ACQUIRE(mu...)         the function returns holding `mu`
//   RELEASE(mu...)         the function releases `mu`
//   TRY_ACQUIRE(ok, mu...) the function holds `mu` on return when it returns `ok`
//   ASSERT_CAPABILITY(mu)  from here on the caller holds `mu` (trusted)
//   RETURN_CAPABILITY(mu)  the function returns a reference to `mu`
//   ACQUIRED_BEFORE(mu...) lock order (checked with -Wthread-safety-beta)
//   CAPABILITY(name)       a class that is a lock
//   SCOPED_CAPABILITY      a class whose objects hold a lock for their life
//   NO_THREAD_SAFETY_ANALYSIS  the function is not checked; say why at each use
//
// Example:
//   class Counter {
//    public:
//     void Add(int n) EXCLUDES(mu_) { MutexLock lock(&mu_); total_ += n; }
//    private:
//     Mutex mu_;
//     int total_ GUARDED_BY(mu_) = 0;
//   };
//
// The analysis is per function: it cannot follow a lock taken in one
// function and released in another unless the functions say so (ACQUIRE /
// RELEASE), nor see that two names denote one mutex.
//
// Thread-safety: Mutex and CondVar are for use from many threads; a
// MutexLock belongs to the thread that made it.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>

#if defined(__clang__)
#define SYNCMGR_THREAD_ANNOTATION(x) __attribute__((x))
#else
#define SYNCMGR_THREAD_ANNOTATION(x)
#endif

#define CAPABILITY(x) SYNCMGR_THREAD_ANNOTATION(capability(x))
#define SCOPED_CAPABILITY SYNCMGR_THREAD_ANNOTATION(scoped_lockable)
#define GUARDED_BY(x) SYNCMGR_THREAD_ANNOTATION(guarded_by(x))
#define PT_GUARDED_BY(x) SYNCMGR_THREAD_ANNOTATION(pt_guarded_by(x))
#define ACQUIRED_BEFORE(...) SYNCMGR_THREAD_ANNOTATION(acquired_before(__VA_ARGS__))
#define REQUIRES(...) SYNCMGR_THREAD_ANNOTATION(requires_capability(__VA_ARGS__))
#define EXCLUDES(...) SYNCMGR_THREAD_ANNOTATION(locks_excluded(__VA_ARGS__))
#define ACQUIRE(...) SYNCMGR_THREAD_ANNOTATION(acquire_capability(__VA_ARGS__))
#define RELEASE(...) SYNCMGR_THREAD_ANNOTATION(release_capability(__VA_ARGS__))
#define TRY_ACQUIRE(...) SYNCMGR_THREAD_ANNOTATION(try_acquire_capability(__VA_ARGS__))
#define ASSERT_CAPABILITY(x) SYNCMGR_THREAD_ANNOTATION(assert_capability(x))
#define RETURN_CAPABILITY(x) SYNCMGR_THREAD_ANNOTATION(lock_returned(x))
#define NO_THREAD_SAFETY_ANALYSIS SYNCMGR_THREAD_ANNOTATION(no_thread_safety_analysis)

namespace syncmgr {

class CondVar;

// A non-recursive mutex (std::mutex).
class CAPABILITY("mutex") Mutex {
 public:
  Mutex() = default;
  Mutex(const Mutex&) = delete;
  Mutex& operator=(const Mutex&) = delete;

  void Lock() ACQUIRE() { mu_.lock(); }
  void Unlock() RELEASE() { mu_.unlock(); }
  // Takes the mutex if it is free: true if it did (and then holds it).
  bool TryLock() TRY_ACQUIRE(true) { return mu_.try_lock(); }
  // Tells the analysis that the calling thread holds this mutex where it
  // cannot see that itself (a lock held by another object across calls).
  // Checks nothing at run time: use it only where the caller's own state
  // proves the lock is held, and say so.
  void AssertHeld() const ASSERT_CAPABILITY(this) {}

 private:
  friend class CondVar;
  std::mutex mu_;
};

// A mutex whose taking may give up at a deadline (std::timed_mutex). No
// CondVar waits on it.
class CAPABILITY("mutex") TimedMutex {
 public:
  TimedMutex() = default;
  TimedMutex(const TimedMutex&) = delete;
  TimedMutex& operator=(const TimedMutex&) = delete;

  void Lock() ACQUIRE() { mu_.lock(); }
  void Unlock() RELEASE() { mu_.unlock(); }
  // Takes the mutex unless `deadline` passes first: true if it did.
  template <class Clock, class Duration>
  bool TryLockUntil(const std::chrono::time_point<Clock, Duration>& deadline) TRY_ACQUIRE(true) {
    return mu_.try_lock_until(deadline);
  }

 private:
  std::timed_mutex mu_;
};

// Holds a Mutex from construction to destruction (or to Unlock).
class SCOPED_CAPABILITY MutexLock {
 public:
  explicit MutexLock(Mutex* mu) ACQUIRE(mu) : mu_(mu) { mu_->Lock(); }
  ~MutexLock() RELEASE() {
    if (locked_) mu_->Unlock();
  }
  MutexLock(const MutexLock&) = delete;
  MutexLock& operator=(const MutexLock&) = delete;

  // Releases the mutex before the end of the scope; Lock takes it again.
  void Unlock() RELEASE() {
    locked_ = false;
    mu_->Unlock();
  }
  void Lock() ACQUIRE() {
    mu_->Lock();
    locked_ = true;
  }

 private:
  Mutex* const mu_;
  bool locked_ = true;
};

// A condition variable used with a Mutex the caller holds. Waits may wake
// spuriously: wait in a loop over the condition, as
//   while (!ready_) cv_.Wait(&mu_);
// (a loop rather than a predicate lambda, which the analysis would check as
// a function of its own, without the lock).
class CondVar {
 public:
  CondVar() = default;
  CondVar(const CondVar&) = delete;
  CondVar& operator=(const CondVar&) = delete;

  // Releases `mu`, waits for a Signal (or a spurious wake), takes `mu` again.
  void Wait(Mutex* mu) REQUIRES(mu) {
    std::unique_lock<std::mutex> lock(mu->mu_, std::adopt_lock);
    cv_.wait(lock);
    lock.release();  // the caller's hold on `mu` goes on
  }
  // As Wait, for at most `timeout`. False if the timeout passed.
  template <class Rep, class Period>
  bool WaitFor(Mutex* mu, const std::chrono::duration<Rep, Period>& timeout) REQUIRES(mu) {
    std::unique_lock<std::mutex> lock(mu->mu_, std::adopt_lock);
    const bool woken = cv_.wait_for(lock, timeout) == std::cv_status::no_timeout;
    lock.release();
    return woken;
  }

  // As Wait, until `deadline` at most. False if the deadline passed.
  template <class Clock, class Duration>
  bool WaitUntil(Mutex* mu, const std::chrono::time_point<Clock, Duration>& deadline)
      REQUIRES(mu) {
    std::unique_lock<std::mutex> lock(mu->mu_, std::adopt_lock);
    const bool woken = cv_.wait_until(lock, deadline) == std::cv_status::no_timeout;
    lock.release();
    return woken;
  }

  void Signal() { cv_.notify_one(); }
  void SignalAll() { cv_.notify_all(); }

 private:
  std::condition_variable cv_;
};

}  // namespace syncmgr
