#include "source/writes_through.h"

#include <optional>

#include "mysql/sql_lexer.h"

namespace dts::source {

namespace {

// The first moved table `text` names: qualified names as written, unqualified ones (when
// default_db is set) in default_db. Also "a procedure" for a CALL when `calls` is set.
std::optional<std::string> firstMovedName(const pipeline::TableSelector& moved,
                                          const std::string& text, const std::string& default_db,
                                          bool calls) {
  auto toks = mysql::lexSql(text);
  if (!toks.ok()) return "a text dts cannot read (" + toks.status().message() + ")";
  const std::vector<mysql::SqlToken>& t = *toks;
  for (size_t i = 0; i < t.size(); ++i) {
    if (calls && t[i].isWord("CALL")) return std::string("a procedure (CALL)");
    if (!t[i].isName()) continue;
    if (i + 2 < t.size() && t[i + 1].isPunct('.') && t[i + 2].isName()) {
      if (moved.selectsTable(t[i].text, t[i + 2].text))
        return mysql::quoteQualified(t[i].text, t[i + 2].text);
      ++i;  // the table of db.table is not a name of its own
      continue;
    }
    if (!default_db.empty() && moved.selectsTable(default_db, t[i].text))
      return mysql::quoteQualified(default_db, t[i].text);
  }
  return std::nullopt;
}

}  // namespace

std::string judgeWritesThrough(const pipeline::TableSelector& moved,
                               const std::string& view_definition,
                               const std::vector<TriggerText>& triggers) {
  if (!view_definition.empty()) {
    // The server writes a view's definition with every table qualified.
    if (auto name = firstMovedName(moved, view_definition, "", false))
      return "a view over " + *name;
  }
  for (const TriggerText& tr : triggers) {
    if (auto name = firstMovedName(moved, tr.body, tr.schema, true))
      return "its trigger " + mysql::quoteQualified(tr.schema, tr.name) + " names " + *name;
  }
  return "";
}

Result<std::string> writesThrough(mysql::Connection& source, const pipeline::TableSelector& moved,
                                  const std::string& db, const std::string& table) {
  const std::string where_db = source.quoteString(db), where_table = source.quoteString(table);
  DTS_ASSIGN_OR_RETURN(auto view,
                       source.query("SELECT VIEW_DEFINITION FROM information_schema.VIEWS WHERE "
                                    "TABLE_SCHEMA = " +
                                    where_db + " AND TABLE_NAME = " + where_table));
  DTS_ASSIGN_OR_RETURN(auto triggers,
                       source.query("SELECT TRIGGER_SCHEMA, TRIGGER_NAME, ACTION_STATEMENT FROM "
                                    "information_schema.TRIGGERS WHERE EVENT_OBJECT_SCHEMA = " +
                                    where_db + " AND EVENT_OBJECT_TABLE = " + where_table));
  std::string definition;
  if (!view.rows.empty() && !view.rows[0].empty()) definition = view.rows[0][0].value_or("");
  // A view the user may not read the definition of shows an empty one: judged as naming moved
  // tables (nothing says otherwise).
  if (!view.rows.empty() && definition.empty())
    return std::string("a view whose definition the source user cannot read");
  std::vector<TriggerText> bodies;
  for (const auto& r : triggers.rows) {
    if (r.size() < 3) continue;
    bodies.push_back({r[0].value_or(""), r[1].value_or(""), r[2].value_or("")});
  }
  return judgeWritesThrough(moved, definition, bodies);
}

}  // namespace dts::source
