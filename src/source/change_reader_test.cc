#include "source/change_reader.h"

#include <gtest/gtest.h>
#include <unistd.h>  // truncate

#include <fstream>

#include "source/binlog_fixture_for_tests.h"

namespace dts::source {
namespace {

using mysql::Value;
using pipeline::ChangeEvent;
using pipeline::Transaction;

class ChangeReaderTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_FALSE(dir_.empty()); }

  // Writes events [from, to) of the fixture (the FORMAT_DESCRIPTION first when from > 0).
  std::string write(const std::string& name, size_t from = 0, size_t to = SIZE_MAX) {
    std::vector<std::string> events;
    if (from > 0) events.push_back(fixture_.events[0]);
    for (size_t i = from; i < std::min(to, fixture_.events.size()); ++i)
      events.push_back(fixture_.events[i]);
    std::string path = dir_ + "/" + name;
    EXPECT_TRUE(testing::writeBinlogFile(path, events).ok());
    return path;
  }

  std::unique_ptr<SchemaLoader> loader() {
    return std::make_unique<testing::FakeSchemaLoader>(testing::shopSchema(), loads_);
  }

  static std::shared_ptr<const pipeline::TableSelector> filter(const std::string& spec) {
    auto f = pipeline::TableFilter::parse(spec);
    EXPECT_TRUE(f.ok());
    return std::make_shared<pipeline::TableFilter>(*f);
  }

  // Reads to the end; every piece in order.
  static Status readAll(ChangeReader* reader, std::vector<Transaction>* all) {
    std::vector<Transaction> done;
    while (true) {
      DTS_ASSIGN_OR_RETURN(bool more, reader->next(&done));
      if (!more) return Status::OK();
      for (Transaction& t : done) all->push_back(std::move(t));
    }
  }

  static std::vector<std::string> gtids(const std::vector<Transaction>& txns) {
    std::vector<std::string> out;
    for (const Transaction& t : txns) out.push_back(t.gtid);
    return out;
  }

  testing::ScratchDir scratch_{"dts-change-reader"};
  const std::string dir_ = scratch_.path();
  const testing::ShopFixture fixture_ = testing::shopFixture();
  const std::shared_ptr<std::vector<std::string>> loads_ =
      std::make_shared<std::vector<std::string>>();
};

const std::vector<std::string> kAllGtids = {"0-1-1", "0-1-2", "0-1-3", "0-1-4", "0-1-5"};

TEST_F(ChangeReaderTest, GroupsTheSelectedTablesOfAFileWithNamesFromTheSchema) {
  ChangeReaderOptions o;
  o.tables = filter("shop");
  ChangeReader reader(fileInput({write("binlog.000001")}), loader(), std::move(o));
  std::vector<Transaction> txns;
  Status st = readAll(&reader, &txns);
  ASSERT_TRUE(st.ok()) << st.toString();
  ASSERT_EQ(gtids(txns), kAllGtids);
  for (const Transaction& t : txns) EXPECT_TRUE(t.whole());

  ASSERT_EQ(txns[0].events.size(), 1u);
  EXPECT_EQ(txns[0].events[0].op, ChangeEvent::Op::kDdl);
  EXPECT_EQ(txns[0].events[0].database, "shop");

  const Transaction& ins = txns[1];
  ASSERT_EQ(ins.events.size(), 2u);
  EXPECT_EQ(ins.events[0].op, ChangeEvent::Op::kInsert);
  EXPECT_EQ(ins.events[0].table, "t");
  // Named by the schema history from the stream's CREATE TABLE, not by the loader.
  EXPECT_EQ(ins.events[0].table_info->columns[1].name, "name");
  EXPECT_EQ(ins.events[1].after.values[0], Value::ofInt(2));
  EXPECT_EQ(ins.events[1].after.values[1], Value::ofText(Value::Kind::kString, "b"));
  EXPECT_EQ(ins.begin.file, "binlog.000001");
  EXPECT_EQ(ins.begin.offset, fixture_.offsets[fixture_.transaction_starts[1]]);
  EXPECT_EQ(ins.end.offset, fixture_.offsets[fixture_.transaction_starts[2]]);

  // other.x is not selected: not decoded, its definition never asked for; the transaction stays
  // (its GTID and end position matter for checkpoints).
  EXPECT_TRUE(txns[2].events.empty());
  EXPECT_EQ(*loads_, std::vector<std::string>{});  // shop.t from the history; other.x never

  ASSERT_EQ(txns[3].events.size(), 2u);
  EXPECT_EQ(txns[3].events[0].op, ChangeEvent::Op::kUpdate);
  EXPECT_EQ(txns[3].events[0].after.values[1], Value::ofText(Value::Kind::kString, "c"));
  EXPECT_EQ(txns[3].events[1].op, ChangeEvent::Op::kDelete);
  // DDL run in another default database is dropped by the filter...
  EXPECT_TRUE(txns[4].events.empty());
  EXPECT_FALSE(reader.inTransaction());
  // ... and the input stays at its end.
  auto again = reader.next(&txns);
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(*again);
}

