#include "task/status_view.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <chrono>

#include "common/terminal_text.h"
#include "source/retry_policy.h"
#include "task/progress.h"

namespace dts::task {
namespace {

// options.incremental: false in the task's own file (a migration that ends after its full data).
bool withoutIncremental(const TaskState& st) {
  if (st.kind != "migration" || st.config_yaml.empty()) return false;
  try {
    const YAML::Node options = YAML::Load(st.config_yaml)["options"];
    return options && options["incremental"] && !options["incremental"].as<bool>();
  } catch (const YAML::Exception&) {
    return false;
  }
}

std::string timeText(int64_t ms) {
  if (ms <= 0) return "never";
  return source::formatTime(Clock::TimePoint(std::chrono::milliseconds(ms)));
}

// A column as wide as its widest entry (in cells), within [min, kMaxNameColumn].
size_t columnWidth(const std::vector<std::string>& entries, size_t min) {
  size_t w = min;
  for (const auto& e : entries) w = std::max(w, displayWidth(e));
  return std::min(w, kMaxNameColumn);
}

std::string padLeft(const std::string& s, size_t width) {
  return s.size() >= width ? s : std::string(width - s.size(), ' ') + s;
}

void appendTables(const TaskState& st, bool tracking, std::string* out) {
  if (st.tables.empty()) return;
  std::vector<std::string> sources, targets, rows;
  for (const auto& t : st.tables) {
    sources.push_back(t.source_database + "." + t.source_table);
    targets.push_back(t.target_database + "." + t.target_table);
    rows.push_back(rowsOfTotal(t));
  }
  const size_t sw = columnWidth(sources, 12);
  if (tracking) {
    // Nothing is loaded: each table's changes logged (renamed tables with their logged name).
    for (size_t i = 0; i < st.tables.size(); ++i) {
      const auto& t = st.tables[i];
      std::string line = "  " + fitWidth(sources[i], sw) + " " +
                         padLeft(groupDigits(t.changes_applied), 12) + " changes logged";
      if (targets[i] != sources[i]) line += " (as " + targets[i] + ")";
      *out += line + "\n";
    }
    return;
  }
  const size_t tw = columnWidth(targets, 12);
  size_t rw = 0;
  for (const auto& r : rows) rw = std::max(rw, r.size());
  for (size_t i = 0; i < st.tables.size(); ++i) {
    const auto& t = st.tables[i];
    std::string line = "  " + fitWidth(sources[i], sw) + " -> " + fitWidth(targets[i], tw) + " " +
                       padLeft(rows[i], rw) + (t.done ? " done" : "     ");
    if (t.changes_applied > 0) line += "  " + groupDigits(t.changes_applied) + " changes applied";
    while (!line.empty() && line.back() == ' ') line.pop_back();
    *out += line + "\n";
  }
}

void appendTracking(const TaskState& st, const StatusContext& ctx, std::string* out) {
  const TrackingLogState& log = st.tracking;
  if (log.retention_hours > 0 || log.retention_bytes > 0) {
    std::string r = "  retention: " + std::to_string(log.retention_hours) + " h";
    r += log.retention_bytes > 0 ? " or " + humanBytes(log.retention_bytes) + " on disk"
                                 : ", no size cap";
    *out += r + "\n";
  }
  if (!st.checkpoint_gtid.empty()) {
    std::string lag =
        st.latency_ms < 0 ? "unknown" : std::to_string(static_cast<int64_t>(st.latency_ms)) + " ms";
    *out += "  source position logged: " + st.checkpoint_gtid + " (lag " + lag + ")\n";
  } else if (st.start_gtid.has_value()) {
    *out += "  source start: " +
            (st.start_gtid->empty() ? std::string("(the start of the binlog)") : *st.start_gtid) +
            "\n";
  }
  if (ctx.groups.empty()) {
    *out += "  consumer groups: none has committed\n";
    return;
  }
  *out +=
      "  consumer groups (lag against the log end saved at " + timeText(st.updated_at_ms) + "):\n";
  std::vector<std::string> names;
  for (const auto& g : ctx.groups)
    names.push_back(g.group + (g.topic == st.name ? "" : " (" + g.topic + ")"));
  const size_t gw = columnWidth(names, 8);
  for (size_t i = 0; i < ctx.groups.size(); ++i) {
    const StatusGroup& g = ctx.groups[i];
    std::string lag = "-";
    if (log.known())
      lag = groupDigits(static_cast<uint64_t>(
          std::max<int64_t>(0, log.end_offset - std::max<int64_t>(g.committed_offset, 0))));
    *out += "    " + fitWidth(names[i], gw) + " committed " +
            padLeft(std::to_string(g.committed_offset), 10) + "  lag " + padLeft(lag, 10) +
            " records  at " + timeText(g.committed_at_ms) + "\n";
  }
}

void appendErrors(const TaskState& st, std::string* out) {
  if (!st.last_error.empty()) {
    *out += "  last error: " + st.last_error + "\n";
    return;
  }
  if (st.errors.empty() || st.errors.back().recovered_at_ms == 0) return;
  const PastError& e = st.errors.back();
  *out += "  recovered at " + timeText(e.recovered_at_ms) + " from an error first seen at " +
          timeText(e.at_ms) + ": " + e.message + "\n";
  if (st.errors.size() > 1)
    *out += "  (" + std::to_string(st.errors.size()) +
            " past errors kept: `dts status --json`, \"error_history\")\n";
}

}  // namespace

void appendVerify(const VerifyState& v, std::string* out) {
  if (!v.state.empty() || v.incremental.row_differences > 0) {
    *out += "  verify: " + verifyOverallState(v);
    if (!v.state.empty())
      *out += ", " + std::to_string(v.tables_checked) + "/" + std::to_string(v.tables_total) +
              " tables, " + std::to_string(v.row_differences) + " row and " +
              std::to_string(v.schema_differences) + " schema differences";
    *out += "\n";
  }
  if (v.incremental.enabled) {
    const auto& i = v.incremental;
    *out += "  verify incremental: " + std::to_string(i.rows_checked) + " changed rows checked, " +
            std::to_string(i.row_differences) + " different, " + std::to_string(i.skipped) +
            " skipped\n";
    // The rows that differ, with their keys: what to look at, or repair (dts verify --fix).
    if (i.row_differences > 0 && !i.detail.empty()) {
      std::string detail = i.detail;
      while (!detail.empty() && detail.back() == '\n') detail.pop_back();
      size_t at = 0;
      while (at <= detail.size()) {
        size_t nl = detail.find('\n', at);
        *out += "    " + detail.substr(at, nl == std::string::npos ? std::string::npos : nl - at) +
                "\n";
        if (nl == std::string::npos) break;
        at = nl + 1;
      }
    }
  }
}

std::string renderTaskStatus(const TaskState& st, const StatusContext& ctx) {
  const bool tracking = st.kind == "tracking";
  // No process runs it: nothing moves, whatever the last saved rates were.
  const bool still = ctx.not_running;
  std::string out =
      renderProgress(st.name, st.phase, st.tables, {still ? 0.0 : st.rps, still ? 0.0 : st.mbps},
                     still ? -1.0 : st.latency_ms, false, st.open_transaction,
                     tracking ? &st.tracking : nullptr, st.source_replication);
  if (ctx.not_running) {
    out +=
        "  not running: no process runs this task now (it was killed or crashed); state as "
        "saved at " +
        timeText(st.updated_at_ms) + "; `dts run FILE --data-dir " + ctx.data_dir +
        "` resumes it from its checkpoint\n";
  }
  appendTables(st, tracking, &out);
  if (tracking) {
    appendTracking(st, ctx, &out);
  } else {
    if (st.start_gtid.has_value()) {
      // A migration without incremental changes has no incremental start: the position is the
      // instant its rows were copied as of.
      out += std::string(withoutIncremental(st) ? "  copied as of: " : "  incremental start: ") +
             (st.start_gtid->empty() ? std::string("(the start of the binlog)") : *st.start_gtid) +
             "\n";
    }
    if (!st.checkpoint_gtid.empty()) out += "  checkpoint: " + st.checkpoint_gtid + "\n";
  }
  if (!st.retrying.empty()) out += "  " + st.retrying + "\n";
  // A missing privilege: said here, once per status (a live frame does not repeat it).
  if (st.source_replication.state == source::ReplicationHealth::State::kUnknown)
    out += "  " + source::describeReplicationHealth(st.source_replication) + "\n";
  if (!st.degraded.empty()) {
    // Paths where the task warned and went on in a lesser way (task::Degraded).
    std::string list;
    for (const auto& [mode, count] : st.degraded)
      list += (list.empty() ? "" : ", ") + mode + " " + std::to_string(count);
    out += "  degraded: " + list + "\n";
  }
  appendVerify(st.verify, &out);
  appendErrors(st, &out);
  return out;
}

}  // namespace dts::task
