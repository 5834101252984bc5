// Change record encodings that downstream tools already parse, made from the change log's own
// records (docs/change-records.md) when a consumer asks for them: the HTTP changes endpoint's
// `format=` and the Kafka listener's view topics (docs/kafka.md). The log itself stores only the
// dts encoding; these are views of it.
//
// The shapes follow each tool's JSON as Flink SQL's formats of the same name read it
// (flink-json: debezium-json, canal-json, maxwell-json; see docs/change-records.md, "Other
// encodings"):
//   debezium-json  {"before", "after", "source": {..., "db", "table", "ts_ms", "gtid", "file",
//                  "pos"}, "op": "c"|"u"|"d", "ts_ms", "transaction"}; a DDL is a Debezium schema
//                  change event {"source", "ts_ms", "databaseName", "ddl", "tableChanges"}.
//   canal-json     {"data": [row], "database", "es", "id", "isDdl", "mysqlType", "old": [changed
//                  columns' old values], "pkNames", "sql", "sqlType", "table", "ts", "type":
//                  "INSERT"|"UPDATE"|"DELETE"}, every value a string (as Canal writes them); a DDL
//                  has isDdl true, the statement in "sql" and Canal's statement type.
//   maxwell-json   {"database", "table", "type": "insert"|"update"|"delete", "ts" (seconds),
//                  "xid", "commit", "xoffset", "position", "gtid", "primary_key_columns", "data",
//                  "old"}; a DDL is Maxwell's {"type": "table-alter"|..., "database", "table",
//                  "def", "sql", "ts"}. "xid" (the transaction's, from its commit marker, when the
//                  source wrote one) and "commit": true (on the transaction's last row a reader
//                  gives) need the transaction's end: MaxwellTransactions below.
// Values: numbers stay JSON numbers (strings in canal-json), DECIMAL a string with its scale,
// temporal types the string SELECT prints, binary columns (BINARY, VARBINARY, BLOB, BIT,
// GEOMETRY) base64 (what Flink's BYTES and Debezium/Maxwell use; the dts encoding's hex is
// converted), JSON columns their text (an embedded JSON value in maxwell-json), NULL null.
// Begin and commit markers have no counterpart: they are left out.
//
// Thread-safety: the functions are pure; an encoded view is as thread-safe as its log.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "sink/change_log_reader.h"

namespace dts::sink {

enum class ChangeFormat { kDts, kDebeziumJson, kCanalJson, kMaxwellJson };

// "dts", "debezium-json", "canal-json", "maxwell-json"; nullopt for anything else.
std::optional<ChangeFormat> parseChangeFormat(std::string_view name);
const char* changeFormatName(ChangeFormat format);

// What Maxwell gives each row of a transaction besides the row: the transaction's XID (the
// commit marker's "xid"; none when the source wrote no XID event, or the record was logged
// before dts kept it) and "commit": true on its last row.
struct MaxwellTransaction {
  std::optional<uint64_t> xid;
  bool commit = false;
};

// One record value of the log (docs/change-records.md) in `format`; nullopt for a record the
// format has no counterpart for (begin/commit markers). kDts returns the value unchanged.
// `task` names the source in Debezium's source.name. `transaction` (maxwell-json rows only; null:
// neither field) gives Maxwell's "xid" and "commit". kCorruption when the value is not a change
// record.
Result<std::optional<std::string>> encodeChange(ChangeFormat format, std::string_view value,
                                                std::string_view task,
                                                const MaxwellTransaction* transaction = nullptr);

// Finds the MaxwellTransaction of the row records a reader gives, one window at a time (a
// window: consecutive records as read() returned them; each window may start anywhere).
// A row followed in its window by its commit marker is answered from the window. The rows of
// the window's last transaction, when its commit marker lies beyond the window (a read cut by
// max_bytes, or a transaction larger than any read), are answered by looking ahead in the log,
// never by holding the transaction:
//   - the xid: ChangeLogReader::commitMarkerOf (the change log walks batch headers to the
//     marker and decompresses that one batch);
//   - commit: whether a row the reader gives follows the window before the marker, read on from
//     the window's end in chunks of kLookAheadBytes until the first such row (for a reader that
//     gives every row: the first record read answers) or the marker.
// Both answers are kept for that transaction, so the next windows of a large transaction look
// nothing up again. Memory: one window plus one look-ahead chunk. Not thread-safe.
class MaxwellTransactions {
 public:
  // keep(record): whether the reader gives this row record (its table and op filters); null:
  // every row. REQUIRES log != null.
  explicit MaxwellTransactions(std::shared_ptr<const ChangeLogReader> log,
                               std::function<bool(const LogRecord&)> keep = nullptr);

  // (*out)[i] for records[i]: set for the row records keep() accepts, empty for the others.
  // Errors: the log's (a record expired or corrupt while looking ahead).
  Status mark(const std::vector<LogRecord>& records, std::vector<MaxwellTransaction>* out);

 private:
  // The xid of the transaction holding offset `from` and whether a kept row lies in
  // [from, its commit marker).
  Status lookAhead(int64_t from, std::optional<uint64_t>* xid, bool* kept_row_follows);
  bool kept(const LogRecord& record, const std::string& op) const;

  std::shared_ptr<const ChangeLogReader> log_;
  std::function<bool(const LogRecord&)> keep_;
  // The last transaction looked ahead in: the offset asked for (-1: none yet), its commit
  // marker's offset and xid, and what a scan from scan_from_ found: the first kept row at or
  // after it (-1: none before the marker).
  int64_t lookup_from_ = -1;
  int64_t commit_offset_ = -1;
  std::optional<uint64_t> commit_xid_;
  int64_t scan_from_ = -1;
  int64_t kept_at_ = -1;
};

// A reader over `log` whose records carry their value in `format` (keys, offsets and timestamps
// unchanged). Records without a counterpart (markers; DDL too when rows_only) are left out, so
// offsets have gaps; when read() stops after records it left out, its last element is a
// placeholder (LogRecord::placeholder) at the last of them, so that the reader moves past them
// (a read of nothing but left-out records returns only that placeholder). maxwell-json rows
// carry their transaction's "xid" and, on its last row, "commit": true, whatever max_bytes cuts
// (MaxwellTransactions). commitMarkerOf answers with the log's own marker. Every other
// ChangeLogReader contract holds. REQUIRES: log != null.
std::shared_ptr<const ChangeLogReader> encodedView(std::shared_ptr<const ChangeLogReader> log,
                                                   ChangeFormat format, std::string task,
                                                   bool rows_only);

}  // namespace dts::sink
