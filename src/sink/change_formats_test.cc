#include "sink/change_formats.h"

#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>
#include <set>

namespace dts::sink {
namespace {

using nlohmann::json;

// Raw strings use the delimiter j: SQL types hold ")" followed by a quote.
const char kTypes[] =
    R"j("types":{"id":"int(11)","total":"decimal(10,2)","at":"datetime(3)","raw":"varbinary(8)",)j"
    R"j("doc":"json","note":"varchar(20)"})j";
const char kTail[] =
    R"j("gtid":"0-1-42","file":"mysql-bin.000003","pos":8890,"ts_ms":1796187600000,)j"
    R"j("tx":{"id":"0-1-42","seq":2},"row":2,"server_id":7})j";

std::string record(const std::string& op, const std::string& before, const std::string& after) {
  return R"j({"offset":121,"op":")j" + op + R"j(","db":"shop","table":"orders","pk":["id"],)j" +
         kTypes + R"j(,"before":)j" + before + R"j(,"after":)j" + after + "," + kTail;
}

const char kRowA[] = R"j({"id":7,"total":"12.50","at":"2026-12-02 05:00:00.123","raw":"00ff10",)j"
                     R"j("doc":"{\"a\": [1, 2]}","note":null})j";
const char kRowB[] = R"j({"id":7,"total":"13.00","at":"2026-12-02 05:00:00.123","raw":"00ff10",)j"
                     R"j("doc":"{\"a\": [1, 2]}","note":"x"})j";
const char kDdl[] =
    R"j({"offset":128,"op":"ddl","db":"shop","table":"orders",)j"
    R"j("sql":"ALTER TABLE orders ADD COLUMN c INT","definition":{"db":"shop","table":"orders",)j"
    R"j("columns":{"id":"int(11)","c":"int(11)"},"pk":["id"]},"gtid":"0-1-44",)j"
    R"j("file":"mysql-bin.000003","pos":9700,"ts_ms":1796187660000,)j"
    R"j("tx":{"id":"0-1-44","seq":1},"server_id":7})j";

// Records with consecutive offsets from 0, all visible.
class VectorLog final : public ChangeLogReader {
 public:
  void append(std::vector<std::pair<std::string, std::string>> records) {
    for (auto& [key, value] : records) {
      int64_t offset = static_cast<int64_t>(records_.size());
      records_.push_back(LogRecord{offset, 0, key, value});
    }
  }
  int64_t firstOffset() const override { return 0; }
  int64_t endOffset() const override { return static_cast<int64_t>(records_.size()); }
  Result<int64_t> offsetForTime(int64_t) const override { return int64_t{0}; }
  // One record per call (the view must read on by itself), or, with honour_max_bytes, as a
  // log reads: at least one record, then more while the keys and values fit in max_bytes.
  Result<std::vector<LogRecord>> read(int64_t from, size_t max_bytes) const override {
    std::vector<LogRecord> out;
    size_t total = 0;
    for (int64_t at = from; at < endOffset(); ++at) {
      const LogRecord& r = records_[static_cast<size_t>(at)];
      const size_t size = r.key.size() + r.value.size();
      if (!out.empty() && (!honour_max_bytes || total + size > max_bytes)) break;
      out.push_back(r);
      total += size;
    }
    return out;
  }
  int64_t waitBeyond(int64_t, std::chrono::milliseconds) const override { return endOffset(); }

  bool honour_max_bytes = false;

 private:
  std::vector<LogRecord> records_;
};

json encode(ChangeFormat f, const std::string& value) {
  auto r = encodeChange(f, value, "shop-changes");
  EXPECT_TRUE(r.ok()) << r.status().toString();
  if (!r.ok() || !r->has_value()) return json("<none>");
  return json::parse(**r);
}

