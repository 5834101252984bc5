// RetryPolicy: how a task rides out a lost connection or another retryable error.
//
// When the source or destination connection fails, the task retries at once, then with bounded
// exponential backoff, for at most retry_time_for_failed_connections (10-1440 minutes, default
// 720). Other retryable errors (a deadlock, a lock wait timeout, a full disk under the data dir)
// get their own, shorter window, retry_time_for_other_issues (1-1440 minutes, default 10, smaller
// than the first). If the operation succeeds within the window the task resumes from its
// checkpoint; otherwise it fails with the last error. Non-retryable errors (corruption, bad input,
// a deleted node) fail at once.
//
// Time comes from the injected Clock, so tests prove a 720-minute window without waiting.
// Thread-compatible: one policy per task loop; state() may be read under the caller's lock.
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "common/clock.h"
#include "common/status.h"

namespace dts::source {

struct RetryOptions {
  std::chrono::minutes failed_connections{720};
  std::chrono::minutes other_issues{10};
  std::chrono::milliseconds initial_backoff{0};  // the first retry is immediate
  std::chrono::milliseconds min_backoff{250};
  // Short enough that a node coming back is noticed within seconds; an attempt costs a few
  // connections, so retrying every 5 s for the whole window is cheap.
  std::chrono::milliseconds max_backoff{5000};

  // Checks the documented ranges; messages name the option and the allowed range.
  Status validate() const;
};

class RetryPolicy {
 public:
  // REQUIRES: clock outlives the policy.
  RetryPolicy(RetryOptions options, Clock* clock) : options_(options), clock_(clock) {}

  enum class Kind { kConnection, kOther };
  struct State {
    Kind kind = Kind::kConnection;
    Clock::TimePoint since;
    Clock::TimePoint gives_up_at;
    int attempts = 0;
    Status last_error;
  };

  // Called after a failed attempt. Returns how long to wait before the next attempt, or the
  // error to fail the task with: the error itself when it is not retryable, or, once the window
  // has passed, "gave up after N attempts over M minutes: <last error>".
  Result<Clock::Duration> onFailure(const Status& error);
  // Called after a successful attempt: the outage, if any, is over.
  void onSuccess();
  // An outage an earlier process was riding out when it ended without a word (kill -9, a
  // crash) began at `since`: the next failure's window counts from then, not from now, so a
  // task whose process is restarted again and again still gives up when its window ends.
  void carryOutage(Clock::TimePoint since) { carried_ = since; }

  // The outage in progress, if any ("retrying since T, gives up at T+W").
  const std::optional<State>& state() const { return state_; }
  // "retrying since 2026-11-23T10:00:00Z, gives up at 2026-11-23T22:00:00Z (attempt 3): <error>"
  std::string describe() const;

  // Connection errors are kUnavailable; other retryable errors are those isRetryableOther says.
  static bool isRetryableOther(const Status& error);

 private:
  RetryOptions options_;
  Clock* clock_;
  std::optional<State> state_;
  std::optional<Clock::TimePoint> carried_;
};

std::string formatTime(Clock::TimePoint t);

}  // namespace dts::source
