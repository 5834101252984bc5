// /metrics: the tasks of a server in the Prometheus text exposition format (version 0.0.4).
// Names follow the ecosystem's conventions: dts_task_* per task (label task), base units
// (seconds, bytes), _total for counters, state sets as one series per state (value 0/1):
//   dts_task_info{task,kind} 1
//   dts_task_state{task,state}            created|running|paused|stopped|completed|failed
//   dts_task_phase{task,phase}            the engine's phase (created ... failed)
//   dts_task_rows_total, dts_task_bytes_total          moved since the server started (full +
//                                                       incremental; a restart resets them)
//   dts_task_rows_per_second, dts_task_bytes_per_second  over the last ~5 s
//   dts_task_replication_lag_seconds      incremental only: source commit -> destination commit
//                                         of the last applied transaction, 0 when the stream is
//                                         idle and nothing is queued (dts holds everything the
//                                         source sent, known from the stream's heartbeats)
//                                         (no sample while the secondary node read has stopped
//                                         replicating: the lag is unknown then)
//   dts_task_source_replication_running{task,node}  the secondary node read: 1 while its own
//                                         replication runs, 0 stopped or broken
//   dts_task_source_replication_delay_seconds{task,node}  its Seconds_Behind_Master (running)
//   dts_task_source_replication_unknown{task,node}  1 when its replica status cannot be read
//   dts_task_retrying, dts_task_retry_deadline_timestamp_seconds
//   dts_task_errors_total{task,kind}      kind: connection|precheck|other
//   dts_task_degraded_total{task,mode}
//   dts_task_full_rows_done{task,table}, dts_task_full_rows_estimated{task,table},
//   dts_task_full_table_done{task,table}, dts_task_full_progress_ratio{task}
//   dts_task_changes_applied_total{task,table}
//   dts_task_applier_queue_transactions, dts_task_applier_transactions_total,
//   dts_task_applier_batches_total        (transactions per batch = their ratio)
//   dts_task_applier_open_transaction_rows rows applied so far of a transaction received in
//                                         pieces, not yet committed (0 when none)
//   dts_tracking_log_start_offset{task}, dts_tracking_log_end_offset{task}
//                                         tracking tasks: the change log's first and end offsets
//   dts_tracking_group_lag_records{task,group,topic}  records between a consumer group's
//                                         committed offset and the log's end (Kafka or HTTP)
//   dts_tasks{state}                      tasks per state
//   process_cpu_seconds_total, process_resident_memory_bytes, process_virtual_memory_bytes,
//   process_open_fds, process_threads, process_start_time_seconds   (from /proc/self)
#pragma once

#include <string>
#include <vector>

#include "server/task_manager.h"

namespace dts::server {

// The exposition of every task and the process.
std::string renderMetrics(const std::vector<TaskView>& tasks);

// A label value escaped for the exposition format (backslash, double quote, newline); a byte
// that is not UTF-8 and any other control character become U+FFFD, so one odd name (a consumer
// group kept by an older dts) never spoils the page for the scraper.
std::string escapeLabel(const std::string& value);

}  // namespace dts::server
