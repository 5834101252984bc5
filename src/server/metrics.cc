#include "server/metrics.h"

#include <dirent.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>

#include "mysql/charset_convert.h"
#include "source/replication_health.h"

namespace dts::server {
namespace {

const char* kStates[] = {"created", "running", "paused", "stopped", "completed", "failed"};
const task::TaskPhase kPhases[] = {task::TaskPhase::kCreated,     task::TaskPhase::kPrechecking,
                                   task::TaskPhase::kSchema,      task::TaskPhase::kFull,
                                   task::TaskPhase::kIncremental, task::TaskPhase::kPaused,
                                   task::TaskPhase::kCompleted,   task::TaskPhase::kFailed};
const char* kErrorKinds[] = {"connection", "precheck", "other"};

std::string num(double v) {
  if (std::isnan(v)) return "NaN";
  char buf[64];
  if (v == std::floor(v) && std::fabs(v) < 1e15) {
    std::snprintf(buf, sizeof buf, "%.0f", v);
  } else {
    std::snprintf(buf, sizeof buf, "%.15g", v);
  }
  return buf;
}

class Writer {
 public:
  void family(const std::string& name, const char* type, const char* help) {
    out_ << "# HELP " << name << ' ' << help << "\n# TYPE " << name << ' ' << type << '\n';
  }
  void sample(const std::string& name, const std::string& labels, double v) {
    out_ << name;
    if (!labels.empty()) out_ << '{' << labels << '}';
    out_ << ' ' << num(v) << '\n';
  }
  std::string str() const { return out_.str(); }

