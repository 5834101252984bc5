#include "source/retry_policy.h"

#include <algorithm>
#include <ctime>

namespace dts::source {

Status RetryOptions::validate() const {
  if (failed_connections.count() < 10 || failed_connections.count() > 1440) {
    return Status::InvalidArgument(
        "options.retry_time_for_failed_connections: must be 10 to 1440 minutes, got " +
        std::to_string(failed_connections.count()));
  }
  if (other_issues.count() < 1 || other_issues.count() > 1440) {
    return Status::InvalidArgument(
        "options.retry_time_for_other_issues: must be 1 to 1440 minutes, got " +
        std::to_string(other_issues.count()));
  }
  if (other_issues >= failed_connections) {
    return Status::InvalidArgument(
        "options.retry_time_for_other_issues: must be smaller than retry_time_for_failed_connections (" +
        std::to_string(failed_connections.count()) + "), got " +
        std::to_string(other_issues.count()));
  }
  return Status::OK();
}

bool RetryPolicy::isRetryableOther(const Status& error) {
  if (error.code() != Status::Code::kFailedPrecondition) return false;
  const std::string& m = error.message();
  // Server-side conditions that pass on their own: deadlocks, lock waits, a server that is
  // starting or read-only during a failover, too many connections.
  for (const char* needle : {"(error 1213)", "(error 1205)", "(error 1290)", "(error 1836)",
                             "(error 1040)", "(error 1203)", "(error 1927)", "(error 1053)"}) {
    if (m.find(needle) != std::string::npos) return true;
  }
  // A full disk under the data dir (the task state's SQLite file, a tracking task's change log):
  // passes once the operator frees space.
  for (const char* needle : {"database or disk is full", "No space left on device"}) {
    if (m.find(needle) != std::string::npos) return true;
  }
  return false;
}

Result<Clock::Duration> RetryPolicy::onFailure(const Status& error) {
  Kind kind;
  if (error.isRetryable()) {
    kind = Kind::kConnection;
  } else if (isRetryableOther(error)) {
    kind = Kind::kOther;
  } else {
    return error;
  }
  auto now = clock_->now();
  if (!state_ || state_->kind != kind) {
    // A connection outage keeps its window even if the error changes kind on the way (a node
    // coming back read-only first); a new outage starts a new window.
    if (!state_ || (state_->kind == Kind::kOther && kind == Kind::kConnection)) {
      State s;
      s.kind = kind;
      s.since = carried_ && *carried_ < now ? *carried_ : now;
      carried_.reset();
      s.gives_up_at =
          s.since + (kind == Kind::kConnection ? Clock::Duration(options_.failed_connections)
                                               : Clock::Duration(options_.other_issues));
      state_ = s;
    }
  }
  state_->attempts++;
  state_->last_error = error;
  if (now >= state_->gives_up_at) {
    auto minutes = std::chrono::duration_cast<std::chrono::minutes>(now - state_->since).count();
    Status failed(error.withContext("gave up after " + std::to_string(state_->attempts) +
                                    " attempts over " + std::to_string(minutes) + " minutes"));
    state_.reset();
    return failed;
  }
  if (state_->attempts == 1) return Clock::Duration(options_.initial_backoff);
  std::chrono::milliseconds backoff(options_.min_backoff.count() *
                                    (int64_t{1} << std::min(state_->attempts - 2, 16)));
  backoff = std::min(backoff, options_.max_backoff);
  // Never sleep past the deadline: the last attempt happens at the end of the window.
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(state_->gives_up_at - now);
  return Clock::Duration(std::min(backoff, left));
}

void RetryPolicy::onSuccess() {
  state_.reset();
  carried_.reset();
}

std::string formatTime(Clock::TimePoint t) {
  std::time_t secs = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string RetryPolicy::describe() const {
  if (!state_) return "";
  return "retrying since " + formatTime(state_->since) + ", gives up at " +
         formatTime(state_->gives_up_at) + " (attempt " + std::to_string(state_->attempts) +
         "): " + state_->last_error.message();
}

}  // namespace dts::source
