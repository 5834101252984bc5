// Instances: registered source databases. A single server, or a cluster with a read/write
// endpoint (always routed to the current primary) and named nodes with direct endpoints.
// Stored in the data dir's SQLite file, shared by every dts process on that data dir: a node
// removed by `dts instance remove-node` in one process is seen by a task running in another.
//
// Nothing here ever removes a node on its own (an unreachable node stays registered).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/sqlite.h"
#include "common/status.h"

namespace dts::source {

struct InstanceNode {
  std::string name;
  std::string endpoint;  // host:port of the node's direct endpoint
  bool operator==(const InstanceNode&) const = default;
};

struct Instance {
  std::string name;
  std::string endpoint;  // read/write endpoint
  std::string user;
  std::string password;      // either this ...
  std::string password_env;  // ... or the name of the environment variable holding it
  std::vector<InstanceNode> nodes;

  const InstanceNode* findNode(const std::string& node) const;
  // The password, from password or from $password_env; an error names the variable if unset.
  Result<std::string> resolvePassword() const;
};

// Parses and validates an instance file (YAML). Unknown keys and bad values are errors naming
// the key's path and what is allowed, e.g. "nodes[1].endpoint: port must be 1-65535".
Result<Instance> parseInstanceYaml(const std::string& text);
// Validates names and endpoints (also used for add-node).
Status validateInstance(const Instance& instance);
Status validateNodeName(const std::string& name, const std::string& path);

class InstanceRegistry {
 public:
  // Opens the registry in data_dir (created if missing), file data_dir/dts.db.
  static Result<std::unique_ptr<InstanceRegistry>> open(const std::string& data_dir);

  Status create(const Instance& instance);  // kFailedPrecondition if the name exists
  Result<std::vector<Instance>> list();
  Result<Instance> get(const std::string& name);  // kNotFound names the instance
  Status addNode(const std::string& instance, const InstanceNode& node);
  Status removeNode(const std::string& instance, const std::string& node);
  Status remove(const std::string& instance);

 private:
  explicit InstanceRegistry(std::unique_ptr<Sqlite> db) : db_(std::move(db)) {}
  Status save(const Instance& instance, bool must_exist);
  std::unique_ptr<Sqlite> db_;
};

// The instance as YAML, with the password never shown (password_env is shown by name).
std::string instanceToYaml(const Instance& instance);

}  // namespace dts::source
