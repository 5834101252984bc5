// Tracking tasks (kind: tracking): the incremental engine (task/incremental.h) with the task's
// change log (sink/change_log.h) as its sink instead of a destination database. The log lives
// under the data dir, one directory per task:
//   <data_dir>/changes/<task name>/   segments, indexes, and the schema history
//                                      (schema_history.db, the tracking twin of dts_meta's)
// A `dts run` and a `dts server` of the same data dir share it through sink::sharedChangeLog,
// so the task's writer, the HTTP changes endpoint and the Kafka listener read one ChangeLog.
#pragma once

#include <memory>
#include <string>

#include "sink/change_log.h"
#include "task/incremental.h"
#include "task/task_config.h"

namespace dts::task {

// <data_dir>/changes/<task>.
std::string changeLogDir(const std::string& data_dir, const std::string& task);

// The change log options of a tracking task: its directory, options.retention_hours and
// options.retention_bytes, and (options.start given as a time) the commit time before which a
// fresh log keeps nothing.
sink::ChangeLogOptions changeLogOptions(const TaskConfig& config, const std::string& data_dir);

// The process's ChangeLog of the task (sink::sharedChangeLog). kInvalidArgument for a task that
// is not a tracking task.
Result<std::shared_ptr<sink::ChangeLog>> openChangeLog(const TaskConfig& config,
                                                       const std::string& data_dir);

// The sink factory of tracking tasks: a writer session over openChangeLog().
SinkFactory changeLogSinkFactory(std::string data_dir);

}  // namespace dts::task
