#include "pipeline/transaction_builder.h"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <map>
#include <sstream>

#include "mysql/binlog_file.h"
#include "mysql/collations.h"
#include "mysql/event_builder_for_tests.h"
#include "mysql/row_decoder.h"

namespace dts::pipeline {
namespace {

using mysql::EventType;
using mysql::Value;
namespace t = mysql::testing;

std::string le(uint64_t v, size_t n) {
  std::string s;
  putUint(&s, v, n);
  return s;
}

struct Stream {
  mysql::BinlogDecoder decoder;
  TransactionBuilder builder;
  std::vector<mysql::BinlogEvent> events;
  std::vector<Transaction> done;
  mysql::BinlogPosition pos{"binlog.000001", 4};
  std::string raw;
  explicit Stream(TransactionBuilder::Options o = {}) : builder(std::move(o)) {}
  Status feed(std::string bytes) {
    raw = std::move(bytes);
    DTS_RETURN_IF_ERROR(decoder.decode(raw, pos, &events));
    pos.offset += raw.size();
    for (const auto& e : events) DTS_RETURN_IF_ERROR(builder.add(e, &done));
    return Status::OK();
  }
};

TEST(TransactionBuilderTest, MariaDbTransactionsAndStandaloneDdl) {
  t::EventBuilder b(mysql::ServerFlavor::kMariaDb);
  Stream s;
  std::vector<t::TestColumn> cols = {t::colInt(mysql::ColumnType::kLong, "id"),
                                     t::colVarchar("name", 40)};
  ASSERT_TRUE(s.feed(b.formatDescription()).ok());
  ASSERT_TRUE(s.feed(b.mariaGtid(10, 0, mysql::MariaGtidEvent::kFlStandalone)).ok());
  ASSERT_TRUE(s.feed(b.query("shop", "CREATE TABLE t (id INT, name VARCHAR(10))")).ok());
  ASSERT_EQ(s.done.size(), 1u);
  EXPECT_EQ(s.done[0].gtid, "0-1-10");
  ASSERT_EQ(s.done[0].events.size(), 1u);
  EXPECT_EQ(s.done[0].events[0].op, ChangeEvent::Op::kDdl);
  EXPECT_EQ(s.done[0].events[0].database, "shop");
  EXPECT_EQ(s.done[0].end.offset, s.pos.offset);

  const uint64_t begin = s.pos.offset;
  ASSERT_TRUE(s.feed(b.mariaGtid(11, 0, mysql::MariaGtidEvent::kFlTransactional)).ok());
  ASSERT_TRUE(s.feed(b.query("shop", "BEGIN")).ok());
  ASSERT_TRUE(s.feed(b.tableMap(1, "shop", "t", cols)).ok());
  std::string rows = t::rowImage({le(1, 4),
                                  "\x01"
                                  "a"},
                                 {}) +
                     t::rowImage({le(2, 4),
                                  "\x01"
                                  "b"},
                                 {});
  ASSERT_TRUE(s.feed(b.rows(EventType::kWriteRowsV1, 1, 2, rows)).ok());
  ASSERT_TRUE(s.feed(b.rows(EventType::kUpdateRowsV1, 1, 2, rows)).ok());
  ASSERT_TRUE(s.feed(b.rows(EventType::kDeleteRowsV1, 1, 2,
                            t::rowImage({le(2, 4),
                                         "\x01"
                                         "b"},
                                        {})))
                  .ok());
  EXPECT_TRUE(s.builder.inTransaction());
  ASSERT_TRUE(s.feed(b.xid(5)).ok());
  ASSERT_EQ(s.done.size(), 2u);
  const Transaction& txn = s.done[1];
  EXPECT_EQ(txn.gtid, "0-1-11");
  EXPECT_EQ(txn.begin.offset, begin);
  EXPECT_EQ(txn.end.offset, s.pos.offset);
  ASSERT_EQ(txn.events.size(), 4u);
  EXPECT_EQ(txn.events[0].op, ChangeEvent::Op::kInsert);
  EXPECT_EQ(txn.events[0].after.values[1], Value::ofText(Value::Kind::kString, "a"));
  EXPECT_EQ(txn.events[2].op, ChangeEvent::Op::kUpdate);
  EXPECT_EQ(txn.events[2].before.values[0], Value::ofInt(1));
  EXPECT_EQ(txn.events[2].after.values[0], Value::ofInt(2));
  EXPECT_EQ(txn.events[3].op, ChangeEvent::Op::kDelete);
  EXPECT_EQ(txn.events[3].table_info->table, "t");
  EXPECT_EQ(txn.timestamp, 1700000000u);
  EXPECT_FALSE(s.builder.inTransaction());
}

TEST(TransactionBuilderTest, MySqlGtidPayloadAndFilter) {
  auto filter = TableFilter::parse("shop.keep*");
  ASSERT_TRUE(filter.ok());
  t::EventBuilder b;
  Stream s(TransactionBuilder::Options{std::make_shared<TableFilter>(*filter)});
  constexpr uint8_t uuid[16] = {0x3e, 0x11, 0xfa, 0x47, 0x71, 0xca, 0x11, 0xe1,
                                0x9e, 0x33, 0xc8, 0x0a, 0xa9, 0x42, 0x95, 0x62};
  std::vector<t::TestColumn> cols = {t::colInt(mysql::ColumnType::kLong, "id")};
  ASSERT_TRUE(s.feed(b.formatDescription()).ok());
  ASSERT_TRUE(s.feed(b.mysqlGtid(uuid, 7, 1, 2, 1700000123000000ULL)).ok());
  t::EventBuilder inner;
  inner.setChecksum(false);
  std::string events = inner.query("shop", "BEGIN") + inner.tableMap(1, "shop", "keep_me", cols) +
                       inner.rows(EventType::kWriteRowsV2, 1, 1, t::rowImage({le(1, 4)}, {})) +
                       inner.tableMap(2, "shop", "drop_me", cols) +
                       inner.rows(EventType::kWriteRowsV2, 2, 1, t::rowImage({le(2, 4)}, {})) +
                       inner.xid(9);
  std::string payload = b.transactionPayload(events);
  const uint64_t payload_start = s.pos.offset;
  ASSERT_TRUE(s.feed(payload).ok());
  ASSERT_EQ(s.done.size(), 1u);
  EXPECT_EQ(s.done[0].gtid, "3e11fa47-71ca-11e1-9e33-c80aa9429562:7");
  EXPECT_EQ(s.done[0].timestamp, 1700000123u);
  EXPECT_EQ(s.done[0].commit_us, 1700000123000000ULL);
  EXPECT_EQ(s.done[0].end.offset, payload_start + payload.size());
  ASSERT_EQ(s.done[0].events.size(), 1u);
  EXPECT_EQ(s.done[0].events[0].table, "keep_me");
  // DDL of another database is filtered out, but the transaction still advances.
  ASSERT_TRUE(s.feed(b.mysqlGtid(uuid, 8, 2, 3)).ok());
  ASSERT_TRUE(s.feed(b.query("other", "DROP TABLE x")).ok());
  ASSERT_EQ(s.done.size(), 2u);
  EXPECT_TRUE(s.done[1].events.empty());
}

// A MariaDB transaction of `rows` single-row inserts of (id INT, name VARCHAR(200)) with the given
// text length, in ROWS events of `per_event` rows.
void feedTransaction(Stream* s, t::EventBuilder* b, uint64_t seq, int rows, int per_event,
                     size_t text = 1) {
  std::vector<t::TestColumn> cols = {t::colInt(mysql::ColumnType::kLong, "id"),
                                     t::colVarchar("name", 200)};
  ASSERT_TRUE(s->feed(b->mariaGtid(seq, 0, mysql::MariaGtidEvent::kFlTransactional)).ok());
  ASSERT_TRUE(s->feed(b->query("shop", "BEGIN")).ok());
  ASSERT_TRUE(s->feed(b->tableMap(1, "shop", "t", cols)).ok());
  for (int i = 0; i < rows; i += per_event) {
    std::string images;
    int n = std::min(per_event, rows - i);
    for (int k = 0; k < n; ++k)
      images += t::rowImage({le(static_cast<uint64_t>(i + k), 4),
                             std::string(1, static_cast<char>(text)) + std::string(text, 'x')},
                            {});
    ASSERT_TRUE(s->feed(b->rows(EventType::kWriteRowsV1, 1, 2, images)).ok());
  }
  ASSERT_TRUE(s->feed(b->xid(seq)).ok());
}

TEST(TransactionBuilderTest, LargeTransactionsTravelInBoundedPieces) {
  t::EventBuilder b(mysql::ServerFlavor::kMariaDb);
  TransactionBuilder::Options o;
  o.max_piece_rows = 5;
  o.max_piece_bytes = 0;
  Stream s(o);
  ASSERT_TRUE(s.feed(b.formatDescription()).ok());
  // Exactly at the limit: whole.
  feedTransaction(&s, &b, 1, 5, 2);
  ASSERT_EQ(s.done.size(), 1u);
  EXPECT_TRUE(s.done[0].whole());
  EXPECT_EQ(s.done[0].events.size(), 5u);
  s.done.clear();

  const uint64_t begin = s.pos.offset;
  feedTransaction(&s, &b, 2, 12, 7);
  ASSERT_EQ(s.done.size(), 3u);
  std::vector<size_t> sizes;
  int id = 0;
  for (const Transaction& p : s.done) {
    sizes.push_back(p.events.size());
    EXPECT_EQ(p.gtid, "0-1-2");
    EXPECT_EQ(p.begin.offset, begin);
    for (const ChangeEvent& e : p.events) EXPECT_EQ(e.after.values[0], Value::ofInt(id++));
  }
  EXPECT_EQ(sizes, (std::vector<size_t>{5, 5, 2}));
  EXPECT_TRUE(s.done[0].first_piece);
  EXPECT_FALSE(s.done[0].last_piece);
  EXPECT_FALSE(s.done[1].first_piece);
  EXPECT_FALSE(s.done[1].last_piece);
  EXPECT_FALSE(s.done[2].first_piece);
  EXPECT_TRUE(s.done[2].last_piece);
  EXPECT_EQ(s.done[0].end.offset, 0u);  // set on the last piece only
  EXPECT_EQ(s.done[0].timestamp, 0u);
  EXPECT_EQ(s.done[2].end.offset, s.pos.offset);
  EXPECT_EQ(s.done[2].timestamp, 1700000000u);
  EXPECT_FALSE(s.builder.inTransaction());
  s.done.clear();

  // The byte limit: rows of about 300 bytes of text, pieces of about 1 KiB.
  TransactionBuilder::Options ob;
  ob.max_piece_rows = 0;
  ob.max_piece_bytes = 1024;
  Stream sb(ob);
  t::EventBuilder b2(mysql::ServerFlavor::kMariaDb);
  ASSERT_TRUE(sb.feed(b2.formatDescription()).ok());
  feedTransaction(&sb, &b2, 3, 20, 3, 150);
  ASSERT_GT(sb.done.size(), 2u);
  size_t total = 0;
  for (const Transaction& p : sb.done) {
    size_t bytes = 0;
    for (const ChangeEvent& e : p.events) bytes += rowImageBytes(e);
    if (!p.last_piece) {
      EXPECT_GE(bytes, 1024u);
      EXPECT_LT(bytes - rowImageBytes(p.events.back()), 1024u);
    }
    total += p.events.size();
  }
  EXPECT_EQ(total, 20u);
  EXPECT_TRUE(sb.done.back().last_piece);
}

// Transaction::xid is the closing XID_EVENT's, on the last piece; a transaction a QUERY COMMIT
// ends (MariaDB, non-transactional engines), a DDL and a ROLLBACK have none.
TEST(TransactionBuilderTest, TheXidEventsXidIsTheTransactions) {
  t::EventBuilder b(mysql::ServerFlavor::kMariaDb);
  TransactionBuilder::Options o;
  o.max_piece_rows = 5;
  Stream s(o);
  ASSERT_TRUE(s.feed(b.formatDescription()).ok());
  feedTransaction(&s, &b, 7, 2, 2);  // ends with xid(7)
  ASSERT_EQ(s.done.size(), 1u);
  EXPECT_EQ(s.done[0].xid, std::optional<uint64_t>(7));
  s.done.clear();
  feedTransaction(&s, &b, 0xfedcba9876543210ULL, 12, 7);  // pieces: the last carries it
  ASSERT_EQ(s.done.size(), 3u);
  EXPECT_FALSE(s.done[0].xid.has_value());
  EXPECT_FALSE(s.done[1].xid.has_value());
  EXPECT_EQ(s.done[2].xid, std::optional<uint64_t>(0xfedcba9876543210ULL));
  s.done.clear();

  std::vector<t::TestColumn> cols = {t::colInt(mysql::ColumnType::kLong, "id")};
  ASSERT_TRUE(s.feed(b.mariaGtid(20, 0, 0)).ok());  // an Aria/MyISAM table: no XID
  ASSERT_TRUE(s.feed(b.query("shop", "BEGIN")).ok());
  ASSERT_TRUE(s.feed(b.tableMap(2, "shop", "aria", cols)).ok());
  ASSERT_TRUE(s.feed(b.rows(EventType::kWriteRowsV1, 2, 1, t::rowImage({le(1, 4)}, {}))).ok());
  ASSERT_TRUE(s.feed(b.query("shop", "COMMIT")).ok());
  ASSERT_TRUE(s.feed(b.mariaGtid(21, 0, mysql::MariaGtidEvent::kFlStandalone)).ok());
  ASSERT_TRUE(s.feed(b.query("shop", "CREATE TABLE u (id INT)")).ok());
  ASSERT_TRUE(s.feed(b.mariaGtid(22, 0, 0)).ok());
  ASSERT_TRUE(s.feed(b.query("shop", "BEGIN")).ok());
  ASSERT_TRUE(s.feed(b.query("shop", "ROLLBACK")).ok());
  ASSERT_EQ(s.done.size(), 3u);
  for (const Transaction& txn : s.done) EXPECT_FALSE(txn.xid.has_value()) << txn.gtid;
  EXPECT_EQ(s.done[0].events.size(), 1u);

  // MySQL: the XID inside a TRANSACTION_PAYLOAD.
  t::EventBuilder m;
  Stream sm;
  constexpr uint8_t uuid[16] = {0x3e, 0x11, 0xfa, 0x47, 0x71, 0xca, 0x11, 0xe1,
                                0x9e, 0x33, 0xc8, 0x0a, 0xa9, 0x42, 0x95, 0x62};
  ASSERT_TRUE(sm.feed(m.formatDescription()).ok());
  ASSERT_TRUE(sm.feed(m.mysqlGtid(uuid, 7, 1, 2)).ok());
  t::EventBuilder inner;
  inner.setChecksum(false);
  ASSERT_TRUE(sm.feed(m.transactionPayload(
                          inner.query("shop", "BEGIN") + inner.tableMap(1, "shop", "t", cols) +
                          inner.rows(EventType::kWriteRowsV2, 1, 1, t::rowImage({le(1, 4)}, {})) +
                          inner.xid(4242)))
                  .ok());
  ASSERT_EQ(sm.done.size(), 1u);
  EXPECT_EQ(sm.done[0].xid, std::optional<uint64_t>(4242));
}

TEST(TransactionBuilderTest, GtidInsideAnOpenTransactionIsAnError) {
  t::EventBuilder b(mysql::ServerFlavor::kMariaDb);
  Stream s;
  ASSERT_TRUE(s.feed(b.formatDescription()).ok());
  ASSERT_TRUE(s.feed(b.mariaGtid(1, 0, 0)).ok());
  ASSERT_TRUE(s.feed(b.query("db", "BEGIN")).ok());
  Status st = s.feed(b.mariaGtid(2, 0, 0));
  EXPECT_EQ(st.code(), Status::Code::kCorruption);
  EXPECT_NE(st.message().find("0-1-1"), std::string::npos);
}

// CREATE TABLE ... SELECT in ROW format, as MariaDB 10.11 logs it (mariadb-binlog -v): a GTID
// without FL_STANDALONE ("GTID 0-1-5 ddl", then START TRANSACTION), the CREATE TABLE with its
// column list, the new table's rows, an XID (or a QUERY COMMIT for a non-transactional engine or
// when the SELECT found no row). One transaction under that GTID, its DDL first.
TEST(TransactionBuilderTest, MariaDbCreateTableSelectIsOneTransactionDdlFirst) {
  t::EventBuilder b(mysql::ServerFlavor::kMariaDb);
  Stream s;
  std::vector<t::TestColumn> cols = {t::colInt(mysql::ColumnType::kLong, "id")};
  ASSERT_TRUE(s.feed(b.formatDescription()).ok());
  const uint64_t begin = s.pos.offset;
  ASSERT_TRUE(s.feed(b.mariaGtid(5, 0, mysql::MariaGtidEvent::kFlDdl)).ok());
  ASSERT_TRUE(
      s.feed(b.query("shop", "CREATE TABLE `shop`.`c` (\n  `id` int(11) NOT NULL\n)")).ok());
  EXPECT_TRUE(s.done.empty());  // its rows are still to come
  EXPECT_TRUE(s.builder.inTransaction());
  ASSERT_TRUE(s.feed(b.tableMap(1, "shop", "c", cols)).ok());
  ASSERT_TRUE(s.feed(b.rows(EventType::kWriteRowsV1, 1, 1,
                            t::rowImage({le(1, 4)}, {}) + t::rowImage({le(2, 4)}, {})))
                  .ok());
  ASSERT_TRUE(s.feed(b.xid(7)).ok());
  ASSERT_EQ(s.done.size(), 1u);
  const Transaction& txn = s.done[0];
  EXPECT_EQ(txn.gtid, "0-1-5");
  EXPECT_EQ(txn.begin.offset, begin);
  EXPECT_EQ(txn.end.offset, s.pos.offset);
  EXPECT_EQ(txn.xid, std::optional<uint64_t>(7));
  ASSERT_EQ(txn.events.size(), 3u);
  EXPECT_EQ(txn.events[0].op, ChangeEvent::Op::kDdl);
  EXPECT_EQ(txn.events[1].op, ChangeEvent::Op::kInsert);
  EXPECT_EQ(txn.events[2].after.values[0], Value::ofInt(2));
  s.done.clear();

  // No row selected (or a MyISAM table): the group ends with a QUERY COMMIT.
  ASSERT_TRUE(s.feed(b.mariaGtid(6, 0, mysql::MariaGtidEvent::kFlDdl)).ok());
  ASSERT_TRUE(
      s.feed(b.query("shop", "CREATE TABLE `shop`.`e` (\n  `id` int(11) NOT NULL\n)")).ok());
  ASSERT_TRUE(s.feed(b.query("shop", "COMMIT")).ok());
  ASSERT_EQ(s.done.size(), 1u);
  EXPECT_EQ(s.done[0].gtid, "0-1-6");
  ASSERT_EQ(s.done[0].events.size(), 1u);
  EXPECT_EQ(s.done[0].events[0].op, ChangeEvent::Op::kDdl);
  s.done.clear();

  // Large: pieces, the DDL at the head of the first.
  TransactionBuilder::Options o;
  o.max_piece_rows = 2;
  Stream p(o);
  ASSERT_TRUE(p.feed(b.formatDescription()).ok());
  ASSERT_TRUE(p.feed(b.mariaGtid(7, 0, mysql::MariaGtidEvent::kFlDdl)).ok());
  ASSERT_TRUE(p.feed(b.query("shop", "CREATE TABLE `shop`.`big` (`id` int(11) NOT NULL)")).ok());
  ASSERT_TRUE(p.feed(b.tableMap(1, "shop", "big", cols)).ok());
  std::string rows;
  for (uint64_t i = 1; i <= 4; ++i) rows += t::rowImage({le(i, 4)}, {});
  ASSERT_TRUE(p.feed(b.rows(EventType::kWriteRowsV1, 1, 1, rows)).ok());
  ASSERT_TRUE(p.feed(b.xid(8)).ok());
  ASSERT_GE(p.done.size(), 2u);
  EXPECT_TRUE(p.done.front().first_piece);
  EXPECT_EQ(p.done.front().events.front().op, ChangeEvent::Op::kDdl);
  size_t total = 0;
  for (const Transaction& piece : p.done) {
    EXPECT_EQ(piece.gtid, "0-1-7");
    for (const ChangeEvent& ev : piece.events) total += ev.op == ChangeEvent::Op::kInsert ? 1 : 0;
  }
  EXPECT_EQ(total, 4u);
  EXPECT_TRUE(p.done.back().last_piece);
}

// MySQL 8.0.21+ logs it as "CREATE TABLE ... START TRANSACTION", the rows and an XID.
TEST(TransactionBuilderTest, MySqlCreateTableStartTransactionIsOneTransaction) {
  t::EventBuilder b;
  Stream s;
  constexpr uint8_t uuid[16] = {0x3e, 0x11, 0xfa, 0x47, 0x71, 0xca, 0x11, 0xe1,
                                0x9e, 0x33, 0xc8, 0x0a, 0xa9, 0x42, 0x95, 0x62};
  std::vector<t::TestColumn> cols = {t::colInt(mysql::ColumnType::kLong, "id")};
  ASSERT_TRUE(s.feed(b.formatDescription()).ok());
  ASSERT_TRUE(s.feed(b.mysqlGtid(uuid, 7, 1, 2)).ok());
  ASSERT_TRUE(
      s.feed(b.query("shop", "CREATE TABLE `c` (\n  `id` int NOT NULL\n) START TRANSACTION")).ok());
  EXPECT_TRUE(s.done.empty());
  ASSERT_TRUE(s.feed(b.tableMap(1, "shop", "c", cols)).ok());
  ASSERT_TRUE(s.feed(b.rows(EventType::kWriteRowsV2, 1, 1, t::rowImage({le(1, 4)}, {}))).ok());
  ASSERT_TRUE(s.feed(b.xid(9)).ok());
  ASSERT_EQ(s.done.size(), 1u);
  EXPECT_EQ(s.done[0].gtid, "3e11fa47-71ca-11e1-9e33-c80aa9429562:7");
  ASSERT_EQ(s.done[0].events.size(), 2u);
  EXPECT_EQ(s.done[0].events[0].op, ChangeEvent::Op::kDdl);
  EXPECT_EQ(s.done[0].events[1].op, ChangeEvent::Op::kInsert);
  s.done.clear();
  // Any other DDL is a group of its own.
  ASSERT_TRUE(s.feed(b.mysqlGtid(uuid, 8, 2, 3)).ok());
  ASSERT_TRUE(s.feed(b.query("shop", "CREATE TABLE d (id INT) COMMENT 'START TRANSACTION'")).ok());
  EXPECT_EQ(s.done.size(), 1u);
}

// Events that need a transaction after a group with a GTID ended, before the next GTID: applied
// on their own they would have no GTID, and the group's GTID, checkpointed, would skip them on a
// restart. Refused, naming where they are and the group before.
TEST(TransactionBuilderTest, EventsAfterAGtidGroupWithoutAGtidOfTheirOwnAreRefused) {
  t::EventBuilder b(mysql::ServerFlavor::kMariaDb);
  std::vector<t::TestColumn> cols = {t::colInt(mysql::ColumnType::kLong, "id")};
  {
    Stream s;
    ASSERT_TRUE(s.feed(b.formatDescription()).ok());
    ASSERT_TRUE(s.feed(b.mariaGtid(5, 0, mysql::MariaGtidEvent::kFlStandalone)).ok());
    ASSERT_TRUE(s.feed(b.query("shop", "CREATE TABLE c (id INT)")).ok());
    ASSERT_EQ(s.done.size(), 1u);
    ASSERT_TRUE(s.feed(b.tableMap(1, "shop", "c", cols)).ok());
    const uint64_t at = s.pos.offset;
    Status st = s.feed(b.rows(EventType::kWriteRowsV1, 1, 1, t::rowImage({le(1, 4)}, {})));
    EXPECT_EQ(st.code(), Status::Code::kUnsupported) << st.toString();
    EXPECT_NE(st.message().find("0-1-5"), std::string::npos) << st.message();
    EXPECT_NE(st.message().find("binlog.000001:" + std::to_string(at)), std::string::npos)
        << st.message();
    EXPECT_NE(st.message().find("`shop`.`c`"), std::string::npos) << st.message();
  }
  {
    Stream s;
    ASSERT_TRUE(s.feed(b.formatDescription()).ok());
    ASSERT_TRUE(s.feed(b.mariaGtid(5, 0, mysql::MariaGtidEvent::kFlStandalone)).ok());
    ASSERT_TRUE(s.feed(b.query("shop", "CREATE TABLE c (id INT)")).ok());
    EXPECT_EQ(s.feed(b.xid(3)).code(), Status::Code::kUnsupported);
  }
  {
    // A source without GTIDs (or a file read from the middle of a group): as before.
    Stream s;
    ASSERT_TRUE(s.feed(b.formatDescription()).ok());
    ASSERT_TRUE(s.feed(b.tableMap(1, "shop", "c", cols)).ok());
    ASSERT_TRUE(s.feed(b.rows(EventType::kWriteRowsV1, 1, 1, t::rowImage({le(1, 4)}, {}))).ok());
    ASSERT_TRUE(s.feed(b.xid(3)).ok());
    ASSERT_EQ(s.done.size(), 1u);
    EXPECT_TRUE(s.done[0].gtid.empty());
  }
}

TEST(TransactionBuilderTest, FilterPatternsAndQueryKinds) {
  auto f = TableFilter::parse("db.t, db2.*,db3");
  ASSERT_TRUE(f.ok());
  EXPECT_TRUE(f->selectsTable("db", "t"));
  EXPECT_FALSE(f->selectsTable("db", "t2"));
  EXPECT_TRUE(f->selectsTable("db2", "anything"));
  EXPECT_TRUE(f->selectsTable("db3", "x"));
  EXPECT_FALSE(f->selectsDatabase("db4"));
  EXPECT_FALSE(TableFilter::parse("a.b.c").ok());
  EXPECT_FALSE(TableFilter::parse("a,,b").ok());
  EXPECT_FALSE(TableFilter::parse("a.").ok());
  EXPECT_FALSE(TableFilter::parse(".b").ok());
  EXPECT_FALSE(TableFilter::parse("`a.b").ok());
  EXPECT_FALSE(TableFilter::parse("``.b").ok());
  // A name holding a dot, comma or backtick, in backticks (a tester could not name `we`ird.db`).
  auto q = TableFilter::parse("`we``ird.db`.*, `a,b`.`t.1` ,plain");
  ASSERT_TRUE(q.ok()) << q.status().toString();
  EXPECT_TRUE(q->selectsTable("we`ird.db", "CASE"));
  EXPECT_FALSE(q->selectsTable("we`ird", "db"));
  EXPECT_TRUE(q->selectsTable("a,b", "t.1"));
  EXPECT_FALSE(q->selectsTable("a,b", "t"));
  EXPECT_TRUE(q->selectsTable("plain", "x"));
  EXPECT_NE(TableFilter::parse("we.ird.db.*").status().message().find("`we.ird`.*"),
            std::string::npos);
  EXPECT_EQ(classifyQuery("BEGIN"), QueryKind::kBegin);
  EXPECT_EQ(classifyQuery(" commit;"), QueryKind::kCommit);
  EXPECT_EQ(classifyQuery("ROLLBACK TO SAVEPOINT a"), QueryKind::kSavepoint);
  EXPECT_EQ(classifyQuery("XA END 'x'"), QueryKind::kXa);
  EXPECT_EQ(classifyQuery("BEGINNING"), QueryKind::kOther);
  EXPECT_EQ(classifyQuery("ALTER TABLE t ADD c INT"), QueryKind::kOther);
}

// ---- The MariaDB 10.11 fixture (tests/fixtures/make_binlog.sh) ----

std::string unescapeTsv(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 1 < s.size()) {
      char c = s[++i];
      out.push_back(c == 't' ? '\t' : c == 'n' ? '\n' : c == '0' ? '\0' : c);
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

std::string hexUpper(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 15]);
  }
  return out;
}