// The values of a row as the Flink formats read them: DECIMAL a string, DATETIME the SQL string,
// binary base64 (00ff10 -> AP8Q), JSON its text, NULL null.
const char kDebeziumSource[] =
    R"j({"version":"dts","connector":"mysql","name":"shop-changes","ts_ms":1796187600000,)j"
    R"j("snapshot":"false","db":"shop","table":"orders","server_id":7,"gtid":"0-1-42",)j"
    R"j("file":"mysql-bin.000003","pos":8890,"row":2,"thread":null,"query":null})j";
const char kRowA64[] = R"j({"id":7,"total":"12.50","at":"2026-12-02 05:00:00.123","raw":"AP8Q",)j"
                       R"j("doc":"{\"a\": [1, 2]}","note":null})j";
const char kRowB64[] = R"j({"id":7,"total":"13.00","at":"2026-12-02 05:00:00.123","raw":"AP8Q",)j"
                       R"j("doc":"{\"a\": [1, 2]}","note":"x"})j";
const char kTx[] = R"j({"id":"0-1-42","total_order":2,"data_collection_order":2})j";

TEST(ChangeFormatsTest, DebeziumJson) {
  auto want = [&](const std::string& op, const std::string& before, const std::string& after) {
    return json::parse(R"j({"before":)j" + before + R"j(,"after":)j" + after + R"j(,"source":)j" +
                       kDebeziumSource + R"j(,"op":")j" + op +
                       R"j(","ts_ms":1796187600000,"transaction":)j" + kTx + "}");
  };
  EXPECT_EQ(encode(ChangeFormat::kDebeziumJson, record("insert", "null", kRowA)),
            want("c", "null", kRowA64));
  EXPECT_EQ(encode(ChangeFormat::kDebeziumJson, record("update", kRowA, kRowB)),
            want("u", kRowA64, kRowB64));
  EXPECT_EQ(encode(ChangeFormat::kDebeziumJson, record("delete", kRowB, "null")),
            want("d", kRowB64, "null"));
  EXPECT_EQ(encode(ChangeFormat::kDebeziumJson, kDdl), json::parse(R"j({
    "source":{"version":"dts","connector":"mysql","name":"shop-changes","ts_ms":1796187660000,
              "snapshot":"false","db":"shop","table":"orders","server_id":7,"gtid":"0-1-44",
              "file":"mysql-bin.000003","pos":9700,"row":0,"thread":null,"query":null},
    "ts_ms":1796187660000,"databaseName":"shop","schemaName":null,
    "ddl":"ALTER TABLE orders ADD COLUMN c INT",
    "tableChanges":[{"type":"ALTER","id":"\"shop\".\"orders\"","table":{
      "defaultCharsetName":null,"primaryKeyColumnNames":["id"],"columns":[
        {"name":"id","typeName":"INT","typeExpression":"int(11)","position":1},
        {"name":"c","typeName":"INT","typeExpression":"int(11)","position":2}]}}]})j"));
}

TEST(ChangeFormatsTest, CanalJson) {
  const std::string mysql_type =
      R"j({"id":"int(11)","total":"decimal(10,2)","at":"datetime(3)","raw":"varbinary(8)",)j"
      R"j("doc":"json","note":"varchar(20)"})j";
  const std::string sql_type = R"j({"id":4,"total":3,"at":93,"raw":-3,"doc":12,"note":12})j";
  auto want = [&](const std::string& type, const std::string& data, const std::string& old) {
    return json::parse(R"j({"data":[)j" + data +
                       R"j(],"database":"shop","es":1796187600000,"id":121,"isDdl":false,)j"
                       R"j("mysqlType":)j" +
                       mysql_type + R"j(,"old":)j" + old +
                       R"j(,"pkNames":["id"],"sql":"","sqlType":)j" + sql_type +
                       R"j(,"table":"orders","ts":1796187600000,"type":")j" + type + R"j("})j");
  };
  const std::string a =
      R"j({"id":"7","total":"12.50","at":"2026-12-02 05:00:00.123","raw":"AP8Q",)j"
      R"j("doc":"{\"a\": [1, 2]}","note":null})j";
  const std::string b =
      R"j({"id":"7","total":"13.00","at":"2026-12-02 05:00:00.123","raw":"AP8Q",)j"
      R"j("doc":"{\"a\": [1, 2]}","note":"x"})j";
  EXPECT_EQ(encode(ChangeFormat::kCanalJson, record("insert", "null", kRowA)),
            want("INSERT", a, "null"));
  // "old": only the columns the update changed, with their value before it.
  EXPECT_EQ(encode(ChangeFormat::kCanalJson, record("update", kRowA, kRowB)),
            want("UPDATE", b, R"j([{"total":"12.50","note":null}])j"));
  EXPECT_EQ(encode(ChangeFormat::kCanalJson, record("delete", kRowB, "null")),
            want("DELETE", b, "null"));
  EXPECT_EQ(encode(ChangeFormat::kCanalJson, kDdl), json::parse(R"j({
    "data":null,"database":"shop","es":1796187660000,"id":128,"isDdl":true,"mysqlType":null,
    "old":null,"pkNames":null,"sql":"ALTER TABLE orders ADD COLUMN c INT","sqlType":null,
    "table":"orders","ts":1796187660000,"type":"ALTER"})j"));
}

