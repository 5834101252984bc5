// Offline decode throughput on one core, over a generated binlog file of sysbench-like rows
// (id INT, k INT, c CHAR(120), pad CHAR(60), utf8mb4, binlog_row_metadata=FULL, CRC32 on).
// Each transaction is what oltp_write_only writes: GTID, BEGIN, TABLE_MAP, UPDATE (k),
// UPDATE (c), DELETE, INSERT, XID — 4 row changes, 11 events.
//
//   ./build/bench/decode_bench --benchmark_min_time=2s
//   DTS_DECODE_BENCH_FILE=binlog.000002 ./build/bench/decode_bench   (a real binlog instead)
// Reports rows/s for: row checking without values (RowsReader::skip, what `--format count`
// does), row decoding into reused RowImages, the TransactionBuilder (owned ChangeEvents), and
// NDJSON rendering on top; CRC32 GB/s of dts::crc32 (ISA-L), the portable slicing-by-8 and
// zlib; and records/s of the change log's appender (BM_ChangeLogDecodeAppend, two threads).
// Linked with mimalloc, as dts is.
#include <benchmark/benchmark.h>
#include <zlib.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>

#include "common/crc32.h"
#include "mysql/binlog_event.h"
#include "mysql/binlog_file.h"
#include "mysql/event_builder_for_tests.h"
#include "pipeline/ndjson.h"
#include "pipeline/transaction_builder.h"
#include "sink/change_log.h"

using namespace dts;
namespace t = dts::mysql::testing;

