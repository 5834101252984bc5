#include "source/cluster_source.h"

namespace dts::source {

std::string ResolvedSource::describe() const {
  if (instance.empty()) return read.endpoint.toString();
  if (node.empty()) return "instance " + instance + " (" + read.endpoint.toString() + ")";
  return "node " + node + " (" + read.endpoint.toString() + ") of instance " + instance;
}

std::string nodeDeletedMessage(const std::string& node, const std::string& instance) {
  return "secondary node " + node + " was deleted from instance " + instance;
}

Result<ResolvedSource> resolveSource(InstanceRegistry& registry, const std::string& instance,
                                     const std::string& secondary_node) {
  DTS_ASSIGN_OR_RETURN(Instance inst, registry.get(instance));
  DTS_ASSIGN_OR_RETURN(std::string password, inst.resolvePassword());
  ResolvedSource out;
  out.instance = inst.name;
  DTS_ASSIGN_OR_RETURN(out.primary.endpoint, mysql::Endpoint::parse(inst.endpoint));
  out.primary.user = inst.user;
  out.primary.password = password;
  out.read = out.primary;
  if (!secondary_node.empty()) {
    const InstanceNode* node = inst.findNode(secondary_node);
    if (node == nullptr) {
      std::string names;
      for (const auto& n : inst.nodes) names += (names.empty() ? "" : ", ") + n.name;
      return Status::NotFound("instance " + instance + " has no node named '" + secondary_node +
                              "' (nodes: " + (names.empty() ? "none" : names) + ")");
    }
    out.node = node->name;
    DTS_ASSIGN_OR_RETURN(out.read.endpoint, mysql::Endpoint::parse(node->endpoint));
  }
  return out;
}

namespace {

std::string canonical(const std::string& endpoint) {
  auto ep = mysql::Endpoint::parse(endpoint);
  if (!ep.ok()) return endpoint;
  std::string host = ep->host;
  if (host == "localhost" || host == "::1" || host == "127.0.0.1") host = "127.0.0.1";
  return host + ":" + std::to_string(ep->port);
}

}  // namespace

Status checkDestinationNotSecondary(InstanceRegistry& registry, const std::string& destination) {
  DTS_ASSIGN_OR_RETURN(auto instances, registry.list());
  std::string dest = canonical(destination);
  for (const auto& inst : instances) {
    if (canonical(inst.endpoint) == dest) {
      return Status::InvalidArgument(
          "a registered instance cannot be the destination: " + destination +
          " is the read/write endpoint of instance " + inst.name +
          " (its primary: a task does not write into a source's own servers)");
    }
    for (const auto& node : inst.nodes) {
      if (canonical(node.endpoint) == dest) {
        return Status::InvalidArgument(
            "a node of a registered instance cannot be the destination: " + destination +
            " is node " + node.name + " of instance " + inst.name +
            " (whatever its role: a task does not write into a source's own servers)");
      }
    }
  }
  return Status::OK();
}

NodeWatch::NodeWatch(std::string data_dir, std::string instance, std::string node,
                     std::chrono::milliseconds interval, std::function<void(Status)> on_deleted)
    : data_dir_(std::move(data_dir)),
      instance_(std::move(instance)),
      node_(std::move(node)),
      on_deleted_(std::move(on_deleted)),
      thread_(interval, [this] {
        Status st = checkOnce();
        if (st.ok()) return true;
        on_deleted_(st);
        return false;  // the task fails: nothing more to watch
      }) {}

Status NodeWatch::checkOnce() {
  if (registry_ == nullptr) {
    DTS_ASSIGN_OR_RETURN(registry_, InstanceRegistry::open(data_dir_));
  }
  auto inst = registry_->get(instance_);
  if (!inst.ok()) {
    if (inst.status().code() == Status::Code::kNotFound) {
      return Status::FailedPrecondition(nodeDeletedMessage(node_, instance_) +
                                        " (the instance itself was deleted)");
    }
    return Status::OK();  // a busy or unreadable registry is not a deletion; check again later
  }
  if (inst->findNode(node_) == nullptr) {
    return Status::FailedPrecondition(nodeDeletedMessage(node_, instance_));
  }
  return Status::OK();
}

}  // namespace dts::source