TEST(ChangeFormatsTest, MaxwellJson) {
  auto want = [&](const std::string& type, const std::string& data, const std::string& old) {
    std::string s = R"j({"database":"shop","table":"orders","type":")j" + type +
                    R"j(","ts":1796187600,"xoffset":1,"position":"mysql-bin.000003:8890",)j"
                    R"j("gtid":"0-1-42","server_id":7,"primary_key_columns":["id"],"data":)j" +
                    data;
    if (!old.empty()) s += R"j(,"old":)j" + old;
    return json::parse(s + "}");
  };
  // JSON columns are embedded JSON values, as Maxwell writes them.
  const std::string a = R"j({"id":7,"total":"12.50","at":"2026-12-02 05:00:00.123","raw":"AP8Q",)j"
                        R"j("doc":{"a":[1,2]},"note":null})j";
  const std::string b = R"j({"id":7,"total":"13.00","at":"2026-12-02 05:00:00.123","raw":"AP8Q",)j"
                        R"j("doc":{"a":[1,2]},"note":"x"})j";
  EXPECT_EQ(encode(ChangeFormat::kMaxwellJson, record("insert", "null", kRowA)),
            want("insert", a, ""));
  EXPECT_EQ(encode(ChangeFormat::kMaxwellJson, record("update", kRowA, kRowB)),
            want("update", b, R"j({"total":"12.50","note":null})j"));
  EXPECT_EQ(encode(ChangeFormat::kMaxwellJson, record("delete", kRowB, "null")),
            want("delete", b, ""));
  EXPECT_EQ(encode(ChangeFormat::kMaxwellJson, kDdl), json::parse(R"j({
    "type":"table-alter","database":"shop","table":"orders",
    "def":{"database":"shop","table":"orders","columns":[
      {"type":"int","name":"id","column_type":"int(11)"},
      {"type":"int","name":"c","column_type":"int(11)"}],"primary-key":["id"]},
    "ts":1796187660000,"sql":"ALTER TABLE orders ADD COLUMN c INT",
    "position":"mysql-bin.000003:9700","gtid":"0-1-44"})j"));
}

