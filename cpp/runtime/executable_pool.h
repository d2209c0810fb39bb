// Executables of one plan handed out one per call, so concurrent calls on one Engine never share working memory.
#pragma once
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include "trtcore/backend.h"

namespace trtcore {

class ExecutablePool {
 public:
  using Make = std::function<std::unique_ptr<Executable>()>;

  // `first` (owned elsewhere) serves serial callers; up to `limit` - 1 more are made by `make` when calls overlap.
  ExecutablePool(Executable& first, Make make, size_t limit);

  // Exclusive use of one executable until destroyed.
  class Lease {
   public:
    Lease(Lease&& o) noexcept : pool_(o.pool_), x_(o.x_) { o.pool_ = nullptr; }
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    Lease& operator=(Lease&&) = delete;
    ~Lease();
    Executable& operator*() const { return *x_; }
    Executable* operator->() const { return x_; }

   private:
    friend class ExecutablePool;
    Lease(ExecutablePool* pool, Executable* x) : pool_(pool), x_(x) {}
    ExecutablePool* pool_;
    Executable* x_;
  };

  // An idle executable, a new one while fewer than `limit` exist, else waits for one to come back.
  Lease acquire();

 private:
  void release(Executable* x);

  Make make_;
  size_t limit_;
  size_t made_ = 1;  // `first` included; counts executables being made too
  std::vector<Executable*> idle_;  // last returned first: a serial caller keeps getting the same warm one
  std::vector<std::unique_ptr<Executable>> owned_;
  std::mutex mutex_;
  std::condition_variable returned_;
};

}  // namespace trtcore
