// The incremental phase as built into dts: the source's changes read by a source::ChangeReader
// (binlog stream, decoder, schema tracker, transaction grouping: source/change_reader.h) for the
// tables the task's Mapping moves, named for the target by a pipeline::MappingStage
// (pipeline/mapping_stage.h) and applied by a sink::Sink (sink/mysql_applier by default),
// from the position the full phase recorded (see full_loader.h for the rules the applier honours
// so that full + incremental is exact).
//
// One run of the engine:
//   1. opens the sink at the destination (the MySQL applier fences any zombie session of a killed
//      run and reads the checkpoint, dts_meta.checkpoint);
//   2. the default sink is also handed the snapshot position of every table the full phase loaded
//      without a key (dts_meta.full_tables.key_columns = ''): changes already inside that table's
//      one chunk are skipped for it. For tables with a key, the applier's writes are idempotent
//      (insert = upsert of the after image, update = delete the old key if it changed + upsert,
//      delete = delete by key), so replaying what a chunk already holds converges; it is also
//      handed every chunk's snapshot position, and upserts the transactions they contain by
//      REPLACE (the mix of snapshots has rows that collide until the replay converges), every
//      later one by DELETE + INSERT, which stops on a row that collides with another on a unique
//      key rather than delete it (sink/batch_sql.h: key conflicts);
//   3. reads the source binlog (config.source: a primary, a secondary node or the read/write
//      endpoint: same code, GTID positioned) from the furthest of the task's start position and
//      the checkpoint, decoding only the tables the mapping moves (every DDL is kept: the mapping
//      stage decides), throttles transactions (options.incremental_limits), maps every piece
//      through the mapping stage and hands it to the sink in source commit order; a row its WHERE
//      filter cannot judge exactly is judged by the source server, on a connection of its own
//      (source/source_filter_evaluator.h);
//   4. publishes rows, bytes, latency (source commit -> destination commit) and the checkpoint
//      position to the runner's Progress about twice a second.
// Stop (the flag): the reader is interrupted, everything queued is committed, the checkpoint is
// written and run() returns OK. A lost source or destination connection returns kUnavailable
// (the runner retries; the next run resumes exactly from the destination checkpoint). Any other
// error (a schema the tracker cannot match, a DDL the mapping stage cannot place, the end of a
// finite input) is returned as is.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "common/clock.h"
#include "pipeline/filter_evaluator.h"
#include "sink/sink.h"
#include "source/change_reader.h"
#include "task/runner.h"

namespace dts::task {

// Opens the sink of one run for the task; the mapping is the task's (shared with the engine).
using SinkFactory = std::function<Result<std::unique_ptr<sink::Sink>>(
    const TaskConfig& config, std::shared_ptr<const pipeline::Mapping> mapping)>;

// What the engine is built from, so that a test can run it without servers.
struct IncrementalSeams {
  // The reader of one run; null: the task's source server (source::serverReaderFactory).
  source::ChangeReaderFactory reader;
  // The sink of one run; null: mysqlSinkFactory().
  SinkFactory sink;
  // The judge of the rows a WHERE filter cannot judge exactly in dts (pipeline/row_filter.h);
  // null: a source::SourceFilterEvaluator on the task's source server.
  std::function<Result<std::unique_ptr<pipeline::FilterEvaluator>>(const TaskConfig& config)>
      filter_evaluator;
  // Decides the idle window (latency 0 after 2 s without events), paces the throttle and stamps
  // Transaction::received. Not owned; must outlive every engine made.
  Clock* clock = SystemClock::instance();
};

// The factory `dts run` uses: the engine above over the task's source server and a MysqlApplier.
IncrementalFactory defaultIncrementalFactory();
// The engine above over the given seams.
IncrementalFactory incrementalFactory(IncrementalSeams seams);

// sink::MysqlApplier at the task's destination (options.parallelism workers), given the snapshot
// positions of the tables the full phase loaded without a key (dts_meta, step 2 above).
SinkFactory mysqlSinkFactory();

// ---- Exposed for tests. ----

// Where the stream starts: the task's start position (the first snapshot; none for the very
// beginning) advanced to the sink's resume position when that is further.
//   MariaDB: per domain, the GTID with the highest sequence number ("0-1-100,1-2-7").
//   MySQL:   the union of both GTID sets ("uuid:1-100").
// kInvalidArgument when the two are of different flavours (a checkpoint of another source).
Result<std::optional<mysql::GtidPosition>> incrementalStartPosition(
    const std::optional<mysql::GtidPosition>& task_start,
    const std::optional<mysql::GtidPosition>& resume);

}  // namespace dts::task
