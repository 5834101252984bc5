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
//                  "xoffset", "position", "gtid", "primary_key_columns", "data", "old"}; a DDL is
//                  Maxwell's {"type": "table-alter"|..., "database", "table", "def", "sql", "ts"}.
// Values: numbers stay JSON numbers (strings in canal-json), DECIMAL a string with its scale,
// temporal types the string SELECT prints, binary columns (BINARY, VARBINARY, BLOB, BIT,
// GEOMETRY) base64 (what Flink's BYTES and Debezium/Maxwell use; the dts encoding's hex is
// converted), JSON columns their text (an embedded JSON value in maxwell-json), NULL null.
// Begin and commit markers have no counterpart: they are left out.
//
// Thread-safety: the functions are pure; an encoded view is as thread-safe as its log.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"
#include "sink/change_log_reader.h"

namespace dts::sink {

enum class ChangeFormat { kDts, kDebeziumJson, kCanalJson, kMaxwellJson };

// "dts", "debezium-json", "canal-json", "maxwell-json"; nullopt for anything else.
std::optional<ChangeFormat> parseChangeFormat(std::string_view name);
const char* changeFormatName(ChangeFormat format);

// One record value of the log (docs/change-records.md) in `format`; nullopt for a record the
// format has no counterpart for (begin/commit markers). kDts returns the value unchanged.
// `task` names the source in Debezium's source.name. kCorruption when the value is not a change
// record.
Result<std::optional<std::string>> encodeChange(ChangeFormat format, std::string_view value,
                                                std::string_view task);

// A reader over `log` whose records carry their value in `format` (keys, offsets and timestamps
// unchanged). Records without a counterpart (markers; DDL too when rows_only) are left out, so
// offsets have gaps; when read() stops after records it left out, its last element is a
// placeholder (LogRecord::placeholder) at the last of them, so that the reader moves past them
// (a read of nothing but left-out records returns only that placeholder). Every other
// ChangeLogReader contract holds. REQUIRES: log != null.
std::shared_ptr<const ChangeLogReader> encodedView(std::shared_ptr<const ChangeLogReader> log,
                                                   ChangeFormat format, std::string task,
                                                   bool rows_only);

}  // namespace dts::sink
