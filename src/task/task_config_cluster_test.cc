// Task files whose source is a registered instance, and the retry windows.
#include <gtest/gtest.h>

#include "task/task_config.h"

namespace dts::task {
namespace {

constexpr const char* kBase = R"(
name: shop-sync
kind: sync
destination: {endpoint: 127.0.0.1:3307, user: dts, password_env: DST_PW}
objects:
  - database: shop
)";

Result<TaskConfig> parseWith(const std::string& source, const std::string& options = "") {
  return parseTaskYaml(std::string(kBase) + "source: " + source + "\n" + options);
}

TEST(TaskConfigClusterTest, SourceInstanceWithOptionalSecondaryNode) {
  auto c = parseWith("{instance: shop, secondary_node: node-2}");
  ASSERT_TRUE(c.ok()) << c.status().toString();
  EXPECT_EQ(c->source.instance, "shop");
  EXPECT_EQ(c->source.secondary_node, "node-2");
  auto rw = parseWith("{instance: shop}");
  ASSERT_TRUE(rw.ok()) << rw.status().toString();
  EXPECT_EQ(rw->source.secondary_node, "");
  // Round trip through YAML keeps the instance form.
  auto again = parseTaskYaml(taskToYaml(*c));
  ASSERT_TRUE(again.ok()) << again.status().toString() << "\n" << taskToYaml(*c);
  EXPECT_EQ(again->source.instance, "shop");
  EXPECT_EQ(again->source.secondary_node, "node-2");
}

TEST(TaskConfigClusterTest, RejectsMisplacedSecondaryNode) {
  auto mixed = parseWith("{instance: shop, endpoint: 127.0.0.1:1}");
  ASSERT_FALSE(mixed.ok());
  EXPECT_NE(mixed.status().message().find("source.endpoint: unknown key"), std::string::npos)
      << mixed.status().message();
  auto noInstance = parseWith("{endpoint: 127.0.0.1:1, user: u, secondary_node: node-2}");
  ASSERT_FALSE(noInstance.ok());
  EXPECT_NE(noInstance.status().message().find("source.secondary_node: needs source.instance"),
            std::string::npos);
  auto dest = parseTaskYaml(
      "name: t\nkind: sync\nsource: {instance: shop}\n"
      "destination: {endpoint: 127.0.0.1:3307, user: dts, secondary_node: node-2}\n"
      "objects: [{database: shop}]\n");
  ASSERT_FALSE(dest.ok());
  EXPECT_NE(dest.status().message().find("a secondary node cannot be the destination"),
            std::string::npos);
}

TEST(TaskConfigClusterTest, RetryWindowsDefaultAndRanges) {
  auto c = parseWith("{instance: shop}");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->options.retry_time_for_failed_connections, 720);
  EXPECT_EQ(c->options.retry_time_for_other_issues, 10);
  auto set = parseWith(
      "{instance: shop}",
      "options: {retry_time_for_failed_connections: 30, retry_time_for_other_issues: 5}\n");
  ASSERT_TRUE(set.ok()) << set.status().toString();
  EXPECT_EQ(set->options.retry_time_for_failed_connections, 30);
  EXPECT_EQ(set->options.retry_time_for_other_issues, 5);
  auto short_window =
      parseWith("{instance: shop}", "options: {retry_time_for_failed_connections: 10}\n");
  ASSERT_TRUE(short_window.ok()) << short_window.status().toString();
  EXPECT_EQ(short_window->options.retry_time_for_other_issues, 9);
  struct Case {
    const char* options;
    const char* expect;
  } cases[] = {
      {"options: {retry_time_for_failed_connections: 9}\n",
       "options.retry_time_for_failed_connections: must be an integer 10-1440 minutes, got '9'"},
      {"options: {retry_time_for_failed_connections: 1441}\n", "10-1440"},
      {"options: {retry_time_for_other_issues: 0}\n", "must be an integer 1-1440 minutes, got '0'"},
      {"options: {retry_time_for_failed_connections: 20, retry_time_for_other_issues: 20}\n",
       "must be smaller than retry_time_for_failed_connections (20)"},
  };
  for (const auto& k : cases) {
    auto r = parseWith("{instance: shop}", k.options);
    ASSERT_FALSE(r.ok()) << k.options;
    EXPECT_NE(r.status().message().find(k.expect), std::string::npos)
        << r.status().message() << "\nwanted: " << k.expect;
  }
}

}  // namespace
}  // namespace dts::task
