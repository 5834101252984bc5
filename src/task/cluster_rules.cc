#include "task/cluster_rules.h"

#include "source/cluster_source.h"

namespace dts::task {

Status resolveTaskEndpoints(TaskConfig* config, const std::string& data_dir) {
  DTS_ASSIGN_OR_RETURN(auto registry, source::InstanceRegistry::open(data_dir));
  if (config->kind != TaskKind::kTracking) {  // a tracking task has no destination
    DTS_RETURN_IF_ERROR(
        source::checkDestinationNotSecondary(*registry, config->destination.endpoint));
  }
  EndpointConfig& src = config->source;
  if (src.instance.empty()) return Status::OK();
  auto resolved = source::resolveSource(*registry, src.instance, src.secondary_node);
  if (!resolved.ok()) return resolved.status().withContext("source");
  src.endpoint = resolved->read.endpoint.toString();
  src.user = resolved->read.user;
  src.password = resolved->read.password;
  src.password_env.clear();
  src.instance_endpoint = resolved->primary.endpoint.toString();
  return Status::OK();
}

Result<source::ReplicationWatch::Options> sourceNodeWatchOptions(const TaskConfig& config) {
  source::ReplicationWatch::Options wo;
  wo.node_name = config.source.secondary_node;
  DTS_ASSIGN_OR_RETURN(wo.node, config.source.connectOptions());
  wo.node.connect_timeout = std::chrono::seconds(5);
  wo.node.read_timeout = wo.node.write_timeout = std::chrono::seconds(10);
  if (auto ep = mysql::Endpoint::parse(config.source.instance_endpoint); ep.ok()) {
    wo.primary = wo.node;
    wo.primary->endpoint = *ep;
  }
  return wo;
}

}  // namespace dts::task
