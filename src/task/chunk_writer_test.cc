#include "task/chunk_writer.h"

#include <gtest/gtest.h>

namespace dts::task {
namespace {

constexpr auto kMaria = mysql::ServerFlavor::kMariaDb;

CatalogTable table(const std::string& second_type = "varchar") {
  CatalogTable t;
  t.route.source_database = "d";
  t.route.source_table = "t";
  t.route.target_database = "d2";
  t.route.target_table = "t`2";
  t.columns = {{"a", "int", false, false, CatalogColumn::Render::kNumber, "", ""},
               {"b", second_type, false, false, CatalogColumn::Render::kString, "", ""},
               {"c", "varbinary", false, false, CatalogColumn::Render::kHex, "", ""}};
  t.copy_columns = {"a", "b", "c"};
  t.chunk_key = {"a"};
  return t;
}

TEST(ChunkWriterTest, FormatFollowsTheMethodAndWhatTheDestinationTakes) {
  auto t = table();
  using M = FullWriteMethod;
  // auto: bulk when every destination connection takes it, else LOAD DATA, else INSERT.
  EXPECT_EQ(chunkFormat(t, M::kAuto, true, true, false, true, kMaria).method, ChunkMethod::kBulk);
  EXPECT_EQ(chunkFormat(t, M::kAuto, true, false, false, true, kMaria).method,
            ChunkMethod::kLoadData);
  EXPECT_EQ(chunkFormat(t, M::kAuto, false, false, false, true, kMaria).method,
            ChunkMethod::kInsert);
  // bulk_insert keeps LOAD DATA for a batch too large for one bulk packet.
  auto bulk = chunkFormat(t, M::kBulkInsert, true, false, false, true, kMaria);
  EXPECT_EQ(bulk.method, ChunkMethod::kBulk);
  EXPECT_TRUE(bulk.can_load_data);
  EXPECT_EQ(chunkFormat(t, M::kLoadData, true, true, false, true, kMaria).method,
            ChunkMethod::kLoadData);
  auto insert = chunkFormat(t, M::kInsert, true, true, false, true, kMaria);
  EXPECT_EQ(insert.method, ChunkMethod::kInsert);
  EXPECT_FALSE(insert.can_load_data);
  // BIT and spatial columns never go by LOAD DATA.
  auto bit = chunkFormat(table("bit"), M::kAuto, true, false, false, true, kMaria);
  EXPECT_EQ(bit.method, ChunkMethod::kInsert);
  EXPECT_FALSE(bit.table_fits_load_data);
}

TEST(ChunkWriterTest, FloatsAreSelectedExactly) {
  // The server prints a FLOAT with 6 significant digits (and FLOAT(M,D), DOUBLE(M,D) with D
  // decimals); as a double it prints every digit the value needs.
  auto t = table("float");
  t.columns.push_back({"d", "double", false, false, CatalogColumn::Render::kNumber, "", ""});
  t.columns.push_back({"we`ird", "float", false, false, CatalogColumn::Render::kNumber, "", ""});
  t.copy_columns = {"a", "b", "c", "d", "we`ird"};
  for (auto method : {FullWriteMethod::kAuto, FullWriteMethod::kBulkInsert,
                      FullWriteMethod::kLoadData, FullWriteMethod::kInsert}) {
    auto f = chunkFormat(t, method, true, true, false, true, kMaria);
    EXPECT_EQ(f.select_list,
              "`a`, IF(`b` = 0, IF(ATAN2(`b`, -1) < 0, '-0', '0'), `b` * 1e0), `c`, "
              "IF(`d` = 0, IF(ATAN2(`d`, -1) < 0, '-0', '0'), `d` * 1e0), "
              "IF(`we``ird` = 0, IF(ATAN2(`we``ird`, -1) < 0, '-0', '0'), `we``ird` * 1e0)");
    EXPECT_EQ(f.columns, "`a`, `b`, `c`, `d`, `we``ird`");  // what the destination is given
  }
  t.chunk_key = {"b", "a"};
  EXPECT_EQ(exactKeySelectList(t), "(`b` * 1e0), `a`");
}

TEST(ChunkWriterTest, RawBytesByEveryMethodIntoTablesWithTheSourcesCharacterSets) {
  auto t = table();
  for (auto method : {FullWriteMethod::kAuto, FullWriteMethod::kBulkInsert,
                      FullWriteMethod::kLoadData, FullWriteMethod::kInsert}) {
    auto raw = chunkFormat(t, method, true, true, false, true, kMaria);
    EXPECT_TRUE(raw.raw);
    EXPECT_EQ(raw.renders, (std::vector<CatalogColumn::Render>{CatalogColumn::Render::kNumber,
                                                               CatalogColumn::Render::kHex,
                                                               CatalogColumn::Render::kHex}));
    EXPECT_NE(raw.load_statement.find("CHARACTER SET binary"), std::string::npos);
  }
  // UUID, INET and JSON stay text: by LOAD DATA through a variable converted to utf8mb4.
  t.columns.push_back({"u", "uuid", false, false, CatalogColumn::Render::kString, "uuid", ""});
  t.columns.push_back({"j", "json", false, false, CatalogColumn::Render::kString, "json", ""});
  t.copy_columns = {"a", "b", "c", "u", "j"};
  auto text = chunkFormat(t, FullWriteMethod::kLoadData, true, true, false, true, kMaria);
  EXPECT_EQ(text.renders[3], CatalogColumn::Render::kString);
  EXPECT_EQ(text.renders[4], CatalogColumn::Render::kString);
  EXPECT_NE(text.load_statement.find("CHARACTER SET binary FIELDS TERMINATED BY '\\t' ESCAPED BY "
                                     "'\\\\' LINES TERMINATED BY '\\n' (`a`, `b`, `c`, @dts_3, "
                                     "@dts_4) SET `u` = CONVERT(@dts_3 USING utf8mb4), `j` = "
                                     "CONVERT(@dts_4 USING utf8mb4)"),
            std::string::npos)
      << text.load_statement;
  t = table();
  // conflicting_tables: ignore keeps an existing table, whose character sets may differ (when
  // they do not, the loader asks for raw bytes).
  auto kept = chunkFormat(t, FullWriteMethod::kAuto, true, true, true, false, kMaria);
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
    auto format = chunkFormat(t, method, true, true, false, true, kMaria);
    BatchEncoder enc(format, 100);
    RowBatch b = enc.fresh();
    EXPECT_FALSE(enc.wouldOverflow(b, len, 3));  // an empty batch always takes the row
    ASSERT_TRUE(enc.append(b, row, len, 3).ok());
    EXPECT_EQ(b.rows, 1u);
    EXPECT_EQ(b.bytes, 6u);
    EXPECT_FALSE(enc.full(b));
    std::string big(200, 'x');
    const char* huge[] = {"2", big.data(), nullptr};
    const unsigned long huge_len[] = {1, 200, 0};
    EXPECT_TRUE(enc.wouldOverflow(b, huge_len, 3));
    RowBatch alone = enc.fresh();
    ASSERT_TRUE(enc.append(alone, huge, huge_len, 3).ok());
    EXPECT_TRUE(enc.full(alone));
  }
  auto format = chunkFormat(t, FullWriteMethod::kInsert, true, true, false, false, kMaria);
  BatchEncoder enc(format, 1000);
  RowBatch b = enc.fresh();
  ASSERT_TRUE(enc.append(b, row, len, 3).ok());
  ASSERT_TRUE(enc.append(b, row, len, 3).ok());
  EXPECT_EQ(b.text,
            "INSERT INTO `d2`.`t``2` (`a`, `b`, `c`) VALUES (1,'it\\'s',X'01'),"
            "(1,'it\\'s',X'01')");
  // Raw: the text's bytes as they are.
  format = chunkFormat(t, FullWriteMethod::kInsert, true, true, false, true, kMaria);
  BatchEncoder raw(format, 1000);
  b = raw.fresh();
  ASSERT_TRUE(raw.append(b, row, len, 3).ok());
  EXPECT_EQ(b.text, "INSERT INTO `d2`.`t``2` (`a`, `b`, `c`) VALUES (1,X'69742773',X'01')");
  format = chunkFormat(t, FullWriteMethod::kLoadData, true, true, false, true, kMaria);
  BatchEncoder ld(format, 1000);
  b = ld.fresh();
  const char* with_null[] = {"1", nullptr, "a\tb"};
  const unsigned long null_len[] = {1, 0, 3};
  ASSERT_TRUE(ld.append(b, with_null, null_len, 3).ok());
  EXPECT_EQ(b.text, "1\t\\N\ta\\tb\n");
}

// An empty ENUM value may be the ENUM error value, which the strict destination session refuses:
// the batch counts them (the writer then writes it leniently and checks its warnings). NULL and
// empty values of other columns do not count.
TEST(ChunkWriterTest, BatchesCountEmptyEnumValues) {
  auto t = table("enum");
  t.columns[1].column_type = "enum('a','b')";
  for (auto method :
       {FullWriteMethod::kInsert, FullWriteMethod::kLoadData, FullWriteMethod::kBulkInsert}) {
    auto format = chunkFormat(t, method, true, true, false, true, kMaria);
    EXPECT_EQ(format.enums, (std::vector<bool>{false, true, false}));
    EXPECT_EQ(format.enum_names, (std::vector<std::string>{"", "b", ""}));
    BatchEncoder enc(format, 1000);
    RowBatch b = enc.fresh();
    const char* member[] = {"1", "a", ""};
    const char* blank[] = {"2", "", ""};
    const char* null[] = {"3", nullptr, nullptr};
    const unsigned long len[] = {1, 1, 0};
    const unsigned long blank_len[] = {1, 0, 0};
    ASSERT_TRUE(enc.append(b, member, len, 3).ok());
    ASSERT_TRUE(enc.append(b, null, blank_len, 3).ok());
    EXPECT_EQ(b.enum_blanks, 0u);
    ASSERT_TRUE(enc.append(b, blank, blank_len, 3).ok());
    ASSERT_TRUE(enc.append(b, blank, blank_len, 3).ok());
    EXPECT_EQ(b.enum_blanks, 2u);
    EXPECT_EQ(b.enum_blanks_by_column, (std::vector<uint64_t>{0, 2, 0}));
  }
  EXPECT_EQ(chunkFormat(table(), FullWriteMethod::kInsert, true, true, false, true, kMaria).enums,
            (std::vector<bool>{false, false, false}));
  EXPECT_EQ(chunkFormat(t, FullWriteMethod::kInsert, true, true, false, true, kMaria).by_number,
            (std::vector<bool>{false, false, false}));
}

// An ENUM with a member '' reads '' for that member and for the error value (index 0), a SET
// with a member '' reads '' for {} and for {''}: the full load stored the member '' for the
// error value and {} for {''}. Such a column travels as its index or bitmask by every method; its
// error value is "0", which excuses one "Data truncated" on its column, and '' excuses nothing.
TEST(ChunkWriterTest, AmbiguousEnumAndSetTextTravelsAsNumbers) {
  auto t = table("enum");
  t.columns[1].column_type = "enum('a','','b')";
  t.columns.push_back(
      {"s", "set", false, false, CatalogColumn::Render::kString, "set('','x')", ""});
  t.columns.push_back(
      {"e2", "enum", false, false, CatalogColumn::Render::kString, "enum('x')", ""});
  t.copy_columns = {"a", "b", "c", "s", "e2"};
  for (auto method :
       {FullWriteMethod::kInsert, FullWriteMethod::kLoadData, FullWriteMethod::kBulkInsert}) {
    auto f = chunkFormat(t, method, true, true, false, false, kMaria);
    EXPECT_EQ(f.select_list, "`a`, (`b` + 0), `c`, (`s` + 0), `e2`");
    EXPECT_EQ(f.by_number, (std::vector<bool>{false, true, false, true, false}));
    EXPECT_EQ(f.enums, (std::vector<bool>{false, true, false, false, true}));
    EXPECT_EQ(f.renders[1], CatalogColumn::Render::kNumber);
    EXPECT_EQ(f.renders[3], CatalogColumn::Render::kNumber);
    EXPECT_NE(f.load_statement.find("(`a`, @dts_1, `c`, @dts_3, `e2`) SET `b` = CAST(@dts_1 AS "
                                    "UNSIGNED), `s` = CAST(@dts_3 AS UNSIGNED)"),
              std::string::npos)
        << f.load_statement;
    BatchEncoder enc(f, 1000);
    RowBatch b = enc.fresh();
    const char* error_value[] = {"1", "0", "", "1", "x"};
    const char* blank_member[] = {"2", "2", "", "0", ""};
    const unsigned long len[] = {1, 1, 0, 1, 1};
    const unsigned long blank_len[] = {1, 1, 0, 1, 0};
    ASSERT_TRUE(enc.append(b, error_value, len, 5).ok());
    ASSERT_TRUE(enc.append(b, blank_member, blank_len, 5).ok());
    EXPECT_EQ(b.enum_blanks, 2u);
    EXPECT_EQ(b.enum_blanks_by_column, (std::vector<uint64_t>{0, 1, 0, 0, 1}));
    if (method == FullWriteMethod::kInsert) {
      EXPECT_EQ(b.text, f.insert_head + "(1,0,X'',1,'x'),(2,2,X'',0,'')");
    }
  }
}

// A FLOAT or DOUBLE -0 is read as "-0" (floatTextExpr) and written by every method as the
// destination stores it: -1e-50 into a FLOAT (MariaDB turns any exact zero it is sent into +0,
// but rounds -1e-50 to a FLOAT -0), -0e0 at MySQL; where no value stores it (a DOUBLE at MariaDB,
// a FLOAT(M,D) anywhere) the row fails, naming the column. Other values are untouched.
TEST(ChunkWriterTest, NegativeZeroIsWrittenAsTheDestinationStoresIt) {
  auto t = table("float");
  t.columns[1].render = CatalogColumn::Render::kNumber;
  t.columns[1].column_type = "float";
  t.columns.push_back({"d", "double", false, false, CatalogColumn::Render::kNumber, "double", ""});
  t.columns.push_back(
      {"m", "float", false, false, CatalogColumn::Render::kNumber, "float(10,4)", ""});
  t.copy_columns = {"a", "b", "d"};
  const char* minus_float[] = {"1", "-0", "0"};
  const char* minus_double[] = {"2", "0", "-0"};
  const char* others[] = {"3", "-0.5", "-1e-45"};
  const unsigned long zero_len[] = {1, 2, 1};
  const unsigned long double_len[] = {1, 1, 2};
  const unsigned long others_len[] = {1, 4, 6};
  auto rows = [](const RowBatch& b) {  // the bulk batch as text
    std::string out;
    b.bulk.forEachRow([&](const char* const* f, const unsigned long* len, unsigned n) {
      for (unsigned i = 0; i < n; ++i) out += std::string(f[i], len[i]) + (i + 1 < n ? "," : ";");
    });
    return out;
  };
  for (auto method :
       {FullWriteMethod::kInsert, FullWriteMethod::kLoadData, FullWriteMethod::kBulkInsert}) {
    ChunkFormat mysql_format =
        chunkFormat(t, method, true, false, false, true, mysql::ServerFlavor::kMySql);
    BatchEncoder enc_mysql(mysql_format, 1000);
    ChunkFormat maria_format = chunkFormat(t, method, true, true, false, true, kMaria);
    BatchEncoder enc(maria_format, 1000);
    RowBatch b = enc.fresh();
    ASSERT_TRUE(enc.append(b, minus_float, zero_len, 3).ok());
    ASSERT_TRUE(enc.append(b, others, others_len, 3).ok());
    // The DOUBLE -0 fails at MariaDB, naming the column, and leaves the batch as it was.
    Status refused = enc.append(b, minus_double, double_len, 3);
    EXPECT_EQ(refused.code(), Status::Code::kInvalidArgument);
    EXPECT_NE(refused.message().find("column 'd' holds a DOUBLE negative zero"), std::string::npos)
        << refused.toString();
    EXPECT_EQ(b.rows, 2u);
    RowBatch m = enc_mysql.fresh();
    ASSERT_TRUE(enc_mysql.append(m, minus_float, zero_len, 3).ok());
    ASSERT_TRUE(enc_mysql.append(m, minus_double, double_len, 3).ok());
    switch (method) {
      case FullWriteMethod::kInsert:
        EXPECT_EQ(b.text, maria_format.insert_head + "(1,-1e-50,0),(3,-0.5,-1e-45)");
        EXPECT_EQ(m.text, mysql_format.insert_head + "(1,-0e0,0),(2,0,-0e0)");
        break;
      case FullWriteMethod::kLoadData:
        EXPECT_EQ(b.text, "1\t-1e-50\t0\n3\t-0.5\t-1e-45\n");
        EXPECT_EQ(m.text, "1\t-0e0\t0\n2\t0\t-0e0\n");
        break;
      default:
        EXPECT_EQ(rows(b), "1,-1e-50,0;3,-0.5,-1e-45;");
        EXPECT_EQ(rows(m), "1,-0e0,0;2,0,-0e0;");
        break;
    }
  }
  // FLOAT(M,D) rounds every value to its decimals: a -0 there cannot be written anywhere.
  t.copy_columns = {"a", "m"};
  for (auto flavor : {kMaria, mysql::ServerFlavor::kMySql}) {
    ChunkFormat format = chunkFormat(t, FullWriteMethod::kInsert, true, true, false, true, flavor);
    BatchEncoder enc(format, 1000);
    RowBatch b = enc.fresh();
    const char* minus[] = {"1", "-0"};
    const unsigned long len[] = {1, 2};
    Status refused = enc.append(b, minus, len, 2);
    EXPECT_NE(refused.message().find("float(10,4)"), std::string::npos) << refused.toString();
  }
}

}  // namespace
}  // namespace dts::task