namespace {

constexpr int kTransactions = 250000;  // 1,000,000 row changes

std::string le(uint64_t v, size_t n) {
  std::string s;
  putUint(&s, v, n);
  return s;
}

const std::string& benchFile() {
  static const std::string path = [] {
    if (const char* f = std::getenv("DTS_DECODE_BENCH_FILE"); f != nullptr && *f != '\0')
      return std::string(f);
    std::string p = "/tmp/dts_decode_bench.000001";
    t::EventBuilder b(mysql::ServerFlavor::kMariaDb);
    std::vector<t::TestColumn> cols = {t::colInt(mysql::ColumnType::kLong, "id"),
                                       t::colInt(mysql::ColumnType::kLong, "k"),
                                       t::colString("c", 480), t::colString("pad", 240)};
    std::string out(mysql::kBinlogMagic);
    out += b.formatDescription();
    std::string c(119, '0'), pad(59, '7');
    for (int i = 0; i < kTransactions; ++i) {
      for (size_t k = 0; k < c.size(); k += 12) c[k] = static_cast<char>('0' + (i + k) % 10);
      auto row = [&](uint32_t id, uint32_t k) {
        return t::rowImage({le(id, 4), le(k, 4), le(c.size(), 2) + c, le(pad.size(), 1) + pad}, {});
      };
      const uint32_t id = static_cast<uint32_t>(i % 100000 + 1);
      out += b.mariaGtid(static_cast<uint64_t>(i) + 1, 0, mysql::MariaGtidEvent::kFlTransactional);
      out += b.query("sbtest", "BEGIN");
      out += b.tableMap(70, "sbtest", "sbtest1", cols);
      out += b.rows(mysql::EventType::kUpdateRowsV1, 70, 4, row(id, 5) + row(id, 6));
      out += b.rows(mysql::EventType::kUpdateRowsV1, 70, 4, row(id + 1, 7) + row(id + 1, 7));
      out += b.rows(mysql::EventType::kDeleteRowsV1, 70, 4, row(id + 2, 8));
      out += b.rows(mysql::EventType::kWriteRowsV1, 70, 4, row(id + 2, 9));
      out += b.xid(static_cast<uint64_t>(i));
    }
    std::ofstream(p, std::ios::binary).write(out.data(), static_cast<std::streamsize>(out.size()));
    return p;
  }();
  return path;
}

void BM_CountRowsSkip(benchmark::State& state) {
  const std::string& path = benchFile();
  uint64_t rows = 0, bytes = 0;
  for (auto _ : state) {
    auto src = mysql::BinlogFileSource::open(path);
    mysql::BinlogDecoder::Options options;
    options.verify_checksums = state.range(0) != 0;
    mysql::BinlogDecoder decoder(options);
    std::vector<mysql::BinlogEvent> events;
    while (true) {
      auto raw = (*src)->nextEvent();
      if (!raw.ok()) break;
      if (!decoder.decode(*raw, (*src)->position(), &events).ok()) state.SkipWithError("decode");
      for (const auto& e : events) {
        if (const auto* r = e.as<mysql::RowsEvent>()) {
          mysql::RowsReader reader(r->data, e.position);
          while (!reader.done()) {
            if (!reader.skip().ok()) state.SkipWithError("rows");
            ++rows;
          }
        }
      }
    }
    bytes += (*src)->size();
  }
  state.counters["rows/s"] =
      benchmark::Counter(static_cast<double>(rows), benchmark::Counter::kIsRate);
  state.counters["MB/s"] =
      benchmark::Counter(static_cast<double>(bytes) / 1e6, benchmark::Counter::kIsRate);
}
BENCHMARK(BM_CountRowsSkip)->ArgName("crc")->Arg(1)->Arg(0)->Unit(benchmark::kMillisecond);

// CRC32 throughput over buffers of state.range(0) bytes (binlog events of a sysbench run are
// 100-1000 bytes; 64 KiB shows the streaming rate).
template <int kImpl>
void BM_Crc32(benchmark::State& state) {
  const size_t n = static_cast<size_t>(state.range(0));
  std::string buf(n + 4096, '\0');
  std::mt19937 rng(1);
  for (char& c : buf) c = static_cast<char>(rng());
  uint32_t crc = 0;
  size_t off = 0;
  for (auto _ : state) {
    const char* p = buf.data() + off;
    off = (off + 977) % 4096;  // vary the alignment
    if constexpr (kImpl == 0) crc ^= dts::crc32Extend(0, p, n);
    if constexpr (kImpl == 1) crc ^= dts::crc32Portable(0, p, n);
    if constexpr (kImpl == 2)
      crc ^= static_cast<uint32_t>(
          ::crc32(0, reinterpret_cast<const Bytef*>(p), static_cast<uInt>(n)));
  }
  benchmark::DoNotOptimize(crc);
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(n));
  state.SetLabel(kImpl == 0 ? dts::crc32Implementation() : kImpl == 1 ? "slicing-by-8" : "zlib");
}
BENCHMARK_TEMPLATE(BM_Crc32, 0)->Name("BM_Crc32_dts")->Arg(64)->Arg(256)->Arg(1024)->Arg(65536);
BENCHMARK_TEMPLATE(BM_Crc32, 1)
    ->Name("BM_Crc32_portable")
    ->Arg(64)
    ->Arg(256)
    ->Arg(1024)
    ->Arg(65536);
BENCHMARK_TEMPLATE(BM_Crc32, 2)->Name("BM_Crc32_zlib")->Arg(64)->Arg(256)->Arg(1024)->Arg(65536);

void BM_DecodeRowsReusedImages(benchmark::State& state) {
  const std::string& path = benchFile();
  uint64_t rows = 0, bytes = 0;
  for (auto _ : state) {
    auto src = mysql::BinlogFileSource::open(path);
    mysql::BinlogDecoder::Options options;
    options.verify_checksums = state.range(0) != 0;
    mysql::BinlogDecoder decoder(options);
    std::vector<mysql::BinlogEvent> events;
    mysql::RowImage before, after;
    while (true) {
      auto raw = (*src)->nextEvent();
      if (!raw.ok()) break;
      if (!decoder.decode(*raw, (*src)->position(), &events).ok()) state.SkipWithError("decode");
      for (const auto& e : events) {
        if (const auto* r = e.as<mysql::RowsEvent>()) {
          mysql::RowsReader reader(r->data, e.position);
          while (!reader.done()) {
            if (!reader.next(&before, &after).ok()) state.SkipWithError("rows");
            ++rows;
          }
        }
      }
    }
    bytes += (*src)->size();
  }
  state.counters["rows/s"] =
      benchmark::Counter(static_cast<double>(rows), benchmark::Counter::kIsRate);
  state.counters["MB/s"] =
      benchmark::Counter(static_cast<double>(bytes) / 1e6, benchmark::Counter::kIsRate);
}
BENCHMARK(BM_DecodeRowsReusedImages)->ArgName("crc")->Arg(1)->Arg(0)->Unit(benchmark::kMillisecond);

