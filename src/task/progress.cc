#include "task/progress.h"

#include <algorithm>
#include <cstdio>
#include <iterator>

#include "common/terminal_text.h"

namespace dts::task {

Progress::Table* Progress::addTable(const std::string& source_db, const std::string& source_table,
                                    const std::string& target_db, const std::string& target_table) {
  auto t = std::make_unique<Table>();
  t->source_database = source_db;
  t->source_table = source_table;
  t->target_database = target_db;
  t->target_table = target_table;
  std::lock_guard<std::mutex> lock(tables_mu_);
  forgotten_names_.erase({source_db, source_table});
  by_source_.emplace(std::make_pair(source_db, source_table), t.get());
  tables_.push_back(std::move(t));
  return tables_.back().get();
}

Progress::Table* Progress::findTable(const std::string& source_db,
                                     const std::string& source_table) {
  std::lock_guard<std::mutex> lock(tables_mu_);
  auto it = by_source_.find({source_db, source_table});
  return it == by_source_.end() ? nullptr : it->second;
}

void Progress::forgetTable(const std::string& source_db, const std::string& source_table) {
  std::lock_guard<std::mutex> lock(tables_mu_);
  const auto key = std::make_pair(source_db, source_table);
  forgotten_names_.insert(key);
  auto it = by_source_.find(key);
  if (it == by_source_.end()) return;
  Table* gone = it->second;
  by_source_.erase(it);
  for (auto t = tables_.begin(); t != tables_.end(); ++t) {
    if (t->get() != gone) continue;
    forgotten_tables_.push_back(std::move(*t));  // kept alive: a loader may still hold it
    tables_.erase(t);
    break;
  }
}

void Progress::reselected(const std::string& source_db, const std::string& source_table) {
  std::lock_guard<std::mutex> lock(tables_mu_);
  forgotten_names_.erase({source_db, source_table});
}

bool Progress::forgotten(const std::string& source_db, const std::string& source_table) const {
  std::lock_guard<std::mutex> lock(tables_mu_);
  return forgotten_names_.count({source_db, source_table}) != 0;
}

std::vector<TableProgress> Progress::tables() const {
  std::vector<TableProgress> out;
  std::lock_guard<std::mutex> lock(tables_mu_);
  for (const auto& t : tables_) {
    out.push_back({t->source_database, t->source_table, t->target_database, t->target_table,
                   t->rows_done.load(), t->rows_estimated.load(), t->bytes_done.load(),
                   t->done.load(), t->changes_applied.load()});
  }
  return out;
}

void Progress::restoreDegraded(const std::map<std::string, uint64_t>& counts) {
  for (Degraded mode : kAllDegraded) {
    auto it = counts.find(degradedName(mode));
    degraded_[static_cast<size_t>(mode)].store(it == counts.end() ? 0 : it->second);
  }
}

void Progress::storeDegraded(std::map<std::string, uint64_t>* counts) const {
  for (Degraded mode : kAllDegraded) {
    uint64_t n = degradedCount(mode);
    if (n != 0) (*counts)[degradedName(mode)] = n;
  }
}

Progress::Rates Progress::sample(std::chrono::steady_clock::time_point now) {
  std::lock_guard<std::mutex> lock(mu_);
  samples_.push_back({now, rows_.load(), bytes_.load()});
  while (samples_.size() > 2 && now - samples_.front().at > std::chrono::seconds(5))
    samples_.pop_front();
  Rates r;
  if (samples_.size() < 2) return r;
  double secs = std::chrono::duration<double>(now - samples_.front().at).count();
  if (secs <= 0) return r;
  r.rps = static_cast<double>(samples_.back().rows - samples_.front().rows) / secs;
  r.mbps = static_cast<double>(samples_.back().bytes - samples_.front().bytes) / secs / 1e6;
  return r;
}

namespace {
std::string bar(double fraction, int width) {
  if (fraction < 0) fraction = 0;
  if (fraction > 1) fraction = 1;
  int filled = static_cast<int>(fraction * width + 0.5);
  // Appended: "[" + std::string(...) trips GCC 12's false -Wrestrict at -O3.
  std::string out(1, '[');
  out.append(filled, '#');
  out.append(width - filled, '.');
  out.push_back(']');
  return out;
}
}  // namespace

std::string groupDigits(uint64_t n) {
  std::string digits = std::to_string(n), out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out.push_back(',');
    out.push_back(digits[i]);
  }
  return out;
}

std::string humanBytes(uint64_t bytes) {
  static const char* const kUnits[] = {"B", "KB", "MB", "GB", "TB", "PB"};
  double v = static_cast<double>(bytes);
  size_t u = 0;
  while (v >= 1024 && u + 1 < std::size(kUnits)) {
    v /= 1024;
    ++u;
  }
  char buf[32];
  if (u == 0)
    std::snprintf(buf, sizeof buf, "%llu B", static_cast<unsigned long long>(bytes));
  else
    std::snprintf(buf, sizeof buf, "%.1f %s", v, kUnits[u]);
  return buf;
}