// Maxwell's "xid" (every row of a transaction that has one) and "commit" (its last row).
TEST(ChangeFormatsTest, MaxwellJsonTransactionFields) {
  MaxwellTransaction last{1207, true}, middle{1207, false}, no_xid{std::nullopt, true};
  auto r = encodeChange(ChangeFormat::kMaxwellJson, record("insert", "null", kRowA), "t", &last);
  ASSERT_TRUE(r.ok() && r->has_value()) << r.status().toString();
  // After "ts", as Maxwell writes them.
  EXPECT_NE(r->value().find(R"("ts":1796187600,"xid":1207,"commit":true,"xoffset":1,)"),
            std::string::npos)
      << **r;
  json m = encode(ChangeFormat::kMaxwellJson, record("update", kRowA, kRowB));
  EXPECT_FALSE(m.contains("xid"));
  EXPECT_FALSE(m.contains("commit"));
  r = encodeChange(ChangeFormat::kMaxwellJson, record("delete", kRowB, "null"), "t", &middle);
  ASSERT_TRUE(r.ok() && r->has_value());
  m = json::parse(**r);
  EXPECT_EQ(m["xid"], 1207u);
  EXPECT_FALSE(m.contains("commit"));
  r = encodeChange(ChangeFormat::kMaxwellJson, record("insert", "null", kRowA), "t", &no_xid);
  ASSERT_TRUE(r.ok() && r->has_value());
  m = json::parse(**r);
  EXPECT_FALSE(m.contains("xid"));
  EXPECT_EQ(m["commit"], true);
  // An XID is an unsigned 64-bit number: kept exact.
  MaxwellTransaction big{18446744073709551615ull, true};
  r = encodeChange(ChangeFormat::kMaxwellJson, record("insert", "null", kRowA), "t", &big);
  ASSERT_TRUE(r.ok() && r->has_value());
  EXPECT_NE(r->value().find(R"("xid":18446744073709551615,)"), std::string::npos) << **r;
  // Other formats and DDL ignore it.
  r = encodeChange(ChangeFormat::kMaxwellJson, kDdl, "t", &last);
  ASSERT_TRUE(r.ok() && r->has_value());
  EXPECT_FALSE(json::parse(**r).contains("xid"));
  r = encodeChange(ChangeFormat::kCanalJson, record("insert", "null", kRowA), "t", &last);
  ASSERT_TRUE(r.ok() && r->has_value());
  EXPECT_FALSE(json::parse(**r).contains("xid"));
}

// A log of transactions as the change log writes them: begin, rows (or a DDL), commit (with
// "xid" when given). Returns each transaction's row offsets.
struct Txn {
  int rows = 0;  // 0: a DDL
  std::optional<uint64_t> xid;
  std::vector<std::string> tables = {};  // per row; default orders
};
std::vector<std::vector<int64_t>> appendTransactions(VectorLog* log, const std::vector<Txn>& txns) {
  std::vector<std::vector<int64_t>> rows;
  int64_t offset = log->endOffset();
  for (size_t t = 0; t < txns.size(); ++t) {
    const std::string id = "t" + std::to_string(t);
    std::vector<std::pair<std::string, std::string>> records;
    int seq = 0;
    records.push_back({"", R"({"offset":)" + std::to_string(offset++) +
                               R"(,"op":"begin","tx":{"id":")" + id + R"(","seq":0}})"});
    rows.emplace_back();
    if (txns[t].rows == 0) {
      std::string ddl = kDdl;
      ddl.replace(ddl.find("128"), 3, std::to_string(offset++));
      records.push_back({"", ddl});
      ++seq;
    }
    for (int i = 0; i < txns[t].rows; ++i) {
      std::string v = record("insert", "null", kRowA);
      v.replace(v.find("121"), 3, std::to_string(offset));
      if (static_cast<size_t>(i) < txns[t].tables.size())
        v.replace(v.find("\"orders\""), 8, "\"" + txns[t].tables[static_cast<size_t>(i)] + "\"");
      rows.back().push_back(offset++);
      records.push_back({"k", v});
      ++seq;
    }
    std::string commit = R"({"offset":)" + std::to_string(offset++) +
                         R"(,"op":"commit","tx":{"id":")" + id + R"(","seq":)" +
                         std::to_string(seq + 1) + R"(},"event_count":)" + std::to_string(seq) +
                         R"(,"position":"0-1-1")";
    if (txns[t].xid) commit += R"(,"xid":)" + std::to_string(*txns[t].xid);
    records.push_back({"", commit + "}"});
    log->append(std::move(records));
  }
  return rows;
}

