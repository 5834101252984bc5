// Rendering of a VerifyReport (task/verify.h): the readable summary, JSON and the repair SQL.
#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "common/terminal_text.h"
#include "sink/sql_literal.h"
#include "task/verify.h"

namespace dts::task {

namespace {

nlohmann::json optionalJson(const std::optional<std::string>& v) {
  return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
}

std::string shown(const std::optional<std::string>& v) {
  if (!v) return "NULL";
  constexpr size_t kMax = 200;  // a long value is cut in the summary (JSON has it whole)
  // Built by append: GCC 12 -O2 reports a false -Wrestrict on "'" + std::string.
  std::string out = "'";
  if (v->size() > kMax) {
    out.append(*v, 0, kMax);
    out += "...' (";
    out += std::to_string(v->size());
    out += " bytes)";
    return out;
  }
  out += *v;
  out += "'";
  return out;
}

std::string keyText(const RowDifference& d) {
  std::string out;
  for (const auto& [col, v] : d.key) out += (out.empty() ? "" : ", ") + col + "=" + shown(v);
  return out;
}

}  // namespace

std::string verifyReportText(const VerifyReport& report) {
  std::string out;
  char line[512];
  for (const auto& t : report.tables) {
    // Padded by terminal cells, not bytes (`tëst_ünï`, `订单` stay in their column); a longer
    // name is shown whole.
    auto padded = [](const std::string& name) {
      const size_t cells = displayWidth(name);
      return name + std::string(cells < 40 ? 40 - cells : 0, ' ');
    };
    std::snprintf(line, sizeof(line), "%s -> %s %s  rows %llu/%llu  chunks %llu  %.2fs\n",
                  padded(t.source_table).c_str(), padded(t.target_table).c_str(),
                  t.equal() ? "equal" : "DIFFERENT", static_cast<unsigned long long>(t.source_rows),
                  static_cast<unsigned long long>(t.destination_rows),
                  static_cast<unsigned long long>(t.chunks), t.seconds);
    out += line;
    if (t.keyless) out += "  (no key: compared as a multiset of row hashes)\n";
    if (t.chunks_resumed > 0)
      out += "  " + std::to_string(t.chunks_resumed) + " chunks done by an interrupted run\n";
    if (t.load_pauses > 0) {
      std::snprintf(line, sizeof(line), "  paused %llu times (%.1f s) while the source was busy\n",
                    static_cast<unsigned long long>(t.load_pauses), t.paused_seconds);
      out += line;
    }
    if (!t.data_skipped_reason.empty())
      out += "  data not compared: " + t.data_skipped_reason + "\n";
    for (const auto& s : t.schema) {
      out += "  schema: " + s.object + ": " + s.what;
      if (!s.source.empty() || !s.destination.empty())
        out += " (source " + (s.source.empty() ? "-" : s.source) + ", destination " +
               (s.destination.empty() ? "-" : s.destination) + ")";
      out += "\n";
    }
    for (const auto& r : t.rows) {
      out += std::string("  ") + rowDifferenceKindName(r.kind) + ": " + keyText(r);
      if (r.count > 1) out += " (" + std::to_string(r.count) + " copies)";
      out += "\n";
      for (const auto& c : r.columns)
        out += "    " + c.column + ": source " + shown(c.source) + ", destination " +
               shown(c.destination) + "\n";
    }
    if (t.row_differences > t.listedDifferences())
      out += "  ... " + std::to_string(t.row_differences - t.listedDifferences()) +
             " more row differences not listed\n";
  }
  if (!report.note.empty()) out += "note: " + report.note + "\n";
  if (!report.unproven.empty()) out += "NOT PROVEN: " + report.unproven + "\n";
  const bool tables_equal = std::all_of(report.tables.begin(), report.tables.end(),
                                        [](const auto& t) { return t.equal(); });
  std::snprintf(line, sizeof(line),
                "%s: %zu tables, %llu row differences, %llu schema differences, %.2fs\n",
                report.equal() ? "EQUAL" : (tables_equal ? "NOT PROVEN" : "DIFFERENT"),
                report.tables.size(), static_cast<unsigned long long>(report.rowDifferences()),
                static_cast<unsigned long long>(report.schemaDifferences()), report.seconds);
  out += line;
  return out;
}

nlohmann::json verifyTableJson(const TableVerifyResult& t, size_t max_rows,
                               size_t max_value_bytes) {
  auto value = [&](const std::optional<std::string>& v) {
    if (!v || max_value_bytes == 0 || v->size() <= max_value_bytes) return optionalJson(v);
    // Cut on a UTF-8 character boundary (the JSON writer refuses a broken sequence).
    size_t end = max_value_bytes;
    while (end > 0 && (static_cast<unsigned char>((*v)[end]) & 0xC0) == 0x80) --end;
    std::string cut = v->substr(0, end);
    cut += "... (";
    cut += std::to_string(v->size());
    cut += " bytes)";
    return nlohmann::json(cut);
  };
  nlohmann::json rows = nlohmann::json::array();
  for (const auto& r : t.rows) {
    if (max_rows != 0 && rows.size() >= max_rows) break;
    nlohmann::json key = nlohmann::json::object();
    for (const auto& [col, v] : r.key) key[col] = value(v);
    nlohmann::json cols = nlohmann::json::array();
    for (const auto& c : r.columns)
      cols.push_back({{"column", c.column},
                      {"source", value(c.source)},
                      {"destination", value(c.destination)}});
    nlohmann::json row = {
        {"kind", rowDifferenceKindName(r.kind)}, {"key", key}, {"count", r.count}};
    if (r.kind == RowDifference::Kind::kChanged) row["columns"] = cols;
    rows.push_back(std::move(row));
  }
  nlohmann::json schema = nlohmann::json::array();
  for (const auto& s : t.schema)
    schema.push_back({{"object", s.object},
                      {"what", s.what},
                      {"source", s.source},
                      {"destination", s.destination}});
  return {{"source_table", t.source_table},
          {"target_table", t.target_table},
          {"equal", t.equal()},
          {"keyless", t.keyless},
          {"data_compared", t.data_compared},
          {"data_skipped_reason", t.data_skipped_reason},
          {"source_rows", t.source_rows},
          {"destination_rows", t.destination_rows},
          {"chunks", t.chunks},
          {"chunks_resumed", t.chunks_resumed},
          {"rechecks", t.rechecks},
          {"load_pauses", t.load_pauses},
          {"paused_seconds", t.paused_seconds},
          {"row_differences", t.row_differences},
          {"rows", rows},
          {"schema", schema},
          {"seconds", t.seconds}};
}

std::string verifyReportJson(const VerifyReport& report) {
  nlohmann::json tables = nlohmann::json::array();
  for (const auto& t : report.tables) tables.push_back(verifyTableJson(t, 0, 0));
  nlohmann::json out = {
      {"task", report.task},
      {"equal", report.equal()},
      {"row_differences", report.rowDifferences()},
      {"schema_differences", report.schemaDifferences()},
      {"seconds", report.seconds},
      {"resumed", report.resumed},
      {"unproven",
       report.unproven.empty() ? nlohmann::json(nullptr) : nlohmann::json(report.unproven)},
      {"note", report.note.empty() ? nlohmann::json(nullptr) : nlohmann::json(report.note)},
      {"tables", tables}};
  return out.dump(2) + "\n";
}

std::string verifyFixSql(const VerifyReport& report) {
  // Each statement repairs one row and nothing else: foreign key checks are off, so that a
  // REPLACE of a parent row (a delete and an insert) neither cascades to its children nor fails
  // on them; a differing child row has a statement of its own.
  std::string out = "-- Repair SQL written by dts verify for task " + report.task +
                    ": review before running it against the destination.\n"
                    "-- Rows only: foreign key checks are off while it runs, so that repairing a "
                    "parent row\n-- neither cascades to its children nor fails on them.\n"
                    "SET NAMES utf8mb4;\nSET time_zone = '+00:00';\n"
                    "SET @dts_verify_fk_checks = @@SESSION.foreign_key_checks;\n"
                    "SET SESSION foreign_key_checks = 0;\n"
                    // The literals are written for this mode (backslash escapes: a destination
                    // whose sql_mode has NO_BACKSLASH_ESCAPES would store '\\' as two
                    // characters), and it is the one dts writes rows under (strict).
                    "SET @dts_verify_sql_mode = @@SESSION.sql_mode;\n"
                    "SET SESSION sql_mode = '" +
                    std::string(sink::strictSqlMode()) + "';\n";
  for (const auto& t : report.tables) {
    if (t.rows.empty() && t.schema.empty()) continue;
    out += "\n-- " + t.source_table + " -> " + t.target_table + "\n";
    for (const auto& s : t.schema) {
      std::string line = "-- schema (not repaired here): " + s.object + ": " + s.what;
      for (char& c : line) {
        if (c == '\n' || c == '\r') c = ' ';
      }
      out += line + "\n";
    }
    if (t.row_differences > t.listedDifferences())
      out += "-- only the first " + std::to_string(t.listedDifferences()) + " of " +
             std::to_string(t.row_differences) + " differences are repaired here\n";
    // Surplus rows go first: a key that differs only where the column's collation sees no
    // difference (case, trailing spaces) names the source's row too, so a DELETE after the
    // REPLACE of that row would delete it again.
    for (const auto& r : t.rows)
      if (r.kind == RowDifference::Kind::kExtra) out += r.fix_sql + "\n";
    for (const auto& r : t.rows)
      if (r.kind != RowDifference::Kind::kExtra) out += r.fix_sql + "\n";
  }
  out +=
      "\nSET SESSION foreign_key_checks = @dts_verify_fk_checks;\n"
      "SET SESSION sql_mode = @dts_verify_sql_mode;\n";
  return out;
}

}  // namespace dts::task
