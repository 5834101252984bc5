// dts server [--data-dir DIR] [--listen HOST:PORT] [--config FILE] [--tls-cert F --tls-key F]
//            [--kafka-listen HOST:PORT] [--max-change-streams N]
//     runs every task of the data dir as a service with the REST API (server/server.h);
//     SIGTERM/SIGINT stop every task at a checkpoint and exit 0.
// dts task create -f FILE [--start] | list | status NAME [--watch] | precheck NAME |
//          start|pause|resume|stop|delete NAME | events NAME | options NAME -f FILE
//     talk to the server at --server URL or $DTS_SERVER (token from $DTS_TOKEN or the data
//     dir's api-token); without one, they work on the data dir directly (start, pause, resume
//     and stop need a server).
#pragma once

#include <CLI/CLI.hpp>
#include <atomic>
#include <functional>
#include <memory>
#include <string>

#include "common/status.h"
#include "server/client.h"
#include "server/server.h"

namespace dts::cli {

// run: what `dts server` runs once its flags are read (server::runServer; a test's own sees the
// options the flags made).
using ServerRun =
    std::function<Status(const server::ServerOptions& options, const std::atomic<bool>& stop,
                         const std::function<void(const std::string&)>& print)>;
void registerServerCommand(CLI::App& app, ServerRun run = server::runServer);
void registerTaskCommands(CLI::App& app);

// The client for --server/$DTS_SERVER (remote) or the data dir (local); shared with
// `dts instance`. server: the flag's value ("" = $DTS_SERVER, then local).
Result<std::unique_ptr<server::ApiClient>> apiClient(const std::string& server,
                                                     const std::string& data_dir);
// $DTS_SERVER when server is empty.
std::string serverUrl(const std::string& server);

// `dts instance ACTION` through the server's API (create -f FILE, list, show NAME,
// add-node NAME NODE ENDPOINT, remove-node NAME NODE, delete NAME); the exit code.
struct RemoteInstanceCall {
  std::string action, server, data_dir, file, name, node, endpoint;
};
int runInstanceRemote(const RemoteInstanceCall& call);

}  // namespace dts::cli
