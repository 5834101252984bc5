#include "task/run_lock.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include "source/binlog_fixture_for_tests.h"

namespace dts::task {
namespace {

TEST(TaskRunLockTest, OneClaimAtATimeAndStatusSeesIt) {
  source::testing::ScratchDir dir("dts-run-lock");
  ASSERT_FALSE(dir.path().empty());
  EXPECT_EQ(taskRunningPid(dir.path(), "t"), std::nullopt);
  {
    auto first = TaskRunLock::acquire(dir.path(), "t");
    ASSERT_TRUE(first.ok()) << first.status().toString();
    EXPECT_EQ(taskRunningPid(dir.path(), "t"), ::getpid());
    // A second claim fails, in this process as in another, naming the holder.
    auto second = TaskRunLock::acquire(dir.path(), "t");
    ASSERT_FALSE(second.ok());
    EXPECT_EQ(second.status().code(), Status::Code::kFailedPrecondition);
    EXPECT_NE(second.status().message().find("task t is already running (pid " +
                                             std::to_string(::getpid()) + ")"),
              std::string::npos)
        << second.status().message();
    // Another task is its own claim.
    EXPECT_TRUE(TaskRunLock::acquire(dir.path(), "u").ok());
  }
  // Released with the claim: the task is not running and can be claimed again.
  EXPECT_EQ(taskRunningPid(dir.path(), "t"), std::nullopt);
  EXPECT_TRUE(TaskRunLock::acquire(dir.path(), "t").ok());
}

}  // namespace
}  // namespace dts::task
