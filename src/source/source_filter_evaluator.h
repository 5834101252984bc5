// SourceFilterEvaluator: the pipeline::FilterEvaluator of a running task, on a connection of its
// own to the task's source server (the one the full-data phase selects from), so that a row the
// mapping stage cannot judge locally is judged by the server that judged the full load:
//   SELECT (<the filter with the row's values as typed literals>) IS TRUE
// in a session with time_zone '+00:00' (as the snapshot's, and as TIMESTAMP values are decoded).
//
// The connection is opened on the first row that needs it (a task whose filters are all judged
// locally never opens one). A connection lost between two rows (wait_timeout, a restart) is
// opened again once and the query repeated (a SELECT without side effects); when that fails too
// the error goes back as kUnavailable, and the task's retry window takes over. Answers are
// cached by query text (a bounded cache: the same values give the same answer in this session).
// evaluateMany judges many rows (those of one transaction piece) in one statement.
// Not thread-safe: one per mapping stage.
#pragma once

#include <memory>
#include <string>
#include <unordered_map>

#include "mysql/connection.h"
#include "pipeline/filter_evaluator.h"
#include "pipeline/row_filter.h"

namespace dts::source {

class SourceFilterEvaluator final : public pipeline::FilterEvaluator {
 public:
  explicit SourceFilterEvaluator(mysql::ConnectOptions options);
  ~SourceFilterEvaluator() override;

  Result<bool> evaluate(const pipeline::RowFilter& filter, const mysql::TableInfo& table,
                        const mysql::RowImage& row) override;
  // One SELECT for many rows: SELECT (<row 1>) IS TRUE, (<row 2>) IS TRUE, ... of at most
  // kMaxBatchRows expressions and about kMaxBatchBytes (a row alone may exceed it), rows whose
  // query text is cached not sent again.
  Result<std::vector<bool>> evaluateMany(const pipeline::RowFilter& filter,
                                         const mysql::TableInfo& table,
                                         const std::vector<const mysql::RowImage*>& rows) override;

  // Queries sent to the server (cache misses), for tests and the log.
  uint64_t queries() const { return queries_; }

 private:
  Status connect();
  Result<bool> run(const std::string& select);
  // Runs `select` (a SELECT of n 0/1 columns) with the reconnect-once rule of run().
  Result<std::vector<bool>> runMany(const std::string& select, size_t n);
  void remember(std::string expr, bool selected);

  static constexpr size_t kMaxBatchRows = 500;
  static constexpr size_t kMaxBatchBytes = 1 << 20;  // far below any max_allowed_packet (4 MiB+)

  static constexpr size_t kMaxCached = 16384;

  mysql::ConnectOptions options_;
  pipeline::RowFilter::RowSqlOptions options_for_row_;
  std::unique_ptr<mysql::Connection> conn_;
  std::unordered_map<std::string, bool> cache_;
  uint64_t queries_ = 0;
};

}  // namespace dts::source
