#include "common/sqlite.h"

#include <gtest/gtest.h>
#include <unistd.h>

namespace dts {
namespace {

TEST(SqliteTest, BindsParametersAndReturnsText) {
  std::string path = ::testing::TempDir() + "/sqlite_test_" + std::to_string(getpid()) + ".db";
  unlink(path.c_str());
  auto db = Sqlite::open(path);
  ASSERT_TRUE(db.ok()) << db.status().toString();
  ASSERT_TRUE((*db)->exec("CREATE TABLE t (k TEXT PRIMARY KEY, v TEXT)").ok());
  ASSERT_TRUE(
      (*db)->query("INSERT INTO t VALUES (?1, ?2)", {"a'; DROP TABLE t; --", std::nullopt}).ok());
  auto rows = (*db)->query("SELECT k, v FROM t");
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ((*rows)[0][0], "a'; DROP TABLE t; --");
  EXPECT_FALSE((*rows)[0][1].has_value());
  EXPECT_FALSE((*db)->exec("SELECT * FROM missing").ok());
  db->reset();  // closes the database before its files go
  for (const char* suffix : {"", "-wal", "-shm"}) unlink((path + suffix).c_str());
}

}  // namespace
}  // namespace dts
