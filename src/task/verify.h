// Verification: proves that a task's destination holds what its source holds, as the task's
// mapping says it should (renames, column subsets, WHERE filters), without trusting either the
// loader or the applier. One-shot (`dts verify TASK.yaml`); see verify_sql.h for what is hashed.
//
// For every table the task moves:
//   schema  the kept columns (type, character set, collation, nullability), columns the
//           destination has beyond them, and the unique keys over kept columns; non-unique
//           indexes are not compared.
//   data    a table with a key the destination also has (primary key, else a unique NOT NULL
//           key, as the full loader chunks by) is walked in key ranges (lower, upper]: the upper
//           bound is found on the source by an index walk, and both servers compute the range's
//           checksum at the same time. The range grows or shrinks so that a chunk takes about
//           chunk_seconds. A range whose checksums differ is bisected (at its middle key, on the
//           side with more rows) until at most bisect_rows rows remain on each side; those rows
//           are then read from both sides and compared by key: missing (only at the source),
//           extra (only at the destination), or changed (the columns that differ, both values).
//           A table without such a key is compared as a multiset of full-row hashes (GROUP BY
//           hash on both sides), each surplus copy reported as missing or extra with its count.
// The source side of every query carries the route's WHERE; the destination holds only the
// rows that passed it. Reading is not a consistent snapshot: a table written during the run may
// show differences that only reflect lag (re-run, or verify a stopped task), unless
// wait_applied is given (a sync task's options.verify), which re-checks them.
// Tables are verified `parallelism` at a time, each over its own pair of connections. Before each
// chunk and after it, the load back-off (verify_load.h) may pause. With a progress file, each
// finished chunk is recorded, and a run that was stopped or killed continues each table after its
// last finished chunk (verify_progress.h).
// Incremental verification (RowVerifier) compares given rows by key instead of ranges.
//
// Values in a report are the data's values; connection passwords never appear anywhere.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "task/task_config.h"
#include "task/verify_load.h"
#include "task/verify_sql.h"

namespace dts::task {

struct TableVerifyResult;

struct VerifyOptions {
  // Source tables to verify, "db.table" (source names); empty: every table the task moves.
  std::vector<std::string> tables;
  uint64_t max_rps = 0;        // rows per second over both sides' chunks; 0: unthrottled
  double chunk_seconds = 0.5;  // time target per chunk
  uint64_t initial_chunk_rows = 10000;
  uint64_t min_chunk_rows = 1000;
  uint64_t max_chunk_rows = 2000000;
  uint64_t bisect_rows = 1000;      // read rows once a differing range has this few on each side
  size_t max_reported_rows = 1000;  // per table; further differences are only counted
  bool schema = true;
  bool data = true;
  RowHash hash = RowHash::kCrc32;  // the chunk checksum's row hash (verify_sql.h)
  // While a sync runs (the task option options.verify): called with the source's GTID position
  // read right after a chunk whose checksums differed; returns once the destination has applied
  // that position (kAborted when stopped). The chunk is then checksummed again, up to `rechecks`
  // times, and bisected and reported only if it still differs, so lag is never reported as a
  // difference. Null: no re-check (one-shot verification of data at rest).
  std::function<Status(const std::string& source_position)> wait_applied;
  int rechecks = 3;
  // Called after each table with its result (progress for status and metrics). Optional; with
  // parallelism > 1 it is called from several threads (one call at a time).
  std::function<void(const TableVerifyResult&)> on_table;
  // Backs off when the source is busy (verify_load.h). Threads_running counts every running
  // session, verification's own `parallelism` checksum queries included: the limit is compared
  // with the count less those.
  LoadLimits load;
  // Tables verified at the same time, each over its own pair of connections (1-64).
  int parallelism = 1;
  // Resumable runs (verify_progress.h): the file where finished chunks are recorded. A run that
  // ends (equal or not) removes it; a run that is stopped or killed leaves it, and the next run
  // of the same task definition and hash continues each table after its last finished chunk.
  // Empty: not resumable.
  std::string progress_file;
};

struct ColumnDifference {
  std::string column;
  std::optional<std::string> source, destination;  // shown values (binary as 0x hex)
};

struct RowDifference {
  enum class Kind { kMissing, kExtra, kChanged };
  Kind kind = Kind::kChanged;
  // The key (column, shown value); for a keyless table every column.
  std::vector<std::pair<std::string, std::optional<std::string>>> key;
  std::vector<ColumnDifference> columns;  // kChanged: the columns that differ
  uint64_t count = 1;                     // keyless tables: how many surplus copies
  std::string fix_sql;                    // the statement(s) that repair it, ';'-terminated
};
const char* rowDifferenceKindName(RowDifference::Kind kind);

struct SchemaDifference {
  std::string object;  // "column `x`", "key PRIMARY", "table"
  std::string what;    // "type", "character set", "missing at destination", ...
  std::string source, destination;
};

struct TableVerifyResult {
  std::string source_table;  // db.table
  std::string target_table;  // db.table
  bool keyless = false;      // compared as a multiset of row hashes
  bool data_compared = false;
  std::string data_skipped_reason;  // why data was not compared (when it was not)
  uint64_t source_rows = 0, destination_rows = 0;
  uint64_t chunks = 0;          // ranges checksummed, bisection halves included
  uint64_t rechecks = 0;        // differing ranges read again once the destination caught up
  uint64_t chunks_resumed = 0;  // of chunks: finished by an earlier, interrupted run
  uint64_t load_pauses = 0;     // pauses made because the source was busy (options.load)
  double paused_seconds = 0;
  uint64_t row_differences = 0;  // all found (rows below is capped)
  std::vector<RowDifference> rows;
  std::vector<SchemaDifference> schema;
  double seconds = 0;

