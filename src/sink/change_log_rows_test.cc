// Rows entries (rows kept as the binlog wrote them, decoded when read) against decoded rows: the
// same binlog through both paths must read back as the same records, byte for byte, whatever the
// batch size, the piece size, the mapping and the offset a reader starts at.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "mysql/binlog_event.h"
#include "mysql/binlog_file.h"
#include "pipeline/mapping.h"
#include "pipeline/mapping_stage.h"
#include "pipeline/transaction_builder.h"
#include "sink/change_log.h"

namespace dts::sink {
namespace {

namespace fs = std::filesystem;
using pipeline::ChangeEvent;
using pipeline::Transaction;

class TempDir {
 public:
  TempDir() {
    path_ = fs::temp_directory_path() / ("dts_change_log_rows_" + std::to_string(::getpid()) + "_" +
                                         std::to_string(counter_++));
    fs::remove_all(path_);
    fs::create_directories(path_);
  }
  ~TempDir() { fs::remove_all(path_); }
  std::string str() const { return path_.string(); }

 private:
  static inline int counter_ = 0;
  fs::path path_;
};

// The pieces of a fixture binlog (tests/fixtures: every column type, MariaDB, FULL row metadata),
// decoded or raw, cut every `piece_rows` rows.
std::vector<Transaction> fixturePieces(const std::string& file, bool raw, size_t piece_rows) {
  auto src = mysql::BinlogFileSource::open(std::string(DTS_SOURCE_DIR) + "/tests/fixtures/" + file);
  EXPECT_TRUE(src.ok()) << src.status().toString();
  if (!src.ok()) return {};
  mysql::BinlogDecoder decoder;
  pipeline::TransactionBuilder::Options o;
  o.raw_rows = raw;
  o.max_piece_rows = piece_rows;
  pipeline::TransactionBuilder builder(o);
  std::vector<mysql::BinlogEvent> events;
  std::vector<Transaction> pieces;
  while (true) {
    auto bytes = (*src)->nextEvent();
    if (!bytes.ok()) {
      EXPECT_EQ(bytes.status().code(), Status::Code::kNotFound) << bytes.status().toString();
      break;
    }
    Status s = decoder.decode(*bytes, (*src)->position(), &events);
    EXPECT_TRUE(s.ok()) << s.toString();
    for (const auto& e : events) {
      Status added = builder.add(e, &pieces);
      EXPECT_TRUE(added.ok()) << added.toString();
    }
  }
  return pieces;
}

std::vector<LogRecord> readFrom(const ChangeLog& log, int64_t from, size_t max_bytes) {
  std::vector<LogRecord> out;
  int64_t at = from;
  while (at < log.endOffset()) {
    auto r = log.read(at, max_bytes);
    EXPECT_TRUE(r.ok()) << r.status().toString();
    if (!r.ok() || r->empty()) break;
    for (LogRecord& rec : *r) {
      EXPECT_EQ(rec.offset, at);
      ++at;
      out.push_back(std::move(rec));
    }
  }
  return out;
}

void expectSameRecords(const std::vector<LogRecord>& want, const std::vector<LogRecord>& got) {
  ASSERT_EQ(want.size(), got.size());
  for (size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ(want[i].offset, got[i].offset) << i;
    EXPECT_EQ(want[i].timestamp_ms, got[i].timestamp_ms) << i;
    EXPECT_EQ(want[i].key, got[i].key) << i;
    ASSERT_EQ(want[i].value, got[i].value) << i;
  }
}

// Appends the pieces (mapped through `mapping` as the incremental engine does, when given) to a
// new log in `dir` and returns it, flushed.
std::shared_ptr<ChangeLog> logOf(const std::string& dir, std::vector<Transaction> pieces,
                                 size_t batch_bytes,
                                 std::shared_ptr<const pipeline::Mapping> mapping = nullptr) {
  ChangeLogOptions o;
  o.dir = dir;
  o.batch_bytes = batch_bytes;
  auto log = ChangeLog::open(o);
  EXPECT_TRUE(log.ok()) << log.status().toString();
  if (!log.ok()) return nullptr;
  pipeline::MappingStage stage(std::move(mapping));
  for (Transaction& piece : pieces) {
    Status mapped = stage.map(&piece);
    EXPECT_TRUE(mapped.ok()) << mapped.toString();
    Status st = (*log)->apply(std::move(piece));
    EXPECT_TRUE(st.ok()) << st.toString();
  }
  Status st = (*log)->flush();
  EXPECT_TRUE(st.ok()) << st.toString();
  return *log;
}

size_t countRaw(const std::vector<Transaction>& pieces) {
  size_t n = 0;
  for (const Transaction& t : pieces)
    for (const ChangeEvent& e : t.events) n += e.op == ChangeEvent::Op::kRows ? 1 : 0;
  return n;
}

TEST(ChangeLogRowsTest, RowsEntriesReadBackAsTheRecordsOfDecodedRows) {
  for (const char* file : {"mariadb_types.000001", "mariadb_types.000002"}) {
    // Default batches; batches of about one record (every rows entry in a batch of its own, the
    // definitions and contexts repeated); batches cut inside transactions and before them.
    for (size_t batch_bytes : {size_t{256} << 10, size_t{1}, size_t{700}, size_t{3000}}) {
      // Pieces of whole transactions, of one row, of three rows: raw pieces are cut between
      // ROWS events, decoded ones between rows, so the pieces differ. The records of a piece
      // that is not its transaction's last carry the previous commit's time; the fixture's
      // commits share one second, so the times agree as well.
      for (size_t piece_rows : {size_t{5000}, size_t{1}, size_t{3}}) {
        SCOPED_TRACE(std::string(file) + " batch_bytes " + std::to_string(batch_bytes) +
                     " piece_rows " + std::to_string(piece_rows));
        std::vector<Transaction> raw = fixturePieces(file, true, piece_rows);
        ASSERT_GT(countRaw(raw), 0u);
        TempDir a, b;
        auto decoded_log = logOf(a.str(), fixturePieces(file, false, piece_rows), batch_bytes);
        auto raw_log = logOf(b.str(), std::move(raw), batch_bytes);
        ASSERT_TRUE(decoded_log && raw_log);
        ASSERT_GT(decoded_log->endOffset(), 30);
        EXPECT_EQ(decoded_log->endOffset(), raw_log->endOffset());
        EXPECT_EQ(decoded_log->committedPosition(), raw_log->committedPosition());
        EXPECT_EQ(decoded_log->stats().rows_applied, raw_log->stats().rows_applied);
        std::vector<LogRecord> want = readFrom(*decoded_log, 0, 1 << 20);
        expectSameRecords(want, readFrom(*raw_log, 0, 1 << 20));
        // A reader may start at any offset, inside a rows entry too, and stop after any record.
        for (int64_t from = 0; from < raw_log->endOffset(); ++from) {
          auto got = raw_log->read(from, 1);
          ASSERT_TRUE(got.ok()) << got.status().toString();
          ASSERT_EQ(got->size(), 1u);
          EXPECT_EQ((*got)[0].value, want[static_cast<size_t>(from)].value);
          EXPECT_EQ((*got)[0].key, want[static_cast<size_t>(from)].key);
        }
        // Start-from-time reads the markers around rows entries.
        for (const LogRecord& r : want) {
          auto d = decoded_log->offsetForTime(r.timestamp_ms);
          auto w = raw_log->offsetForTime(r.timestamp_ms);
          ASSERT_TRUE(d.ok() && w.ok());
          EXPECT_EQ(*d, *w);
        }
      }
    }
  }
}

TEST(ChangeLogRowsTest, ALogOfRowsEntriesReopensAndGoesOn) {
  TempDir dir;
  std::vector<Transaction> pieces = fixturePieces("mariadb_types.000001", true, 2);
  const size_t half = pieces.size() / 2;
  std::vector<Transaction> first(pieces.begin(), pieces.begin() + static_cast<long>(half));
  std::vector<Transaction> rest(pieces.begin() + static_cast<long>(half), pieces.end());
  // Cut at a transaction boundary: move the pieces of the transaction in the middle to `rest`.
  while (!first.empty() && !first.back().last_piece) {
    rest.insert(rest.begin(), std::move(first.back()));
    first.pop_back();
  }
  std::vector<LogRecord> before;
  {
    auto log = logOf(dir.str(), std::move(first), 700);
    ASSERT_TRUE(log);
    before = readFrom(*log, 0, 1 << 20);
    ASSERT_TRUE(log->close().ok());
  }
  ChangeLogOptions o;
  o.dir = dir.str();
  o.batch_bytes = 700;
  auto log = ChangeLog::open(o);
  ASSERT_TRUE(log.ok()) << log.status().toString();
  expectSameRecords(before, readFrom(**log, 0, 1 << 20));
  pipeline::MappingStage stage(nullptr);
  for (Transaction& piece : rest) {
    ASSERT_TRUE(stage.map(&piece).ok());
    ASSERT_TRUE((*log)->apply(std::move(piece)).ok());
  }
  ASSERT_TRUE((*log)->flush().ok());
  TempDir whole;
  auto all = logOf(whole.str(), fixturePieces("mariadb_types.000001", false, 2), 700);
  ASSERT_TRUE(all);
  expectSameRecords(readFrom(*all, 0, 1 << 20), readFrom(**log, 0, 1 << 20));
}

TEST(ChangeLogRowsTest, ABatchCutBeforeAnOpenTransactionKeepsTheDefinitionsItNames) {
  // Small transactions on the same tables, one after the other: a batch that fills up inside a
  // transaction goes to disk without it, and the transaction starts the next batch, which must
  // define again the tables its rows entries name (defined earlier in the batch for the
  // transactions before it). Every batch size from tiny to several transactions.
  std::vector<Transaction> raw_fixture = fixturePieces("mariadb_types.000001", true, 5000);
  std::vector<Transaction> raw, decoded;
  uint64_t seq = 1000;
  for (int round = 0; round < 6; ++round) {
    for (const Transaction& t : raw_fixture) {
      bool rows_only = !t.events.empty();
      for (const ChangeEvent& e : t.events) rows_only = rows_only && e.op == ChangeEvent::Op::kRows;
      if (!rows_only) continue;
      Transaction r = t;
      r.gtid = "0-1-" + std::to_string(seq++);
      Transaction d = r;
      d.events.clear();
      for (const ChangeEvent& e : r.events) ASSERT_TRUE(pipeline::expandRows(e, &d.events).ok());
      raw.push_back(std::move(r));
      decoded.push_back(std::move(d));
    }
  }
  ASSERT_GT(raw.size(), 20u);
  for (size_t batch_bytes = 150; batch_bytes < 6000; batch_bytes += 97) {
    SCOPED_TRACE("batch_bytes " + std::to_string(batch_bytes));
    TempDir a, b;
    auto decoded_log = logOf(a.str(), decoded, batch_bytes);
    auto raw_log = logOf(b.str(), raw, batch_bytes);
    ASSERT_TRUE(decoded_log && raw_log);
    expectSameRecords(readFrom(*decoded_log, 0, 1 << 20), readFrom(*raw_log, 0, 1 << 20));
  }
}

std::shared_ptr<const pipeline::Mapping> mappingOf(std::vector<pipeline::DatabaseSelection> s) {
  auto m = pipeline::Mapping::create(std::move(s));
  EXPECT_TRUE(m.ok()) << m.status().toString();
  return std::make_shared<const pipeline::Mapping>(std::move(m).value());
}

TEST(ChangeLogRowsTest, TheMappingStagePassesTablesMovedWholeAndDecodesTheOthers) {
  // fx renamed to fy: every table moved whole, its rows stay raw under the target names.
  auto renamed = mappingOf({pipeline::DatabaseSelection{"fx", "fy", {}}});
  {
    std::vector<Transaction> pieces = fixturePieces("mariadb_types.000001", true, 5000);
    pipeline::MappingStage stage(renamed);
    size_t raw = 0;
    for (Transaction& piece : pieces) {
      ASSERT_TRUE(stage.map(&piece).ok());
      for (const ChangeEvent& e : piece.events) {
        if (e.op != ChangeEvent::Op::kRows) continue;
        ++raw;
        EXPECT_EQ(e.database, "fy");
        EXPECT_EQ(e.table_info->database, "fy");
      }
    }
    EXPECT_GT(raw, 0u);
  }
  // A column subset, a WHERE filter, a DML choice, a table left out and a renamed table: the
  // raw path reads back exactly as the decoded path through the same mapping.
  pipeline::TableSelection ints{"t_int", "numbers", {"bi", "id"}, "", {}};
  pipeline::TableSelection decs{"t_dec", "", {}, "id > 2", {}};
  pipeline::TableSelection strs{"t_str", "", {}, "", {}};
  strs.dml.del = false;
  pipeline::TableSelection times{"t_time", "moments", {}, "", {}};
  auto mixed = mappingOf({pipeline::DatabaseSelection{"fx", "", {ints, decs, strs, times}}});
  // Without DDL, which dts refuses to replay on a table moved with a column subset or a filter
  // (a task runs such a mapping with options.ddl off).
  auto withoutDdl = [](std::vector<Transaction> pieces) {
    for (Transaction& t : pieces)
      std::erase_if(t.events, [](const ChangeEvent& e) { return e.op == ChangeEvent::Op::kDdl; });
    return pieces;
  };
  for (auto mapping : {renamed, mixed}) {
    for (size_t batch_bytes : {size_t{256} << 10, size_t{700}}) {
      TempDir a, b;
      auto decoded_log =
          logOf(a.str(), withoutDdl(fixturePieces("mariadb_types.000001", false, 5000)),
                batch_bytes, mapping);
      auto raw_log = logOf(b.str(), withoutDdl(fixturePieces("mariadb_types.000001", true, 5000)),
                           batch_bytes, mapping);
      ASSERT_TRUE(decoded_log && raw_log);
      ASSERT_GT(decoded_log->endOffset(), 10);
      expectSameRecords(readFrom(*decoded_log, 0, 1 << 20), readFrom(*raw_log, 0, 1 << 20));
    }
  }
}

}  // namespace
}  // namespace dts::sink