// Compares a decoded value with what SELECT printed (the fixture SELECT uses HEX() for binary
// columns, b+0 for BIT and ST_AsWKB for GEOMETRY).
void expectSame(const Value& v, const mysql::ColumnInfo& col, const std::string& want,
                const std::string& where) {
  SCOPED_TRACE(where);
  if (want == "NULL") {
    EXPECT_TRUE(v.isNull()) << v.s;
    return;
  }
  switch (v.kind) {
    case Value::Kind::kInt:  // YEAR 0 prints as 0000
      EXPECT_EQ(std::to_string(v.i), want == "0000" ? "0" : want);
      break;
    case Value::Kind::kString:
      if (mysql::charsetOfCollation(col.collation) == mysql::Charset::kLatin1) {
        std::string utf8;
        for (unsigned char c : v.s) {
          if (c < 0x80) {
            utf8.push_back(static_cast<char>(c));
          } else {
            utf8.push_back(static_cast<char>(0xc0 | (c >> 6)));
            utf8.push_back(static_cast<char>(0x80 | (c & 0x3f)));
          }
        }
        EXPECT_EQ(utf8, want);
      } else {
        EXPECT_EQ(v.s, want);
      }
      break;
    case Value::Kind::kUInt: EXPECT_EQ(std::to_string(v.u), want); break;
    case Value::Kind::kFloat:
      EXPECT_NEAR(v.d, std::stod(want), std::fabs(std::stod(want)) * 1e-5);
      break;
    case Value::Kind::kDouble: EXPECT_EQ(v.d, std::stod(want)); break;
    case Value::Kind::kBit: EXPECT_EQ(std::to_string(v.u), want); break;
    case Value::Kind::kBytes:
      if (want.size() + 8 == 2 * v.s.size())
        EXPECT_EQ(hexUpper(v.s).substr(8), want);  // GEOMETRY: SRID + WKB
      else
        EXPECT_EQ(hexUpper(v.s), want);
      break;
    default: EXPECT_EQ(v.s, want); break;
  }
}

