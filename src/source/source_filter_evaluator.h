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
// Not thread-safe: one per mapping stage.
#pragma once

#include <memory>
#include <string>
#include <unordered_map>

#include "mysql/connection.h"
#include "pipeline/filter_evaluator.h"

namespace dts::source {

class SourceFilterEvaluator final : public pipeline::FilterEvaluator {
 public:
  explicit SourceFilterEvaluator(mysql::ConnectOptions options);
  ~SourceFilterEvaluator() override;

  Result<bool> evaluate(const pipeline::RowFilter& filter, const mysql::TableInfo& table,
                        const mysql::RowImage& row) override;

  // Queries sent to the server (cache misses), for tests and the log.
  uint64_t queries() const { return queries_; }

 private:
  Status connect();
  Result<bool> run(const std::string& select);

  static constexpr size_t kMaxCached = 16384;

  mysql::ConnectOptions options_;
  std::unique_ptr<mysql::Connection> conn_;
  std::unordered_map<std::string, bool> cache_;
  uint64_t queries_ = 0;
};

}  // namespace dts::source
