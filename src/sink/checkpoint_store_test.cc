#include "sink/checkpoint_store.h"

#include <gtest/gtest.h>

#include "sink/fake_destination_for_tests.h"
#include "sink/sql_literal.h"

namespace dts::sink {
namespace {

mysql::GtidPosition mariaDb(const std::string& text) {
  return *mysql::GtidPosition::parse(text, mysql::GtidFlavor::kMariaDb);
}

// Writes one slot's row through the store, as a worker's transaction would.
void write(DestinationSession& s, const CheckpointStore& store, int slot,
           const std::string& applied, const std::string& position) {
  auto set = mysql::GtidSet::parse(applied);
  ASSERT_TRUE(set.ok());
  ASSERT_TRUE(s.execute(store.upsertSql(slot, *set, mariaDb(position), "")).ok());
}

TEST(CheckpointStoreTest, ReadMergesEverySlotKeepingTheFurthestPerDomain) {
  auto dest = testing::FakeDestination::create();
  auto session = dest->factory()();
  ASSERT_TRUE(session.ok());
  CheckpointStore store("dts_meta", "t1");
  ASSERT_TRUE(store.ensureSchema(**session).ok());
  write(**session, store, 0, "0:1-10,1:1-5", "0-1-10,1-2-5");
  write(**session, store, 1, "0:1-12", "0-3-12");
  write(**session, store, 2, "", "");
  auto cp = store.read(**session);
  ASSERT_TRUE(cp.ok()) << cp.status().toString();
  EXPECT_EQ(cp->position.toString(), "0-3-12,1-2-5");
  EXPECT_EQ(cp->applied.toString(), "0:1-12,1:1-5");
}

TEST(CheckpointStoreTest, AMysqlCheckpointHasNoPositionBesideItsSet) {
  auto dest = testing::FakeDestination::create();
  auto session = dest->factory()();
  ASSERT_TRUE(session.ok());
  CheckpointStore store("dts_meta", "t1");
  ASSERT_TRUE(store.ensureSchema(**session).ok());
  write(**session, store, 1, "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5", "");
  auto cp = store.read(**session);
  ASSERT_TRUE(cp.ok()) << cp.status().toString();
  EXPECT_TRUE(cp->position.empty());
  EXPECT_EQ(cp->applied.flavor(), mysql::GtidFlavor::kMySql);
}

TEST(CheckpointStoreTest, ADamagedPositionIsAnErrorNamingTheSlot) {
  auto dest = testing::FakeDestination::create();
  auto session = dest->factory()();
  ASSERT_TRUE(session.ok());
  CheckpointStore store("dts_meta", "t1");
  ASSERT_TRUE(store.ensureSchema(**session).ok());
  write(**session, store, 1, "0:1-5", "0-1-5");
  // What a MySQL set in the MariaDB position column, or a hand edit, would leave.
  std::string sql = store.upsertSql(2, *mysql::GtidSet::parse("0:1-5"), mariaDb("0-1-5"), "");
  std::string good, bad;  // the position's literal as written, and damaged
  appendHexLiteral(&good, "0-1-5");
  appendHexLiteral(&bad, "x-y-z");
  ASSERT_NE(sql.find(good), std::string::npos) << sql;
  for (size_t at = sql.find(good); at != std::string::npos; at = sql.find(good))
    sql.replace(at, good.size(), bad);
  ASSERT_TRUE((*session)->execute(sql).ok());
  auto cp = store.read(**session);
  ASSERT_FALSE(cp.ok());
  EXPECT_EQ(cp.status().code(), Status::Code::kCorruption);
  EXPECT_NE(cp.status().message().find("slot 2"), std::string::npos) << cp.status().message();
}

TEST(CheckpointStoreTest, UpsertQuotesEverythingAsHex) {
  CheckpointStore store("dts_meta", "task'); DROP TABLE x; --");
  auto applied = mysql::GtidSet::parse("0:1-5");
  ASSERT_TRUE(applied.ok());
  std::string sql = store.upsertSql(3, *applied, mariaDb("0-1-5"), "");
  EXPECT_EQ(sql.find("DROP"), std::string::npos) << sql;
  EXPECT_NE(sql.find("`dts_meta`.`checkpoint`"), std::string::npos);
  EXPECT_NE(sql.find(",3,"), std::string::npos);
}

}  // namespace
}  // namespace dts::sink