void checkFixture(const std::string& file, const std::string& db) {
  const std::string dir = std::string(DTS_SOURCE_DIR) + "/tests/fixtures/";
  std::map<std::string, std::vector<std::vector<std::string>>> expected;
  std::ifstream in(dir + "mariadb_types.expected.tsv");
  ASSERT_TRUE(in.good());
  for (std::string line; std::getline(in, line);) {
    std::vector<std::string> cells;
    std::stringstream ss(line);
    for (std::string c; std::getline(ss, c, '\t');) cells.push_back(unescapeTsv(c));
    if (line.back() == '\t') cells.push_back("");
    expected[cells[0]].push_back(std::vector<std::string>(cells.begin() + 1, cells.end()));
  }
  auto src = mysql::BinlogFileSource::open(dir + file);
  ASSERT_TRUE(src.ok()) << src.status().toString();
  mysql::BinlogDecoder decoder;
  TransactionBuilder builder;
  std::vector<mysql::BinlogEvent> events;
  std::vector<Transaction> txns;
  while (true) {
    auto raw = (*src)->nextEvent();
    if (!raw.ok()) {
      ASSERT_EQ(raw.status().code(), Status::Code::kNotFound) << raw.status().toString();
      break;
    }
    Status s = decoder.decode(*raw, (*src)->position(), &events);
    ASSERT_TRUE(s.ok()) << s.toString();
    for (const auto& e : events) ASSERT_TRUE(builder.add(e, &txns).ok());
  }
  EXPECT_FALSE(builder.inTransaction());
  EXPECT_EQ(decoder.flavor(), mysql::ServerFlavor::kMariaDb);
  std::map<std::string, size_t> seen;
  size_t updates = 0, deletes = 0;
  for (const auto& txn : txns) {
    EXPECT_FALSE(txn.gtid.empty());
    EXPECT_EQ(txn.gtid.rfind("0-1-", 0), 0u);
    for (const auto& ev : txn.events) {
      if (ev.op == ChangeEvent::Op::kUpdate) ++updates;
      if (ev.op == ChangeEvent::Op::kDelete) ++deletes;
      if (ev.op != ChangeEvent::Op::kInsert || ev.database != db) continue;
      auto it = expected.find(ev.table);
      ASSERT_NE(it, expected.end()) << ev.table;
      size_t& n = seen[ev.table];
      if (n >= it->second.size()) continue;  // later inserts (after the SELECT)
      const auto& want = it->second[n];
      ASSERT_EQ(want.size(), ev.after.values.size()) << ev.table;
      for (size_t i = 0; i < want.size(); ++i)
        expectSame(ev.after.values[i], ev.table_info->columns[i], want[i],
                   ev.table + " row " + std::to_string(n + 1) + " column " +
                       ev.table_info->columns[i].name);
      ++n;
    }
  }
  for (const auto& [table, rows] : expected) EXPECT_EQ(seen[table], rows.size()) << table;
  EXPECT_GE(updates, 1u);
  EXPECT_EQ(deletes, 1u);
}

