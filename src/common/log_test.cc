#include "common/log.h"

#include <gtest/gtest.h>
#include <spdlog/pattern_formatter.h>

namespace dts {
namespace {

TEST(LogSafeTest, ControlCharactersAndBytesThatAreNotUtf8AreEscaped) {
  EXPECT_EQ(logSafe("plain text, café 订单 🙂\ttab"), "plain text, café 订单 🙂\ttab");
  // A forged line, a terminal escape, NUL, DEL, CR.
  EXPECT_EQ(logSafe("x\n2026-12-04T13:00:00.000 info server: FORGED"),
            "x\\n2026-12-04T13:00:00.000 info server: FORGED");
  EXPECT_EQ(logSafe("\x1b[31mred"), "\\x1b[31mred");
  EXPECT_EQ(logSafe(std::string("a\0b\x7f\r", 5)), "a\\x00b\\x7f\\r");
  // Not UTF-8: a lone byte, a truncated sequence, an overlong form; the rest is kept.
  EXPECT_EQ(logSafe("bad\xff\xfeok"), "bad\\xff\\xfeok");
  EXPECT_EQ(logSafe("\xe8\xae"), "\\xe8\\xae");
  EXPECT_EQ(logSafe("\xc0\xafz"), "\\xc0\\xafz");
  EXPECT_EQ(logSafe(""), "");
}

TEST(LogSafeTest, TheFormatterWritesOneLinePerMessage) {
  auto f = logFormatter();
  const std::string user = "x\n2026-12-04T13:00:00.000 info server: FORGED";
  const std::string text = "kafka: SASL/PLAIN authentication failed (user '" + user + "')";
  spdlog::details::log_msg msg(spdlog::source_loc{}, "dts", spdlog::level::warn, text);
  spdlog::memory_buf_t out;
  f->format(msg, out);
  const std::string line(out.data(), out.size());
  ASSERT_FALSE(line.empty());
  EXPECT_EQ(line.back(), '\n');
  EXPECT_EQ(line.find('\n'), line.size() - 1) << line;
  EXPECT_NE(line.find(" warning kafka: SASL/PLAIN authentication failed (user 'x\\n2026"),
            std::string::npos)
      << line;
}

}  // namespace
}  // namespace dts
