#include "runtime/executable_pool.h"

namespace trtcore {

ExecutablePool::ExecutablePool(Executable& first, Make make, size_t limit)
    : make_(std::move(make)), limit_(limit < 1 ? 1 : limit), idle_{&first} {}

ExecutablePool::Lease::~Lease() {
  if (pool_) pool_->release(x_);
}

ExecutablePool::Lease ExecutablePool::acquire() {
  std::unique_lock<std::mutex> lock(mutex_);
  returned_.wait(lock, [&] { return !idle_.empty() || made_ < limit_; });
  if (!idle_.empty()) {
    Executable* x = idle_.back();
    idle_.pop_back();
    return Lease(this, x);
  }
  ++made_;
  lock.unlock();  // making one can take long (the cpu backend packs weights): other callers need not wait for it
  std::unique_ptr<Executable> x;
  try {
    x = make_();
  } catch (...) {
    lock.lock();
    --made_;
    returned_.notify_one();
    throw;
  }
  lock.lock();
  owned_.push_back(std::move(x));
  return Lease(this, owned_.back().get());
}

void ExecutablePool::release(Executable* x) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    idle_.push_back(x);
  }
  returned_.notify_one();
}

}  // namespace trtcore