TEST_F(ChangeReaderTest, KeepAllDdlKeepsDdlOfOtherDatabases) {
  ChangeReaderOptions o;
  o.tables = filter("shop.t");
  o.keep_all_ddl = true;
  ChangeReader reader(fileInput({write("binlog.000001")}), loader(), std::move(o));
  std::vector<Transaction> txns;
  ASSERT_TRUE(readAll(&reader, &txns).ok());
  ASSERT_EQ(txns.size(), 5u);
  ASSERT_EQ(txns[4].events.size(), 1u);
  EXPECT_EQ(txns[4].events[0].database, "other");
  EXPECT_EQ(txns[4].events[0].sql, "CREATE TABLE y (id INT)");
}

TEST_F(ChangeReaderTest, ADefinitionTheTrackerCannotMatchStopsOnlyWhenSelected) {
  // Every table selected: other.x must be completed, and the loader does not know it.
  ChangeReader reader(fileInput({write("binlog.000001")}), loader(), ChangeReaderOptions{});
  std::vector<Transaction> txns;
  Status st = readAll(&reader, &txns);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("other"), std::string::npos) << st.toString();
  EXPECT_EQ(reader.failure().step, ChangeReader::Step::kDecode);
  const size_t table_map = fixture_.transaction_starts[2] + 2;
  EXPECT_EQ(reader.failure().at,
            (mysql::BinlogPosition{"binlog.000001", fixture_.offsets[table_map]}));
  EXPECT_EQ(gtids(txns), (std::vector<std::string>{"0-1-1", "0-1-2"}));
}

TEST_F(ChangeReaderTest, WithoutASchemaLoaderTableMapsAreUsedAsTheyAre) {
  ChangeReader reader(fileInput({write("binlog.000001")}), nullptr, ChangeReaderOptions{});
  std::vector<Transaction> txns;
  ASSERT_TRUE(readAll(&reader, &txns).ok());
  ASSERT_EQ(gtids(txns), kAllGtids);
  ASSERT_EQ(txns[2].events.size(), 1u);  // other.x decoded too
  EXPECT_EQ(txns[2].events[0].after.values[0], Value::ofInt(7));
  // MINIMAL: no names for other.x, which the stream never created...
  EXPECT_TRUE(txns[2].events[0].table_info->columns[0].name.empty());
  // ... while shop.t is named by the schema history from the stream's CREATE TABLE.
  EXPECT_EQ(txns[1].events[0].table_info->columns[1].name, "name");
}