std::string rowsOfTotal(const TableProgress& t) {
  if (t.done) return groupDigits(t.rows_done) + "/" + groupDigits(t.rows_done);
  return groupDigits(t.rows_done) + "/~" + groupDigits(std::max(t.rows_estimated, t.rows_done));
}

std::string renderProgress(const std::string& task, TaskPhase phase,
                           const std::vector<TableProgress>& tables, Progress::Rates rates,
                           double latency_ms, bool tty, const OpenTransaction& open,
                           const TrackingLogState* tracking,
                           const source::ReplicationHealth& source) {
  uint64_t done = 0, est = 0;
  size_t tables_done = 0;
  for (const auto& t : tables) {
    done += t.rows_done;
    est += t.done ? t.rows_done : std::max(t.rows_estimated, t.rows_done);
    if (t.done) ++tables_done;
  }
  std::string latency =
      latency_ms < 0 ? "- ms" : std::to_string(static_cast<int64_t>(latency_ms)) + " ms";
  if (source.degraded()) {
    // Measured against the node, whose own replication stopped: not a healthy number.
    latency = "unknown (source node replication stopped)";
  } else if (source.state == source::ReplicationHealth::State::kRunning &&
             source.seconds_behind.value_or(0) > 0) {
    latency += " + node " + std::to_string(*source.seconds_behind) + " s behind its primary";
  }
  std::string head;
  if (tracking != nullptr) {
    // A tracking task loads nothing: what it has is its log.
    std::string log = "change log not open yet";
    if (tracking->known()) {
      log = "change log " +
            groupDigits(static_cast<uint64_t>(
                std::max<int64_t>(0, tracking->end_offset - tracking->first_offset))) +
            " records (offsets " + std::to_string(tracking->first_offset) + "-" +
            std::to_string(tracking->end_offset) + ")";
      // The size is the runner's (dts status); the API's view of a log has none.
      if (tracking->disk_bytes > 0) log += ", " + humanBytes(tracking->disk_bytes);
    }
    char rest[96];
    std::snprintf(rest, sizeof(rest), "  %.0f changes/s  %.2f MB/s  lag ", rates.rps, rates.mbps);
    head = task + " " + phaseName(phase) + "  " + log + rest + latency;
  } else {
    const bool estimated = tables_done < tables.size();
    char buf[256];
    std::snprintf(
        buf, sizeof(buf), "%s %-11s tables %zu/%zu rows %s/%s%s  %.0f rows/s  %.2f MB/s  latency ",
        task.c_str(), phaseName(phase), tables_done, tables.size(), groupDigits(done).c_str(),
        estimated ? "~" : "", groupDigits(est).c_str(), rates.rps, rates.mbps);
    head = buf + latency;
  }
  // Its own line, in both forms: "  open transaction 0-1-4: 420,000 rows so far, none
  // committed before its last row".
  std::string open_line;
  if (!open.gtid.empty()) {
    open_line = "  open transaction " + open.gtid + ": " + groupDigits(open.rows) +
                " rows so far, none committed before its last row\n";
  }
  // Stopped: on every frame, as long as it lasts. Unknown (a missing privilege) is said once, by
  // the runner's log line and by `dts status`, not on every progress frame.
  if (source.degraded()) open_line += "  " + source::describeReplicationHealth(source) + "\n";
  if (!tty) return std::string(head) + "\n" + open_line;
  std::string out = std::string(head) + "\n" + open_line;
  if (tracking == nullptr && (phase == TaskPhase::kFull || phase == TaskPhase::kSchema)) {
    out += "  full " + bar(est == 0 ? 0 : static_cast<double>(done) / est, 40) + "\n";
    for (const auto& t : tables) {
      if (t.done) continue;
      const uint64_t total = std::max(t.rows_estimated, t.rows_done);
      double f = total == 0 ? 0 : static_cast<double>(t.rows_done) / total;
      out += "  " + fitWidth(t.source_database + "." + t.source_table, 40) + " " + bar(f, 20) +
             " " + rowsOfTotal(t) + "\n";
    }
  }
  if (phase == TaskPhase::kIncremental) {
    // The busiest tables by row changes applied (a terminal has room for a few).
    std::vector<const TableProgress*> busy;
    for (const auto& t : tables) {
      if (t.changes_applied > 0) busy.push_back(&t);
    }
    constexpr size_t kShown = 10;
    std::partial_sort(busy.begin(),
                      busy.begin() + static_cast<std::ptrdiff_t>(std::min(busy.size(), kShown)),
                      busy.end(), [](const TableProgress* a, const TableProgress* b) {
                        return a->changes_applied > b->changes_applied;
                      });
    for (size_t i = 0; i < busy.size() && i < kShown; ++i) {
      out += "  " + fitWidth(busy[i]->source_database + "." + busy[i]->source_table, 40) + " " +
             groupDigits(busy[i]->changes_applied) +
             (tracking != nullptr ? " changes logged\n" : " changes applied\n");
    }
    if (busy.size() > kShown)
      out += "  ... " + std::to_string(busy.size() - kShown) + " more tables with changes\n";
  }
  return out;
}

}  // namespace dts::task
