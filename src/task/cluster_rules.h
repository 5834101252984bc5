// The cluster rules of DESIGN.md applied to a task: a source given as a registered instance is
// resolved to where the task reads (the secondary node's direct endpoint, else the read/write
// endpoint), and a destination that is a registered secondary node is refused.
#pragma once

#include <string>

#include "common/status.h"
#include "source/replication_health.h"
#include "task/task_config.h"

namespace dts::task {

// When config->source.instance is set: looks the instance up in data_dir's registry and fills
// source.endpoint/user/password/instance_endpoint. Errors: unknown instance or node, unset
// password_env. Always: refuses a destination that is a registered node of any instance
// ("a node of a registered instance cannot be the destination: ...").
Status resolveTaskEndpoints(TaskConfig* config, const std::string& data_dir);

// How to watch the replication of the secondary node the task reads (config.source resolved;
// REQUIRES: source.secondary_node set): the node's connection, short timeouts (a poll never holds
// anything up for long), and the read/write endpoint to tell a promoted node from a broken one.
Result<source::ReplicationWatch::Options> sourceNodeWatchOptions(const TaskConfig& config);

}  // namespace dts::task
