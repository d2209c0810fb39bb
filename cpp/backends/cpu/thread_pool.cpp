#include "backends/cpu/thread_pool.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif
#if defined(__linux__)
#include <pthread.h>
#include <sched.h>
#endif

namespace trtcore::cpu {
namespace {

// Spin-then-sleep pool. A call is published as a new generation in one atomic word that also holds the seats
// left (workers still allowed to join) and the workers joined; tasks are claimed from an atomic counter, so no
// lock is taken while tasks run. Idle workers poll for the next generation for up to kSpin (back-to-back layers
// then cost no wake-up), then sleep on a condition variable; the caller likewise polls before sleeping while it
// waits for joined workers to finish their last task.
class TaskPool {
 public:
  ~TaskPool() {
    {
      std::lock_guard<std::mutex> lk(mu_);
      stop_.store(true, std::memory_order_seq_cst);
    }
    wake_.notify_all();
    for (std::thread& t : workers_) t.join();
  }

  void run(int threads, int64_t tasks, const std::function<void(int64_t)>& task) {
    std::unique_lock<std::mutex> owner(owner_, std::try_to_lock);
    if (!owner.owns_lock() || threads <= 1 || tasks <= 1) {
      for (int64_t i = 0; i < tasks; ++i) task(i);
      return;
    }
    const uint64_t gen = generation(state_.load(std::memory_order_relaxed)) + 1;
    // a new worker starts from the generation before this call, so it cannot miss this call
    while (int(workers_.size()) < threads - 1) {
      const int index = int(workers_.size()) + 1;  // the caller is participant 0
      workers_.emplace_back([this, gen, index, threads] {
        pin_to_own_cpu(index, threads);
        work(gen - 1);
      });
    }
    task_ = &task;
    total_ = tasks;
    next_.store(0, std::memory_order_relaxed);
    const uint64_t seats = uint64_t(std::min<int64_t>({threads - 1, tasks - 1, int64_t(kFieldMask)}));
    state_.store((gen & kGenMask) << kGenShift | seats << kSeatShift, std::memory_order_seq_cst);
    if (sleepers_.load(std::memory_order_seq_cst) > 0) {
      // taking the lock orders this notify after any sleeper's predicate check, so none misses the new call
      { std::lock_guard<std::mutex> lk(mu_); }
      wake_.notify_all();
    }
    try {
      drain(task);
    } catch (...) {
      finish();
      take_error();
      throw;
    }
    finish();
    // A task that threw on a worker reaches the caller here, not std::terminate.
    if (std::exception_ptr e = take_error()) std::rethrow_exception(e);
  }

 private:
  static constexpr int kGenShift = 32, kSeatShift = 16;
  static constexpr uint64_t kGenMask = 0xffffffffull, kFieldMask = 0xffffull;
  // bounded: a wake-up on a busy VM costs tens of microseconds, but an idle pool must not hold a core
  static constexpr std::chrono::microseconds kSpin{100};

  static uint64_t generation(uint64_t s) { return s >> kGenShift; }
  static uint64_t seats(uint64_t s) { return (s >> kSeatShift) & kFieldMask; }
  static uint64_t joined(uint64_t s) { return s & kFieldMask; }

  // When the pool spans every CPU this process may use, worker k stays on the k-th: left to the scheduler, a woken
  // worker is often placed on its waker's CPU, and the two then take turns on one core while another idles
  // (measured on a 2-core VM: as slow as one thread). The caller is not pinned; it moves off a busy CPU. A pool
  // on fewer CPUs is not pinned, so processes sharing a machine do not pile onto the same ones.
  static void pin_to_own_cpu(int index, int threads) {
#if defined(__linux__)
    cpu_set_t allowed;
    if (sched_getaffinity(0, sizeof(allowed), &allowed) != 0 || CPU_COUNT(&allowed) != threads) return;
    for (int cpu = 0, seen = 0; cpu < CPU_SETSIZE; ++cpu) {
      if (!CPU_ISSET(cpu, &allowed) || seen++ != index) continue;
      cpu_set_t one;
      CPU_ZERO(&one);
      CPU_SET(cpu, &one);
      pthread_setaffinity_np(pthread_self(), sizeof(one), &one);  // best effort: a refusal leaves it unpinned
      return;
    }
#else
    (void)index, (void)threads;
#endif
  }

