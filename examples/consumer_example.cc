// consumer_example: reads a tracking task's changes as group "example" and prints one line per
// transaction, committing after each (docs/consumer.md).
//
//   DTS_TOKEN=$(cat DATA_DIR/api-token) consumer_example http://127.0.0.1:8686 shop-changes
//
// Ctrl-C stops it; the next run resumes right after the last transaction it printed.
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <thread>

#include "dts/consumer.h"

namespace {
volatile std::sig_atomic_t g_interrupted = 0;
void onSignal(int) {
  g_interrupted = 1;
}
}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s SERVER_URL TASK [GROUP]   (token in $DTS_TOKEN)\n", argv[0]);
    return 2;
  }
  dts::consumer::Options options;
  options.server = argv[1];
  options.task = argv[2];
  options.group = argc > 3 ? argv[3] : "example";
  const char* token = std::getenv("DTS_TOKEN");
  options.token = token != nullptr ? token : "";
  options.ops = {"insert", "update", "delete", "ddl"};
  options.auto_commit = true;  // after every transaction
  options.on_retry = [](const dts::consumer::Status& error, std::chrono::milliseconds delay) {
    std::fprintf(stderr, "retrying in %lld ms: %s\n", static_cast<long long>(delay.count()),
                 error.message().c_str());
  };

  dts::consumer::Consumer consumer(options);
  std::signal(SIGINT, onSignal);
  std::signal(SIGTERM, onSignal);
  // stop() is not async-signal-safe: a watcher thread calls it for the handler.
  std::thread watcher([&] {
    while (!consumer.stopped()) {
      if (g_interrupted) consumer.stop();
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  });

  dts::consumer::Status st = consumer.runTransactions([](const dts::consumer::Transaction& tx) {
    std::printf("transaction %s: %zu changes, next offset %lld\n", tx.id.c_str(), tx.records.size(),
                static_cast<long long>(tx.end_offset));
    for (const auto& r : tx.records) {
      const auto& v = r.value;
      std::printf("  %lld %s %s.%s\n", static_cast<long long>(r.offset), r.op.c_str(),
                  v.value("db", "").c_str(),
                  v.contains("table") && v["table"].is_string()
                      ? v["table"].get<std::string>().c_str()
                      : "-");
    }
    std::fflush(stdout);
    return true;  // keep going
  });
  consumer.stop();
  watcher.join();
  if (!st.ok()) {
    std::fprintf(stderr, "consumer_example: %s\n", st.message().c_str());
    return 1;
  }
  std::fprintf(stderr, "stopped; committed offset %lld\n",
               static_cast<long long>(consumer.lastCommitted()));
  return 0;
}
