#include "mysql/binlog_event.h"

#include <gtest/gtest.h>

#include "mysql/event_builder_for_tests.h"

namespace dts::mysql {
namespace {

using testing::EventBuilder;
namespace j = testing::json;

constexpr uint8_t kUuid[16] = {0x3e, 0x11, 0xfa, 0x47, 0x71, 0xca, 0x11, 0xe1,
                               0x9e, 0x33, 0xc8, 0x0a, 0xa9, 0x42, 0x95, 0x62};

std::string le(uint64_t v, size_t n) {
  std::string s;
  putUint(&s, v, n);
  return s;
}

struct Feed {
  BinlogDecoder decoder;
  std::vector<BinlogEvent> events;
  BinlogPosition pos{"binlog.000007", 4};
  std::string raw;  // events hold views into the last raw event: keep it alive
  Status operator()(std::string bytes) {
    raw = std::move(bytes);
    Status s = decoder.decode(raw, pos, &events);
    pos.offset += raw.size();
    return s;
  }
};

TEST(BinlogEventTest, FormatDescriptionQueryXidRotate) {
  EventBuilder b(ServerFlavor::kMariaDb);
  Feed feed;
  ASSERT_TRUE(feed(b.formatDescription()).ok());
  const auto* fde = feed.events[0].as<FormatDescriptionEvent>();
  ASSERT_NE(fde, nullptr);
  EXPECT_EQ(fde->flavor, ServerFlavor::kMariaDb);
  EXPECT_EQ(fde->checksum, ChecksumAlg::kCrc32);
  EXPECT_EQ(fde->server_version, "10.11.6-MariaDB-log");
  ASSERT_TRUE(feed(b.query("shop", "CREATE TABLE t (a INT)")).ok());
  const auto* q = feed.events[0].as<QueryEvent>();
  ASSERT_NE(q, nullptr);
  EXPECT_EQ(q->database, "shop");
  EXPECT_EQ(q->sql, "CREATE TABLE t (a INT)");
  EXPECT_EQ(q->thread_id, 7u);
  ASSERT_TRUE(feed(b.xid(99)).ok());
  EXPECT_EQ(feed.events[0].as<XidEvent>()->xid, 99u);
  EXPECT_EQ(feed.events[0].end_offset, feed.pos.offset);
  ASSERT_TRUE(feed(b.rotate("binlog.000008")).ok());
  EXPECT_EQ(feed.events[0].as<RotateEvent>()->next_file, "binlog.000008");
  ASSERT_TRUE(
      feed(b.mariaGtid(42, 3, MariaGtidEvent::kFlGroupCommitId | MariaGtidEvent::kFlStandalone))
          .ok());
  const auto* g = feed.events[0].as<MariaGtidEvent>();
  ASSERT_NE(g, nullptr);
  EXPECT_EQ(g->gtid(), "3-1-42");
  EXPECT_EQ(g->commit_id, 99u);
}

TEST(BinlogEventTest, ChecksumOffStillParses) {
  EventBuilder b(ServerFlavor::kMySql, /*checksum=*/false);
  Feed feed;
  ASSERT_TRUE(feed(b.formatDescription()).ok());
  EXPECT_EQ(feed.decoder.format().checksum, ChecksumAlg::kOff);
  ASSERT_TRUE(feed(b.xid(5)).ok());
  EXPECT_EQ(feed.events[0].as<XidEvent>()->xid, 5u);
}

TEST(BinlogEventTest, BadChecksumIsCorruptionNamingFileAndOffset) {
  EventBuilder b;
  Feed feed;
  ASSERT_TRUE(feed(b.formatDescription()).ok());
  std::string x = b.xid(1);
  x[20] ^= 1;
  Status s = feed(x);
  EXPECT_EQ(s.code(), Status::Code::kCorruption);
  EXPECT_NE(s.message().find("checksum"), std::string::npos);
  EXPECT_NE(s.message().find("binlog.000007:"), std::string::npos) << s.message();
  std::string f = EventBuilder().formatDescription();
  f[30] ^= 1;
  EXPECT_EQ(Feed()(f).code(), Status::Code::kCorruption);
}

TEST(BinlogEventTest, TruncatedEventIsCorruption) {
  EventBuilder b;
  Feed feed;
  ASSERT_TRUE(feed(b.formatDescription()).ok());
  std::string x = b.xid(1);
  EXPECT_EQ(feed(x.substr(0, x.size() - 1)).code(), Status::Code::kCorruption);
  EXPECT_EQ(feed(x.substr(0, 10)).code(), Status::Code::kCorruption);
  // A body that is too short for its type, with a valid checksum.
  EventBuilder b2;
  Feed feed2;
  ASSERT_TRUE(feed2(b2.formatDescription()).ok());
  Status s = feed2(b2.event(EventType::kXid, "\x01\x02"));
  EXPECT_EQ(s.code(), Status::Code::kCorruption);
  EXPECT_NE(s.message().find("XID"), std::string::npos);
}

TEST(BinlogEventTest, UnknownEventTypesAreSkippedByLength) {
  EventBuilder b;
  Feed feed;
  ASSERT_TRUE(feed(b.formatDescription()).ok());
  ASSERT_TRUE(feed(b.event(static_cast<EventType>(222), "whatever bytes")).ok());
  EXPECT_NE(feed.events[0].as<SkippedEvent>(), nullptr);
  EXPECT_EQ(eventTypeName(static_cast<EventType>(222)), "UNKNOWN(222)");
}

TEST(BinlogEventTest, RowsForUnknownTableIdFail) {
  EventBuilder b;
  Feed feed;
  ASSERT_TRUE(feed(b.formatDescription()).ok());
  Status s = feed(b.rows(EventType::kWriteRowsV2, 77, 1, testing::rowImage({le(1, 4)}, {})));
  EXPECT_EQ(s.code(), Status::Code::kFailedPrecondition);
  EXPECT_NE(s.message().find("table id 77"), std::string::npos);
}

TEST(BinlogEventTest, ColumnCountMismatchIsCorruption) {
  EventBuilder b;
  Feed feed;
  ASSERT_TRUE(feed(b.formatDescription()).ok());
  ASSERT_TRUE(feed(b.tableMap(5, "db", "t", {testing::colInt(ColumnType::kLong, "a")})).ok());
  Status s =
      feed(b.rows(EventType::kWriteRowsV2, 5, 2, testing::rowImage({le(1, 4), le(2, 4)}, {})));
  EXPECT_EQ(s.code(), Status::Code::kCorruption);
  EXPECT_NE(s.message().find("`db`.`t` has 2 columns"), std::string::npos) << s.message();
}

TEST(BinlogEventTest, TableMapOptionalMetadata) {
  EventBuilder b;
  Feed feed;
  ASSERT_TRUE(feed(b.formatDescription()).ok());
  ASSERT_TRUE(feed(b.tableMap(5, "db", "t",
                              {testing::colInt(ColumnType::kLong, "id", true),
                               testing::colVarchar("name", 80, 45),
                               testing::colEnum("e", {"x", "y"}), testing::colString("l1", 10, 8)}))
                  .ok());
  const auto* tm = feed.events[0].as<TableMapEvent>();
  ASSERT_NE(tm, nullptr);
  const TableInfo& t = *tm->table;
  EXPECT_EQ(t.table_id, 5u);
  EXPECT_EQ(t.columns[0].name, "id");
  EXPECT_TRUE(t.columns[0].is_unsigned);
  EXPECT_EQ(t.columns[1].collation, 45);
  EXPECT_EQ(t.columns[1].meta, 80);
  EXPECT_EQ(t.columns[2].enum_values, (std::vector<std::string>{"x", "y"}));
  EXPECT_EQ(t.columns[3].collation, 8);
  EXPECT_EQ(t.primary_key, (std::vector<size_t>{0}));
  // The same TABLE_MAP again reuses the decoder.
  auto first = tm->decoder;
  ASSERT_TRUE(feed(b.tableMap(5, "db", "t",
                              {testing::colInt(ColumnType::kLong, "id", true),
                               testing::colVarchar("name", 80, 45),
                               testing::colEnum("e", {"x", "y"}), testing::colString("l1", 10, 8)}))
                  .ok());
  EXPECT_EQ(feed.events[0].as<TableMapEvent>()->decoder, first);
}

TEST(BinlogEventTest, MySqlGtidAndPreviousGtids) {
  EventBuilder b;
  Feed feed;
  ASSERT_TRUE(feed(b.formatDescription()).ok());
  ASSERT_TRUE(feed(b.mysqlGtid(kUuid, 42, 10, 11, 1700000000123456ULL)).ok());
  const auto* g = feed.events[0].as<MySqlGtidEvent>();
  ASSERT_NE(g, nullptr);
  EXPECT_EQ(g->gtid(), "3e11fa47-71ca-11e1-9e33-c80aa9429562:42");
  EXPECT_EQ(g->last_committed, 10);
  EXPECT_EQ(g->sequence_number, 11);
  EXPECT_EQ(g->immediate_commit_us, 1700000000123456ULL);
  EXPECT_EQ(g->original_commit_us, 1700000000123456ULL);
  EXPECT_EQ(g->transaction_length, 1234u);
  EXPECT_EQ(g->immediate_server_version, 80036u);

  std::string body = le(1, 8) + std::string(reinterpret_cast<const char*>(kUuid), 16) + le(2, 8) +
                     le(1, 8) + le(11, 8) + le(12, 8) + le(20, 8);
  ASSERT_TRUE(feed(b.event(EventType::kPreviousGtids, body)).ok());
  EXPECT_EQ(feed.events[0].as<PreviousGtidsEvent>()->toString(),
            "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-10:12-19");
  EXPECT_EQ(feed(b.event(EventType::kPreviousGtids, le(5, 8))).code(), Status::Code::kCorruption);
}

TEST(BinlogEventTest, TransactionPayloadDecodesInnerEvents) {
  EventBuilder b;
  Feed feed;
  ASSERT_TRUE(feed(b.formatDescription()).ok());
  EventBuilder inner;
  inner.setChecksum(false);
  std::vector<testing::TestColumn> cols = {testing::colInt(ColumnType::kLong, "a")};
  std::string events =
      inner.query("db", "BEGIN") + inner.tableMap(9, "db", "t", cols) +
      inner.rows(EventType::kWriteRowsV2, 9, 1, testing::rowImage({le(5, 4)}, {})) + inner.xid(3);
  for (bool compress : {true, false}) {
    const uint64_t start = feed.pos.offset;
    std::string payload = b.transactionPayload(events, compress);
    ASSERT_TRUE(feed(payload).ok());
    ASSERT_EQ(feed.events.size(), 5u);
    EXPECT_EQ(feed.events[0].as<TransactionPayloadEvent>()->inner_events, 4u);
    EXPECT_EQ(feed.events[2].header.type, EventType::kTableMap);
    const auto* rows = feed.events[3].as<RowsEvent>();
    ASSERT_NE(rows, nullptr);
    EXPECT_TRUE(feed.events[3].in_payload);
    EXPECT_EQ(feed.events[3].position.offset, start);
    EXPECT_EQ(feed.events[4].end_offset, start + payload.size());
    RowsReader reader(rows->data, feed.events[3].position);
    RowImage before, after;
    ASSERT_TRUE(reader.next(&before, &after).ok());
    EXPECT_EQ(after.values[0], Value::ofInt(5));
  }
  // A payload whose compressed bytes are damaged.
  std::string bad = b.transactionPayload(events);
  EventBuilder b2;
  Feed feed2;
  ASSERT_TRUE(feed2(b2.formatDescription()).ok());
  EventBuilder b3(ServerFlavor::kMySql, false);
  Feed feed3;
  ASSERT_TRUE(feed3(b3.formatDescription()).ok());
  std::string p = b3.transactionPayload(events);
  p[p.size() - 3] ^= 0x55;
  EXPECT_EQ(feed3(p).code(), Status::Code::kCorruption);
}

std::string jsonDiff(uint8_t op, std::string_view path, const std::string& value) {
  std::string d(1, static_cast<char>(op));
  putLenenc(&d, path.size());
  d += path;
  if (op != 2) {
    putLenenc(&d, value.size());
    d += value;
  }
  return d;
}

TEST(BinlogEventTest, PartialUpdateRowsAppliesJsonDiffs) {
  EventBuilder b;
  Feed feed;
  ASSERT_TRUE(feed(b.formatDescription()).ok());
  std::vector<testing::TestColumn> cols = {testing::colInt(ColumnType::kLong, "id"),
                                           testing::colJson("doc"), testing::colJson("other")};
  ASSERT_TRUE(feed(b.tableMap(3, "db", "t", cols)).ok());
  std::string doc = j::object({{"k1", j::str("v1")}, {"k2", j::int16(10)}});
  std::string other = j::array({j::int16(1)});
  std::string before =
      testing::rowImage({le(1, 4), le(doc.size(), 4) + doc, le(other.size(), 4) + other}, {});
  std::string diffs = jsonDiff(0, "$.k1", j::str("v2")) + jsonDiff(1, "$.k3", j::str("k3")) +
                      jsonDiff(2, "$.k2", "");
  // After image: value_options = 1 (PARTIAL_JSON), partial bits (doc partial, other full), image.
  std::string other2 = j::array({j::int16(2)});
  std::string after =
      std::string("\x01", 1) + std::string("\x01", 1) +
      testing::rowImage({le(1, 4), le(diffs.size(), 4) + diffs, le(other2.size(), 4) + other2}, {});
  ASSERT_TRUE(feed(b.rows(EventType::kPartialUpdateRows, 3, 3, before + after)).ok());
  const auto* rows = feed.events[0].as<RowsEvent>();
  ASSERT_NE(rows, nullptr);
  RowsReader reader(rows->data, feed.events[0].position);
  RowImage bi, ai;
  Status s = reader.next(&bi, &ai);
  ASSERT_TRUE(s.ok()) << s.toString();
  EXPECT_EQ(bi.values[1].s, "{\"k1\": \"v1\", \"k2\": 10}");
  EXPECT_EQ(ai.values[1], Value::ofText(Value::Kind::kJson, "{\"k1\": \"v2\", \"k3\": \"k3\"}"));
  EXPECT_EQ(ai.values[2].s, "[2]");
  EXPECT_TRUE(reader.done());

  // A diff for a column the before image lacks cannot be rebuilt: an error, never a dropped update.
  std::string before_min = testing::rowImage({le(1, 4)}, {});
  std::string after2 =
      std::string("\x01\x01", 2) + testing::rowImage({le(1, 4), le(diffs.size(), 4) + diffs}, {});
  ASSERT_TRUE(
      feed(b.rows(EventType::kPartialUpdateRows, 3, 3, before_min + after2, "\x01", "\x03")).ok());
  RowsReader reader2(feed.events[0].as<RowsEvent>()->data, feed.events[0].position);
  EXPECT_EQ(reader2.next(&bi, &ai).code(), Status::Code::kFailedPrecondition);
}

TEST(BinlogEventTest, XaPrepareAndHeartbeat) {
  EventBuilder b;
  Feed feed;
  ASSERT_TRUE(feed(b.formatDescription()).ok());
  ASSERT_TRUE(feed(b.event(EventType::kXaPrepare,
                           std::string("\x00", 1) + le(1, 4) + le(3, 4) + le(2, 4) + "abcde"))
                  .ok());
  const auto* xa = feed.events[0].as<XaPrepareEvent>();
  ASSERT_NE(xa, nullptr);
  EXPECT_EQ(xa->gtrid, "abc");
  EXPECT_EQ(xa->bqual, "de");
  ASSERT_TRUE(feed(b.event(EventType::kHeartbeat, "binlog.000007")).ok());
  EXPECT_EQ(feed.events[0].as<HeartbeatEvent>()->log_file, "binlog.000007");
}

// The statement text comes out as UTF-8 whatever the client's character set (latin1 8, sjis 13,
// koi8r 7), ASCII stays as it is, and text that cannot be converted exactly stays as logged,
// flagged: a literal under a character set introducer, bytes invalid in their set, binary.
TEST(BinlogEventTest, QueryTextIsConvertedFromTheClientCharacterSet) {
  EventBuilder b(ServerFlavor::kMariaDb);
  Feed feed;
  ASSERT_TRUE(feed(b.formatDescription()).ok());
  struct Case {
    uint16_t collation;
    std::string sql, want;
    bool utf8;
  };
  const std::vector<Case> cases = {
      {8, "ALTER TABLE t ADD e ENUM('\xfc', 'b') COMMENT 'caf\xe9'",
       "ALTER TABLE t ADD e ENUM('\xc3\xbc', 'b') COMMENT 'caf\xc3\xa9'", true},
      {13, "CREATE TABLE \x83\x65 (a INT)", "CREATE TABLE \xe3\x83\x86 (a INT)", true},
      {7, "ALTER TABLE t ADD \xc1 INT", "ALTER TABLE t ADD \xd0\xb0 INT", true},
      {45, "ALTER TABLE t ADD \xc3\xbc INT", "ALTER TABLE t ADD \xc3\xbc INT", true},
      {8, "CREATE TABLE plain (a INT)", "CREATE TABLE plain (a INT)", true},
      {8, "ALTER TABLE t ADD b BLOB DEFAULT _binary'\xff'",
       "ALTER TABLE t ADD b BLOB DEFAULT _binary'\xff'", false},
      {13, "CREATE TABLE \x83 (a INT)", "CREATE TABLE \x83 (a INT)", false},  // truncated
      {63, "INSERT INTO t VALUES ('\xff')", "INSERT INTO t VALUES ('\xff')", false},
  };
  for (const auto& c : cases) {
    ASSERT_TRUE(feed(b.query("d", c.sql, c.collation)).ok()) << c.sql;
    const auto* q = feed.events[0].as<QueryEvent>();
    ASSERT_NE(q, nullptr);
    EXPECT_EQ(q->client_collation, c.collation);
    EXPECT_EQ(q->sql, c.want) << c.collation;
    EXPECT_EQ(q->sql_is_utf8, c.utf8) << c.collation << " " << c.sql;
    EXPECT_EQ(q->database, "d");
  }
  // The session's time zone and the microseconds of the statement's start, after the collation.
  ASSERT_TRUE(
      feed(b.query("d", "ALTER TABLE t ADD c DATETIME(6) DEFAULT NOW(6)", 45, "+08:00", 123456))
          .ok());
  EXPECT_EQ(feed.events[0].as<QueryEvent>()->client_collation, 45);
  EXPECT_EQ(feed.events[0].as<QueryEvent>()->time_zone, "+08:00");
  EXPECT_EQ(feed.events[0].as<QueryEvent>()->start_usec, 123456u);
  EXPECT_EQ(feed.events[0].as<QueryEvent>()->sql_mode, 0x40000000u);
  EXPECT_EQ(feed.events[0].as<QueryEvent>()->server_collation, 8);  // latin1_swedish_ci
  EXPECT_EQ(feed.events[0].as<QueryEvent>()->flavor, ServerFlavor::kMariaDb);
  // The session's sql_mode, and MariaDB's explicit_defaults_for_timestamp in bit 24 of flags2.
  ASSERT_TRUE(feed(b.query("d", "CREATE TABLE \"t\" (ts TIMESTAMP)", 45, {}, -1,
                           {.flags2 = 1u << 24, .sql_mode = 1048582}))
                  .ok());
  EXPECT_EQ(feed.events[0].as<QueryEvent>()->sql_mode, 1048582u);
  EXPECT_EQ(feed.events[0].as<QueryEvent>()->explicit_defaults_for_timestamp, true);
  ASSERT_TRUE(feed(b.query("d", "CREATE TABLE t (ts TIMESTAMP)", 45, {}, -1, {.flags2 = 0})).ok());
  EXPECT_EQ(feed.events[0].as<QueryEvent>()->explicit_defaults_for_timestamp, false);
  // Status variables cut short: no collation, the text as logged, nothing read past them.
  ASSERT_TRUE(feed(b.query("d", "CREATE TABLE \xfc (a INT)")).ok());
  EXPECT_EQ(feed.events[0].as<QueryEvent>()->client_collation, 0);
  EXPECT_EQ(feed.events[0].as<QueryEvent>()->sql, "CREATE TABLE \xfc (a INT)");
  EXPECT_EQ(feed.events[0].as<QueryEvent>()->sql_mode, std::nullopt);  // only flags2 logged
  EXPECT_EQ(feed.events[0].as<QueryEvent>()->explicit_defaults_for_timestamp, false);
}

// MySQL logs explicit_defaults_for_timestamp as a status variable of its own; bit 24 of its
// flags2 means nothing of the kind.
TEST(BinlogEventTest, MySqlQueryLogsExplicitDefaultsForTimestampApart) {
  EventBuilder b(ServerFlavor::kMySql);
  Feed feed;
  ASSERT_TRUE(feed(b.formatDescription()).ok());
  ASSERT_TRUE(feed(b.query("d", "CREATE TABLE t (ts TIMESTAMP)", 255, {}, -1,
                           {.flags2 = 1u << 24, .sql_mode = 1ull << 32, .explicit_defaults = 0}))
                  .ok());
  const auto* q = feed.events[0].as<QueryEvent>();
  ASSERT_NE(q, nullptr);
  EXPECT_EQ(q->flavor, ServerFlavor::kMySql);
  EXPECT_EQ(q->sql_mode, 1ull << 32);
  EXPECT_EQ(q->explicit_defaults_for_timestamp, false);
  ASSERT_TRUE(
      feed(b.query("d", "CREATE TABLE t (ts TIMESTAMP)", 255, {}, -1, {.flags2 = 1u << 24})).ok());
  EXPECT_EQ(feed.events[0].as<QueryEvent>()->explicit_defaults_for_timestamp, std::nullopt);
}

TEST(BinlogEventTest, MariaDbCompressedQuery) {
  std::string out;
  EXPECT_EQ(mariaDbUncompress("\x01\x02", &out).code(), Status::Code::kCorruption);
  EXPECT_EQ(mariaDbUncompress(std::string("\x81\x05\x78\x9c\x00", 5), &out).code(),
            Status::Code::kCorruption);
}

}  // namespace
}  // namespace dts::mysql
