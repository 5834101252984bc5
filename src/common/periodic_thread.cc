#include "common/periodic_thread.h"

#include <utility>

namespace dts {

PeriodicThread::PeriodicThread(std::chrono::milliseconds period, Tick tick)
    : period_(period), tick_(std::move(tick)) {}

PeriodicThread::~PeriodicThread() {
  stop();
}

void PeriodicThread::start() {
  std::lock_guard<std::mutex> lock(mu_);
  if (thread_.joinable()) return;
  stopping_ = false;
  thread_ = std::thread([this] { run(); });
}

void PeriodicThread::stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void PeriodicThread::run() {
  while (tick_()) {
    std::unique_lock<std::mutex> lock(mu_);
    if (cv_.wait_for(lock, period_, [this] { return stopping_; })) return;
  }
}

}  // namespace dts