TEST_F(ChangeReaderTest, TablesTheStreamNeverCreatedComeFromTheLoaderOrStayPositional) {
  // Read from after the CREATE TABLE of shop.t: the history does not know it.
  const size_t after_create = fixture_.transaction_starts[1];
  {
    ChangeReaderOptions o;
    o.tables = filter("shop");
    ChangeReader reader(fileInput({write("binlog.000001", after_create)}), loader(), std::move(o));
    std::vector<Transaction> txns;
    ASSERT_TRUE(readAll(&reader, &txns).ok());
    ASSERT_FALSE(txns.empty());
    ASSERT_EQ(txns[0].events.size(), 2u);
    EXPECT_EQ(txns[0].events[0].table_info->columns[1].name, "name");  // from the schema loader
    EXPECT_EQ(*loads_, std::vector<std::string>{"shop.t"});
  }
  ChangeReader reader(fileInput({write("binlog.000002", after_create)}), nullptr,
                      ChangeReaderOptions{});
  std::vector<Transaction> txns;
  ASSERT_TRUE(readAll(&reader, &txns).ok());
  ASSERT_FALSE(txns.empty());
  EXPECT_TRUE(txns[0].events[0].table_info->columns[1].name.empty());  // MINIMAL: no names
}

TEST_F(ChangeReaderTest, ReadsFilesInOrderAsOneStream) {
  const size_t split = fixture_.transaction_starts[2];
  std::string a = write("binlog.000001", 0, split);
  std::string b = write("binlog.000002", split);
  ChangeReaderOptions o;
  o.tables = filter("shop");
  ChangeReader reader(fileInput({a, b}), loader(), std::move(o));
  std::vector<Transaction> txns;
  ASSERT_TRUE(readAll(&reader, &txns).ok());
  ASSERT_EQ(gtids(txns), kAllGtids);
  EXPECT_EQ(txns[1].end.file, "binlog.000001");
  EXPECT_EQ(txns[3].begin.file, "binlog.000002");
  EXPECT_EQ(txns[3].events.size(), 2u);
}

TEST_F(ChangeReaderTest, CountsWhatGroupingWouldGive) {
  for (auto check : {ChangeReader::RowCheck::kSkip, ChangeReader::RowCheck::kDecode}) {
    ChangeReaderOptions o;
    o.tables = filter("shop");
    ChangeReader reader(fileInput({write("binlog.000001")}), loader(), std::move(o));
    uint64_t counted = 0, limited = 0;
    while (true) {
      auto more = reader.nextEvents();
      ASSERT_TRUE(more.ok()) << more.status().toString();
      if (!*more) break;
      for (const mysql::BinlogEvent& ev : reader.events()) {
        auto n = reader.countChanges(ev, check, 0);
        ASSERT_TRUE(n.ok());
        counted += *n;
        auto one = reader.countChanges(ev, check, 1);
        ASSERT_TRUE(one.ok());
        limited += *one;
      }
    }
    EXPECT_EQ(counted, 5u);  // DDL, 2 inserts, update, delete: the events grouping gives
    EXPECT_EQ(limited, 4u);  // at most one per event: the two inserts share one
  }
}

TEST_F(ChangeReaderTest, ATornLastEventEndsTheFileAndSaysSo) {
  std::string path = write("binlog.000001");
  // Cut the last event (the DDL of 0-1-5) short, as a copy taken while the server writes it.
  const uint64_t cut = fixture_.offsets.back() + 10;
  ASSERT_EQ(truncate(path.c_str(), static_cast<off_t>(cut)), 0);
  std::vector<std::string> warnings;
  ChangeReader reader(fileInput({path}, [&](const std::string& w) { warnings.push_back(w); }),
                      loader(), ChangeReaderOptions{.tables = filter("shop")});
  std::vector<Transaction> txns;
  ASSERT_TRUE(readAll(&reader, &txns).ok());
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("binlog.000001"), std::string::npos) << warnings[0];
  EXPECT_NE(warnings[0].find("torn"), std::string::npos) << warnings[0];
  EXPECT_EQ(gtids(txns), (std::vector<std::string>{"0-1-1", "0-1-2", "0-1-3", "0-1-4"}));
  EXPECT_TRUE(reader.inTransaction());  // 0-1-5 begun, its statement cut off
  EXPECT_EQ(reader.pendingTransaction().gtid, "0-1-5");
}