// Read through a maxwell-json view from every offset with every max_bytes (1: a cut after each
// row, so between a transaction's last row and its commit marker too): each row has its
// transaction's xid (none when it has none), and exactly its transaction's last row has
// "commit": true.
TEST(ChangeFormatsTest, MaxwellViewMarksTheLastRowAndTheXidWhereverAReadIsCut) {
  VectorLog log;
  log.honour_max_bytes = true;
  const std::vector<Txn> txns = {{3, 11}, {0, std::nullopt},           {2, std::nullopt},
                                 {1, 13}, {40, 0xfffffffffffffff0ull}, {1, 15}};
  const auto rows = appendTransactions(&log, txns);
  auto shared = std::shared_ptr<const ChangeLogReader>(&log, [](const ChangeLogReader*) {});
  auto view = encodedView(shared, ChangeFormat::kMaxwellJson, "t", /*rows_only=*/true);
  std::map<int64_t, std::pair<size_t, bool>> want;  // row offset -> transaction, last
  for (size_t t = 0; t < rows.size(); ++t)
    for (size_t i = 0; i < rows[t].size(); ++i) want[rows[t][i]] = {t, i + 1 == rows[t].size()};
  const size_t row_bytes = record("insert", "null", kRowA).size() + 1;
  for (size_t max_bytes :
       {size_t{1}, row_bytes, 2 * row_bytes, 3 * row_bytes + 5, 7 * row_bytes, size_t{1} << 20}) {
    for (int64_t from = 0; from < log.endOffset(); ++from) {
      int64_t at = from;
      std::set<int64_t> seen;
      while (at < view->endOffset()) {
        auto got = view->read(at, max_bytes);
        ASSERT_TRUE(got.ok()) << got.status().toString();
        ASSERT_FALSE(got->empty());
        for (const LogRecord& r : *got) {
          at = r.offset + 1;
          if (r.placeholder) continue;
          json m = json::parse(r.value);
          ASSERT_TRUE(want.count(r.offset)) << r.offset;
          auto [t, last] = want[r.offset];
          const std::string where = "row " + std::to_string(r.offset) + " from " +
                                    std::to_string(from) + " max_bytes " +
                                    std::to_string(max_bytes) + ": " + r.value;
          if (txns[t].xid) {
            EXPECT_EQ(m["xid"], *txns[t].xid) << where;
          } else {
            EXPECT_FALSE(m.contains("xid")) << where;
          }
          if (last) {
            EXPECT_EQ(m["commit"], true) << where;
          } else {
            EXPECT_FALSE(m.contains("commit")) << where;
          }
          seen.insert(r.offset);
        }
      }
      for (const auto& [offset, place] : want) {
        if (offset >= from) {
          EXPECT_TRUE(seen.count(offset)) << offset << " from " << from;
        }
      }
    }
  }
}

// The HTTP stream's filters decide which rows a reader gets: the last of those carries commit.
TEST(ChangeFormatsTest, MaxwellTransactionsMarkTheLastRowAReaderKeeps) {
  VectorLog log;
  log.honour_max_bytes = true;
  // orders, items, orders, items, items: the last orders row is the third.
  const auto rows = appendTransactions(
      &log,
      {{5, 21, {"orders", "items", "orders", "items", "items"}}, {2, 22, {"items", "items"}}});
  auto shared = std::shared_ptr<const ChangeLogReader>(&log, [](const ChangeLogReader*) {});
  auto orders = [](const LogRecord& r) { return json::parse(r.value)["table"] == "orders"; };
  for (size_t cut = 1; cut <= static_cast<size_t>(log.endOffset()); ++cut) {
    MaxwellTransactions marks(shared, orders);
    std::map<int64_t, MaxwellTransaction> got;
    for (int64_t at = 0; at < log.endOffset();) {
      // Windows of `cut` records.
      std::vector<LogRecord> window;
      for (int64_t o = at; o < std::min<int64_t>(at + static_cast<int64_t>(cut), log.endOffset());
           ++o)
        window.push_back((*log.read(o, 1))[0]);
      std::vector<MaxwellTransaction> out;
      ASSERT_TRUE(marks.mark(window, &out).ok());
      ASSERT_EQ(out.size(), window.size());
      for (size_t i = 0; i < window.size(); ++i) got[window[i].offset] = out[i];
      at = window.back().offset + 1;
    }
    EXPECT_EQ(got[rows[0][0]].xid, std::optional<uint64_t>(21)) << cut;
    EXPECT_FALSE(got[rows[0][0]].commit) << cut;
    EXPECT_EQ(got[rows[0][2]].xid, std::optional<uint64_t>(21)) << cut;
    EXPECT_TRUE(got[rows[0][2]].commit) << cut;
    for (int64_t r : {rows[0][1], rows[0][3], rows[0][4], rows[1][0], rows[1][1]})
      EXPECT_FALSE(got[r].commit || got[r].xid.has_value()) << cut << " row " << r;  // not kept
  }
}

