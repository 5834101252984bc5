// The incremental phase as built into dts: the source binlog stream (mysql/binlog_stream,
// source/schema_tracker, pipeline/transaction_builder) mapped by the task's Mapping and applied by
// sink/mysql_applier, from the position the full phase recorded (see full_loader.h for the rules
// the applier honours so that full + incremental is exact).
//
// One run of the engine:
//   1. opens the applier at the destination (it fences any zombie session of a killed run and
//      reads the checkpoint, dts_meta.checkpoint);
//   2. hands the applier the snapshot position of every table the full phase loaded without a
//      key (dts_meta.full_tables.key_columns = ''): changes already inside that table's one chunk
//      are skipped for it. Tables with a key need nothing: the applier's writes are idempotent
//      (insert = REPLACE of the after image, update = delete the old key if it changed + REPLACE,
//      delete = delete by key), so replaying what a chunk already holds converges;
//   3. streams the source binlog (config.source: a primary, a secondary node or the read/write
//      endpoint: same code, GTID positioned) from the furthest of the task's start position and
//      the checkpoint, decodes rows with the schema tracker, groups transactions, throttles them
//      (options.incremental_limits) and applies them in source commit order;
//   4. publishes rows, bytes, latency (source commit -> destination commit) and the checkpoint
//      position to the runner's Progress about twice a second.
// Stop (the flag): the stream is interrupted, everything queued is committed, the checkpoint is
// written and run() returns OK. A lost source or destination connection returns kUnavailable
// (the runner retries; the next run resumes exactly from the destination checkpoint). Any other
// error (a schema the tracker cannot match, a DDL the applier cannot place) is returned as is.
#pragma once

#include <string>

#include "task/runner.h"

namespace dts::task {

// The factory `dts run` uses: the binlog stream + MysqlApplier engine above.
IncrementalFactory defaultIncrementalFactory();

// ---- Exposed for tests. ----

// Where the stream starts: the task's start position (the first snapshot, "" for the very
// beginning) advanced to the applier's resume position when that is further.
//   MariaDB: per domain, the GTID with the highest sequence number ("0-1-100,1-2-7").
//   MySQL:   the union of both GTID sets ("uuid:1-100").
// kInvalidArgument when either side does not parse.
Result<std::string> incrementalStartPosition(const std::string& task_start,
                                             const std::string& resume);

// The TableFilter spec (pipeline/transaction_builder.h) that lets through the rows of every
// database the mapping selects: "db1,db2". "" (everything) when a database name cannot be written
// as a pattern (it holds ',', '.', '*' or spaces); the mapping still drops what is not selected.
std::string databaseFilterSpec(const pipeline::Mapping& mapping);

}  // namespace dts::task
