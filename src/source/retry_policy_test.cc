#include "source/retry_policy.h"

#include <gtest/gtest.h>

namespace dts::source {
namespace {

using std::chrono::milliseconds;
using std::chrono::minutes;

TEST(RetryOptionsTest, EnforcesTheDocumentedRanges) {
  RetryOptions o;
  EXPECT_TRUE(o.validate().ok());  // defaults: 720 and 10
  o.failed_connections = minutes(9);
  EXPECT_NE(o.validate().message().find("must be 10 to 1440 minutes, got 9"), std::string::npos);
  o.failed_connections = minutes(1441);
  EXPECT_FALSE(o.validate().ok());
  o.failed_connections = minutes(30);
  o.other_issues = minutes(0);
  EXPECT_NE(o.validate().message().find("retry_time_for_other_issues: must be 1 to 1440"),
            std::string::npos);
  o.other_issues = minutes(30);
  EXPECT_NE(o.validate().message().find("smaller than"), std::string::npos);
  o.other_issues = minutes(29);
  EXPECT_TRUE(o.validate().ok());
}

TEST(RetryPolicyTest, RetriesAtOnceThenBacksOffWithinBounds) {
  FakeClock clock;
  RetryPolicy p(RetryOptions{}, &clock);
  Status lost = Status::Unavailable("connecting to 127.0.0.1:3307: lost");
  auto d1 = p.onFailure(lost);
  ASSERT_TRUE(d1.ok());
  EXPECT_EQ(*d1, Clock::Duration(0));
  Clock::Duration last(0);
  for (int i = 0; i < 30; ++i) {
    auto d = p.onFailure(lost);
    ASSERT_TRUE(d.ok());
    EXPECT_GE(*d, last);
    EXPECT_LE(*d, Clock::Duration(milliseconds(5000)));
    last = *d;
    clock.advance(*d);
  }
  EXPECT_EQ(last, Clock::Duration(milliseconds(5000)));
  ASSERT_TRUE(p.state().has_value());
  EXPECT_NE(p.describe().find("retrying since"), std::string::npos);
  EXPECT_NE(p.describe().find("gives up at"), std::string::npos);
}

TEST(RetryPolicyTest, FailsWithTheLastErrorWhenTheWindowExpires) {
  FakeClock clock;
  RetryOptions o;
  o.failed_connections = minutes(720);
  RetryPolicy p(o, &clock);
  auto start = clock.now();
  int attempts = 0;
  while (true) {
    auto d = p.onFailure(Status::Unavailable("node-2 127.0.0.1:3307 refused (attempt " +
                                             std::to_string(attempts) + ")"));
    ++attempts;
    if (!d.ok()) {
      EXPECT_EQ(d.status().code(), Status::Code::kUnavailable);
      EXPECT_NE(d.status().message().find("gave up after"), std::string::npos);
      EXPECT_NE(d.status().message().find("over 720 minutes"), std::string::npos);
      EXPECT_NE(d.status().message().find("node-2"), std::string::npos);
      break;
    }
    clock.advance(*d);
    ASSERT_LE(clock.now() - start, Clock::Duration(minutes(721)));
  }
  EXPECT_EQ(clock.now() - start, Clock::Duration(minutes(720)));
  EXPECT_GT(attempts, 100);
}

TEST(RetryPolicyTest, RecoveryWithinTheWindowResets) {
  FakeClock clock;
  RetryPolicy p(RetryOptions{}, &clock);
  ASSERT_TRUE(p.onFailure(Status::Unavailable("down")).ok());
  clock.advance(minutes(719));
  ASSERT_TRUE(p.onFailure(Status::Unavailable("down")).ok());
  p.onSuccess();
  EXPECT_FALSE(p.state().has_value());
  // A new outage gets a whole new window.
  clock.advance(minutes(5));
  ASSERT_TRUE(p.onFailure(Status::Unavailable("down again")).ok());
  clock.advance(minutes(700));
  EXPECT_TRUE(p.onFailure(Status::Unavailable("down again")).ok());
}

// A process killed while retrying, started again: the outage goes on from when it began, so a
// task restarted again and again still gives up at the end of its window.
TEST(RetryPolicyTest, AnOutageCarriedFromAnEarlierProcessKeepsItsWindow) {
  FakeClock clock;
  RetryOptions o;
  o.failed_connections = minutes(10);
  RetryPolicy p(o, &clock);
  p.carryOutage(clock.now() - minutes(8));
  ASSERT_TRUE(p.onFailure(Status::Unavailable("down")).ok());
  ASSERT_TRUE(p.state().has_value());
  EXPECT_EQ(p.state()->gives_up_at, clock.now() + minutes(2));
  clock.advance(minutes(2));
  auto d = p.onFailure(Status::Unavailable("down"));
  ASSERT_FALSE(d.ok());
  EXPECT_NE(d.status().message().find("over 10 minutes"), std::string::npos);
}

TEST(RetryPolicyTest, ASuccessEndsACarriedOutage) {
  FakeClock clock;
  RetryOptions o;
  o.failed_connections = minutes(10);
  RetryPolicy p(o, &clock);
  p.carryOutage(clock.now() - minutes(8));
  p.onSuccess();
  ASSERT_TRUE(p.onFailure(Status::Unavailable("down")).ok());
  ASSERT_TRUE(p.state().has_value());
  EXPECT_EQ(p.state()->gives_up_at - p.state()->since, Clock::Duration(minutes(10)));
}

TEST(RetryPolicyTest, OtherIssuesHaveTheirOwnShorterWindow) {
  FakeClock clock;
  RetryOptions o;
  o.other_issues = minutes(10);
  RetryPolicy p(o, &clock);
  Status deadlock =
      Status::FailedPrecondition("query on 127.0.0.1:3307: Deadlock found (error 1213)");
  ASSERT_TRUE(p.onFailure(deadlock).ok());
  EXPECT_EQ(p.state()->kind, RetryPolicy::Kind::kOther);
  clock.advance(minutes(10));
  auto d = p.onFailure(deadlock);
  ASSERT_FALSE(d.ok());
  EXPECT_NE(d.status().message().find("over 10 minutes"), std::string::npos);
}

// The task state's SQLite file (or a tracking task's change log) on a full disk: the task waits
// for space within the other-issues window instead of failing at once.
TEST(RetryPolicyTest, AFullDiskIsARetryableOtherIssue) {
  FakeClock clock;
  RetryPolicy p(RetryOptions{}, &clock);
  auto d = p.onFailure(Status::FailedPrecondition(
      "saving the incremental start position: sqlite in /var/lib/dts/state.db: database or disk "
      "is full"));
  ASSERT_TRUE(d.ok()) << d.status().toString();
  EXPECT_EQ(p.state()->kind, RetryPolicy::Kind::kOther);
  EXPECT_TRUE(RetryPolicy::isRetryableOther(
      Status::FailedPrecondition("writing segment 00000001.log: No space left on device")));
}

TEST(RetryPolicyTest, NonRetryableErrorsFailAtOnce) {
  FakeClock clock;
  RetryPolicy p(RetryOptions{}, &clock);
  auto d = p.onFailure(
      Status::FailedPrecondition("secondary node node-2 was deleted from instance shop"));
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.status().message(), "secondary node node-2 was deleted from instance shop");
  EXPECT_FALSE(p.onFailure(Status::Corruption("bad checksum")).ok());
}

}  // namespace
}  // namespace dts::source
