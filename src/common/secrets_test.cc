#include "common/secrets.h"

#include <gtest/gtest.h>

namespace dts {
namespace {

TEST(SecretsTest, RedactsUriPassword) {
  EXPECT_EQ(redactUri("mysql://dts:s3cr:et@127.0.0.1:3306"), "mysql://dts:***@127.0.0.1:3306");
  EXPECT_EQ(redactUri("mysql://dts@127.0.0.1:3306"), "mysql://dts@127.0.0.1:3306");
  EXPECT_EQ(redactUri("127.0.0.1:3306"), "127.0.0.1:3306");
}

TEST(SecretsTest, RedactsEveryOccurrence) {
  EXPECT_EQ(redactSecret("pw=hunter2 again hunter2", "hunter2"), "pw=*** again ***");
  EXPECT_EQ(redactSecret("nothing", ""), "nothing");
}

}  // namespace
}  // namespace dts
