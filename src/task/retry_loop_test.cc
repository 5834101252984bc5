#include "task/retry_loop.h"

#include <gtest/gtest.h>

namespace dts::task {
namespace {

using std::chrono::minutes;

source::RetryOptions window(int connection_minutes, int other_minutes = 10) {
  source::RetryOptions o;
  o.failed_connections = minutes(connection_minutes);
  o.other_issues = minutes(other_minutes);
  return o;
}

const Status kLost = Status::Unavailable("connecting to 127.0.0.1:3306: lost (error 2013)");

class RetryLoopTest : public ::testing::Test {
 protected:
  // Runs the loop with a fresh policy of these windows on the fake clock.
  Status run(const RetryLoopHooks& hooks, int connection_minutes = 720, int other_minutes = 10) {
    source::RetryPolicy policy(window(connection_minutes, other_minutes), &clock);
    return runWithRetryWindow(policy, &clock, hooks, stop, wake);
  }
  Clock::Duration elapsed() const { return clock.now() - start; }

  FakeClock clock;
  const Clock::TimePoint start = clock.now();
  std::atomic<bool> stop{false}, wake{false};
};

TEST_F(RetryLoopTest, A720MinuteWindowExpiresOnTheClockWithoutWaiting) {
  int attempts = 0, retries = 0;
  RetryLoopHooks hooks;
  hooks.attempt = [&] {
    ++attempts;
    return kLost;
  };
  hooks.on_retry = [&](const std::string& retrying, const Status& error) {
    ++retries;
    EXPECT_NE(retrying.find("retrying since"), std::string::npos);
    EXPECT_EQ(error.toString(), kLost.toString());
  };
  Status st = run(hooks);
  EXPECT_EQ(st.code(), Status::Code::kUnavailable);
  EXPECT_NE(st.message().find("gave up"), std::string::npos) << st.toString();
  EXPECT_NE(st.message().find("lost (error 2013)"), std::string::npos) << st.toString();
  // The whole window passed on the fake clock, and not much more (at most one backoff step).
  EXPECT_GE(elapsed(), minutes(720));
  EXPECT_LE(elapsed(), minutes(720) + std::chrono::seconds(10));
  // Retried all along: at least one attempt every max_backoff (5 s) over 12 hours.
  EXPECT_GE(attempts, 720 * 60 / 5);
  EXPECT_EQ(retries, attempts - 1);
}

TEST_F(RetryLoopTest, RecoveringWithinTheWindowResumes) {
  int attempts = 0;
  RetryLoopHooks hooks;
  // Down for 11 hours, then back.
  hooks.attempt = [&] {
    ++attempts;
    return elapsed() < std::chrono::hours(11) ? kLost : Status::OK();
  };
  EXPECT_TRUE(run(hooks).ok());
  EXPECT_GE(elapsed(), std::chrono::hours(11));
  EXPECT_LT(elapsed(), minutes(720));
  EXPECT_GT(attempts, 1);
}

TEST_F(RetryLoopTest, AnAttemptThatRanAWhileStartsANewWindow) {
  bool long_run_done = false;
  RetryLoopHooks hooks;
  // Down for 11 hours; then one attempt runs for an hour before failing (it had recovered), then
  // down for another 11 hours: 23 hours in all, never 12 in a row, so the task never gives up.
  hooks.attempt = [&] {
    auto t = elapsed();
    if (t < std::chrono::hours(11)) return kLost;
    if (!long_run_done) {
      long_run_done = true;
      clock.advance(std::chrono::hours(1));
      return kLost;
    }
    return t < std::chrono::hours(23) ? kLost : Status::OK();
  };
  EXPECT_TRUE(run(hooks).ok());
  EXPECT_GE(elapsed(), std::chrono::hours(23));
}

TEST_F(RetryLoopTest, ProgressStartsANewWindow) {
  uint64_t rows = 0;
  int64_t last_slot = 0;
  RetryLoopHooks hooks;
  hooks.progress = [&] { return rows; };
  // Fails every time, but moves a row once every 5 minutes: each failure after one is a new
  // outage, so a 10-minute window never closes over 2 hours.
  hooks.attempt = [&] {
    if (elapsed() >= std::chrono::hours(2)) return Status::OK();
    int64_t slot = std::chrono::duration_cast<minutes>(elapsed()).count() / 5;
    if (slot != last_slot) {
      last_slot = slot;
      ++rows;
    }
    return kLost;
  };
  EXPECT_TRUE(run(hooks, 10).ok());
}

TEST_F(RetryLoopTest, OtherIssuesHaveTheirShorterWindow) {
  RetryLoopHooks hooks;
  hooks.attempt = [] {
    return Status::FailedPrecondition(
        "applying: Deadlock found when trying to get lock (error 1213)");
  };
  Status st = run(hooks);
  EXPECT_NE(st.message().find("gave up"), std::string::npos) << st.toString();
  EXPECT_GE(elapsed(), minutes(10));
  EXPECT_LT(elapsed(), minutes(11));
}

TEST_F(RetryLoopTest, NonRetryableErrorsAndInterruptionsEndAtOnce) {
  int attempts = 0;
  RetryLoopHooks hooks;
  hooks.attempt = [&] {
    ++attempts;
    return Status::Corruption("binlog event at mysql-bin.000001:120 is truncated");
  };
  EXPECT_EQ(run(hooks).code(), Status::Code::kCorruption);
  EXPECT_EQ(attempts, 1);
  EXPECT_EQ(clock.now(), start);

  // A deleted secondary node wins over the retryable error of the attempt it ended.
  hooks.attempt = [] { return kLost; };
  hooks.interrupted = [] { return Status::FailedPrecondition("node node-2 was deleted"); };
  EXPECT_EQ(run(hooks).message(), "node node-2 was deleted");

  // A stop request during the wait ends the loop as stopped.
  hooks.interrupted = nullptr;
  hooks.on_retry = [&](const std::string&, const Status&) { stop = true; };
  EXPECT_EQ(run(hooks).code(), Status::Code::kAborted);
}

// A pause (the stop flag) that arrives while an attempt fails with a retryable error pauses the
// task: before, the attempt's error came back as is and a paused task showed as failed. A
// non-retryable error still fails it.
TEST_F(RetryLoopTest, AStopDuringAFailingAttemptPausesUnlessTheErrorIsFinal) {
  RetryLoopHooks hooks;
  hooks.attempt = [&] {
    stop = true;
    return kLost;
  };
  Status st = run(hooks);
  EXPECT_EQ(st.code(), Status::Code::kAborted) << st.toString();
  EXPECT_NE(st.message().find("lost (error 2013)"), std::string::npos) << st.toString();
  stop = false;
  hooks.attempt = [&] {
    stop = true;
    return Status::Corruption("binlog event at mysql-bin.000001:120 is truncated");
  };
  EXPECT_EQ(run(hooks).code(), Status::Code::kCorruption);
}

}  // namespace
}  // namespace dts::task