  bool equal() const {
    return row_differences == 0 && schema.empty() && data_skipped_reason.empty();
  }
  // The differences `rows` lists (a keyless row's copies each count, as in row_differences).
  uint64_t listedDifferences() const {
    uint64_t n = 0;
    for (const auto& r : rows) n += r.count;
    return n;
  }
};

struct VerifyReport {
  std::string task;
  std::vector<TableVerifyResult> tables;
  double seconds = 0;
  bool resumed = false;  // continued from an interrupted run's progress file
  // Set when the source read is a secondary node whose replication from the primary was stopped
  // (before or after the comparison): the rows were compared with the node's data, which lacks
  // the primary's changes since, so the run proves nothing about the primary. Says which node,
  // how and what to do. The report is then not equal, whatever the tables.
  std::string unproven;
  // The node's replication status could not be read (a missing privilege): said, not unequal.
  std::string note;

  bool equal() const;
  uint64_t rowDifferences() const;
  uint64_t schemaDifferences() const;
};

// Verifies config's source against its destination. Differences are results, not errors; an
// error (kUnavailable, kFailedPrecondition, ...) means verification itself could not run, and
// names the table and side. kAborted when stop became true. REQUIRES: endpoints resolved
// (resolveTaskEndpoints).
Result<VerifyReport> verifyTask(const TaskConfig& config, const VerifyOptions& options,
                                const std::atomic<bool>& stop);

// Incremental verification (options.verify.incremental): the rows of one source table that
// changed, by their chunk key (the key full verification walks: CatalogTable::chunk_key), each
// value an SQL literal.
struct ChangedRows {
  std::string source_table;  // db.table
  std::vector<std::vector<std::string>> keys;
};

// Compares rows by key while a sync runs: each batch of keys is read at the source, then at the
// destination once it has applied the source position read after it, and a row that differs is
// read again the same way (up to options.rechecks times) before it is reported, so lag is never
// a difference. Holds one connection to each side. Not thread-safe.
class RowVerifier {
 public:
  // REQUIRES: options.wait_applied. Errors: connecting, reading the source catalog.
  static Result<std::unique_ptr<RowVerifier>> open(const TaskConfig& config,
                                                   const VerifyOptions& options);
  ~RowVerifier();
  // Compares the rows and adds what differs to result (source_rows counts the keys checked,
  // chunks the batches). Tables the task does not move or without a chunk key are skipped.
  Status compare(const ChangedRows& rows, const std::atomic<bool>& stop, TableVerifyResult* result);

 private:
  struct Impl;
  explicit RowVerifier(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// A readable summary: one line per table, then each difference.
std::string verifyReportText(const VerifyReport& report);
// The report as JSON text (tables, differences, totals).
std::string verifyReportJson(const VerifyReport& report);
// One table's result in the form of verifyReportJson's "tables" items, listing at most max_rows
// row differences (row_differences still counts them all) with each value cut to about
// max_value_bytes; 0: no limit.
nlohmann::json verifyTableJson(const TableVerifyResult& table, size_t max_rows,
                               size_t max_value_bytes);
// The SQL that would repair the destination (REPLACE for missing and changed rows, DELETE for
// extra ones, every identifier quoted), for an operator to review and run; "" parts for tables
// without row differences. Schema differences are listed as comments only.
std::string verifyFixSql(const VerifyReport& report);

}  // namespace dts::task
