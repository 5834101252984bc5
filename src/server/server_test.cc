// runServer over real sockets, without databases: HTTP and HTTPS, the token over the wire, the
// stop flag (SIGTERM in `dts server`) ending it with OK, and the config file.
#include "server/server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <future>
#include <mutex>
#include <regex>
#include <thread>

#include "common/loopback_socket_for_tests.h"
#include "server/client.h"
#include "server/http_server.h"

namespace dts::server {
namespace {

class RunServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("dts_server_test_" + std::to_string(getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // Starts runServer in a thread; returns the URL it printed.
  std::string start(ServerOptions o) {
    thread_ = std::thread([this, o] {
      result_ = runServer(o, stop_, [this](const std::string& s) {
        std::lock_guard<std::mutex> lock(mu_);
        printed_ += s;
      });
    });
    for (int i = 0; i < 100; ++i) {
      {
        std::lock_guard<std::mutex> lock(mu_);
        std::smatch m;
        if (std::regex_search(printed_, m, std::regex("listening on (https?://[0-9.]+:[0-9]+)")))
          return m[1];
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return "";
  }
  Status stop() {
    stop_.store(true);
    thread_.join();
    return result_;
  }
  std::string token() {
    std::ifstream t(dir_ / "data" / "api-token");
    std::string s;
    std::getline(t, s);
    return s;
  }
  // A server over dir_/data on an ephemeral loopback port.
  ServerOptions loopbackOptions() {
    ServerOptions o;
    o.data_dir = (dir_ / "data").string();
    o.listen = "127.0.0.1:0";
    return o;
  }
  httplib::Headers auth() { return {{"Authorization", "Bearer " + token()}}; }
  // Creates a task from its YAML through the API of the server at `url`.
  void createTask(const std::string& url, const std::string& yaml) {
    httplib::Client c(url);
    auto r = c.Post("/api/v1/tasks", auth(), yaml, "application/yaml");
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 201) << r->body;
  }

  std::filesystem::path dir_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  std::mutex mu_;
  std::string printed_;
  Status result_;
};

TEST_F(RunServerTest, ServesTheApiOverHttpAndStopsOnTheFlag) {
  ServerOptions o;
  o.data_dir = (dir_ / "data").string();
  o.listen = "127.0.0.1:0";
  std::string url = start(o);
  ASSERT_FALSE(url.empty()) << printed_;
  EXPECT_NE(printed_.find("API token (shown once"), std::string::npos);
  httplib::Client c(url);
  auto r = c.Get("/healthz");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  r = c.Get("/api/v1/tasks");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 401);
  EXPECT_NE(r->body.find("unauthenticated"), std::string::npos);
  httplib::Headers h = {{"Authorization", "Bearer " + token()}};
  r = c.Get("/api/v1/tasks", h);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  r = c.Get("/metrics", h);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->get_header_value("Content-Type").rfind("text/plain; version=0.0.4", 0), 0u);
  r = c.Post("/api/v1/tasks", h, "name: [", "application/yaml");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  EXPECT_TRUE(stop().ok()) << result_.toString();
  EXPECT_NE(printed_.find("dts server stopped"), std::string::npos);
}

// A task's events are in the data dir: a server started again shows the same ones.
TEST_F(RunServerTest, TaskEventsAreTheSameAfterAServerRestart) {
  const ServerOptions o = loopbackOptions();
  std::string url = start(o);
  ASSERT_FALSE(url.empty()) << printed_;
  const httplib::Headers h = auth();
  ASSERT_NO_FATAL_FAILURE(
      createTask(url,
                 "name: t1\nkind: sync\nsource: {endpoint: 127.0.0.1:1, user: u}\n"
                 "destination: {endpoint: 127.0.0.1:2, user: u}\nobjects: [{database: d}]\n"));
  std::string events;
  {
    httplib::Client c(url);
    auto r = c.Patch("/api/v1/tasks/t1/options", h, "{\"parallelism\": 3}", "application/json");
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 200) << r->body;
    r = c.Get("/api/v1/tasks/t1/events", h);
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 200);
    events = r->body;
  }
  EXPECT_NE(events.find("options updated"), std::string::npos) << events;
  ASSERT_TRUE(stop().ok()) << result_.toString();

