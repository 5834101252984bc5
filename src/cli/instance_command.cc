// dts instance create|list|show|add-node|remove-node|delete|discover
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <optional>
#include <sstream>

#include "cli/commands.h"
#include "cli/task_command.h"
#include "mysql/connection.h"
#include "source/instance.h"
#include "source/instance_probe.h"

namespace dts::cli {
namespace {

int fail(const Status& st) {
  std::fprintf(stderr, "dts: %s\n", st.message().c_str());
  return 1;
}

struct InstanceArgs {
  std::string data_dir = defaultDataDir();
  std::string file;
  std::string name;
  std::string node;
  std::string endpoint;
  bool json = false;
  std::string server;  // --server / $DTS_SERVER: through the server's API
};

// The command through the server's API when --server or $DTS_SERVER is set; nullopt otherwise.
std::optional<int> remote(const InstanceArgs& a, const char* action) {
  if (serverUrl(a.server).empty()) return std::nullopt;
  return runInstanceRemote({action, a.server, a.data_dir, a.file, a.name, a.node, a.endpoint});
}

// The command through the API always: the server's (--server, $DTS_SERVER, or the one running on
// the data dir), else an in-process one over the data dir, so that what it does to tasks is
// checked and said the same whichever way it is called (an instance that tasks use is not
// deleted; a node deleted names the tasks that read it, which fail).
int viaApi(const InstanceArgs& a, const char* action) {
  return runInstanceRemote({action, a.server, a.data_dir, a.file, a.name, a.node, a.endpoint});
}

Result<std::unique_ptr<source::InstanceRegistry>> openRegistry(const InstanceArgs& a) {
  return source::InstanceRegistry::open(a.data_dir);
}

int runCreate(const InstanceArgs& a) {
  std::ifstream in(a.file);
  if (!in)
    return fail(Status::InvalidArgument("cannot read instance file " + a.file + ": " +
                                        std::strerror(errno)));
  std::stringstream ss;
  ss << in.rdbuf();
  auto inst = source::parseInstanceYaml(ss.str());
  if (!inst.ok()) return fail(inst.status().withContext(a.file));
  auto reg = openRegistry(a);
  if (!reg.ok()) return fail(reg.status());
  Status st = (*reg)->create(*inst);
  if (!st.ok()) return fail(st);
  std::printf("instance %s created with %zu node(s)\n", inst->name.c_str(), inst->nodes.size());
  return 0;
}

int runList(const InstanceArgs& a) {
  auto reg = openRegistry(a);
  if (!reg.ok()) return fail(reg.status());
  auto all = (*reg)->list();
  if (!all.ok()) return fail(all.status());
  std::printf("%-20s %-24s %s\n", "NAME", "ENDPOINT", "NODES");
  for (const auto& i : *all) {
    std::string nodes;
    for (const auto& n : i.nodes) nodes += (nodes.empty() ? "" : ", ") + n.name + "=" + n.endpoint;
    std::printf("%-20s %-24s %s\n", i.name.c_str(), i.endpoint.c_str(), nodes.c_str());
  }
  return 0;
}

int runShow(const InstanceArgs& a) {
  auto reg = openRegistry(a);
  if (!reg.ok()) return fail(reg.status());
  auto inst = (*reg)->get(a.name);
  if (!inst.ok()) return fail(inst.status());
  std::fputs(source::instanceToYaml(*inst).c_str(), stdout);
  return 0;
}

int runAddNode(const InstanceArgs& a) {
  Status st = source::validateNodeName(a.node, "NODE");
  if (st.ok()) {
    auto ep = mysql::Endpoint::parse(a.endpoint);
    if (!ep.ok()) st = ep.status();
  }
  if (!st.ok()) return fail(st);
  auto reg = openRegistry(a);
  if (!reg.ok()) return fail(reg.status());
  st = (*reg)->addNode(a.name, {a.node, a.endpoint});
  if (!st.ok()) return fail(st);
  std::printf("node %s (%s) added to instance %s\n", a.node.c_str(), a.endpoint.c_str(),
              a.name.c_str());
  return 0;
}

// Adds the nodes the primary reports (source/instance_probe.h): nodes already registered (same
// name or endpoint) are kept as they are; nothing is ever removed.
int runDiscover(const InstanceArgs& a) {
  auto reg = openRegistry(a);
  if (!reg.ok()) return fail(reg.status());
  auto inst = (*reg)->get(a.name);
  if (!inst.ok()) return fail(inst.status());
  auto o = source::instanceConnectOptions(*inst, inst->endpoint);
  if (!o.ok()) return fail(o.status());
  auto conn = mysql::Connection::connect(*o);
  if (!conn.ok()) return fail(conn.status());
  auto found = source::discoverNodes(**conn);
  if (!found.ok()) return fail(found.status());
  int added = 0;
  for (const auto& n : source::newNodes(*inst, *found)) {
    Status st = (*reg)->addNode(a.name, n);
    if (!st.ok()) return fail(st);
    std::printf("added %s (%s)\n", n.name.c_str(), n.endpoint.c_str());
    ++added;
  }
  std::printf("%d node(s) added, %zu found\n", added, found->size());
  return 0;
}

}  // namespace

void registerInstanceCommands(CLI::App& app) {
  auto args = std::make_shared<InstanceArgs>();
  auto* inst = app.add_subcommand("instance", "manage registered source instances");
  inst->require_subcommand(1);
  auto dataDir = [&](CLI::App* c) {
    c->add_option("--data-dir", args->data_dir, "data directory (default $DTS_DATA_DIR or .dts)");
    c->add_option("--server", args->server, "server URL (default $DTS_SERVER; none: the data dir)");
  };
  auto* create = inst->add_subcommand("create", "register an instance from a YAML file");
  create->add_option("-f,--file", args->file, "instance file")->required();
  dataDir(create);
  create->callback([args] {
    auto r = remote(*args, "create");
    setExitCode(r ? *r : runCreate(*args));
  });

  auto* list = inst->add_subcommand("list", "list instances");
  dataDir(list);
  list->callback([args] {
    auto r = remote(*args, "list");
    setExitCode(r ? *r : runList(*args));
  });

  auto* show = inst->add_subcommand("show", "show one instance (passwords are never shown)");
  show->add_option("NAME", args->name)->required();
  dataDir(show);
  show->callback([args] {
    auto r = remote(*args, "show");
    setExitCode(r ? *r : runShow(*args));
  });

  auto* add = inst->add_subcommand("add-node", "add a node with its direct endpoint");
  add->add_option("NAME", args->name)->required();
  add->add_option("NODE", args->node)->required();
  add->add_option("ENDPOINT", args->endpoint, "host:port")->required();
  dataDir(add);
  add->callback([args] {
    auto r = remote(*args, "add-node");
    setExitCode(r ? *r : runAddNode(*args));
  });

  auto* rm = inst->add_subcommand("remove-node", "remove a node (tasks reading it fail)");
  rm->add_option("NAME", args->name)->required();
  rm->add_option("NODE", args->node)->required();
  dataDir(rm);
  rm->callback([args] { setExitCode(viaApi(*args, "remove-node")); });

  auto* del = inst->add_subcommand("delete", "delete an instance (refused while tasks use it)");
  del->add_option("NAME", args->name)->required();
  dataDir(del);
  del->callback([args] { setExitCode(viaApi(*args, "delete")); });

  auto* disc =
      inst->add_subcommand("discover", "add the nodes the cluster reports (never removes)");
  disc->add_option("NAME", args->name)->required();
  dataDir(disc);
  disc->callback([args] {
    auto r = remote(*args, "discover");
    setExitCode(r ? *r : runDiscover(*args));
  });
}

}  // namespace dts::cli
