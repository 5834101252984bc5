#include "task/state_store.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>

namespace dts::task {
namespace {

TEST(StateStoreTest, SavesAndLoadsTaskState) {
  char tmpl[] = "/tmp/dts-state-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  std::string dir = std::string(tmpl) + "/data";
  {
    auto store = SqliteStateStore::open(dir);
    ASSERT_TRUE(store.ok()) << store.status().toString();
    auto none = (*store)->load("t");
    ASSERT_TRUE(none.ok());
    EXPECT_FALSE(none->has_value());
    TaskState s;
    s.name = "t";
    s.kind = "sync";
    s.phase = TaskPhase::kFull;
    s.start_gtid = "0-1-42";
    s.schema_done = true;
    s.rps = 12.5;
    s.tables.push_back({"shop", "orders", "shop2", "orders_v2", 10, 100, 1000, false});
    s.tables.push_back({"shop", "we`ird", "shop2", "we`ird", 5, 5, 50, true});
    ASSERT_TRUE((*store)->save(s).ok());
    s.phase = TaskPhase::kIncremental;
    ASSERT_TRUE((*store)->save(s).ok());
  }
  auto store = SqliteStateStore::open(dir);
  ASSERT_TRUE(store.ok());
  auto s = (*store)->load("t");
  ASSERT_TRUE(s.ok() && s->has_value());
  EXPECT_EQ((*s)->phase, TaskPhase::kIncremental);
  EXPECT_EQ((*s)->start_gtid, "0-1-42");
  EXPECT_TRUE((*s)->schema_done);
  EXPECT_FALSE((*s)->full_done);
  EXPECT_DOUBLE_EQ((*s)->rps, 12.5);
  ASSERT_EQ((*s)->tables.size(), 2u);
  EXPECT_EQ((*s)->tables[1].source_table, "we`ird");
  EXPECT_TRUE((*s)->tables[1].done);
  EXPECT_EQ((*s)->tables[0].rows_estimated, 100u);
  auto names = (*store)->list();
  ASSERT_TRUE(names.ok());
  EXPECT_EQ(*names, std::vector<std::string>{"t"});
  std::filesystem::remove_all(tmpl);
}

TEST(StateStoreTest, PhaseNamesRoundTrip) {
  for (TaskPhase p : {TaskPhase::kCreated, TaskPhase::kPrechecking, TaskPhase::kSchema, TaskPhase::kFull,
                      TaskPhase::kIncremental, TaskPhase::kPaused, TaskPhase::kCompleted, TaskPhase::kFailed}) {
    auto back = parsePhase(phaseName(p));
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(*back, p);
  }
  EXPECT_FALSE(parsePhase("running").ok());
}

}  // namespace
}  // namespace dts::task