  stop_.store(false);
  printed_.clear();
  url = start(o);
  ASSERT_FALSE(url.empty()) << printed_;
  httplib::Client c(url);
  auto r = c.Get("/api/v1/tasks/t1/events", h);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, events);
  EXPECT_TRUE(stop().ok()) << result_.toString();
}

// A tracking task's /changes streams (long-lived NDJSON) hold no request worker: more of them
// than the 16 workers leave the API answering, and a stop (SIGTERM) still ends them all.
TEST_F(RunServerTest, MoreChangesStreamsThanWorkersNeitherStallTheApiNorTheStop) {
  std::string url = start(loopbackOptions());
  ASSERT_FALSE(url.empty()) << printed_;
  const int port = std::stoi(url.substr(url.rfind(':') + 1));
  const httplib::Headers h = auth();
  ASSERT_NO_FATAL_FAILURE(
      createTask(url,
                 "name: tr\nkind: tracking\nsource: {endpoint: 127.0.0.1:1, user: u}\n"
                 "objects: [{database: d}]\n"));
  const HttpServerLimits defaults;
  ASSERT_GT(defaults.max_streams, defaults.workers + 4);
  std::vector<std::unique_ptr<testing::LoopbackSocket>> streams;
  for (size_t i = 0; i < defaults.workers + 4; ++i) {
    streams.push_back(std::make_unique<testing::LoopbackSocket>(port));
    streams.back()->send(
        "GET /api/v1/tasks/tr/changes?from=earliest HTTP/1.1\r\nHost: a\r\n"
        "Authorization: Bearer " +
        token() + "\r\n\r\n");
    std::string got = streams.back()->receiveSome(std::chrono::seconds(30));
    ASSERT_NE(got.find("200 OK"), std::string::npos) << "stream " << i << ": " << got;
    EXPECT_NE(got.find("Transfer-Encoding: chunked"), std::string::npos) << got;
  }
  for (int round = 0; round < 3; ++round) {
    httplib::Client c(url);  // gives up after its 5 s read timeout
    auto r = c.Get("/api/v1/tasks", h);
    ASSERT_TRUE(r) << "round " << round << ": " << httplib::to_string(r.error());
    EXPECT_EQ(r->status, 200);
  }
  auto stopped = std::async(std::launch::async, [&] { return stop(); });
  ASSERT_EQ(stopped.wait_for(std::chrono::seconds(60)), std::future_status::ready)
      << "the stop waits for the streams";
  EXPECT_TRUE(stopped.get().ok());
  for (auto& s : streams) {
    bool eof = false;
    for (int i = 0; i < 100 && !eof; ++i) s->receiveSome(std::chrono::milliseconds(100), &eof);
    EXPECT_TRUE(eof) << "a stream is left open after the stop";
  }
}

// The cap on /changes streams is the server's option (dts server --max-change-streams N): with
// N = 2, two streams are served and a third is refused (503, Retry-After, naming the cap) while
// the API goes on answering.
TEST_F(RunServerTest, TheChangesStreamCapIsTheServersOption) {
  ServerOptions o = loopbackOptions();
  o.max_change_streams = 2;
  std::string url = start(o);
  ASSERT_FALSE(url.empty()) << printed_;
  const int port = std::stoi(url.substr(url.rfind(':') + 1));
  ASSERT_NO_FATAL_FAILURE(
      createTask(url,
                 "name: tr\nkind: tracking\nsource: {endpoint: 127.0.0.1:1, user: u}\n"
                 "objects: [{database: d}]\n"));
  const std::string request =
      "GET /api/v1/tasks/tr/changes?from=earliest HTTP/1.1\r\nHost: a\r\n"
      "Authorization: Bearer " +
      token() + "\r\n\r\n";
  std::vector<std::unique_ptr<testing::LoopbackSocket>> streams;
  for (int i = 0; i < 3; ++i) {
    streams.push_back(std::make_unique<testing::LoopbackSocket>(port));
    streams.back()->send(request);
    std::string got = streams.back()->receiveSome(std::chrono::seconds(30));
    // The refusal's body may come after its headers.
    for (int more = 0; i == 2 && more < 30 && got.find(" at once") == std::string::npos; ++more)
      got += streams.back()->receiveSome(std::chrono::seconds(1));
    if (i < 2) {
      EXPECT_NE(got.find("200 OK"), std::string::npos) << "stream " << i << ": " << got;
      continue;
    }
    EXPECT_NE(got.find("HTTP/1.1 503"), std::string::npos) << got;
    EXPECT_NE(got.find("Retry-After: 1"), std::string::npos) << got;
    EXPECT_NE(got.find("too many open streams: at most 2 at once"), std::string::npos) << got;
  }
  httplib::Client c(url);
  auto r = c.Get("/api/v1/tasks", auth());
  ASSERT_TRUE(r) << httplib::to_string(r.error());
  EXPECT_EQ(r->status, 200);
  EXPECT_TRUE(stop().ok()) << result_.toString();
}

