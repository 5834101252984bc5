// Precheck: everything a task needs from its source and destination, checked before anything is
// written, each item with a verdict an operator can act on.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "mysql/connection.h"
#include "pipeline/mapping.h"
#include "task/catalog.h"
#include "task/schema_objects.h"
#include "task/task_config.h"

namespace dts::task {

struct PrecheckItem {
  enum class Level { kOk, kWarn, kFail };
  std::string name;  // "source connectivity", "binlog_format", ...
  Level level = Level::kOk;
  std::string message;
  // A failure that passes on its own (a server not reachable right now): the task retries
  // within its window instead of failing at once.
  bool retryable = false;
};

struct PrecheckReport {
  std::vector<PrecheckItem> items;
  std::vector<CatalogTable> catalog;  // the selected tables (when the source could be read)
  // The views, routines, triggers and events (when the task has a destination and the source's
  // catalog could be read): the schema phase creates from it instead of reading it again.
  std::optional<SchemaObjectPlan> schema_objects;

  bool passed() const;
  // "precheck failed: binlog_format: source 127.0.0.1:3306 has binlog_format=STATEMENT, ..."
  // kUnavailable when every failed item is retryable (connectivity), else kFailedPrecondition.
  Status toStatus() const;
  std::string toString() const;  // one line per item
};

struct PrecheckOptions {
  // The schema phase already ran for this task (a resumed run): destination tables it created
  // are not conflicts.
  bool schema_started = false;
};

// Runs every check; never stops at the first failure (the report lists them all). Connection
// errors are items, not errors; the Result fails only on internal errors.
Result<PrecheckReport> runPrecheck(const TaskConfig& config, const pipeline::Mapping& mapping,
                                   const PrecheckOptions& options);

}  // namespace dts::task