TEST(ChangeFormatsTest, DdlTypesByStatement) {
  auto canalType = [](const std::string& sql) {
    std::string v = R"j({"offset":1,"op":"ddl","db":"d","table":null,"sql":)j" + json(sql).dump() +
                    R"j(,"gtid":null,"file":"f","pos":4,"ts_ms":0,"tx":{"id":"f:4","seq":1}})j";
    auto r = encodeChange(ChangeFormat::kCanalJson, v, "t");
    return r.ok() && r->has_value() ? json::parse(**r)["type"].get<std::string>() : "<error>";
  };
  EXPECT_EQ(canalType("create table t (id int)"), "CREATE");
  EXPECT_EQ(canalType("/* x */ DROP TABLE IF EXISTS t"), "ERASE");
  EXPECT_EQ(canalType("TRUNCATE t"), "TRUNCATE");
  EXPECT_EQ(canalType("RENAME TABLE a TO b"), "RENAME");
  EXPECT_EQ(canalType("CREATE UNIQUE INDEX i ON t (a)"), "CINDEX");
  EXPECT_EQ(canalType("DROP INDEX i ON t"), "DINDEX");
  EXPECT_EQ(canalType("CREATE DATABASE x"), "QUERY");
}

TEST(ChangeFormatsTest, MarkersHaveNoCounterpartAndDtsIsUnchanged) {
  const std::string begin =
      R"({"offset":120,"op":"begin","gtid":"0-1-42","file":"f","pos":4,"ts_ms":0,"tx":{"id":"0-1-42","seq":0}})";
  for (auto f :
       {ChangeFormat::kDebeziumJson, ChangeFormat::kCanalJson, ChangeFormat::kMaxwellJson}) {
    auto r = encodeChange(f, begin, "t");
    ASSERT_TRUE(r.ok());
    EXPECT_FALSE(r->has_value()) << changeFormatName(f);
  }
  auto same = encodeChange(ChangeFormat::kDts, begin, "t");
  ASSERT_TRUE(same.ok());
  EXPECT_EQ(same->value_or(""), begin);
  EXPECT_FALSE(encodeChange(ChangeFormat::kCanalJson, "not json", "t").ok());
  EXPECT_EQ(parseChangeFormat("maxwell-json"), ChangeFormat::kMaxwellJson);
  EXPECT_FALSE(parseChangeFormat("avro").has_value());
}

