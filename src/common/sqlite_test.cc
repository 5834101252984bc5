#include "common/sqlite.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
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

// A database may hold passwords: it, its -wal and its -shm are owner-only whatever the umask
// (with 022 the -wal and -shm were 0644, and chmod 600 of the database came after them).
TEST(SqliteTest, TheDatabaseAndItsWalAndShmAreOwnerOnly) {
  std::string path = ::testing::TempDir() + "/sqlite_mode_" + std::to_string(getpid()) + ".db";
  for (const char* suffix : {"", "-wal", "-shm"}) unlink((path + suffix).c_str());
  const mode_t old = ::umask(022);
  auto db = Sqlite::open(path);
  ::umask(old);
  ASSERT_TRUE(db.ok()) << db.status().toString();
  ASSERT_TRUE((*db)->exec("CREATE TABLE t (secret TEXT)").ok());
  ASSERT_TRUE((*db)->query("INSERT INTO t VALUES (?1)", {"hunter2"}).ok());
  for (const char* suffix : {"", "-wal", "-shm"}) {
    struct stat st {};
    ASSERT_EQ(::stat((path + suffix).c_str(), &st), 0) << suffix;
    EXPECT_EQ(st.st_mode & 0777, 0600u) << path << suffix;
  }
  db->reset();
  // A database left readable by others (an older version) is made owner-only when opened.
  ::chmod(path.c_str(), 0644);
  db = Sqlite::open(path);
  ASSERT_TRUE(db.ok());
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  db->reset();
  for (const char* suffix : {"", "-wal", "-shm"}) unlink((path + suffix).c_str());
}

}  // namespace
}  // namespace dts
