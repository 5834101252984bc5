// The HTTP changes endpoint's stream (GET /api/v1/tasks/NAME/changes, docs/api.md): a tracking
// task's change log read through sink::ChangeLogReader as NDJSON, one record (its value, see
// docs/change-records.md) per line, in offset order, whole committed transactions only.
//
// Query parameters (all optional):
//   from     earliest | latest | OFFSET (an integer) | TIME (UTC "2026-12-02T05:00:00Z", or
//            "ms:N" for milliseconds since the epoch: the first transaction committed at or
//            after it). Default: earliest.
//   tables   comma-separated "db.table", "table" or "db.*" names: row and DDL records of other
//            tables are left out (begin/commit markers stay, so transactions stay delimited).
//            Empty lists (tables=, ops=) and a parameter given twice are refused.
//   ops      comma-separated of insert, update, delete, ddl, begin, commit: only those.
//   limit    stop after this many lines (1-1000000). Default: no limit.
//   wait_ms  long polling: end the response once nothing new arrived for this long (0-3600000).
//            Default: never (the stream follows the log until the client goes away).
//   group    a consumer group (validGroupId): without `from`, the stream starts at the group's
//            committed offset (the next offset to read, as Kafka commits it), or at the earliest
//            record when the group never committed. Reading never commits: clients commit with
//            POST /api/v1/tasks/NAME/groups/GROUP/commit. The API resolves the group (Api needs
//            the offset store); the stream itself sees a plain `from`.
//   format   dts (default) | debezium-json | canal-json | maxwell-json: each line in that
//            encoding (sink/change_formats.h); begin/commit markers have none and are left out.
//            maxwell-json rows carry their transaction's "xid" and, on the last row of it that
//            the stream gives (after `tables` and `ops`), "commit": true, as Maxwell's filters
//            do.
//   envelope true | false (default): with a format other than dts, each row/DDL line is
//            {"offset":N,"op":"OP","record":LINE} (LINE: the record in that format, byte for
//            byte) and the begin/commit markers stay, in the dts encoding: a client knows every
//            record's offset and the transactions (what it commits and where it resumes). The
//            consumer library (include/dts/consumer.h) reads view formats this way. A no-op with
//            format=dts, whose lines carry both already.
// Back-pressure: the stream produces the next chunk only when the previous one was written to
// the socket, so a slow client slows its own reads and never the log's writer.
//
// Thread-safety: a ChangesStream is used by one thread (the HTTP connection's).
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>

#include "common/status.h"
#include "sink/change_formats.h"
#include "sink/change_log_reader.h"

namespace dts::server {

struct ChangesQuery {
  enum class From { kEarliest, kLatest, kOffset, kTime };
  From from = From::kEarliest;
  int64_t from_value = 0;        // the offset or the time (ms)
  bool from_given = false;       // `from` was in the query
  std::string group;             // "" = none
  std::set<std::string> tables;  // "db.table" or "table"; empty = all
  std::set<std::string> ops;     // empty = all
  int64_t limit = -1;            // -1 = none
  int64_t wait_ms = -1;          // -1 = follow forever
  sink::ChangeFormat format = sink::ChangeFormat::kDts;
  bool envelope = false;
  std::string task;  // not a parameter: the task's name (Debezium's source.name)
};

// Whether a consumer group id is acceptable in a URL path and a query without escaping: 1-249
// characters (Kafka's topic limit) of letters, digits, '.', '_' and '-'.
bool validGroupId(const std::string& group);

// Parses the endpoint's query parameters; errors are kInvalidArgument naming the parameter.
Result<ChangesQuery> parseChangesQuery(const std::map<std::string, std::string>& query);

class ChangesStream {
 public:
  // Resolves `from` against the log now (kNotFound for an offset outside the log, naming its
  // bounds).
  static Result<std::unique_ptr<ChangesStream>> open(
      std::shared_ptr<const sink::ChangeLogReader> log, ChangesQuery query);

  // Appends the next lines to *out (at most about max_bytes of records), waiting up to `poll` for
  // the log to grow when there is nothing to send. false once the stream is over (limit reached,
  // or wait_ms passed without news); *out may hold lines then too. An error (a corrupt segment,
  // an offset expired by retention while reading) ends the stream.
  Result<bool> next(std::string* out, size_t max_bytes = 1 << 20,
                    std::chrono::milliseconds poll = std::chrono::milliseconds(1000));

  int64_t position() const { return next_; }

 private:
  ChangesStream(std::shared_ptr<const sink::ChangeLogReader> log, ChangesQuery query, int64_t from);
  bool wanted(const sink::LogRecord& record) const;

  std::shared_ptr<const sink::ChangeLogReader> log_;
  ChangesQuery query_;
  std::unique_ptr<sink::MaxwellTransactions> maxwell_;  // format maxwell-json
  int64_t next_ = 0;
  int64_t sent_ = 0;
  // from=TIME later than every transaction the log holds: the stream starts at the begin of the
  // first transaction committed at or after it, once one is logged (-1: none awaited).
  int64_t awaited_time_ms_ = -1;
  // When a line was last sent (wait_ms counts from it: records the filter leaves out are no news).
  std::chrono::steady_clock::time_point last_news_ = std::chrono::steady_clock::now();
};

}  // namespace dts::server
