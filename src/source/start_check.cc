#include "source/start_check.h"

#include <algorithm>
#include <set>

#include "common/strings.h"
#include "mysql/connection.h"
#include "source/schema_history.h"

namespace dts::source {
namespace {

bool isNameChar(char c) {
  return isAsciiAlnum(c) || c == '_' || c == '$';
}

// Whether `word` appears in `text` as a word (ASCII case ignored).
bool hasWord(std::string_view text, std::string_view word) {
  for (size_t i = 0; i + word.size() <= text.size(); ++i) {
    if (!equalsIgnoreCase(text.substr(i, word.size()), word)) continue;
    const bool starts = i == 0 || !isNameChar(text[i - 1]);
    const bool ends = i + word.size() == text.size() || !isNameChar(text[i + word.size()]);
    if (starts && ends) return true;
  }
  return false;
}

bool startsWithWord(std::string_view sql, std::string_view word) {
  size_t i = 0;
  while (i < sql.size() && isAsciiSpace(sql[i])) ++i;
  return sql.size() - i >= word.size() && equalsIgnoreCase(sql.substr(i, word.size()), word) &&
         (sql.size() - i == word.size() || !isNameChar(sql[i + word.size()]));
}

std::string positionText(const std::optional<mysql::GtidPosition>& p) {
  return p.has_value() && !p->empty() ? p->toString() : "the oldest binlog";
}

std::string shown(std::string_view sql) {
  return "'" + excerpt(sql) + "'";
}

// Selects no table: a reader that only follows DDL.
class NoTables final : public pipeline::TableSelector {
 public:
  bool selectsTable(std::string_view, std::string_view) const override { return false; }
  bool selectsDatabase(std::string_view) const override { return false; }
};

}  // namespace

ChangeReaderOptions startCheckReaderOptions() {
  ChangeReaderOptions o;
  o.tables = std::make_shared<NoTables>();
  o.keep_all_ddl = true;
  return o;
}

bool createMayFindTheTable(std::string_view sql) {
  // The words before the column list or LIKE: CREATE [OR REPLACE] ... TABLE [IF NOT EXISTS] t.
  // Executable comments (CREATE TABLE /*!32312 IF NOT EXISTS*/ t) count too: text, not tokens.
  size_t end = sql.find('(');
  if (end == std::string_view::npos) end = sql.size();
  std::string_view head = sql.substr(0, end);
  return hasWord(head, "REPLACE") || hasWord(head, "EXISTS");
}

Result<StartCheck> checkDdlSinceStart(ChangeReader& reader, const pipeline::TableSelector& selected,
                                      const std::optional<mysql::GtidPosition>& from) {
  StartCheck out;
  // The probe knows nothing at first: a table it comes to know was created since the start.
  SchemaHistory::Options po;
  po.cares = [&selected](const std::string& db, const std::string& table) {
    return selected.selectsTable(db, table);
  };
  SchemaHistory probe(std::move(po));
  // Tables the stream defines from the start on: created since (the probe defined them), or
  // dropped before any row of theirs.
  std::set<std::pair<std::string, std::string>> created;
  std::optional<mysql::GtidPosition> at = from;             // the position after the event read
  std::string gtid;                                         // of the transaction being read
  std::set<std::pair<std::string, std::string>> with_rows;  // tables with rows since the start

  auto refuse = [&](const std::string& what, std::string_view sql) {
    const mysql::BinlogPosition& p = reader.position();
    std::string after = at.has_value() && !at->empty() ? at->toString() : "";
    return Status::FailedPrecondition(
        "cannot start at " + positionText(from) + ": " + what + " since then, by " + shown(sql) +
        " (GTID " + (gtid.empty() ? std::string("none") : gtid) + ", binlog " + p.file + ":" +
        std::to_string(p.offset) +
        "), so its definition at the start is unknown and its rows before that statement could "
        "not be given their column names" +
        (after.empty() ? std::string("; start after that statement")
                       : "; start after that statement: options.start: \"" + after + "\""));
  };

  while (true) {
    auto more = reader.nextEvents();
    if (!more.ok()) {
      return more.status().withContext("reading the binlog from " + positionText(from) +
                                       " to its end, for DDL since the start (" +
                                       reader.describe() + ")");
    }
    if (!*more) break;
    for (const mysql::BinlogEvent& ev : reader.events()) {
      ++out.events;
      std::string id;
      if (const auto* g = ev.as<mysql::MariaGtidEvent>()) id = g->gtid();
      if (const auto* g = ev.as<mysql::MySqlGtidEvent>()) id = g->gtid();
      if (!id.empty()) {
        gtid = id;
        auto parsed = mysql::Gtid::parse(id);
        if (parsed.ok()) {
          if (!at.has_value()) at = mysql::GtidPosition(parsed->flavor());
          (void)at->add(*parsed);  // another flavour than `from`: only the suggestion suffers
        }
        continue;
      }
      if (const auto* m = ev.as<mysql::TableMapEvent>()) {
        if (m->table != nullptr) with_rows.emplace(m->table->database, m->table->table);
        continue;
      }
      const auto* q = ev.as<mysql::QueryEvent>();
      if (q == nullptr) continue;
      auto applied = probe.apply(q->database, q->sql);
      if (!applied.ok()) {
        // A statement on a selected table created since the start that the history cannot
        // read: the task would stop on it anyway; say so now.
        return applied.status().withContext("cannot start at " + positionText(from));
      }
      if (!applied->changed && applied->unknown.empty() && !applied->unknown_everything) continue;
      ++out.ddl_statements;
      if (applied->unknown_everything)
        return refuse("a statement dts cannot read may have changed any table", q->sql);
      // A DROP before any row of the table since the start: what it was does not matter, and
      // from then on the stream defines it.
      const bool drop = startsWithWord(q->sql, "DROP");
      for (const auto& [db, table] : applied->unknown) {
        if (table.empty()) {
          if (!selected.selectsDatabase(db)) continue;
          bool rows = false;
          for (const auto& [d, t] : with_rows) rows = rows || d == db;
          if (!drop || rows)
            return refuse("database " + mysql::quoteIdentifier(db) + " was changed", q->sql);
        } else if (selected.selectsTable(db, table)) {
          if (!drop || with_rows.count({db, table}) != 0)
            return refuse("table " + mysql::quoteQualified(db, table) + " was changed", q->sql);
          created.emplace(db, table);
        }
      }
      for (const auto& name : applied->defined) {
        if (created.count(name) != 0) continue;
        if (selected.selectsTable(name.first, name.second) && createMayFindTheTable(q->sql)) {
          return refuse("table " + mysql::quoteQualified(name.first, name.second) +
                            " may have existed before it was created",
                        q->sql);
        }
        created.insert(name);
      }
    }
  }
  for (const auto& name : created) {
    if (selected.selectsTable(name.first, name.second)) out.from_stream.push_back(name);
  }
  return out;
}

}  // namespace dts::source
