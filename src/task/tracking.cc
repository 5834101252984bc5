#include "task/tracking.h"

#include <algorithm>

namespace dts::task {

std::string changeLogDir(const std::string& data_dir, const std::string& task) {
  return (data_dir.empty() ? std::string(".") : data_dir) + "/changes/" + task;
}

sink::ChangeLogOptions changeLogOptions(const TaskConfig& config, const std::string& data_dir) {
  sink::ChangeLogOptions o;
  o.dir = changeLogDir(data_dir, config.name);
  o.retention_hours = config.options.retention_hours;
  o.retention_bytes = config.options.retention_bytes;
  // Retention removes whole segments: under a size cap, segments of an eighth of it (1 MiB to
  // the default 64 MiB) keep the log within about the cap (64 MiB segments kept up to 64 MiB
  // more than a small cap).
  if (o.retention_bytes > 0)
    o.segment_bytes =
        std::clamp<uint64_t>(o.retention_bytes / 8, uint64_t{1} << 20, o.segment_bytes);
  o.min_commit_ms = config.options.start_ms > 0 ? config.options.start_ms : 0;
  return o;
}

Result<std::shared_ptr<sink::ChangeLog>> openChangeLog(const TaskConfig& config,
                                                       const std::string& data_dir) {
  if (config.kind != TaskKind::kTracking)
    return Status::InvalidArgument("task '" + config.name + "' is a " + taskKindName(config.kind) +
                                   " task: only a tracking task has a change log");
  return sink::sharedChangeLog(changeLogOptions(config, data_dir));
}

SinkFactory changeLogSinkFactory(std::string data_dir) {
  return [data_dir = std::move(data_dir)](
             const TaskConfig& config,
             std::shared_ptr<const pipeline::Mapping>) -> Result<std::unique_ptr<sink::Sink>> {
    auto log = openChangeLog(config, data_dir);
    if (!log.ok()) return log.status().withContext("change log of task '" + config.name + "'");
    return sink::changeLogSink(std::move(log).value());
  };
}

}  // namespace dts::task
