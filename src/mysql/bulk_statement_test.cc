#include "mysql/bulk_statement.h"

#include <gtest/gtest.h>

#include <optional>

namespace dts::mysql {
namespace {

TEST(BulkRowsTest, RowsReadBackAsTheyWereAppended) {
  using Value = std::optional<std::string>;
  std::vector<std::vector<Value>> rows = {{"1", std::nullopt, std::string("a\0b", 3)},
                                          {"", "x", std::nullopt},
                                          {std::nullopt, std::nullopt, std::string(5000, 'z')}};
  BulkRows b(3);
  EXPECT_EQ(b.rows(), 0u);
  size_t bytes = 0;
  for (const auto& r : rows) {
    for (size_t c = 0; c < r.size(); ++c) {
      b.appendValue(c, r[c] ? r[c]->data() : nullptr, r[c] ? r[c]->size() : 0);
      bytes += r[c] ? r[c]->size() : 0;
    }
    b.endRow();
  }
  EXPECT_EQ(b.columns(), 3u);
  EXPECT_EQ(b.rows(), 3u);
  EXPECT_EQ(b.dataBytes(), bytes);
  std::vector<std::vector<Value>> back;
  b.forEachRow([&](const char* const* f, const unsigned long* len, unsigned n) {
    std::vector<Value> r;
    for (unsigned i = 0; i < n; ++i) r.push_back(f[i] ? Value(std::string(f[i], len[i])) : Value());
    back.push_back(std::move(r));
  });
  EXPECT_EQ(back, rows);
}

}  // namespace
}  // namespace dts::mysql
