#include "common/status.h"

#include <gtest/gtest.h>

#include <string>

namespace dts {
namespace {

Result<int> parsePositive(int v) {
  if (v <= 0) return Status::InvalidArgument("not positive: " + std::to_string(v));
  return v;
}

TEST(ResultTest, ValueOfAnOkResult) {
  auto r = parsePositive(7);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.value(), 7);
  EXPECT_EQ(*r, 7);
}

TEST(ResultTest, OkStatusWithoutValueIsAnInternalError) {
  Result<int> r(Status::OK());
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Status::Code::kInternal);
}

TEST(ResultDeathTest, ValueOfAnErrorAbortsNamingTheError) {
  auto r = parsePositive(-1);
  EXPECT_DEATH((void)r.value(), "value of an error Result: invalid argument: not positive: -1");
  EXPECT_DEATH((void)*r, "not positive");
  EXPECT_DEATH((void)std::move(r).value(), "not positive");
}

TEST(StatusTest, ContextKeepsTheCode) {
  Status st = Status::Unavailable("connection refused").withContext("reading node-2");
  EXPECT_TRUE(st.isRetryable());
  EXPECT_EQ(st.toString(), "unavailable: reading node-2: connection refused");
  EXPECT_TRUE(Status::OK().withContext("x").ok());
}

}  // namespace
}  // namespace dts
