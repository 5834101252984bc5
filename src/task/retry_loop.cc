#include "task/retry_loop.h"

#include <algorithm>

namespace dts::task {

Status runWithRetryWindow(source::RetryPolicy& policy, Clock* clock, const RetryLoopHooks& hooks,
                          const std::atomic<bool>& stop, const std::atomic<bool>& wake) {
  auto interrupted = [&] { return hooks.interrupted ? hooks.interrupted() : Status::OK(); };
  auto progress = [&]() -> uint64_t { return hooks.progress ? hooks.progress() : 0; };
  while (true) {
    uint64_t before = progress();
    auto started = clock->now();
    Status st = hooks.attempt();
    if (Status i = interrupted(); !i.ok()) return i;
    if (st.ok()) return st;
    // Stopped (paused) while an attempt failed with an error that would have been retried: the
    // task pauses as a stop asks, it does not fail (the next start retries it anyway).
    if (stop.load()) {
      bool retryable =
          st.code() == Status::Code::kUnavailable || source::RetryPolicy::isRetryableOther(st);
      return retryable
                 ? Status::Aborted("stopped (the last attempt had failed: " + st.toString() + ")")
                 : st;
    }
    if (progress() != before || clock->now() - started > kRecoveredAfter) policy.onSuccess();
    auto delay = policy.onFailure(st);
    if (!delay.ok()) return delay.status();
    if (hooks.on_retry) hooks.on_retry(policy.describe(), st);
    // Sleep in small steps so a stop request or a node deletion ends the wait at once.
    auto left = *delay;
    while (left > Clock::Duration(0) && !wake.load() && !stop.load()) {
      auto step = std::min<Clock::Duration>(left, std::chrono::milliseconds(100));
      clock->sleepFor(step);
      left -= step;
    }
    if (Status i = interrupted(); !i.ok()) return i;
    if (stop.load()) return Status::Aborted("stopped");
  }
}

}  // namespace dts::task