// One server per data dir, and the CLI finds it there (`dts task ... --data-dir` without
// --server): DIR/server.lock is held while it runs, DIR/server.url names it.
TEST_F(RunServerTest, OneServerPerDataDirAndItsUrlIsFoundThere) {
  ServerOptions o;
  o.data_dir = (dir_ / "data").string();
  o.listen = "127.0.0.1:0";
  EXPECT_EQ(runningServerUrl(o.data_dir), std::nullopt);
  std::string url = start(o);
  ASSERT_FALSE(url.empty()) << printed_;
  EXPECT_EQ(runningServerUrl(o.data_dir), url);

  std::atomic<bool> second_stop{true};
  Status second = runServer(o, second_stop, [](const std::string&) {});
  EXPECT_EQ(second.code(), Status::Code::kFailedPrecondition) << second.toString();
  EXPECT_NE(second.toString().find("another dts server runs on data dir " + o.data_dir + " (at " +
                                   url + ")"),
            std::string::npos)
      << second.toString();
  EXPECT_EQ(runningServerUrl(o.data_dir), url) << "the refused one took nothing away";

  EXPECT_TRUE(stop().ok()) << result_.toString();
  EXPECT_EQ(runningServerUrl(o.data_dir), std::nullopt);
  EXPECT_FALSE(std::filesystem::exists(dir_ / "data" / "server.url"));
  // A URL left by a server killed with -9 names nothing: nobody holds the lock.
  std::ofstream(dir_ / "data" / "server.url") << url << "\n";
  EXPECT_EQ(runningServerUrl(o.data_dir), std::nullopt);
}

