#include "pipeline/ndjson.h"

#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>

namespace dts::pipeline {
namespace {

using mysql::ColumnInfo;
using mysql::Value;

std::string render(const Value& v, uint16_t collation = 45, std::vector<std::string> members = {}) {
  ColumnInfo c;
  c.collation = collation;
  c.enum_values = std::move(members);
  std::string out;
  NdjsonWriter::appendValue(v, &c, &out);
  return out;
}

Value withD(Value::Kind k, double d) {
  Value v;
  v.kind = k;
  v.d = d;
  return v;
}

TEST(NdjsonTest, Values) {
  EXPECT_EQ(render(Value::null()), "null");
  EXPECT_EQ(render(Value::ofInt(INT64_MIN)), "-9223372036854775808");
  EXPECT_EQ(render(Value::ofUInt(UINT64_MAX)), "18446744073709551615");
  EXPECT_EQ(render(withD(Value::Kind::kFloat, static_cast<double>(1.1f))), "1.1");
  EXPECT_EQ(render(withD(Value::Kind::kDouble, 0.1)), "0.1");
  EXPECT_EQ(render(withD(Value::Kind::kDouble, -1e300)), "-1e+300");
  EXPECT_EQ(render(Value::ofText(Value::Kind::kDecimal, "-12.30")), "\"-12.30\"");
  EXPECT_EQ(render(Value::ofText(Value::Kind::kTemporal, "2024-01-31 10:00:00.5")),
            "\"2024-01-31 10:00:00.5\"");
  EXPECT_EQ(render(Value::ofText(Value::Kind::kString, "a\"\n\x01é")), "\"a\\\"\\n\\u0001é\"");
  EXPECT_EQ(render(Value::ofText(Value::Kind::kString, "caf\xe9 \x80"), 8),
            "\"café €\"");  // latin1 (cp1252)
  // Bytes invalid in their character set: an object with the bytes, never a lossy string.
  EXPECT_EQ(render(Value::ofText(Value::Kind::kString, "\xff\xfe"), 45),
            "{\"charset\":\"utf8mb4\",\"hex\":\"fffe\"}");
  EXPECT_EQ(render(Value::ofText(Value::Kind::kString, "\x81\x40"), 28), "\"丂\"");  // gbk
  EXPECT_EQ(render(Value::ofText(Value::Kind::kBytes, std::string("\x00\xab", 2)), 63), "\"00ab\"");
  Value bit = Value::ofText(Value::Kind::kBit, "\x02\xaa");
  bit.u = 0x2aa;
  EXPECT_EQ(render(bit), "\"02aa\"");
  Value e = Value::ofText(Value::Kind::kEnum, "b");
  e.u = 2;
  EXPECT_EQ(render(e, 45, {"a", "b"}), "\"b\"");
  EXPECT_EQ(render(Value{Value::Kind::kEnum, 0, 2, 0, ""}, 45), "2");  // names unknown
  // A member '': the error value (index 0) and '' would both be "": numbers instead.
  EXPECT_EQ(render(Value{Value::Kind::kEnum, 0, 0, 0, ""}, 45, {"", "a"}), "0");
  EXPECT_EQ(render(Value{Value::Kind::kEnum, 0, 1, 0, ""}, 45, {"", "a"}), "1");
  EXPECT_EQ(render(Value{Value::Kind::kSet, 0, 0, 0, ""}, 45, {"", "x"}), "0");
  EXPECT_EQ(render(Value{Value::Kind::kSet, 0, 1, 0, ""}, 45, {"", "x"}), "1");
  EXPECT_EQ(render(Value{Value::Kind::kEnum, 0, 0, 0, ""}, 45, {"a", "b"}), "\"\"");
  EXPECT_EQ(render(Value::ofText(Value::Kind::kJson, "{\"a\": 1}")), "\"{\\\"a\\\": 1}\"");
}

// A negative zero is -0.0: "-0" is valid JSON, but nlohmann and Python's json read it as the
// integer 0, and the sign is lost before a consumer sees it.
TEST(NdjsonTest, NegativeZeroKeepsItsSignThroughAJsonParser) {
  for (auto kind : {Value::Kind::kFloat, Value::Kind::kDouble}) {
    std::string minus = render(withD(kind, -0.0));
    EXPECT_EQ(minus, "-0.0");
    auto parsed = nlohmann::json::parse(minus);
    ASSERT_TRUE(parsed.is_number_float());
    EXPECT_TRUE(std::signbit(parsed.get<double>()));
    EXPECT_EQ(parsed.dump(), "-0.0");  // and back out (the debezium/canal/maxwell views)
    EXPECT_EQ(render(withD(kind, 0.0)), "0");
  }
  // The neighbours of -0 are plain numbers.
  EXPECT_EQ(render(withD(Value::Kind::kFloat, -1.401298464324817e-45)), "-1e-45");
  EXPECT_EQ(render(withD(Value::Kind::kDouble, -4.9406564584124654e-324)), "-5e-324");
}

TEST(NdjsonTest, EveryCharacterSetIsText) {
  auto str = [](std::string bytes) {
    return Value::ofText(Value::Kind::kString, std::move(bytes));
  };
  EXPECT_EQ(render(str(std::string("\x00\x41\xd8\x3d\xde\x00", 6)), 54), "\"A😀\"");  // utf16
  EXPECT_EQ(render(str("\x93\xfa\x96\x7b"), 13), "\"日本\"");                        // sjis
  EXPECT_EQ(render(str("\xc7\xd1\"\n"), 19), "\"한\\\"\\n\"");  // euckr, escaped
  EXPECT_EQ(render(str("\xc1\xc2"), 7), "\"аб\"");              // koi8r
  EXPECT_EQ(render(str("\xf0\x9f\x98\x80"), 33),                // utf8mb3
            "{\"charset\":\"utf8mb3\",\"hex\":\"f09f9880\"}");
  EXPECT_EQ(render(str("\xd6"), 28), "{\"charset\":\"gbk\",\"hex\":\"d6\"}");    // truncated
  EXPECT_EQ(render(str("x"), 248), "{\"charset\":\"gb18030\",\"hex\":\"78\"}");  // unsupported
  EXPECT_EQ(render(str("x"), 60000), "{\"charset\":null,\"hex\":\"78\"}");       // unknown id
  // Character set unknown (no metadata): as is when valid UTF-8, else the bytes.
  EXPECT_EQ(render(str("é"), 0), "\"é\"");
  EXPECT_EQ(render(str("\xe9"), 0), "{\"charset\":null,\"hex\":\"e9\"}");
  // ENUM/SET member names are in the column's character set.
  Value e = str("caf\xe9");
  e.kind = Value::Kind::kEnum;
  e.u = 1;
  EXPECT_EQ(render(e, 8, {"caf\xe9"}), "\"café\"");  // latin1
  Value s = str("\xa4\xa4,\xa4\xe5");
  s.kind = Value::Kind::kSet;
  s.u = 3;
  EXPECT_EQ(render(s, 1, {"\xa4\xa4", "\xa4\xe5"}), "\"中,文\"");  // big5
  // Names read from information_schema are utf8mb4 whatever the column's character set.
  {
    ColumnInfo c;
    c.collation = 8;  // latin1
    c.enum_values = {"caf\xc3\xa9"};
    c.enum_values_collation = mysql::kUtf8mb4Collation;
    Value named = str("caf\xc3\xa9");
    named.kind = Value::Kind::kEnum;
    named.u = 1;
    std::string out;
    NdjsonWriter::appendValue(named, &c, &out);
    EXPECT_EQ(out, "\"café\"");
  }
  Value bad = str("\xff");
  bad.kind = Value::Kind::kEnum;
  bad.u = 1;
  EXPECT_EQ(render(bad, 45, {"\xff"}), "{\"charset\":\"utf8mb4\",\"hex\":\"ff\"}");
  // Every line stays valid JSON.
  std::string line = "[" + render(str("\xd6"), 28) + "," + render(str("\xa4\xa4"), 1) + "]";
  auto parsed = nlohmann::json::parse(line);
  EXPECT_EQ(parsed[0]["hex"], "d6");
  EXPECT_EQ(parsed[1], "中");
  // Text whose UTF-8 the server would store as other bytes is given as its bytes: cp932's NEC
  // 0x8790 and its IBM twin 0x81E0 are both U+2252, which goes back as 0x81E0; sjis 0x5C and
  // 0x815F are both U+005C, which goes back as 0x815F; tis620 0xA0 is read as U+FFFD.
  EXPECT_EQ(render(str("\x87\x90"), 95), "{\"charset\":\"cp932\",\"hex\":\"8790\"}");
  EXPECT_EQ(render(str("\x81\xe0"), 95), "\"≒\"");
  EXPECT_EQ(render(str("C:\\x"), 13), "{\"charset\":\"sjis\",\"hex\":\"433a5c78\"}");
  EXPECT_EQ(render(str("C:\x81\x5fx"), 13), "\"C:\\\\x\"");
  EXPECT_EQ(render(str("\xa1\xa0"), 18), "{\"charset\":\"tis620\",\"hex\":\"a1a0\"}");
  EXPECT_EQ(render(str("\xa1"), 18), "\"ก\"");
}

TEST(NdjsonTest, LinesForRowsAndDdl) {
  auto table = std::make_shared<mysql::TableInfo>();
  table->database = "shop";
  table->table = "t";
  table->columns.resize(2);
  table->columns[0].name = "id";
  table->columns[1].name = "name";
  table->columns[1].collation = 45;
  Transaction txn;
  txn.gtid = "0-1-5";
  txn.timestamp = 1700000000;
  ChangeEvent ev;
  ev.op = ChangeEvent::Op::kUpdate;
  ev.database = "shop";
  ev.table = "t";
  ev.table_info = table;
  ev.position = {"binlog.000001", 1234};
  ev.before.values = {Value::ofInt(1), Value::ofText(Value::Kind::kString, "x")};
  ev.before.present = {true, true};
  ev.after.values = {Value::ofInt(1), Value::null()};
  ev.after.present = {false, true};
  std::string out;
  ASSERT_TRUE(NdjsonWriter().append(ev, txn, &out).ok());
  EXPECT_EQ(
      out,
      "{\"op\":\"update\",\"db\":\"shop\",\"table\":\"t\",\"before\":{\"id\":1,\"name\":\"x\"},"
      "\"after\":{\"name\":null},\"gtid\":\"0-1-5\",\"file\":\"binlog.000001\",\"pos\":1234,\"ts\":1700000000}\n");
  auto parsed = nlohmann::json::parse(out);
  EXPECT_EQ(parsed["after"]["name"], nullptr);

  ChangeEvent ddl;
  ddl.op = ChangeEvent::Op::kDdl;
  ddl.database = "shop";
  ddl.sql = "ALTER TABLE t ADD c INT";
  ddl.position = {"binlog.000001", 99};
  out.clear();
  ASSERT_TRUE(NdjsonWriter().append(ddl, Transaction{}, &out).ok());
  auto d = nlohmann::json::parse(out);
  EXPECT_EQ(d["op"], "ddl");
  EXPECT_EQ(d["sql"], "ALTER TABLE t ADD c INT");
  EXPECT_EQ(d["gtid"], nullptr);
  EXPECT_EQ(d["table"], nullptr);
  EXPECT_FALSE(d.contains("sql_mode"));  // the event logged none
  auto session = std::make_shared<DdlSession>();
  session->sql_mode = 0;
  session->flavor = mysql::ServerFlavor::kMySql;
  ddl.ddl_session = session;
  out.clear();
  ASSERT_TRUE(NdjsonWriter().append(ddl, Transaction{}, &out).ok());
  EXPECT_EQ(nlohmann::json::parse(out)["sql_mode"], "");
  ddl.ddl_session = nullptr;
  ddl.sql = "ALTER TABLE t COMMENT 'caf\xe9'";  // a latin1 client's statement
  out.clear();
  ASSERT_TRUE(NdjsonWriter().append(ddl, Transaction{}, &out).ok());
  d = nlohmann::json::parse(out);
  EXPECT_EQ(d["sql"]["charset"], nullptr);
  EXPECT_EQ(d["sql"]["hex"], "414c544552205441424c45207420434f4d4d454e542027636166e927");
}

TEST(NdjsonTest, UnknownNamesAreAnErrorUnlessPositionalNamesAreAsked) {
  auto table = std::make_shared<mysql::TableInfo>();
  table->database = "db";
  table->table = "t";
  table->columns.resize(1);
  ChangeEvent ev;
  ev.op = ChangeEvent::Op::kInsert;
  ev.database = "db";
  ev.table = "t";
  ev.table_info = table;
  ev.after.values = {Value::ofInt(7)};
  ev.after.present = {true};
  std::string out;
  EXPECT_EQ(NdjsonWriter().append(ev, Transaction{}, &out).code(),
            Status::Code::kFailedPrecondition);
  EXPECT_TRUE(out.empty());
  ASSERT_TRUE(
      NdjsonWriter(NdjsonOptions{.positional_names = true}).append(ev, Transaction{}, &out).ok());
  EXPECT_NE(out.find("\"after\":{\"@1\":7}"), std::string::npos) << out;
}

}  // namespace
}  // namespace dts::pipeline
