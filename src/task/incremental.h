// The incremental phase as built into dts: the source binlog stream (mysql/binlog_stream,
// source/schema_tracker, pipeline/transaction_builder) mapped by the task's Mapping and applied by
// sink/mysql_applier, from the position the full phase recorded (see full_loader.h for the rules
// the applier honours so that full + incremental is exact).
#pragma once

#include "task/runner.h"

namespace dts::task {

// The factory `dts run` uses; null while the stream/applier are not part of the build.
IncrementalFactory defaultIncrementalFactory();

}  // namespace dts::task
