#include "common/terminal_text.h"

#include <gtest/gtest.h>

namespace dts {
namespace {

TEST(TerminalTextTest, WidthCountsCellsNotBytes) {
  EXPECT_EQ(displayWidth(""), 0u);
  EXPECT_EQ(displayWidth("orders"), 6u);
  EXPECT_EQ(displayWidth("caf\u00e9"), 4u);     // é precomposed: 2 bytes, 1 cell
  EXPECT_EQ(displayWidth("cafe\u0301"), 4u);    // e + combining acute: 1 cell
  EXPECT_EQ(displayWidth("\u8ba2\u5355"), 4u);  // 订单: 6 bytes, 2 wide characters
  EXPECT_EQ(displayWidth("\uc8fc\ubb38"), 4u);  // 주문 (Hangul)
  EXPECT_EQ(displayWidth("\xff\xfe"
                         "a"),
            3u);                            // not UTF-8: a cell per byte
  EXPECT_EQ(displayWidth("\xe8\xae"), 2u);  // a cut sequence: a cell per byte
}

TEST(TerminalTextTest, FitPadsToTheWidthInCells) {
  EXPECT_EQ(fitWidth("abc", 6), "abc   ");
  EXPECT_EQ(fitWidth("\u8ba2\u5355", 6), "\u8ba2\u5355  ");  // 4 cells + 2 spaces
  EXPECT_EQ(displayWidth(fitWidth("caf\u00e9", 10)), 10u);
  EXPECT_EQ(fitWidth("abcdef", 6), "abcdef");
}

TEST(TerminalTextTest, LongTextIsCutInTheMiddleKeepingBothEnds) {
  std::string cut = fitWidth("warehouse_eu_west.order_line_items_archive", 20);
  EXPECT_EQ(displayWidth(cut), 20u) << cut;
  EXPECT_EQ(cut, "warehouse_\u2026s_archive") << cut;
  // Wide characters are never split: a cell that a whole one does not fit is padded.
  std::string wide = fitWidth("\u8ba2\u5355\u8ba2\u5355\u8ba2\u5355\u8ba2\u5355", 8);
  EXPECT_EQ(displayWidth(wide), 8u) << wide;
  EXPECT_NE(wide.find("\u2026"), std::string::npos) << wide;
  EXPECT_EQ(wide.substr(0, 6), "\u8ba2\u5355") << wide;
  EXPECT_EQ(displayWidth(fitWidth("abc", 1)), 1u);
}

}  // namespace
}  // namespace dts

namespace dts {
namespace {

// A frame redrawn in place moves up the rows it took: a line wider than the terminal takes more
// than one.
TEST(TerminalTextTest, RowsCountWrappedLines) {
  EXPECT_EQ(terminalRows("a\nb\n", 80), 2u);
  EXPECT_EQ(terminalRows(std::string(80, 'x') + "\n", 80), 1u);  // exactly full: one row
  EXPECT_EQ(terminalRows(std::string(81, 'x') + "\n", 80), 2u);
  EXPECT_EQ(terminalRows(std::string(200, 'x') + "\nshort\n\n", 80), 5u);  // 3 + 1 + empty 1
  EXPECT_EQ(terminalRows("\xe8\xae\xa2\xe5\x8d\x95\n", 3), 2u);            // 订单: 4 cells
  EXPECT_EQ(terminalRows(std::string(200, 'x') + "\n", 0), 1u);  // unknown width: per line
  EXPECT_EQ(terminalRows("no newline", 80), 1u);
}

}  // namespace
}  // namespace dts