// Decodes the bench file into transactions, handing each to f (moved from).
template <typename F>
void forEachTransaction(benchmark::State& state, F&& f) {
  auto src = mysql::BinlogFileSource::open(benchFile());
  mysql::BinlogDecoder decoder;
  pipeline::TransactionBuilder builder;
  std::vector<mysql::BinlogEvent> events;
  std::vector<pipeline::Transaction> done;
  while (true) {
    auto raw = (*src)->nextEvent();
    if (!raw.ok()) break;
    if (!decoder.decode(*raw, (*src)->position(), &events).ok()) state.SkipWithError("decode");
    for (const auto& e : events) {
      done.clear();
      if (!builder.add(e, &done).ok()) state.SkipWithError("builder");
      for (auto& txn : done) f(txn);
    }
  }
}

template <bool kNdjson>
void BM_Transactions(benchmark::State& state) {
  uint64_t rows = 0;
  std::string out;
  pipeline::NdjsonWriter writer;
  for (auto _ : state) {
    forEachTransaction(state, [&](const pipeline::Transaction& txn) {
      rows += txn.events.size();
      if constexpr (kNdjson) {
        for (const auto& ce : txn.events) (void)writer.append(ce, txn, &out);
        if (out.size() > (1 << 20)) out.clear();
      }
    });
  }
  state.counters["rows/s"] =
      benchmark::Counter(static_cast<double>(rows), benchmark::Counter::kIsRate);
}
BENCHMARK_TEMPLATE(BM_Transactions, false)
    ->Name("BM_TransactionBuilder")
    ->Unit(benchmark::kMillisecond);
BENCHMARK_TEMPLATE(BM_Transactions, true)
    ->Name("BM_TransactionBuilderNdjson")
    ->Unit(benchmark::kMillisecond);

// The change log's appender (issue 15, item 7): the transactions decoded on the benchmark's
// thread (as the tracking task's reader does) and appended to a ChangeLog in a fresh directory
// under TMPDIR (default /tmp), flushed (fsynced) at the end, with zstd level state.range(0).
// Reports records/s (begin, rows, commit) and the bytes on disk per record. With a real binlog
// (DTS_DECODE_BENCH_FILE), the bare fetch loop of bench/tracking_bench.sh is the peer.
void BM_ChangeLogDecodeAppend(benchmark::State& state) {
  const char* tmp = std::getenv("TMPDIR");
  const std::string dir =
      std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/dts_change_log_bench";
  uint64_t records = 0, disk = 0;
  for (auto _ : state) {
    state.PauseTiming();
    std::filesystem::remove_all(dir);
    sink::ChangeLogOptions options;
    options.dir = dir;
    options.compression_level = static_cast<int>(state.range(0));
    auto log = sink::ChangeLog::open(options);
    if (!log.ok()) {
      state.SkipWithError(log.status().toString().c_str());
      break;
    }
    state.ResumeTiming();
    forEachTransaction(state, [&](pipeline::Transaction& txn) {
      if (!(*log)->apply(std::move(txn)).ok()) state.SkipWithError("apply");
    });
    if (Status st = (*log)->flush(); !st.ok()) state.SkipWithError(st.toString().c_str());
    state.PauseTiming();
    records += static_cast<uint64_t>((*log)->endOffset());
    disk += (*log)->diskBytes();
    (void)(*log)->close();
    log->reset();
    std::filesystem::remove_all(dir);
    state.ResumeTiming();
  }
  state.counters["records/s"] =
      benchmark::Counter(static_cast<double>(records), benchmark::Counter::kIsRate);
  state.counters["bytes/record"] =
      benchmark::Counter(records == 0 ? 0.0 : static_cast<double>(disk) / records);
}
BENCHMARK(BM_ChangeLogDecodeAppend)
    ->ArgName("zstd")
    ->Arg(1)
    ->Arg(-3)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