// Browsers' idle keep-alive connections and clients sending their headers slowly neither stall
// the API (they took every thread of the HTTP library's pool: 4-23 s) nor delay the stop.
TEST_F(RunServerTest, IdleAndSlowClientsNeitherStallTheApiNorDelayTheStop) {
  ServerOptions o;
  o.data_dir = (dir_ / "data").string();
  o.listen = "127.0.0.1:0";
  std::string url = start(o);
  ASSERT_FALSE(url.empty()) << printed_;
  const int port = std::stoi(url.substr(url.rfind(':') + 1));
  std::vector<std::unique_ptr<testing::LoopbackSocket>> clients;
  for (int i = 0; i < 12; ++i) {
    clients.push_back(std::make_unique<testing::LoopbackSocket>(port));
    clients.back()->send("GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n");
    EXPECT_NE(clients.back()->receiveSome(std::chrono::seconds(5)).find("200 OK"),
              std::string::npos);
  }
  for (int i = 0; i < 16; ++i) {
    clients.push_back(std::make_unique<testing::LoopbackSocket>(port));
    clients.back()->send("GET /api/v1/tasks HTTP/1.1\r\nHost: a\r\nX-Slow: ");
  }
  // The slow ones keep trickling: a server with a thread per connection would never answer.
  std::atomic<bool> done{false};
  std::thread trickle([&] {
    while (!done.load()) {
      for (size_t i = 12; i < clients.size(); ++i) clients[i]->send("a");
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  });
  httplib::Headers h = {{"Authorization", "Bearer " + token()}};
  for (int round = 0; round < 3; ++round) {
    httplib::Client c(url);  // gives up after its 5 s read timeout
    auto r = c.Get("/api/v1/tasks", h);
    EXPECT_TRUE(r) << "round " << round << ": " << httplib::to_string(r.error());
    if (r) {
      EXPECT_EQ(r->status, 200);
    }
  }
  // Nor does the stop wait for them (it took 41 s with ten of them).
  auto stopped = std::async(std::launch::async, [&] { return stop(); });
  EXPECT_EQ(stopped.wait_for(std::chrono::seconds(60)), std::future_status::ready)
      << "the stop waits for the clients";
  done = true;
  trickle.join();
  EXPECT_TRUE(stopped.get().ok()) << result_.toString();
}

// A second server (another data dir) on a port in use fails; it used to bind too (the HTTP
// library set SO_REUSEPORT) and the two answered requests in turn.
TEST_F(RunServerTest, APortInUseIsRefused) {
  ServerOptions o;
  o.data_dir = (dir_ / "data").string();
  o.listen = "127.0.0.1:0";
  std::string url = start(o);
  ASSERT_FALSE(url.empty()) << printed_;
  ServerOptions second = o;
  second.data_dir = (dir_ / "other").string();
  second.listen = url.substr(std::string("http://").size());
  std::atomic<bool> second_stop{true};
  Status st = runServer(second, second_stop, [](const std::string&) {});
  EXPECT_EQ(st.code(), Status::Code::kUnavailable) << st.toString();
  EXPECT_NE(st.message().find("cannot listen on " + second.listen + ": address in use"),
            std::string::npos)
      << st.toString();
  second.listen = "192.0.2.1:8686";  // TEST-NET-1: no address of this machine
  st = runServer(second, second_stop, [](const std::string&) {});
  EXPECT_NE(st.message().find("not an address of this machine"), std::string::npos)
      << st.toString();
  EXPECT_TRUE(stop().ok()) << result_.toString();
}

// Every file the server writes in its data dir is owner-only from its creation, whatever the
// umask (`dts` sets 077, this test 022 as a shell does): dts.db-wal and -shm were 0644 and held
// an instance's inline password.
TEST_F(RunServerTest, EveryFileInTheDataDirIsOwnerOnly) {
  const mode_t old = ::umask(022);
  ServerOptions o;
  o.data_dir = (dir_ / "data").string();
  std::filesystem::create_directories(o.data_dir);
  std::filesystem::permissions(o.data_dir, std::filesystem::perms(0755));
  o.listen = "127.0.0.1:0";
  o.kafka_listen = "127.0.0.1:0";
  std::string url = start(o);
  ASSERT_FALSE(url.empty()) << printed_;
  httplib::Client c(url);
  httplib::Headers h = {{"Authorization", "Bearer " + token()}};
  auto r = c.Post("/api/v1/instances", h,
                  "name: shop\nendpoint: 127.0.0.1:6033\nuser: dts\npassword: inline-secret\n",
                  "application/yaml");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 201) << r->body;
  r = c.Post("/api/v1/tasks", h,
             R"({"name": "t1", "kind": "sync", "source": {"endpoint": "127.0.0.1:1", "user": "u",)"
             R"( "password": "inline-secret"}, "destination": {"endpoint": "127.0.0.1:2",)"
             R"( "user": "u", "password": "inline-secret"}, "objects": [{"database": "shop"}]})",
             "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 201) << r->body;
  auto check = [&] {
    size_t files = 0;
    for (const auto& e : std::filesystem::recursive_directory_iterator(o.data_dir)) {
      if (!e.is_regular_file()) continue;
      ++files;
      auto perms = static_cast<unsigned>(e.status().permissions()) & 0777;
      EXPECT_EQ(perms & 077, 0u) << e.path() << " mode " << std::oct << perms;
    }
    EXPECT_GE(files, 5u);  // api-token, server.lock, server.url, dts.db(-wal, -shm), ...
  };
  check();
  EXPECT_TRUE(stop().ok()) << result_.toString();
  check();
  ::umask(old);
}

TEST_F(RunServerTest, KafkaListenFlagStartsTheKafkaListener) {
  ServerOptions o;
  o.data_dir = (dir_ / "data").string();
  o.listen = "127.0.0.1:0";
  o.kafka_listen = "127.0.0.1:0";
  ASSERT_FALSE(start(o).empty()) << printed_;
  for (int i = 0; i < 100 && printed_.find("Kafka consumers on") == std::string::npos; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  {
    std::lock_guard<std::mutex> lock(mu_);
    EXPECT_NE(printed_.find("Kafka consumers on 127.0.0.1:0 (port "), std::string::npos)
        << printed_;
  }
  EXPECT_TRUE(stop().ok()) << result_.toString();
  EXPECT_TRUE(std::filesystem::exists(dir_ / "data" / "kafka-offsets.db"));

  ServerOptions bad = o;
  bad.kafka_listen = "127.0.0.1";
  std::atomic<bool> never{false};
  EXPECT_EQ(runServer(bad, never, [](const std::string&) {}).code(),
            Status::Code::kInvalidArgument);
}

TEST_F(RunServerTest, HttpsWithTheGivenCertificate) {
  std::string cert = (dir_ / "cert.pem").string(), key = (dir_ / "key.pem").string();
  std::string cmd = "openssl req -x509 -newkey rsa:2048 -nodes -keyout " + key + " -out " + cert +
                    " -days 1 -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 "
                    ">/dev/null 2>&1";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << "openssl (the command) is needed for this test";
  ServerOptions o;
  o.data_dir = (dir_ / "data").string();
  o.listen = "127.0.0.1:0";
  o.tls_cert = cert;
  o.tls_key = key;
  std::string url = start(o);
  ASSERT_EQ(url.rfind("https://", 0), 0u) << printed_;
  httplib::Client c(url);
  c.set_ca_cert_path(cert.c_str());
  auto r = c.Get("/api/v1/tasks", {{"Authorization", "Bearer " + token()}});
  ASSERT_TRUE(r) << httplib::to_string(r.error());
  EXPECT_EQ(r->status, 200);
  httplib::Client plain("http://" + url.substr(8));
  EXPECT_FALSE(plain.Get("/healthz"));  // no plain HTTP on the TLS port
  EXPECT_TRUE(stop().ok());
}

TEST(ServerConfigTest, FileAndErrors) {
  std::string path = (std::filesystem::temp_directory_path() /
                      ("dts_server_config_" + std::to_string(getpid()) + ".yaml"))
                         .string();
  {
    std::ofstream f(path);
    f << "data_dir: /var/lib/dts\nlisten: 0.0.0.0:9000\n";
  }
  ServerOptions o;
  ASSERT_TRUE(applyServerConfig(path, &o).ok());
  EXPECT_EQ(o.data_dir, "/var/lib/dts");
  EXPECT_EQ(o.listen, "0.0.0.0:9000");
  {
    std::ofstream f(path);
    f << "listn: x\n";
  }
  Status st = applyServerConfig(path, &o);
  EXPECT_EQ(st.code(), Status::Code::kInvalidArgument);
  EXPECT_NE(st.message().find("listn: unknown key"), std::string::npos);
  EXPECT_NE(st.message().find("(allowed: data_dir, listen, tls_cert, tls_key, kafka_listen, "
                              "max_change_streams)"),
            std::string::npos)
      << st.message();
  {
    std::ofstream f(path);
    f << "max_change_streams: 100\n";
  }
  ASSERT_TRUE(applyServerConfig(path, &o).ok());
  EXPECT_EQ(o.max_change_streams, 100u);
  {
    std::ofstream f(path);
    f << "max_change_streams: [1]\n";
  }
  st = applyServerConfig(path, &o);
  EXPECT_NE(st.message().find("max_change_streams: must be a number"), std::string::npos)
      << st.message();
  std::filesystem::remove(path);
  std::atomic<bool> stop{true};
  ServerOptions bad;
  bad.listen = "nowhere";
  EXPECT_EQ(runServer(bad, stop, nullptr).code(), Status::Code::kInvalidArgument);
  bad.listen = "127.0.0.1:70000";
  EXPECT_EQ(runServer(bad, stop, nullptr).code(), Status::Code::kInvalidArgument);
  bad.listen = "127.0.0.1:0";
  bad.tls_cert = "only-cert.pem";
  EXPECT_EQ(runServer(bad, stop, nullptr).code(), Status::Code::kInvalidArgument);
}

// A server that cannot be reached is said in a sentence (httplib's own word was "Connection").
TEST(ApiClientTest, AnUnreachableServerIsSaidInASentence) {
  auto client = ApiClient::remote("http://127.0.0.1:1", "token");
  ASSERT_TRUE(client.ok());
  auto r = (*client)->call("GET", "/api/v1/tasks");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(),
            "cannot reach the server at http://127.0.0.1:1: no connection (refused or "
            "unreachable: is dts server running and listening there?)");
}

}  // namespace
}  // namespace dts::server
