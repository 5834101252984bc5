#include "task/schema_copier.h"

#include <algorithm>
#include <cstdlib>
#include <set>

#include "common/strings.h"
#include "mysql/sql_lexer.h"
#include "task/full_meta.h"

namespace dts::task {

namespace {

using mysql::SqlLexer;
using mysql::SqlToken;
using mysql::SqlTokenKind;

// Reads a `quoted` identifier at s[pos] (pos at the opening backtick); advances pos past it.
bool readIdentifier(std::string_view s, size_t* pos, std::string* out) {
  if (*pos >= s.size() || s[*pos] != '`') return false;
  SqlLexer lexer(s.substr(*pos));
  auto t = lexer.next();
  if (!t.ok() || !t->has_value() || (*t)->kind != SqlTokenKind::kQuotedIdentifier) return false;
  *out = std::move((*t)->text);
  *pos += (*t)->end;
  return true;
}

// Every `identifier` in s (string literals skipped), up to the end or to an unterminated quote
// (which SHOW CREATE TABLE never prints).
std::vector<std::string> identifiersIn(std::string_view s) {
  std::vector<std::string> out;
  SqlLexer lexer(s);
  while (true) {
    auto t = lexer.next();
    if (!t.ok() || !t->has_value()) return out;
    if ((*t)->kind == SqlTokenKind::kQuotedIdentifier) out.push_back(std::move((*t)->text));
  }
}

// The text between the parenthesis opening at or after `from` and its match (parentheses inside
// identifiers and strings do not count); empty when there is none. *end: just past the match.
std::string_view parenthesized(std::string_view s, size_t from, size_t* end) {
  if (from > s.size()) return {};
  SqlLexer lexer(s.substr(from));
  size_t open = 0;
  int depth = 0;
  while (true) {
    auto t = lexer.next();
    if (!t.ok() || !t->has_value()) return {};
    const SqlToken& tok = **t;
    if (tok.isPunct('(')) {
      if (depth++ == 0) open = from + tok.begin;
    } else if (tok.isPunct(')') && depth > 0 && --depth == 0) {
      if (end != nullptr) *end = from + tok.end;
      return s.substr(open + 1, from + tok.begin - open - 1);
    }
  }
}

}  // namespace

Result<RewrittenTable> rewriteCreateTable(std::string_view create_sql,
                                          const pipeline::TableRoute& route,
                                          const pipeline::Mapping& mapping,
                                          bool defer_secondary_keys) {
  // One line per item, split at newlines outside quotes: an identifier (table, column, key,
  // constraint) may hold a newline, which SHOW CREATE TABLE prints as it is.
  std::vector<std::string_view> lines;
  {
    size_t start = 0;
    char quote = 0;  // the quote we are inside of, or 0
    for (size_t i = 0; i < create_sql.size(); ++i) {
      const char c = create_sql[i];
      if (quote != 0) {
        if (c == '\\' && quote != '`') {
          ++i;  // an escaped character of a string
        } else if (c == quote) {
          if (i + 1 < create_sql.size() && create_sql[i + 1] == quote)
            ++i;  // a doubled quote stays inside
          else
            quote = 0;
        }
      } else if (c == '`' || c == '\'' || c == '"') {
        quote = c;
      } else if (c == '\n') {
        lines.push_back(create_sql.substr(start, i - start));
        start = i + 1;
      }
    }
    lines.push_back(create_sql.substr(start));
  }
  std::string what = "SHOW CREATE TABLE of " + route.source_database + "." + route.source_table;
  if (lines.size() < 3 || !lines[0].starts_with("CREATE TABLE ") || lines[0].back() != '(') {
    return Status::InvalidArgument(what + ": unexpected layout (first line '" +
                                   std::string(lines[0].substr(0, 80)) + "')");
  }
  size_t footer = lines.size();
  for (size_t i = 1; i < lines.size(); ++i) {
    if (lines[i].starts_with(")")) {
      footer = i;
      break;
    }
  }
  if (footer == lines.size()) return Status::InvalidArgument(what + ": no closing ')' line");

  RewrittenTable out;
  std::set<std::string> kept_columns;
  std::set<std::string> auto_increment_columns;
  std::vector<std::string> items;
  std::vector<size_t> deferrable;  // items[i] that may be deferred, with their parsed name
  std::vector<std::string> deferrable_names;
  bool has_foreign_key = false;
  auto kept = [&](const std::vector<std::string>& cols) {
    return std::all_of(cols.begin(), cols.end(),
                       [&](const std::string& c) { return kept_columns.count(c) != 0; });
  };
  // Columns first (they come first in SHOW CREATE TABLE), so keys can be judged.
  for (size_t i = 1; i < footer; ++i) {
    std::string_view item = trim(lines[i]);
    if (!item.empty() && item.back() == ',') item.remove_suffix(1);
    if (!item.starts_with("`")) continue;
    size_t pos = 0;
    std::string name;
    if (!readIdentifier(item, &pos, &name))
      return Status::InvalidArgument(what + ": bad column line");
    if (route.keepsColumn(name)) {
      kept_columns.insert(name);
      if (item.find(" AUTO_INCREMENT") != std::string_view::npos)
        auto_increment_columns.insert(name);
      items.push_back(std::string(item));
    }
  }
  for (const auto& c : route.columns) {
    if (kept_columns.count(c) == 0) {
      return Status::FailedPrecondition("source table " + route.source_database + "." +
                                        route.source_table + " has no column '" + c + "'");
    }
  }
  for (size_t i = 1; i < footer; ++i) {
    std::string_view item = trim(lines[i]);
    if (!item.empty() && item.back() == ',') item.remove_suffix(1);
    if (item.starts_with("`") || item.empty()) continue;
    if (item.starts_with("PRIMARY KEY") || item.starts_with("UNIQUE KEY") ||
        item.starts_with("KEY ") || item.starts_with("INDEX ") ||
        item.starts_with("UNIQUE INDEX") || item.starts_with("FULLTEXT ") ||
        item.starts_with("SPATIAL ") || item.starts_with("UNIQUE ")) {
      // Skip the key's own name before reading its parts.
      size_t from = 0;
      size_t tick = item.find('`');
      size_t paren = item.find('(');
      std::string key_name;
      if (tick != std::string_view::npos && tick < paren) {
        from = tick;
        if (!readIdentifier(item, &from, &key_name))
          return Status::InvalidArgument(what + ": bad key line");
      }
      std::string_view parts = parenthesized(item, from, nullptr);
      std::vector<std::string> key_columns = identifiersIn(parts);
      if (!kept(key_columns)) continue;
      // An AUTO_INCREMENT column must lead some index at CREATE time: keep its keys.
      if (item.starts_with("KEY ") && !key_name.empty() && !key_columns.empty() &&
          auto_increment_columns.count(key_columns[0]) == 0) {
        deferrable.push_back(items.size());
        deferrable_names.push_back(key_name);
      }
      items.push_back(std::string(item));
      continue;
    }
    size_t fk = item.find("FOREIGN KEY");
    if (item.starts_with("CONSTRAINT ") && fk != std::string_view::npos) {
      size_t after_cols = 0;
      std::string_view own = parenthesized(item, fk, &after_cols);
      size_t ref = item.find("REFERENCES ", after_cols);
      if (ref == std::string_view::npos)
        return Status::InvalidArgument(what + ": bad foreign key line");
      size_t pos = ref + 11;
      std::string a, b;
      if (!readIdentifier(item, &pos, &a))
        return Status::InvalidArgument(what + ": bad foreign key line");
      std::string ref_db = route.source_database, ref_table = a;
      if (pos < item.size() && item[pos] == '.') {
        ++pos;
        if (!readIdentifier(item, &pos, &b))
          return Status::InvalidArgument(what + ": bad foreign key line");
        ref_db = a;
        ref_table = b;
      }
      size_t ref_end = 0;
      std::string_view ref_cols = parenthesized(item, pos, &ref_end);
      auto ref_route = mapping.route(ref_db, ref_table);
      std::vector<std::string> ref_names = identifiersIn(ref_cols);
      bool ref_ok = ref_route.has_value() &&
                    std::all_of(ref_names.begin(), ref_names.end(),
                                [&](const std::string& c) { return ref_route->keepsColumn(c); });
      if (!kept(identifiersIn(own)) || !ref_ok) {
        out.warnings.push_back(
            "foreign key on " + route.source_database + "." + route.source_table + " referencing " +
            ref_db + "." + ref_table +
            " not created at the destination (its columns or table are not moved)");
        continue;
      }
      has_foreign_key = true;
      std::string rewritten =
          std::string(item.substr(0, ref + 11)) +
          mysql::quoteQualified(ref_route->target_database, ref_route->target_table) +
          std::string(item.substr(pos));
      (void)ref_end;
      items.push_back(std::move(rewritten));
      continue;
    }
    if (item.find("CHECK") != std::string_view::npos) {
      size_t check = item.find("CHECK");
      std::vector<std::string> ids = identifiersIn(item.substr(check));
      if (!kept(ids)) {
        out.warnings.push_back("check constraint on " + route.source_database + "." +
                               route.source_table + " dropped: it uses a column that is not moved");
        continue;
      }
    }
    items.push_back(std::string(item));
  }
  // A kept foreign key needs an index on its columns at CREATE time (InnoDB would otherwise make
  // one of its own, under another name): defer nothing then.
  if (defer_secondary_keys && !has_foreign_key && !deferrable.empty()) {
    std::vector<std::string> remaining;
    size_t next = 0;
    for (size_t i = 0; i < items.size(); ++i) {
      if (next < deferrable.size() && deferrable[next] == i) {
        out.deferred_keys.push_back({deferrable_names[next], std::move(items[i])});
        ++next;
        continue;
      }
      remaining.push_back(std::move(items[i]));
    }
    items = std::move(remaining);
  }
  std::string sql = "CREATE TABLE IF NOT EXISTS " +
                    mysql::quoteQualified(route.target_database, route.target_table) + " (\n";
  for (size_t i = 0; i < items.size(); ++i) {
    sql += "  " + items[i] + (i + 1 < items.size() ? ",\n" : "\n");
  }
  for (size_t i = footer; i < lines.size(); ++i) {
    sql += std::string(lines[i]);
    if (i + 1 < lines.size()) sql += "\n";
  }
  out.sql = std::move(sql);
  return out;
}

Result<bool> tableExists(mysql::Connection& conn, const std::string& db, const std::string& table) {
  DTS_ASSIGN_OR_RETURN(
      auto n,
      conn.queryValue("SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = " +
                      conn.quoteString(db) + " AND TABLE_NAME = " + conn.quoteString(table)));
  return n.value_or("0") != "0";
}

Result<SchemaResult> copySchema(mysql::Connection& src, mysql::Connection& dest,
                                const std::vector<CatalogTable>& tables,
                                const pipeline::Mapping& mapping, bool defer_secondary_keys) {
  SchemaResult result;
  // Tables some foreign key references keep their keys (the constraint may use them).
  std::set<std::pair<std::string, std::string>> referenced;
  if (defer_secondary_keys) {
    DTS_ASSIGN_OR_RETURN(auto refs,
                         src.query("SELECT DISTINCT UNIQUE_CONSTRAINT_SCHEMA, REFERENCED_TABLE_NAME"
                                   " FROM information_schema.REFERENTIAL_CONSTRAINTS"));
    for (const auto& r : refs.rows) referenced.emplace(r[0].value_or(""), r[1].value_or(""));
    DTS_RETURN_IF_ERROR(ensureMetaSchema(dest));
  }
  DTS_RETURN_IF_ERROR(
      src.execute("SET SESSION sql_quote_show_create = 1, SESSION time_zone = '+00:00'"));
  DTS_RETURN_IF_ERROR(
      dest.execute("SET SESSION time_zone = '+00:00', SESSION foreign_key_checks = 0,"
                   " SESSION sql_mode = 'NO_AUTO_VALUE_ON_ZERO,NO_ENGINE_SUBSTITUTION'"));
  std::set<std::string> databases;
  for (const auto& t : tables) {
    if (!databases.insert(t.route.target_database).second) continue;
    DTS_ASSIGN_OR_RETURN(
        auto charset,
        src.query(
            "SELECT DEFAULT_CHARACTER_SET_NAME, DEFAULT_COLLATION_NAME FROM information_schema.SCHEMATA"
            " WHERE SCHEMA_NAME = " +
            src.quoteString(t.route.source_database)));
    std::string sql =
        "CREATE DATABASE IF NOT EXISTS " + mysql::quoteIdentifier(t.route.target_database);
    if (!charset.rows.empty() && charset.rows[0][0] && charset.rows[0][1]) {
      sql += " DEFAULT CHARACTER SET " + mysql::quoteIdentifier(*charset.rows[0][0]) + " COLLATE " +
             mysql::quoteIdentifier(*charset.rows[0][1]);
    }
    DTS_RETURN_IF_ERROR(
        dest.execute(sql).withContext("creating destination database " + t.route.target_database));
  }
  for (const auto& t : tables) {
    std::string target = t.route.target_database + "." + t.route.target_table;
    DTS_ASSIGN_OR_RETURN(bool exists,
                         tableExists(dest, t.route.target_database, t.route.target_table));
    if (exists) {
      result.existing.push_back(target);
      continue;
    }
    DTS_RETURN_IF_ERROR(enumDefinitionsAreExact(t));
    DTS_ASSIGN_OR_RETURN(
        auto show, src.query("SHOW CREATE TABLE " +
                             mysql::quoteQualified(t.route.source_database, t.route.source_table)));
    if (show.rows.empty() || show.rows[0].size() < 2 || !show.rows[0][1]) {
      return Status::FailedPrecondition("SHOW CREATE TABLE " + t.describe() + " returned nothing");
    }
    bool defer = defer_secondary_keys &&
                 referenced.count({t.route.source_database, t.route.source_table}) == 0;
    DTS_ASSIGN_OR_RETURN(auto rewritten,
                         rewriteCreateTable(*show.rows[0][1], t.route, mapping, defer));
    // Recorded before the table exists: a crash in between leaves them pending, never lost.
    for (const auto& k : rewritten.deferred_keys) {
      DTS_RETURN_IF_ERROR(
          dest.execute("REPLACE INTO " + mysql::quoteQualified("dts_meta", "pending_indexes") +
                       " (db, tbl, name, definition) VALUES (" +
                       dest.quoteString(t.route.target_database) + ", " +
                       dest.quoteString(t.route.target_table) + ", " + dest.quoteString(k.name) +
                       ", " + dest.quoteString(k.definition) + ")")
              .withContext("recording the deferred keys of " + target));
    }
    DTS_RETURN_IF_ERROR(
        dest.execute(rewritten.sql).withContext("creating destination table " + target));
    for (auto& w : rewritten.warnings) result.warnings.push_back(std::move(w));
    result.created.push_back(target);
  }
  return result;
}

}  // namespace dts::task
