// Helpers for integration tests that move data: compare a table at two servers row by row,
// and put load on a source with sysbench.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include "mysql/connection.h"

namespace dts::testing {

// Compares every row of src_db.src_table at `source` with dst_db.dst_table at `destination`
// (ordered by the primary key, or by every column when there is none), FLOAT and DOUBLE values
// exactly (as doubles: a FLOAT prints 6 significant digits). Returns "" when equal,
// else a description of the first differences (row count, first differing key).
std::string diffTables(mysql::Connection& source, const std::string& src_db,
                       const std::string& src_table, mysql::Connection& destination,
                       const std::string& dst_db, const std::string& dst_table);

// CREATE TABLE statements for t_int, t_dec, t_time and t_str: every column type of the binlog
// issue's table (in the current database).
extern const char* const kTypeTablesSql;

// Statements that insert the row (id, d) into db.table (id INT, d DOUBLE, in that order) as a
// replica applies a row event: BINLOG statements of a FORMAT_DESCRIPTION and a TABLE_MAP +
// WRITE_ROWS carrying d's 8 bytes. The only way a MariaDB server gets a DOUBLE -0 (SQL, LOAD DATA
// and binary parameters all store an exact zero as +0; a replica of a MySQL primary, which keeps
// -0, gets one this way). Needs SUPER (root).
std::string binlogInsertDoubleSql(const std::string& db, const std::string& table, int32_t id,
                                  double d);

// Compares every table of a database (same names on both sides).
std::string diffDatabases(mysql::Connection& source, mysql::Connection& destination,
                          const std::string& db);

// In a thread of its own, commits n transactions of two statements on db.t (columns id, n, pad):
// transaction i inserts row i and updates it (n = i), then pauses. *written counts the committed
// ones; a failed statement fails the test. The caller joins the thread.
std::thread startInsertUpdateWriter(std::unique_ptr<mysql::Connection> conn, const std::string& db,
                                    int n, std::chrono::milliseconds pause,
                                    std::atomic<int>* written);

// sysbench oltp_write_only against endpoint (host:port), in the background until stop().
// Errors are ignored and connections re-opened, so it rides through a failover.
class Sysbench {
 public:
  Sysbench(std::string endpoint, std::string user, std::string password, std::string db, int tables,
           int table_size);
  ~Sysbench();
  // Creates the tables (sysbench prepare); returns the command's output on failure.
  std::string prepare();
  void start(int threads = 2, int rate = 0);
  // Stops the background run (and waits for it to end).
  void stop();

 private:
  std::string args() const;
  std::string endpoint_, user_, password_, db_;
  int tables_, table_size_;
  pid_t pid_ = -1;
};

}  // namespace dts::testing
