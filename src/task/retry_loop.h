// The task's retry window as a loop: runs an attempt again and again while it fails with a
// retryable error and the window of source::RetryPolicy (retry_time_for_failed_connections,
// retry_time_for_other_issues) is open; each attempt resumes from the saved state. Every wait and
// every "how long did the attempt run" comes from the injected Clock, so a test proves a
// 720-minute window (expiring, or recovering within it) without waiting.
//
// An attempt that made progress (the progress counter moved) or ran longer than kRecoveredAfter
// had recovered: its failure starts a new outage with a new window.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

#include "common/clock.h"
#include "common/status.h"
#include "source/retry_policy.h"

namespace dts::task {

struct RetryLoopHooks {
  // One attempt. OK ends the loop.
  std::function<Status()> attempt;
  // A counter that grows while attempts make progress (rows moved). Null: never.
  std::function<uint64_t()> progress;
  // Called before each wait with RetryPolicy::describe() and the attempt's error. May be null.
  std::function<void(const std::string& retrying, const Status& error)> on_retry;
  // Non-OK: stop at once with this status (the task's secondary node was deleted); checked after
  // each attempt and each wait. May be null.
  std::function<Status()> interrupted;
};

// How long an attempt must run for its failure to count as a new outage.
inline constexpr std::chrono::seconds kRecoveredAfter{30};

// Runs hooks.attempt until it succeeds, fails with a non-retryable error, the window closes
// ("gave up after ..."), hooks.interrupted() says so, or stop becomes true after an attempt
// (kAborted "stopped"). A wait ends early when wake or stop becomes true.
// REQUIRES: hooks.attempt set; clock outlives the call.
Status runWithRetryWindow(source::RetryPolicy& policy, Clock* clock, const RetryLoopHooks& hooks,
                          const std::atomic<bool>& stop, const std::atomic<bool>& wake);

}  // namespace dts::task
