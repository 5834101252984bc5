// Where a task reads from when its source is a registered instance, and the rules of the
// reference page for clusters: a task may read one chosen secondary node through its direct
// endpoint (else the read/write endpoint); a node added to the instance changes nothing; the
// task's node promoted to primary changes nothing (same server, GTID positions); the task's
// node deleted from the instance fails the task; a secondary node is never a destination.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "common/periodic_thread.h"
#include "mysql/connection.h"
#include "source/instance.h"

namespace dts::source {

struct ResolvedSource {
  std::string instance;           // empty for a plain endpoint source
  std::string node;               // the secondary node read, empty for the read/write endpoint
  mysql::ConnectOptions read;     // where the snapshot and the binlog are read
  mysql::ConnectOptions primary;  // the instance's read/write endpoint
  // "node node-2 (127.0.0.1:3307) of instance shop" / "instance shop (127.0.0.1:6033)"
  std::string describe() const;
};

// Resolves instance + optional secondary node. Errors: unknown instance, unknown node
// ("instance shop has no node named 'node-9' (nodes: node-1, node-2)"), unset password_env.
Result<ResolvedSource> resolveSource(InstanceRegistry& registry, const std::string& instance,
                                     const std::string& secondary_node);

// Refuses a destination that is a registered node of any instance or an instance's read/write
// endpoint. Compares endpoints after resolving "localhost" to 127.0.0.1.
Status checkDestinationNotSecondary(InstanceRegistry& registry, const std::string& destination);

// The message a task fails with when its node is deleted.
std::string nodeDeletedMessage(const std::string& node, const std::string& instance);

// Watches the registry for the deletion of a task's node (or of the instance), from another
// process on the same data dir. Polls every `interval` on its own thread and calls on_deleted
// once with a kFailedPrecondition status. Additions, and any other change, are ignored.
// Stopping (or destroying) the watch joins the thread.
class NodeWatch {
 public:
  NodeWatch(std::string data_dir, std::string instance, std::string node,
            std::chrono::milliseconds interval, std::function<void(Status)> on_deleted);

  void start() { thread_.start(); }
  void stop() { thread_.stop(); }
  // One check, on the caller's thread: OK while the node is registered.
  Status checkOnce();

 private:
  std::string data_dir_, instance_, node_;
  std::function<void(Status)> on_deleted_;
  std::unique_ptr<InstanceRegistry> registry_;
  // Last: destroyed first, it joins the thread before the members its ticks read go.
  PeriodicThread thread_;
};

}  // namespace dts::source