TEST(BinlogFixtureTest, MariaDbPlainEventsMatchSelectOutput) {
  checkFixture("mariadb_types.000001", "fx");
}
TEST(BinlogFixtureTest, MariaDbCompressedEventsMatchSelectOutput) {
  checkFixture("mariadb_types.000002", "fz");
}

// An XA transaction is two groups: its rows ended by XA PREPARE (kPrepare), and XA COMMIT or
// XA ROLLBACK later (kCommit / kRollback), each naming it in one normal form, whatever form the
// statement used; XA ... ONE PHASE is an ordinary transaction.
TEST(TransactionBuilderTest, XaGroupsSayWhetherTheyPrepareCommitOrRollBack) {
  t::EventBuilder b(mysql::ServerFlavor::kMariaDb);
  Stream s;
  std::vector<t::TestColumn> cols = {t::colInt(mysql::ColumnType::kLong, "id")};
  auto xaPrepare = [&](bool one_phase, std::string_view gtrid) {
    std::string body;
    body.push_back(one_phase ? 1 : 0);
    body += le(1, 4) + le(gtrid.size(), 4) + le(0, 4);
    body += gtrid;
    return b.event(EventType::kXaPrepare, body);
  };
  auto rowsGroup = [&](uint64_t seq, const std::string& start, bool one_phase) {
    ASSERT_TRUE(s.feed(b.mariaGtid(seq, 0, mysql::MariaGtidEvent::kFlTransactional)).ok());
    ASSERT_TRUE(s.feed(b.query("shop", start)).ok());
    ASSERT_TRUE(s.feed(b.tableMap(1, "shop", "t", cols)).ok());
    ASSERT_TRUE(s.feed(b.rows(EventType::kWriteRowsV1, 1, 1, t::rowImage({le(seq, 4)}, {}))).ok());
    ASSERT_TRUE(s.feed(b.query("shop", "XA END X'7831',X'',1")).ok());
    ASSERT_TRUE(s.feed(xaPrepare(one_phase, "x1")).ok());
  };
  ASSERT_TRUE(s.feed(b.formatDescription()).ok());
  rowsGroup(20, "XA START X'7831',X'',1", false);
  ASSERT_TRUE(s.feed(b.mariaGtid(21, 0, mysql::MariaGtidEvent::kFlStandalone)).ok());
  ASSERT_TRUE(s.feed(b.query("shop", "XA COMMIT X'7831',X'',1")).ok());
  rowsGroup(22, "XA BEGIN 'x1'", false);
  ASSERT_TRUE(s.feed(b.mariaGtid(23, 0, mysql::MariaGtidEvent::kFlStandalone)).ok());
  ASSERT_TRUE(s.feed(b.query("shop", "xa rollback 'x1', '', 1")).ok());
  rowsGroup(24, "XA START 0x7831", true);
  // MariaDB: no XA START query; the GTID event names the XA transaction.
  ASSERT_TRUE(s.feed(b.mariaGtid(25, 0, mysql::MariaGtidEvent::kFlPreparedXa, "x1")).ok());
  ASSERT_TRUE(s.feed(b.tableMap(1, "shop", "t", cols)).ok());
  ASSERT_TRUE(s.feed(b.rows(EventType::kWriteRowsV1, 1, 1, t::rowImage({le(25, 4)}, {}))).ok());
  ASSERT_TRUE(s.feed(b.query("shop", "XA END X'7831',X'',1")).ok());
  ASSERT_TRUE(s.feed(xaPrepare(false, "x1")).ok());
  ASSERT_TRUE(s.feed(b.mariaGtid(26, 0, mysql::MariaGtidEvent::kFlCompletedXa, "x1")).ok());
  ASSERT_TRUE(s.feed(b.query("shop", "XA COMMIT X'7831',X'',1")).ok());
  ASSERT_EQ(s.done.size(), 7u);
  EXPECT_EQ(s.done[5].xa, Transaction::Xa::kPrepare);
  EXPECT_EQ(s.done[5].events.size(), 1u);
  EXPECT_EQ(s.done[6].xa, Transaction::Xa::kCommit);
  EXPECT_EQ(s.done[6].xa_id, "X'7831',X'',1");
  using Xa = Transaction::Xa;
  EXPECT_EQ(s.done[0].xa, Xa::kPrepare);
  EXPECT_EQ(s.done[0].events.size(), 1u);
  EXPECT_EQ(s.done[1].xa, Xa::kCommit);
  EXPECT_TRUE(s.done[1].events.empty());
  EXPECT_EQ(s.done[2].xa, Xa::kPrepare);
  EXPECT_EQ(s.done[3].xa, Xa::kRollback);
  EXPECT_EQ(s.done[4].xa, Xa::kNone);  // ONE PHASE
  EXPECT_EQ(s.done[4].events.size(), 1u);
  for (size_t i = 0; i < 4; ++i) EXPECT_EQ(s.done[i].xa_id, "X'7831',X'',1") << i;

  EXPECT_EQ(normalXaId(" 'a''b', X'00FF' , 7 JOIN"), "X'612762',X'00ff',7");
  EXPECT_EQ(normalXaId("X'7"), "");
  EXPECT_EQ(normalXaId(""), "");
}

}  // namespace
}  // namespace dts::pipeline

