// FakeDestination: an in-memory destination server for the applier's unit tests. It models
// what the applier relies on, not SQL:
//   - sessions, each with its own open transaction: START TRANSACTION ... COMMIT makes the
//     statements in between visible at once (in commit order, in committed()); ROLLBACK, a
//     failed session and a destroyed session discard them; a statement outside a transaction
//     commits on its own;
//   - the checkpoint table (dts_meta.checkpoint): upserts are applied at their commit, and the
//     applier's SELECT of it returns the rows; ensureSchema's CREATEs are accepted;
//   - named locks (GET_LOCK / RELEASE_LOCK, "DO 0,RELEASE_LOCK(...)"), owned by a session until
//     released or the session ends; a lock held by another session is refused at once;
//   - unique keys, as the information_schema.STATISTICS query reports them (addKey),
//     generated columns, as the information_schema.COLUMNS query reports them (addGenerated),
//     and foreign keys that reference a table, as readReferencingActions' query reports them
//     (addReferencing);
//   - bulk statements (executeBulk), recorded as "<sql> -- N rows: (1,'a'),(2,NULL)" statements
//     (integers in decimal, strings quoted as they are); setBulk(false) makes them unsupported;
//   - failures: a hook sees every statement before it runs, and may fail it with a server error
//     number (kConnectionLost ends the session, like a server gone away) or block it.
// Statements are split at ';' outside quotes and backticks. Thread-safe: sessions may be used
// from different threads at once (as the applier's workers do).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "sink/destination_session.h"

namespace dts::sink::testing {

class FakeDestination : public std::enable_shared_from_this<FakeDestination> {
 public:
  static constexpr unsigned kConnectionLost = 2013;

  struct Committed {
    int session;
    std::string sql;
  };
  struct CheckpointRow {
    std::string applied, position, pending_ddl;
  };
  // Called before each statement runs, with the session number (in the order sessions were
  // opened, from 0) and the statement; returns 0 to run it or the error number to fail it with.
  // It runs without the fake's lock held, so it may block.
  using Hook = std::function<unsigned(int session, const std::string& statement)>;

  static std::shared_ptr<FakeDestination> create() {
    return std::shared_ptr<FakeDestination>(new FakeDestination());
  }
  SessionFactory factory();

  void setHook(Hook hook);
  // Whether sessions take bulk statements (default true).
  void setBulk(bool supported);
  // The flavor sessions report (default MariaDB).
  void setFlavor(mysql::ServerFlavor flavor);
  void setMaxAllowedPacket(uint64_t bytes);
  // A unique key of db.table: its name ("PRIMARY" for the primary key) and columns, in order;
  // sub_part: the prefix each column's part covers (SUB_PART), 0 for whole columns.
  void addKey(const std::string& db, const std::string& table, const std::string& index,
              const std::vector<std::string>& columns, bool nullable = false,
              uint32_t sub_part = 0);
  // A generated column of db.table (the applier never writes it).
  void addGenerated(const std::string& db, const std::string& table, const std::string& column);
  // A foreign key of child_db.child that references column `column` of db.table, with its
  // DELETE_RULE and UPDATE_RULE ("CASCADE", "RESTRICT", ...).
  void addReferencing(const std::string& db, const std::string& table, const std::string& child_db,
                      const std::string& child, const std::string& constraint,
                      const std::string& on_delete, const std::string& on_update,
                      const std::string& column);
  // Makes every later connection attempt fail as unreachable (or succeed again).
  void setUnreachable(bool unreachable);

  // The data statements that committed, in commit order (checkpoint upserts, session set-up,
  // lock calls and transaction control left out).
  std::vector<Committed> committed() const;
  // The reads ahead that ran (SELECT COUNT(*) FROM ..., sink/row_prefetcher.h), in order.
  std::vector<Committed> reads() const;
  // Only the statements whose text contains `needle`.
  std::vector<std::string> committedMatching(const std::string& needle) const;
  // The checkpoint rows of a task by slot.
  std::map<int, CheckpointRow> checkpoint(const std::string& task) const;
  int sessionsOpened() const;
  int sessionsOpen() const;

 private:
  class Session;
  friend class Session;
  FakeDestination() = default;

  struct Table {
    struct Key {
      std::string index, column;
      bool nullable;
      uint32_t sub_part = 0;
    };
    std::vector<Key> keys;
    std::vector<std::string> generated;
    // TABLE_SCHEMA, TABLE_NAME, CONSTRAINT_NAME, DELETE_RULE, UPDATE_RULE, REFERENCED_COLUMN_NAME
    std::vector<std::vector<std::string>> referencing;
  };

  mutable std::mutex mu_;
  Hook hook_;
  bool bulk_ = true;
  mysql::ServerFlavor flavor_ = mysql::ServerFlavor::kMariaDb;
  uint64_t max_allowed_packet_ = 64 << 20;
  bool unreachable_ = false;
  int opened_ = 0;
  int open_ = 0;
  std::vector<Committed> committed_;
  std::vector<Committed> reads_;
  std::map<std::pair<std::string, int>, CheckpointRow> checkpoint_;  // (task, slot)
  std::map<std::string, int> locks_;                                 // name -> session
  std::map<std::pair<std::string, std::string>, Table> tables_;
};

}  // namespace dts::sink::testing
