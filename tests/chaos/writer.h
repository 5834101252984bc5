// ChaosWriter: the load the chaos suite keeps on the source while faults happen. One connection
// through the cluster's read/write endpoint (re-opened after any error, so it rides through a
// failover) inserts, updates and deletes rows with known ids in two keyed tables, and inserts and
// deletes rows of a table without a primary key, where a change applied twice would double a row.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <thread>

#include "mysql/connection.h"

namespace dts::testing {

class ChaosWriter {
 public:
  // db must hold the tables of chaosTablesSql(), keyed ids 1..first_free_id-1 in use.
  ChaosWriter(mysql::ConnectOptions endpoint, std::string db, uint64_t seed, int64_t first_free_id);
  ~ChaosWriter() { stop(); }
  void start();
  void stop();
  uint64_t statements() const { return ok_.load(); }
  uint64_t errors() const { return errors_.load(); }

 private:
  void loop();
  mysql::ConnectOptions options_;
  std::string db_;
  uint64_t seed_;
  int64_t next_id_;
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> ok_{0}, errors_{0};
  std::thread thread_;
};

// The round's tables (k1, k2 keyed, nokey without a key, a few small side tables) and `rows`
// rows in each keyed table, rows/2 in nokey, for database db.
std::string chaosTablesSql(const std::string& db, int rows);
// The tables chaosTablesSql creates.
const char* const* chaosTables();

}  // namespace dts::testing
