#include "source/instance.h"

#include <sys/stat.h>
#include <yaml-cpp/yaml.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "common/yaml_keys.h"
#include "mysql/connection.h"

namespace dts::source {

const InstanceNode* Instance::findNode(const std::string& node) const {
  for (const auto& n : nodes) {
    if (n.name == node) return &n;
  }
  return nullptr;
}

Result<std::string> Instance::resolvePassword() const {
  if (!password_env.empty()) {
    const char* v = std::getenv(password_env.c_str());
    if (v == nullptr) {
      return Status::InvalidArgument("instance " + name + ": environment variable " + password_env +
                                     " (password_env) is not set");
    }
    return std::string(v);
  }
  return password;
}

Status validateNodeName(const std::string& name, const std::string& path) {
  if (name.empty() || name.size() > 64) {
    return Status::InvalidArgument(path + ": must be 1-64 characters");
  }
  for (char c : name) {
    if (!(isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.')) {
      return Status::InvalidArgument(path + ": '" + name +
                                     "' may contain only letters, digits, '-', '_' and '.'");
    }
  }
  return Status::OK();
}

Status validateInstance(const Instance& instance) {
  DTS_RETURN_IF_ERROR(validateNodeName(instance.name, "name"));
  if (instance.endpoint.empty()) return Status::InvalidArgument("endpoint: required (host:port)");
  auto ep = mysql::Endpoint::parse(instance.endpoint);
  if (!ep.ok()) return Status::InvalidArgument("endpoint: " + ep.status().message());
  if (instance.user.empty()) return Status::InvalidArgument("user: required");
  if (!instance.password.empty() && !instance.password_env.empty()) {
    return Status::InvalidArgument("password, password_env: give one, not both");
  }
  std::set<std::string> names;
  // host:port -> what has it: a node's direct endpoint is its own, never another node's nor the
  // read/write endpoint (a task reading "node-2" would read whatever answers there).
  std::map<std::string, std::string> endpoints = {
      {ep->toString(), "the instance's read/write endpoint"}};
  for (size_t i = 0; i < instance.nodes.size(); ++i) {
    const auto& n = instance.nodes[i];
    std::string path = "nodes[" + std::to_string(i) + "]";
    DTS_RETURN_IF_ERROR(validateNodeName(n.name, path + ".name"));
    if (!names.insert(n.name).second) {
      return Status::InvalidArgument(path + ".name: duplicate node name '" + n.name + "'");
    }
    auto nep = mysql::Endpoint::parse(n.endpoint);
    if (!nep.ok()) return Status::InvalidArgument(path + ".endpoint: " + nep.status().message());
    auto [it, fresh] = endpoints.emplace(nep->toString(), "node " + n.name + "'s endpoint");
    if (!fresh) {
      return Status::InvalidArgument(path + ".endpoint: " + nep->toString() + " (node " + n.name +
                                     ") is already " + it->second);
    }
  }
  return Status::OK();
}

namespace {

// Set while a JSON document is parsed (common/yaml_keys.h, "Types as written").
thread_local bool parsing_json = false;

Result<std::string> scalar(const YAML::Node& node, const std::string& path) {
  if (!node.IsScalar()) return Status::InvalidArgument(path + ": must be a string");
  if (parsing_json && !isQuotedScalar(node))
    return Status::InvalidArgument(path + ": must be a string, got " + jsonTypeOf(node) +
                                   " (quote it)");
  return node.Scalar();
}

}  // namespace

Result<Instance> parseInstanceYaml(const std::string& text) {
  YAML::Node root;
  try {
    root = loadYamlOrJson(text);
  } catch (const YAML::Exception& e) {
    return Status::InvalidArgument(std::string("instance file is not valid YAML: ") + e.what());
  }
  if (!root.IsMap()) return Status::InvalidArgument("instance file: expected a mapping at the top");
  DTS_RETURN_IF_ERROR(rejectDuplicateKeys(root, "instance file"));
  struct JsonMode {
    explicit JsonMode(bool on) { parsing_json = on; }
    ~JsonMode() { parsing_json = false; }
  } json_mode(looksLikeJson(text));
  Instance inst;
  for (const auto& kv : root) {
    std::string key = kv.first.Scalar();
    if (key == "name") {
      DTS_ASSIGN_OR_RETURN(inst.name, scalar(kv.second, "name"));
    } else if (key == "endpoint") {
      DTS_ASSIGN_OR_RETURN(inst.endpoint, scalar(kv.second, "endpoint"));
    } else if (key == "user") {
      DTS_ASSIGN_OR_RETURN(inst.user, scalar(kv.second, "user"));
    } else if (key == "password") {
      DTS_ASSIGN_OR_RETURN(inst.password, scalar(kv.second, "password"));
    } else if (key == "password_env") {
      DTS_ASSIGN_OR_RETURN(inst.password_env, scalar(kv.second, "password_env"));
    } else if (key == "nodes") {
      if (!kv.second.IsSequence()) return Status::InvalidArgument("nodes: must be a list");
      size_t i = 0;
      for (const auto& n : kv.second) {
        std::string path = "nodes[" + std::to_string(i++) + "]";
        if (!n.IsMap()) return Status::InvalidArgument(path + ": must be {name, endpoint}");
        InstanceNode node;
        for (const auto& f : n) {
          std::string fk = f.first.Scalar();
          if (fk == "name") {
            DTS_ASSIGN_OR_RETURN(node.name, scalar(f.second, path + ".name"));
          } else if (fk == "endpoint") {
            DTS_ASSIGN_OR_RETURN(node.endpoint, scalar(f.second, path + ".endpoint"));
          } else {
            return Status::InvalidArgument(path + "." + fk +
                                           ": unknown key (allowed: name, endpoint)");
          }
        }
        inst.nodes.push_back(std::move(node));
      }
    } else {
      return Status::InvalidArgument(
          key + ": unknown key (allowed: name, endpoint, user, password, password_env, nodes)");
    }
  }
  DTS_RETURN_IF_ERROR(validateInstance(inst));
  return inst;
}

std::string instanceToYaml(const Instance& inst) {
  YAML::Emitter out;
  out << YAML::BeginMap;
  out << YAML::Key << "name" << YAML::Value << inst.name;
  out << YAML::Key << "endpoint" << YAML::Value << inst.endpoint;
  out << YAML::Key << "user" << YAML::Value << inst.user;
  if (!inst.password_env.empty()) {
    out << YAML::Key << "password_env" << YAML::Value << inst.password_env;
  } else if (!inst.password.empty()) {
    out << YAML::Key << "password" << YAML::Value << "***";
  }
  out << YAML::Key << "nodes" << YAML::Value << YAML::BeginSeq;
  for (const auto& n : inst.nodes) {
    out << YAML::Flow << YAML::BeginMap << YAML::Key << "name" << YAML::Value << n.name << YAML::Key
        << "endpoint" << YAML::Value << n.endpoint << YAML::EndMap;
  }
  out << YAML::EndSeq << YAML::EndMap;
  return std::string(out.c_str()) + "\n";
}

namespace {

std::string toJson(const Instance& inst) {
  nlohmann::json j;
  j["endpoint"] = inst.endpoint;
  j["user"] = inst.user;
  j["password"] = inst.password;
  j["password_env"] = inst.password_env;
  j["nodes"] = nlohmann::json::array();
  for (const auto& n : inst.nodes)
    j["nodes"].push_back({{"name", n.name}, {"endpoint", n.endpoint}});
  return j.dump();
}

Result<Instance> fromJson(const std::string& name, const std::string& text) {
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    return Status::Corruption("instance " + name + ": stored definition is not valid JSON");
  }
  Instance inst;
  inst.name = name;
  inst.endpoint = j.value("endpoint", "");
  inst.user = j.value("user", "");
  inst.password = j.value("password", "");
  inst.password_env = j.value("password_env", "");
  for (const auto& n : j.value("nodes", nlohmann::json::array())) {
    inst.nodes.push_back({n.value("name", ""), n.value("endpoint", "")});
  }
  return inst;
}

}  // namespace

Result<std::unique_ptr<InstanceRegistry>> InstanceRegistry::open(const std::string& data_dir) {
  if (mkdir(data_dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return Status::FailedPrecondition("cannot create data dir " + data_dir + ": " +
                                      std::strerror(errno));
  }
  DTS_ASSIGN_OR_RETURN(auto db, Sqlite::open(data_dir + "/dts.db"));
  chmod((data_dir + "/dts.db").c_str(), 0600);  // it may hold passwords
  DTS_RETURN_IF_ERROR(db->exec(
      "CREATE TABLE IF NOT EXISTS instances (name TEXT PRIMARY KEY, definition TEXT NOT NULL)"));
  return std::unique_ptr<InstanceRegistry>(new InstanceRegistry(std::move(db)));
}

Status InstanceRegistry::save(const Instance& instance, bool must_exist) {
  DTS_RETURN_IF_ERROR(validateInstance(instance));
  if (must_exist) {
    DTS_ASSIGN_OR_RETURN(auto r, db_->query("UPDATE instances SET definition=?2 WHERE name=?1",
                                            {instance.name, toJson(instance)}));
    (void)r;
    if (db_->changes() == 0) return Status::NotFound("no instance named '" + instance.name + "'");
    return Status::OK();
  }
  auto r = db_->query("INSERT INTO instances (name, definition) VALUES (?1, ?2)",
                      {instance.name, toJson(instance)});
  if (!r.ok()) {
    if (r.status().message().find("UNIQUE") != std::string::npos) {
      return Status::FailedPrecondition("an instance named '" + instance.name + "' already exists");
    }
    return r.status();
  }
  return Status::OK();
}

Status InstanceRegistry::create(const Instance& instance) {
  return save(instance, false);
}

Result<std::vector<Instance>> InstanceRegistry::list() {
  DTS_ASSIGN_OR_RETURN(auto rows,
                       db_->query("SELECT name, definition FROM instances ORDER BY name"));
  std::vector<Instance> out;
  for (const auto& row : rows) {
    DTS_ASSIGN_OR_RETURN(Instance inst, fromJson(*row[0], *row[1]));
    out.push_back(std::move(inst));
  }
  return out;
}

Result<Instance> InstanceRegistry::get(const std::string& name) {
  DTS_ASSIGN_OR_RETURN(auto rows,
                       db_->query("SELECT definition FROM instances WHERE name=?1", {name}));
  if (rows.empty()) return Status::NotFound("no instance named '" + name + "'");
  return fromJson(name, *rows[0][0]);
}

Status InstanceRegistry::addNode(const std::string& instance, const InstanceNode& node) {
  DTS_RETURN_IF_ERROR(db_->exec("BEGIN IMMEDIATE"));
  auto finish = [&](Status st) {
    (void)db_->exec(st.ok() ? "COMMIT" : "ROLLBACK");
    return st;
  };
  auto inst = get(instance);
  if (!inst.ok()) return finish(inst.status());
  if (inst->findNode(node.name) != nullptr) {
    return finish(Status::FailedPrecondition("instance " + instance +
                                             " already has a node named '" + node.name + "'"));
  }
  inst->nodes.push_back(node);
  return finish(save(*inst, true));
}

Status InstanceRegistry::removeNode(const std::string& instance, const std::string& node) {
  DTS_RETURN_IF_ERROR(db_->exec("BEGIN IMMEDIATE"));
  auto finish = [&](Status st) {
    (void)db_->exec(st.ok() ? "COMMIT" : "ROLLBACK");
    return st;
  };
  auto inst = get(instance);
  if (!inst.ok()) return finish(inst.status());
  size_t before = inst->nodes.size();
  std::erase_if(inst->nodes, [&](const InstanceNode& n) { return n.name == node; });
  if (inst->nodes.size() == before) {
    return finish(Status::NotFound("instance " + instance + " has no node named '" + node + "'"));
  }
  return finish(save(*inst, true));
}

Status InstanceRegistry::remove(const std::string& instance) {
  DTS_ASSIGN_OR_RETURN(auto r, db_->query("DELETE FROM instances WHERE name=?1", {instance}));
  (void)r;
  if (db_->changes() == 0) return Status::NotFound("no instance named '" + instance + "'");
  return Status::OK();
}

}  // namespace dts::source
