// Catch-up helper for bench/catchup_bench.sh: streams a source's binlog from a GTID position to
// its current end (source::ChangeReader: BinlogStream, decoder, SchemaTracker, TransactionBuilder)
// and applies it with MysqlApplier; prints elapsed seconds and applier stats as one JSON line.
//   catchup_apply_bench SRC_HOST:PORT DEST_HOST:PORT USER PASSWORD_FILE FROM_GTID WORKERS DBFILTER
//   TASK
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#include "mysql/binlog_stream.h"
#include "pipeline/transaction_builder.h"
#include "sink/mysql_applier.h"
#include "source/change_reader.h"

using namespace dts;

namespace {

int fail(const std::string& what, const Status& st) {
  std::fprintf(stderr, "catchup_apply_bench: %s: %s\n", what.c_str(), st.toString().c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 9) {
    std::fprintf(stderr, "usage: %s SRC DEST USER PASSWORD_FILE FROM_GTID WORKERS DBFILTER TASK\n",
                 argv[0]);
    return 2;
  }
  std::string password;
  std::ifstream(argv[4]) >> password;
  auto options = [&](const char* ep) {
    mysql::ConnectOptions o;
    o.endpoint = *mysql::Endpoint::parse(ep);
    o.user = argv[3];
    o.password = password;
    return o;
  };
  auto t0 = std::chrono::steady_clock::now();
  sink::ApplierOptions ao;
  ao.destination = options(argv[2]);
  ao.task = argv[8];
  ao.workers = std::stoi(argv[6]);
  if (const char* b = getenv("DTS_BATCH")) ao.batch_transactions = std::stoul(b);
  if (const char* q = getenv("DTS_QUEUE")) ao.max_queued_transactions = std::stoul(q);
  if (const char* f = getenv("DTS_FILL_MS"))
    ao.batch_fill = std::chrono::milliseconds(std::stoul(f));
  auto applier = sink::MysqlApplier::open(ao);
  if (!applier.ok()) return fail("opening the applier", applier.status());

  mysql::BinlogStreamOptions so;
  so.connection = options(argv[1]);
  so.start = mysql::BinlogStreamOptions::Start::kGtid;
  so.from_gtid = argv[5];
  so.stop_at_end = true;
  auto filter = pipeline::TableFilter::parse(argv[7]);
  if (!filter.ok()) return fail("filter", filter.status());
  source::ChangeReaderOptions ro;
  ro.tables = std::make_shared<pipeline::TableFilter>(*filter);
  auto reader = source::openServerReader(so, std::move(ro));
  if (!reader.ok()) return fail("opening the reader", reader.status());
  std::vector<pipeline::Transaction> done;
  uint64_t txns = 0;
  while (true) {
    auto more = (*reader)->next(&done);
    if (!more.ok()) return fail("reading at " + (*reader)->describe(), more.status());
    if (!*more) break;  // everything the source had
    for (auto& t : done) {
      if (t.gtid.empty()) continue;
      if (t.first_piece) ++txns;
      Status s = (*applier)->apply(std::move(t));
      if (!s.ok()) return fail("applying", s);
    }
  }
  Status s = (*applier)->close();
  if (!s.ok()) return fail("closing", s);
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  auto st = (*applier)->stats();
  std::printf(
      "{\"seconds\": %.3f, \"transactions\": %llu, \"applied\": %llu, \"rows\": %llu, \"batches\": %llu, "
      "\"waits_queue_full\": %llu, \"waits_conflict\": %llu}\n",
      secs, static_cast<unsigned long long>(txns),
      static_cast<unsigned long long>(st.transactions_applied),
      static_cast<unsigned long long>(st.rows_applied), static_cast<unsigned long long>(st.batches),
      static_cast<unsigned long long>(st.waits_queue_full),
      static_cast<unsigned long long>(st.waits_conflict));
  return 0;
}
