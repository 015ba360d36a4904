// WRONG ON PURPOSE: every function below breaks a lock rule that
// engine/mutex.h's annotations state. scripts/check-thread-safety.sh sample
// compiles this file with clang's -Wthread-safety -Werror and passes only
// if clang refuses it, naming each of these findings; that proves the
// check run over engine/, delivery/, cluster/ and the feed hub would catch
// the same mistakes there. Never built by CMake.
#include "engine/mutex.h"

namespace syncmgr::wrong_sample {

class Account {
 public:
  // Reads a GUARDED_BY member without the lock.
  int Peek() const { return balance_; }

  // Writes a GUARDED_BY member without the lock.
  void Reset() { balance_ = 0; }

  // Calls a REQUIRES function without holding what it requires.
  void Deposit(int amount) { AddLocked(amount); }

  // Releases a mutex it does not hold.
  void Close() { mu_.Unlock(); }

  // Takes the mutex and returns without releasing it.
  void Freeze() { mu_.Lock(); }

  // Right, for contrast: the lock is held where the rules ask for it.
  void Add(int amount) EXCLUDES(mu_) {
    MutexLock lock(&mu_);
    AddLocked(amount);
  }

 private:
  void AddLocked(int amount) REQUIRES(mu_) { balance_ += amount; }

  mutable Mutex mu_;
  int balance_ GUARDED_BY(mu_) = 0;
};

}  // namespace syncmgr::wrong_sample