 private:
  std::ostringstream out_;
};

std::string label(const char* key, const std::string& value) {
  return std::string(key) + "=\"" + escapeLabel(value) + "\"";
}

std::string tableName(const task::TableProgress& t) {
  return t.source_database + "." + t.source_table;
}

void processMetrics(Writer& w) {
  long ticks = sysconf(_SC_CLK_TCK);
  long page = sysconf(_SC_PAGESIZE);
  std::ifstream stat("/proc/self/stat");
  std::string line;
  std::getline(stat, line);
  size_t close = line.rfind(')');
  if (close != std::string::npos && ticks > 0) {
    std::istringstream in(line.substr(close + 2));
    std::vector<std::string> f;
    for (std::string s; in >> s;) f.push_back(s);
    // Fields from 3 (state) on: utime 14, stime 15, num_threads 20, starttime 22, vsize 23, rss 24.
    auto field = [&](int n) { return std::stod(f.at(static_cast<size_t>(n - 3))); };
    if (f.size() >= 22) {
      w.family("process_cpu_seconds_total", "counter", "User and system CPU time in seconds.");
      w.sample("process_cpu_seconds_total", "", (field(14) + field(15)) / ticks);
      w.family("process_threads", "gauge", "Threads of the process.");
      w.sample("process_threads", "", field(20));
      w.family("process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes.");
      w.sample("process_virtual_memory_bytes", "", field(23));
      w.family("process_resident_memory_bytes", "gauge", "Resident memory size in bytes.");
      w.sample("process_resident_memory_bytes", "", field(24) * page);
      std::ifstream up("/proc/stat");
      for (std::string l; std::getline(up, l);) {
        if (l.rfind("btime ", 0) == 0) {
          w.family("process_start_time_seconds", "gauge",
                   "Start time of the process since the Unix epoch in seconds.");
          w.sample("process_start_time_seconds", "", std::stod(l.substr(6)) + field(22) / ticks);
        }
      }
    }
  }
  if (DIR* d = opendir("/proc/self/fd")) {
    int n = 0;
    while (dirent* e = readdir(d)) n += e->d_name[0] != '.';
    closedir(d);
    w.family("process_open_fds", "gauge", "Open file descriptors.");
    w.sample("process_open_fds", "", n - 1);  // the directory handle itself
  }
}

}  // namespace

std::string escapeLabel(const std::string& value) {
  std::string out;
  mysql::forEachUtf8Run(
      value,
      [&](std::string_view run) {
        for (char c : run) {
          if (c == '\\') {
            out += "\\\\";
          } else if (c == '"') {
            out += "\\\"";
          } else if (c == '\n') {
            out += "\\n";
          } else if ((c >= 0 && c < 0x20) || c == 0x7f) {
            out += "\uFFFD";  // another control character: no scraper reads it in a label
          } else {
            out += c;
          }
        }
      },
      // A byte that is not UTF-8, which the text format requires.
      [&](unsigned char) { out += "\uFFFD"; });
  return out;
}

std::string renderMetrics(const std::vector<TaskView>& tasks) {
  Writer w;
  auto perTask = [&](const std::string& name, const char* type, const char* help, auto value) {
    w.family(name, type, help);
    for (const auto& t : tasks) value(t, label("task", t.name));
  };
  perTask("dts_task_info", "gauge", "A task of this server (value 1).",
          [&](const TaskView& t, const std::string& l) {
            w.sample("dts_task_info", l + "," + label("kind", t.kind), 1);
          });
  perTask("dts_task_state", "gauge", "The task's state (1 for the current one).",
          [&](const TaskView& t, const std::string& l) {
            for (const char* s : kStates)
              w.sample("dts_task_state", l + "," + label("state", s), t.state == s ? 1 : 0);
          });
  perTask("dts_task_phase", "gauge", "The engine's phase (1 for the current one).",
          [&](const TaskView& t, const std::string& l) {
            for (auto p : kPhases)
              w.sample("dts_task_phase", l + "," + label("phase", task::phaseName(p)),
                       t.engine.phase == p ? 1 : 0);
          });
  perTask("dts_task_rows_total", "counter", "Rows moved (full and incremental) since start.",
          [&](const TaskView& t, const std::string& l) {
            w.sample("dts_task_rows_total", l, static_cast<double>(t.rows_moved));
          });
  perTask("dts_task_bytes_total", "counter", "Row bytes moved since the server started.",
          [&](const TaskView& t, const std::string& l) {
            w.sample("dts_task_bytes_total", l, static_cast<double>(t.bytes_moved));
          });
  perTask("dts_task_rows_per_second", "gauge", "Rows moved per second (last ~5 s).",
          [&](const TaskView& t, const std::string& l) {
            w.sample("dts_task_rows_per_second", l, t.running ? t.engine.rps : 0);
          });
  perTask("dts_task_bytes_per_second", "gauge", "Row bytes moved per second (last ~5 s).",
          [&](const TaskView& t, const std::string& l) {
            w.sample("dts_task_bytes_per_second", l, t.running ? t.engine.mbps * 1e6 : 0);
          });
  perTask(
      "dts_task_replication_lag_seconds", "gauge",
      "Incremental: how far the destination is behind the source (0 when dts has everything the "
      "source has, measured from the stream's heartbeats and the applier's queue).",
      [&](const TaskView& t, const std::string& l) {
        double ms = t.running ? t.latency_ms : t.engine.latency_ms;
        // Unknown (no sample) while the secondary node read has stopped replicating.
        if (t.engine.phase == task::TaskPhase::kIncremental && ms >= 0 &&
            !t.engine.source_replication.degraded())
          w.sample("dts_task_replication_lag_seconds", l, ms / 1000.0);
      });
  // The secondary node's own replication (source/replication_health.h): only tasks that read a
  // secondary node whose replica status could be read have samples.
  using RS = source::ReplicationHealth::State;
  perTask("dts_task_source_replication_running", "gauge",
          "Secondary node read: 1 while its replication from the primary runs (IO and SQL "
          "threads), 0 while stopped or broken (the task then receives none of the primary's "
          "changes and its lag is unknown).",
          [&](const TaskView& t, const std::string& l) {
            const auto& h = t.engine.source_replication;
            if (h.state == RS::kRunning || h.state == RS::kStopped)
              w.sample("dts_task_source_replication_running", l + "," + label("node", h.node),
                       h.state == RS::kRunning ? 1 : 0);
          });
  perTask("dts_task_source_replication_delay_seconds", "gauge",
          "Secondary node read: how far the node itself is behind its primary "
          "(Seconds_Behind_Master), while its replication runs.",
          [&](const TaskView& t, const std::string& l) {
            const auto& h = t.engine.source_replication;
            if (h.state == RS::kRunning && h.seconds_behind.has_value())
              w.sample("dts_task_source_replication_delay_seconds", l + "," + label("node", h.node),
                       static_cast<double>(*h.seconds_behind));
          });
  perTask("dts_task_source_replication_unknown", "gauge",
          "Secondary node read: 1 when its replica status cannot be read (a missing privilege; "
          "the API's source_replication.reason names it).",
          [&](const TaskView& t, const std::string& l) {
            const auto& h = t.engine.source_replication;
            if (h.state == RS::kUnknown)
              w.sample("dts_task_source_replication_unknown", l + "," + label("node", h.node), 1);
          });
  perTask("dts_task_retrying", "gauge", "1 while a retryable failure is being retried.",
          [&](const TaskView& t, const std::string& l) {
            w.sample("dts_task_retrying", l, t.engine.retrying.empty() ? 0 : 1);
          });
  perTask("dts_task_retry_deadline_timestamp_seconds", "gauge",
          "While retrying: when the task gives up (Unix time).",
          [&](const TaskView& t, const std::string& l) {
            if (t.retry_deadline_ms)
              w.sample("dts_task_retry_deadline_timestamp_seconds", l,
                       static_cast<double>(*t.retry_deadline_ms) / 1000.0);
          });
  perTask("dts_task_errors_total", "counter", "Failures (retried or final) by kind.",
          [&](const TaskView& t, const std::string& l) {
            for (const char* k : kErrorKinds) {
              auto it = t.errors.find(k);
              w.sample("dts_task_errors_total", l + "," + label("kind", k),
                       it == t.errors.end() ? 0 : static_cast<double>(it->second));
            }
          });
  perTask("dts_task_degraded_total", "counter", "Times the task carried on in a lesser way.",
          [&](const TaskView& t, const std::string& l) {
            for (auto mode : task::kAllDegraded) {
              auto it = t.engine.degraded.find(task::degradedName(mode));
              w.sample("dts_task_degraded_total", l + "," + label("mode", task::degradedName(mode)),
                       it == t.engine.degraded.end() ? 0 : static_cast<double>(it->second));
            }
          });
  // Verification (options.verify): only tasks that ran it have samples.
  auto perVerify = [&](const std::string& name, const char* type, const char* help, auto value) {
    w.family(name, type, help);
    for (const auto& t : tasks) {
      if (!t.engine.verify.state.empty() || t.engine.verify.incremental.row_differences > 0)
        w.sample(name, label("task", t.name), value(t.engine.verify));
    }
  };
  perVerify("dts_task_verify_running", "gauge", "1 while the task's verification runs.",
            [](const task::VerifyState& v) { return v.state == "running" ? 1.0 : 0.0; });
  perVerify("dts_task_verify_equal", "gauge",
            "1 when the last verification found the destination equal, 0 otherwise.",
            [](const task::VerifyState& v) {
              return task::verifyOverallState(v) == "equal" ? 1.0 : 0.0;
            });
  perVerify("dts_task_verify_tables_checked", "gauge", "Tables verified so far.",
            [](const task::VerifyState& v) { return static_cast<double>(v.tables_checked); });
  perVerify("dts_task_verify_row_differences", "gauge", "Rows found different.",
            [](const task::VerifyState& v) { return static_cast<double>(v.row_differences); });
  perVerify("dts_task_verify_schema_differences", "gauge", "Schema differences found.",
            [](const task::VerifyState& v) { return static_cast<double>(v.schema_differences); });
  perVerify("dts_task_verify_rechecks_total", "counter",
            "Differing chunks checked again once the destination had caught up.",
            [](const task::VerifyState& v) { return static_cast<double>(v.rechecks); });
  // Incremental verification (options.verify.incremental): only tasks that run it.
  auto perIncremental = [&](const std::string& name, const char* help, auto value) {
    w.family(name, "counter", help);
    for (const auto& t : tasks) {
      if (t.engine.verify.incremental.enabled)
        w.sample(name, label("task", t.name), value(t.engine.verify.incremental));
    }
  };
  perIncremental(
      "dts_task_verify_incremental_rows_checked_total",
      "Changed rows compared by key once the destination had applied them.",
      [](const task::IncrementalVerifyState& i) { return static_cast<double>(i.rows_checked); });
  perIncremental(
      "dts_task_verify_incremental_row_differences_total",
      "Changed rows that still differed after the re-checks.",
      [](const task::IncrementalVerifyState& i) { return static_cast<double>(i.row_differences); });
  perIncremental(
      "dts_task_verify_incremental_rows_skipped_total",
      "Changed rows not checked: more than options.verify.max_changed_rows between "
      "two checks.",
      [](const task::IncrementalVerifyState& i) { return static_cast<double>(i.skipped); });
  auto perTable = [&](const std::string& name, const char* type, const char* help, auto value) {
    w.family(name, type, help);
    for (const auto& t : tasks) {
      for (const auto& tp : t.engine.tables)
        w.sample(name, label("task", t.name) + "," + label("table", tableName(tp)), value(tp));
    }
  };
  perTable("dts_task_full_rows_done", "gauge", "Full load: rows loaded per source table.",
           [](const task::TableProgress& p) { return static_cast<double>(p.rows_done); });
  perTable("dts_task_full_rows_estimated", "gauge", "Full load: estimated rows per source table.",
           [](const task::TableProgress& p) { return static_cast<double>(p.rows_estimated); });
  perTable("dts_task_full_table_done", "gauge", "Full load: 1 once the table is loaded.",
           [](const task::TableProgress& p) { return p.done ? 1.0 : 0.0; });
  perTable("dts_task_changes_applied_total", "counter",
           "Incremental: row changes applied per source table.",
           [](const task::TableProgress& p) { return static_cast<double>(p.changes_applied); });
  perTask("dts_task_full_progress_ratio", "gauge", "Full load: tables done and rows loaded, 0-1.",
          [&](const TaskView& t, const std::string& l) {
            double done = 0, all = 0;
            for (const auto& p : t.engine.tables) {
              double est = static_cast<double>(std::max(p.rows_estimated, p.rows_done));
              all += est;
              done += p.done ? est : static_cast<double>(p.rows_done);
            }
            bool finished = t.engine.full_done || t.engine.phase == task::TaskPhase::kIncremental;
            w.sample("dts_task_full_progress_ratio", l,
                     finished ? 1.0 : (all > 0 ? std::min(1.0, done / all) : 0.0));
          });
  perTask("dts_task_applier_queue_transactions", "gauge",
          "Incremental: transactions queued in the applier.",
          [&](const TaskView& t, const std::string& l) {
            w.sample("dts_task_applier_queue_transactions", l,
                     static_cast<double>(t.sink.queued_transactions));
          });
  perTask("dts_task_applier_open_transaction_rows", "gauge",
          "Incremental: rows applied so far of a transaction received in pieces and not yet "
          "committed (0 when none).",
          [&](const TaskView& t, const std::string& l) {
            w.sample("dts_task_applier_open_transaction_rows", l,
                     static_cast<double>(t.sink.open_transaction.rows));
          });
  perTask("dts_task_applier_transactions_total", "counter",
          "Incremental: transactions committed by the applier (current run).",
          [&](const TaskView& t, const std::string& l) {
            w.sample("dts_task_applier_transactions_total", l,
                     static_cast<double>(t.sink.transactions_applied));
          });
  perTask("dts_task_applier_batches_total", "counter",
          "Incremental: destination commits (batches) of the applier (current run).",
          [&](const TaskView& t, const std::string& l) {
            w.sample("dts_task_applier_batches_total", l, static_cast<double>(t.sink.batches));
          });
  // Tracking tasks: the change log and its consumer groups.
  auto perTracking = [&](const std::string& name, const char* help, auto value) {
    w.family(name, "gauge", help);
    for (const auto& t : tasks) {
      if (t.tracking) value(t, *t.tracking, label("task", t.name));
    }
  };
  perTracking("dts_tracking_log_start_offset",
              "Tracking: the change log's first offset (rises as retention removes segments).",
              [&](const TaskView&, const TrackingView& v, const std::string& l) {
                w.sample("dts_tracking_log_start_offset", l,
                         static_cast<double>(v.log_start_offset));
              });
  perTracking("dts_tracking_log_end_offset",
              "Tracking: the change log's end offset (the offset the next record gets).",
              [&](const TaskView&, const TrackingView& v, const std::string& l) {
                w.sample("dts_tracking_log_end_offset", l, static_cast<double>(v.log_end_offset));
              });
  perTracking("dts_tracking_group_lag_records",
              "Tracking: records between a consumer group's committed offset and the log's end.",
              [&](const TaskView&, const TrackingView& v, const std::string& l) {
                for (const auto& g : v.groups)
                  w.sample("dts_tracking_group_lag_records",
                           l + "," + label("group", g.name) + "," + label("topic", g.topic),
                           static_cast<double>(g.lag));
              });
  std::map<std::string, int> by_state;
  for (const char* s : kStates) by_state[s] = 0;
  for (const auto& t : tasks) by_state[t.state]++;
  w.family("dts_tasks", "gauge", "Tasks of this server per state.");
  for (const auto& [s, n] : by_state) w.sample("dts_tasks", label("state", s), n);
  processMetrics(w);
  return w.str();
}

}  // namespace dts::server
