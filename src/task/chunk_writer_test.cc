#include "task/chunk_writer.h"

#include <gtest/gtest.h>

namespace dts::task {
namespace {

CatalogTable table(const std::string& second_type = "varchar") {
  CatalogTable t;
  t.route.source_database = "d";
  t.route.source_table = "t";
  t.route.target_database = "d2";
  t.route.target_table = "t`2";
  t.columns = {{"a", "int", false, false, CatalogColumn::Render::kNumber},
               {"b", second_type, false, false, CatalogColumn::Render::kString},
               {"c", "varbinary", false, false, CatalogColumn::Render::kHex}};
  t.copy_columns = {"a", "b", "c"};
  t.chunk_key = {"a"};
  return t;
}

TEST(ChunkWriterTest, FormatFollowsTheMethodAndWhatTheDestinationTakes) {
  auto t = table();
  using M = FullWriteMethod;
  // auto: bulk when every destination connection takes it, else LOAD DATA, else INSERT.
  EXPECT_EQ(chunkFormat(t, M::kAuto, true, true, false).method, ChunkMethod::kBulk);
  EXPECT_EQ(chunkFormat(t, M::kAuto, true, false, false).method, ChunkMethod::kLoadData);
  EXPECT_EQ(chunkFormat(t, M::kAuto, false, false, false).method, ChunkMethod::kInsert);
  // bulk_insert keeps LOAD DATA for a batch too large for one bulk packet.
  auto bulk = chunkFormat(t, M::kBulkInsert, true, false, false);
  EXPECT_EQ(bulk.method, ChunkMethod::kBulk);
  EXPECT_TRUE(bulk.can_load_data);
  EXPECT_EQ(chunkFormat(t, M::kLoadData, true, true, false).method, ChunkMethod::kLoadData);
  auto insert = chunkFormat(t, M::kInsert, true, true, false);
  EXPECT_EQ(insert.method, ChunkMethod::kInsert);
  EXPECT_FALSE(insert.can_load_data);
  // BIT and spatial columns never go by LOAD DATA.
  auto bit = chunkFormat(table("bit"), M::kAuto, true, false, false);
  EXPECT_EQ(bit.method, ChunkMethod::kInsert);
  EXPECT_FALSE(bit.table_fits_load_data);
}

TEST(ChunkWriterTest, FloatsAreSelectedExactly) {
  // The server prints a FLOAT with 6 significant digits (and FLOAT(M,D), DOUBLE(M,D) with D
  // decimals); as a double it prints every digit the value needs.
  auto t = table("float");
  t.columns.push_back({"d", "double", false, false, CatalogColumn::Render::kNumber});
  t.columns.push_back({"we`ird", "float", false, false, CatalogColumn::Render::kNumber});
  t.copy_columns = {"a", "b", "c", "d", "we`ird"};
  for (auto method : {FullWriteMethod::kAuto, FullWriteMethod::kBulkInsert,
                      FullWriteMethod::kLoadData, FullWriteMethod::kInsert}) {
    auto f = chunkFormat(t, method, true, true, false);
    EXPECT_EQ(f.select_list, "`a`, (`b` * 1e0), `c`, (`d` * 1e0), (`we``ird` * 1e0)");
    EXPECT_EQ(f.columns, "`a`, `b`, `c`, `d`, `we``ird`");  // what the destination is given
  }
  t.chunk_key = {"b", "a"};
  EXPECT_EQ(exactKeySelectList(t), "(`b` * 1e0), `a`");
}

TEST(ChunkWriterTest, RawBytesOnlyForBulkIntoTablesDtsCreated) {
  auto t = table();
  auto raw = chunkFormat(t, FullWriteMethod::kAuto, true, true, false);
  EXPECT_TRUE(raw.raw);
  EXPECT_EQ(raw.renders, (std::vector<CatalogColumn::Render>{CatalogColumn::Render::kNumber,
                                                             CatalogColumn::Render::kHex,
                                                             CatalogColumn::Render::kHex}));
  EXPECT_NE(raw.load_statement.find("CHARACTER SET binary"), std::string::npos);
  // conflicting_tables: ignore keeps an existing table, whose character sets may differ.
  auto kept = chunkFormat(t, FullWriteMethod::kAuto, true, true, true);
  EXPECT_FALSE(kept.raw);
  EXPECT_EQ(kept.renders[1], CatalogColumn::Render::kString);
  EXPECT_EQ(kept.insert_head, "INSERT IGNORE INTO `d2`.`t``2` (`a`, `b`, `c`) VALUES ");
  EXPECT_EQ(kept.load_statement,
            "LOAD DATA LOCAL INFILE 'dts-chunk' IGNORE INTO TABLE `d2`.`t``2` CHARACTER SET "
            "utf8mb4 FIELDS TERMINATED BY '\\t' ESCAPED BY '\\\\' LINES TERMINATED BY '\\n' "
            "(`a`, `b`, `c`)");
}

TEST(ChunkWriterTest, BatchesCloseAtStatementBytesAndAHugeRowTravelsAlone) {
  auto t = table();
  const char* row[] = {"1", "it's", "\x01"};
  const unsigned long len[] = {1, 4, 1};
  for (auto method :
       {FullWriteMethod::kInsert, FullWriteMethod::kLoadData, FullWriteMethod::kBulkInsert}) {
    auto format = chunkFormat(t, method, true, true, false);
    BatchEncoder enc(format, 100);
    RowBatch b = enc.fresh();
    EXPECT_FALSE(enc.wouldOverflow(b, len, 3));  // an empty batch always takes the row
    enc.append(b, row, len, 3);
    EXPECT_EQ(b.rows, 1u);
    EXPECT_EQ(b.bytes, 6u);
    EXPECT_FALSE(enc.full(b));
    std::string big(200, 'x');
    const char* huge[] = {"2", big.data(), nullptr};
    const unsigned long huge_len[] = {1, 200, 0};
    EXPECT_TRUE(enc.wouldOverflow(b, huge_len, 3));
    RowBatch alone = enc.fresh();
    enc.append(alone, huge, huge_len, 3);
    EXPECT_TRUE(enc.full(alone));
  }
  auto format = chunkFormat(t, FullWriteMethod::kInsert, true, true, false);
  BatchEncoder enc(format, 1000);
  RowBatch b = enc.fresh();
  enc.append(b, row, len, 3);
  enc.append(b, row, len, 3);
  EXPECT_EQ(b.text,
            "INSERT INTO `d2`.`t``2` (`a`, `b`, `c`) VALUES (1,'it\\'s',X'01'),"
            "(1,'it\\'s',X'01')");
  format = chunkFormat(t, FullWriteMethod::kLoadData, true, true, false);
  BatchEncoder ld(format, 1000);
  b = ld.fresh();
  const char* with_null[] = {"1", nullptr, "a\tb"};
  const unsigned long null_len[] = {1, 0, 3};
  ld.append(b, with_null, null_len, 3);
  EXPECT_EQ(b.text, "1\t\\N\ta\\tb\n");
}

// An empty ENUM value may be the ENUM error value, which the strict destination session refuses:
// the batch counts them (the writer then writes it leniently and checks its warnings). NULL and
// empty values of other columns do not count.
TEST(ChunkWriterTest, BatchesCountEmptyEnumValues) {
  auto t = table("enum");
  for (auto method :
       {FullWriteMethod::kInsert, FullWriteMethod::kLoadData, FullWriteMethod::kBulkInsert}) {
    auto format = chunkFormat(t, method, true, true, false);
    EXPECT_EQ(format.enums, (std::vector<bool>{false, true, false}));
    EXPECT_EQ(format.enum_names, (std::vector<std::string>{"b"}));
    BatchEncoder enc(format, 1000);
    RowBatch b = enc.fresh();
    const char* member[] = {"1", "a", ""};
    const char* blank[] = {"2", "", ""};
    const char* null[] = {"3", nullptr, nullptr};
    const unsigned long len[] = {1, 1, 0};
    const unsigned long blank_len[] = {1, 0, 0};
    enc.append(b, member, len, 3);
    enc.append(b, null, blank_len, 3);
    EXPECT_EQ(b.enum_blanks, 0u);
    enc.append(b, blank, blank_len, 3);
    enc.append(b, blank, blank_len, 3);
    EXPECT_EQ(b.enum_blanks, 2u);
  }
  EXPECT_TRUE(chunkFormat(table(), FullWriteMethod::kInsert, true, true, false).enum_names.empty());
}

}  // namespace
}  // namespace dts::task