TEST_F(ChangeReaderTest, ABadEventHeaderInTheMiddleIsCorruptionAtItsOffset) {
  std::string path = write("binlog.000001");
  const size_t bad = fixture_.transaction_starts[3];
  {
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(fixture_.offsets[bad] + 9));  // event_length
    const char tiny[4] = {5, 0, 0, 0};
    f.write(tiny, 4);
  }
  ChangeReader reader(fileInput({path}), loader(), ChangeReaderOptions{.tables = filter("shop")});
  std::vector<Transaction> txns;
  Status st = readAll(&reader, &txns);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.code(), Status::Code::kCorruption) << st.toString();
  EXPECT_EQ(reader.failure().step, ChangeReader::Step::kRead);
  EXPECT_EQ(reader.failure().at, (mysql::BinlogPosition{"binlog.000001", fixture_.offsets[bad]}));
  EXPECT_EQ(txns.size(), 3u);
  EXPECT_NE(st.message().find("binlog.000001:" + std::to_string(fixture_.offsets[bad])),
            std::string::npos)
      << st.toString();
}

TEST_F(ChangeReaderTest, AMissingOrForeignFileIsAnErrorNotTheEnd) {
  std::string good = write("binlog.000001", 0, fixture_.transaction_starts[1]);
  std::string missing = dir_ + "/binlog.000002";
  ChangeReader reader(fileInput({good, missing}), loader(), ChangeReaderOptions{});
  std::vector<Transaction> txns;
  Status st = readAll(&reader, &txns);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("binlog.000002"), std::string::npos) << st.toString();
  EXPECT_EQ(reader.failure().at, (mysql::BinlogPosition{missing, 0}));
  EXPECT_EQ(gtids(txns), std::vector<std::string>{"0-1-1"});

  std::string foreign = dir_ + "/notes.txt";
  std::ofstream(foreign) << "not a binlog at all";
  ChangeReader second(fileInput({foreign}), nullptr, ChangeReaderOptions{});
  auto more = second.nextEvents();
  ASSERT_FALSE(more.ok());
  EXPECT_EQ(more.status().code(), Status::Code::kCorruption) << more.status().toString();
  EXPECT_EQ(second.failure().at, (mysql::BinlogPosition{foreign, 0}));
}

TEST_F(ChangeReaderTest, InterruptAbortsTheNextRead) {
  ChangeReader reader(fileInput({write("binlog.000001")}), loader(), ChangeReaderOptions{});
  std::vector<Transaction> done;
  ASSERT_TRUE(reader.next(&done).ok());
  reader.interrupt();
  auto more = reader.next(&done);
  ASSERT_FALSE(more.ok());
  EXPECT_EQ(more.status().code(), Status::Code::kAborted);
  EXPECT_EQ(reader.failure().step, ChangeReader::Step::kRead);
}

TEST_F(ChangeReaderTest, StampsReceivedWithTheClock) {
  FakeClock clock;
  ChangeReaderOptions o;
  o.tables = filter("shop");
  o.clock = &clock;
  ChangeReader reader(fileInput({write("binlog.000001")}), loader(), std::move(o));
  std::vector<Transaction> txns;
  ASSERT_TRUE(readAll(&reader, &txns).ok());
  ASSERT_FALSE(txns.empty());
  for (const Transaction& t : txns) EXPECT_EQ(t.received, clock.now());
}

TEST_F(ChangeReaderTest, FileFactoryReadsFromTheStartOnly) {
  ChangeReaderFactory factory =
      fileReaderFactory({write("binlog.000001")}, [this] { return loader(); });
  auto refused = factory(mysql::GtidPosition::parse("0-1-3", mysql::GtidFlavor::kMariaDb).value(),
                         ChangeReaderOptions{});
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), Status::Code::kInvalidArgument);
  EXPECT_NE(refused.status().message().find("'0-1-3'"), std::string::npos);
  auto reader = factory(std::nullopt, ChangeReaderOptions{.tables = filter("shop")});
  ASSERT_TRUE(reader.ok()) << reader.status().toString();
  std::vector<Transaction> txns;
  ASSERT_TRUE(readAll(reader->get(), &txns).ok());
  EXPECT_EQ(gtids(txns), kAllGtids);
  EXPECT_NE((*reader)->describe().find("binlog.000001"), std::string::npos);
}

}  // namespace
}  // namespace dts::source
