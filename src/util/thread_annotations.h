// Clang thread-safety annotations (-Wthread-safety) and an annotated mutex.
// Under other compilers the macros expand to nothing.
#pragma once

#include <condition_variable>
#include <mutex>

#if defined(__clang__)
#define LT_THREAD_ANNOTATION(x) __attribute__((x))
#else
#define LT_THREAD_ANNOTATION(x)
#endif

#define CAPABILITY(x) LT_THREAD_ANNOTATION(capability(x))
#define SCOPED_CAPABILITY LT_THREAD_ANNOTATION(scoped_lockable)
#define GUARDED_BY(x) LT_THREAD_ANNOTATION(guarded_by(x))
#define PT_GUARDED_BY(x) LT_THREAD_ANNOTATION(pt_guarded_by(x))
#define REQUIRES(...) LT_THREAD_ANNOTATION(requires_capability(__VA_ARGS__))
#define EXCLUDES(...) LT_THREAD_ANNOTATION(locks_excluded(__VA_ARGS__))
#define ACQUIRE(...) LT_THREAD_ANNOTATION(acquire_capability(__VA_ARGS__))
#define RELEASE(...) LT_THREAD_ANNOTATION(release_capability(__VA_ARGS__))
#define NO_THREAD_SAFETY_ANALYSIS LT_THREAD_ANNOTATION(no_thread_safety_analysis)

namespace lightning {

// std::mutex with capability annotations.
class CAPABILITY("mutex") Mutex {
 public:
  void lock() ACQUIRE() { mu_.lock(); }
  void unlock() RELEASE() { mu_.unlock(); }
  std::mutex& native() { return mu_; }

 private:
  std::mutex mu_;
};

// Scoped lock on a Mutex.
class SCOPED_CAPABILITY MutexLock {
 public:
  explicit MutexLock(Mutex& mu) ACQUIRE(mu) : mu_(mu) { mu_.lock(); }
  ~MutexLock() RELEASE() { mu_.unlock(); }
  MutexLock(const MutexLock&) = delete;
  MutexLock& operator=(const MutexLock&) = delete;

 private:
  Mutex& mu_;
};

// Condition variable usable with a held Mutex.
class CondVar {
 public:
  // REQUIRES: mu held by the caller; returns with it held.
  void wait(Mutex& mu) REQUIRES(mu) {
    std::unique_lock<std::mutex> lk(mu.native(), std::adopt_lock);
    cv_.wait(lk);
    lk.release();
  }
  template <class Clock, class Duration>
  bool wait_until(Mutex& mu, const std::chrono::time_point<Clock, Duration>& t) REQUIRES(mu) {
    std::unique_lock<std::mutex> lk(mu.native(), std::adopt_lock);
    bool timed_out = cv_.wait_until(lk, t) == std::cv_status::timeout;
    lk.release();
    return timed_out;
  }
  void notify_one() { cv_.notify_one(); }
  void notify_all() { cv_.notify_all(); }

 private:
  std::condition_variable cv_;
};

}  // namespace lightning