  static void relax() {
#if defined(__x86_64__) || defined(__i386__)
    _mm_pause();
#elif defined(__aarch64__)
    asm volatile("yield");
#endif
  }

  // Polls done() with a pause between reads; true once it holds, false when kSpin has passed without it.
  template <class Done>
  static bool spin_until(Done done) {
    const auto deadline = std::chrono::steady_clock::now() + kSpin;
    for (;;) {
      for (int i = 0; i < 64; ++i) {
        if (done()) return true;
        relax();
      }
      if (std::chrono::steady_clock::now() >= deadline) return done();
      // a thread that waits on this one may share its core (a woken worker is often placed beside its waker)
      std::this_thread::yield();
    }
  }

  void drain(const std::function<void(int64_t)>& task) {
    for (int64_t i = next_.fetch_add(1, std::memory_order_relaxed); i < total_;
         i = next_.fetch_add(1, std::memory_order_relaxed))
      task(i);
  }

  // Closes the call to workers that have not joined yet and waits for those that have (their tasks are claimed).
  void finish() {
    uint64_t s = state_.fetch_and(~(kFieldMask << kSeatShift), std::memory_order_acq_rel);
    auto idle = [this] { return joined(state_.load(std::memory_order_seq_cst)) == 0; };
    if (joined(s) != 0 && !spin_until(idle)) {
      std::unique_lock<std::mutex> lk(mu_);
      owner_sleeping_.store(true, std::memory_order_seq_cst);
      done_.wait(lk, idle);
      owner_sleeping_.store(false, std::memory_order_relaxed);
    }
    task_ = nullptr;
    total_ = 0;
  }

  // Joins call `gen` if it still has a seat; false when it is closed, full or already superseded.
  bool join(uint64_t gen) {
    uint64_t s = state_.load(std::memory_order_acquire);
    while (generation(s) == (gen & kGenMask) && seats(s) > 0)
      if (state_.compare_exchange_weak(s, s - (1ull << kSeatShift) + 1, std::memory_order_acquire,
                                       std::memory_order_acquire))
        return true;
    return false;
  }

  void leave() {
    const uint64_t s = state_.fetch_sub(1, std::memory_order_seq_cst);
    if (joined(s) == 1 && owner_sleeping_.load(std::memory_order_seq_cst)) {
      { std::lock_guard<std::mutex> lk(mu_); }
      done_.notify_all();
    }
  }

  void work(uint64_t seen) {
    for (;;) {
      auto published = [this, seen] {
        return stop_.load(std::memory_order_seq_cst) ||
               generation(state_.load(std::memory_order_seq_cst)) != (seen & kGenMask);
      };
      if (!spin_until(published)) {
        std::unique_lock<std::mutex> lk(mu_);
        sleepers_.fetch_add(1, std::memory_order_seq_cst);
        wake_.wait(lk, published);
        sleepers_.fetch_sub(1, std::memory_order_relaxed);
      }
      if (stop_.load(std::memory_order_relaxed)) return;
      seen = generation(state_.load(std::memory_order_acquire));
      if (join(seen)) {
        try {
          drain(*task_);
        } catch (...) {
          std::lock_guard<std::mutex> lk(error_mu_);
          if (!error_) error_ = std::current_exception();
        }
        leave();
      }
    }
  }

  std::exception_ptr take_error() {
    std::lock_guard<std::mutex> lk(error_mu_);
    std::exception_ptr e = error_;
    error_ = nullptr;
    return e;
  }

  std::mutex owner_;  // one caller at a time
  std::mutex error_mu_;
  std::exception_ptr error_;  // the first exception a worker's task threw in the current call
  std::mutex mu_;     // only for sleeping and waking
  std::condition_variable wake_, done_;
  std::vector<std::thread> workers_;
  const std::function<void(int64_t)>* task_ = nullptr;
  int64_t total_ = 0;
  std::atomic<int64_t> next_{0};
  std::atomic<uint64_t> state_{0};  // generation << 32 | seats left << 16 | workers joined
  std::atomic<int> sleepers_{0};
  std::atomic<bool> owner_sleeping_{false}, stop_{false};
};

}  // namespace

void parallel_tasks(int threads, int64_t tasks, const std::function<void(int64_t)>& task) {
  static TaskPool pool;
  pool.run(threads, tasks, task);
}

}  // namespace trtcore::cpu