TEST(ChangeFormatsTest, EncodedViewKeepsOffsetsAndSkipsMarkersAndDdl) {
  VectorLog log;
  const std::string ins = record("insert", "null", kRowA);
  log.append({{"", R"({"offset":0,"op":"begin","tx":{"id":"a","seq":0}})"},
              {"k", ins},
              {"", R"({"offset":2,"op":"commit","tx":{"id":"a","seq":2}})"}});
  log.append({{"", R"({"offset":3,"op":"begin","tx":{"id":"b","seq":0}})"},
              {"", kDdl},
              {"", R"({"offset":5,"op":"commit","tx":{"id":"b","seq":2}})"}});
  auto shared = std::shared_ptr<const ChangeLogReader>(&log, [](const ChangeLogReader*) {});
  auto view = encodedView(shared, ChangeFormat::kDebeziumJson, "t", /*rows_only=*/true);
  EXPECT_EQ(view->endOffset(), 6);
  auto all = view->read(0, 1 << 20);
  ASSERT_TRUE(all.ok()) << all.status().toString();
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].offset, 1);
  EXPECT_EQ((*all)[0].key, "k");
  EXPECT_FALSE((*all)[0].placeholder);
  EXPECT_EQ(json::parse((*all)[0].value)["op"], "c");
  // Offsets 2-5 were left out: a placeholder at the last of them moves the reader past them.
  EXPECT_TRUE((*all)[1].placeholder);
  EXPECT_EQ((*all)[1].offset, 5);
  EXPECT_TRUE((*all)[1].value.empty());
  // From the commit marker on, nothing is kept: only the placeholder.
  auto rest = view->read(2, 1 << 20);
  ASSERT_TRUE(rest.ok());
  ASSERT_EQ(rest->size(), 1u);
  EXPECT_TRUE((*rest)[0].placeholder);
  EXPECT_EQ((*rest)[0].offset, 5);
  auto with_ddl = encodedView(shared, ChangeFormat::kCanalJson, "t", /*rows_only=*/false);
  auto two = with_ddl->read(0, 1 << 20);
  ASSERT_TRUE(two.ok());
  ASSERT_EQ(two->size(), 3u);
  EXPECT_EQ((*two)[1].offset, 4);
  EXPECT_EQ(json::parse((*two)[1].value)["isDdl"], true);
  EXPECT_TRUE((*two)[2].placeholder);
}

// A FLOAT or DOUBLE -0 (-0.0 in the dts encoding) stays -0.0 in every view (a string "-0.0" in
// canal-json), and an update that changes only a zero's sign lists that column in "old".
TEST(ChangeFormatsTest, NegativeZeroKeepsItsSignInEveryView) {
  const std::string types = R"j("types":{"id":"int(11)","f":"float","d":"double"})j";
  auto rec = [&](const std::string& before, const std::string& after) {
    return R"j({"offset":5,"op":"update","db":"shop","table":"z","pk":["id"],)j" + types +
           R"j(,"before":)j" + before + R"j(,"after":)j" + after + "," + kTail;
  };
  const std::string value = rec(R"j({"id":1,"f":0,"d":-0.0})j", R"j({"id":1,"f":-0.0,"d":-0.0})j");
  auto text = [&](ChangeFormat f) {
    auto r = encodeChange(f, value, "shop-changes");
    EXPECT_TRUE(r.ok() && r->has_value());
    return r.ok() && r->has_value() ? **r : std::string();
  };
  std::string debezium = text(ChangeFormat::kDebeziumJson);
  EXPECT_NE(debezium.find(R"j("after":{"id":1,"f":-0.0,"d":-0.0})j"), std::string::npos)
      << debezium;
  EXPECT_NE(debezium.find(R"j("before":{"id":1,"f":0,"d":-0.0})j"), std::string::npos) << debezium;
  std::string canal = text(ChangeFormat::kCanalJson);
  EXPECT_NE(canal.find(R"j("data":[{"id":"1","f":"-0.0","d":"-0.0"}])j"), std::string::npos)
      << canal;
  EXPECT_NE(canal.find(R"j("old":[{"f":"0"}])j"), std::string::npos) << canal;
  std::string maxwell = text(ChangeFormat::kMaxwellJson);
  EXPECT_NE(maxwell.find(R"j("data":{"id":1,"f":-0.0,"d":-0.0})j"), std::string::npos) << maxwell;
  EXPECT_NE(maxwell.find(R"j("old":{"f":0})j"), std::string::npos) << maxwell;
}

}  // namespace
}  // namespace dts::sink