namespace dts::pipeline {
namespace {

// A data change the source logged as a statement (binlog_format=STATEMENT in its session) is an
// error naming it when it writes a selected table, or may; a statement on other tables passes,
// and without the option it is kept like DDL (what `dts binlog tail` prints).
TEST(TransactionBuilderTest, AChangeLoggedAsAStatementOnAMovedTableIsRefused) {
  auto filter = TableFilter::parse("shop.t");
  ASSERT_TRUE(filter.ok());
  auto tables = std::make_shared<TableFilter>(*filter);
  auto run = [&](bool refuse, const std::string& db, const std::string& sql, bool load = false) {
    t::EventBuilder b(mysql::ServerFlavor::kMariaDb);
    Stream s(TransactionBuilder::Options{.tables = tables, .refuse_statement_dml = refuse});
    Status st = s.feed(b.formatDescription());
    if (st.ok()) st = s.feed(b.mariaGtid(7, 0, mysql::MariaGtidEvent::kFlTransactional));
    if (st.ok()) st = s.feed(b.query(db, "BEGIN"));
    if (st.ok()) st = s.feed(load ? b.executeLoadQuery(db, sql) : b.query(db, sql));
    if (st.ok()) st = s.feed(b.xid(9));
    return st;
  };
  Status st = run(true, "shop", "INSERT INTO t VALUES (3, 3, 'c')");
  EXPECT_EQ(st.code(), Status::Code::kUnsupported);
  EXPECT_NE(st.message().find("a change of `shop`.`t` as an SQL statement, not as rows, at "
                              "binlog.000001:"),
            std::string::npos)
      << st.toString();
  EXPECT_NE(st.message().find("INSERT INTO t VALUES (3, 3, 'c')"), std::string::npos);
  EXPECT_NE(st.message().find("binlog_format=ROW"), std::string::npos);
  EXPECT_EQ(run(true, "other", "UPDATE shop.t SET v = v + 10 WHERE id = 1").code(),
            Status::Code::kUnsupported);
  EXPECT_EQ(run(true, "shop", "SELECT f()").code(), Status::Code::kUnsupported);
  // Tables the task does not move.
  EXPECT_TRUE(run(true, "shop", "UPDATE u SET v = 1").ok());
  EXPECT_TRUE(run(true, "other", "DELETE FROM x").ok());
  EXPECT_TRUE(run(true, "other", "SELECT f()").ok());
  EXPECT_TRUE(run(true, "shop", "ALTER TABLE t ADD c INT").ok());
  EXPECT_TRUE(run(false, "shop", "INSERT INTO t VALUES (3, 3, 'c')").ok());
  // LOAD DATA logged as a statement comes as EXECUTE_LOAD_QUERY, which was dropped unread: its
  // rows never arrived while the task went on.
  const std::string load =
      "LOAD DATA INFILE '/tmp/SQL_LOAD-1-2-3.data' REPLACE INTO TABLE `t` FIELDS TERMINATED BY "
      "'\\t' (id, v)";
  Status loaded = run(true, "shop", load, /*load=*/true);
  EXPECT_EQ(loaded.code(), Status::Code::kUnsupported);
  EXPECT_NE(loaded.message().find("a change of `shop`.`t` as an SQL statement"), std::string::npos)
      << loaded.toString();
  EXPECT_EQ(run(true, "other", "LOAD DATA INFILE 'x' INTO TABLE shop.t", true).code(),
            Status::Code::kUnsupported);
  EXPECT_TRUE(run(true, "other", "LOAD DATA INFILE 'x' INTO TABLE other.u", true).ok());
  // A name holding a backtick is quoted as an identifier (it was wrapped in backticks as it was).
  auto odd = TableFilter::parse("`we``ird.db`.*");
  ASSERT_TRUE(odd.ok()) << odd.status().toString();
  tables = std::make_shared<TableFilter>(*odd);
  Status quoted = run(true, "we`ird.db", "INSERT INTO `CASE` VALUES (1)");
  EXPECT_NE(quoted.message().find("a change of `we``ird.db`.`CASE` as an SQL statement"),
            std::string::npos)
      << quoted.toString();
}

// options.skip_gtids: the way past such a change once the DBA made it at the destination. The
// named transaction's data changes (statements and rows) are left out and counted; its DDL and
// every other transaction are as before.
TEST(TransactionBuilderTest, ATransactionTheTaskSkipsLeavesOutItsDataChangesOnly) {
  auto filter = TableFilter::parse("shop.*");
  ASSERT_TRUE(filter.ok());
  t::EventBuilder b(mysql::ServerFlavor::kMariaDb);
  Stream s(TransactionBuilder::Options{.tables = std::make_shared<TableFilter>(*filter),
                                       .refuse_statement_dml = true,
                                       .skip_gtids = {"0-1-7", "0-1-9"}});
  std::vector<t::TestColumn> cols = {t::colInt(mysql::ColumnType::kLong, "id")};
  ASSERT_TRUE(s.feed(b.formatDescription()).ok());
  ASSERT_TRUE(s.feed(b.mariaGtid(7, 0, mysql::MariaGtidEvent::kFlTransactional)).ok());
  ASSERT_TRUE(s.feed(b.query("shop", "BEGIN")).ok());
  ASSERT_TRUE(s.feed(b.query("shop", "UPDATE t SET id = id + 1")).ok());
  ASSERT_TRUE(s.feed(b.tableMap(1, "shop", "t", cols)).ok());
  ASSERT_TRUE(s.feed(b.rows(EventType::kWriteRowsV1, 1, 1, t::rowImage({le(5, 4)}, {}))).ok());
  ASSERT_TRUE(s.feed(b.xid(1)).ok());
  ASSERT_EQ(s.done.size(), 1u);
  EXPECT_EQ(s.done[0].gtid, "0-1-7");
  EXPECT_TRUE(s.done[0].events.empty());
  EXPECT_EQ(s.done[0].skipped_changes, 2u);
  EXPECT_EQ(s.done[0].end.offset, s.pos.offset);  // the checkpoint passes it
  // The next one is not skipped: its statement is refused as before.
  ASSERT_TRUE(s.feed(b.mariaGtid(8, 0, mysql::MariaGtidEvent::kFlTransactional)).ok());
  ASSERT_TRUE(s.feed(b.query("shop", "BEGIN")).ok());
  EXPECT_EQ(s.feed(b.query("shop", "UPDATE t SET id = id + 1")).code(), Status::Code::kUnsupported);
  // A skipped DDL transaction keeps its DDL (the schema history follows it; so must the sink).
  Stream d(TransactionBuilder::Options{.tables = std::make_shared<TableFilter>(*filter),
                                       .refuse_statement_dml = true,
                                       .skip_gtids = {"0-1-9"}});
  ASSERT_TRUE(d.feed(b.formatDescription()).ok());
  ASSERT_TRUE(d.feed(b.mariaGtid(9, 0, mysql::MariaGtidEvent::kFlStandalone)).ok());
  ASSERT_TRUE(d.feed(b.query("shop", "ALTER TABLE t ADD c INT")).ok());
  ASSERT_EQ(d.done.size(), 1u);
  ASSERT_EQ(d.done[0].events.size(), 1u);
  EXPECT_EQ(d.done[0].events[0].op, ChangeEvent::Op::kDdl);
  EXPECT_EQ(d.done[0].skipped_changes, 0u);
}

}  // namespace
}  // namespace dts::pipeline
