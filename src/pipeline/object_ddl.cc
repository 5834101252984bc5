#include "pipeline/object_ddl.h"

#include <algorithm>
#include <initializer_list>
#include <utility>
#include <vector>

#include "common/strings.h"
#include "mysql/connection.h"
#include "mysql/sql_lexer.h"

namespace dts::pipeline {

namespace {

using mysql::SqlToken;
using mysql::SqlTokenKind;

struct Lexed {
  std::string sql;  // executable comments opened
  std::vector<SqlToken> toks;
};

// The statement with its executable comments opened as the server that ran it did
// (mysql::openExecutableComments): mysqldump wraps CREATE VIEW and its DEFINER in them.
Result<Lexed> lexOpened(std::string_view sql, mysql::SqlLexerOptions lex = {}) {
  Lexed out;
  DTS_ASSIGN_OR_RETURN(out.sql, mysql::openExecutableComments(sql, lex));
  DTS_ASSIGN_OR_RETURN(out.toks, mysql::lexSql(out.sql, lex));
  return out;
}

struct Name {
  std::string db;  // as written; empty when unqualified
  std::string name;
};

class Cursor : public mysql::SqlTokenCursor {
 public:
  using SqlTokenCursor::SqlTokenCursor;
  std::optional<Name> name() {
    auto q = acceptQualifiedName();
    if (!q) return std::nullopt;
    Name n;
    n.db = std::move(q->db);
    n.name = std::move(q->name);
    return n;
  }
  // DEFINER = ... (not the DEFINER of SQL SECURITY DEFINER).
  bool atDefinerClause() const {
    return isWord("DEFINER") && p_ + 1 < tokens().size() && tokens()[p_ + 1].isPunct('=');
  }
  // DEFINER = user: the clause's byte span (from DEFINER to the end of the user).
  // REQUIRES: atDefinerClause().
  std::pair<size_t, size_t> definer() {
    const std::vector<SqlToken>& t = tokens();
    const size_t begin = t[p_].begin;
    ++p_;  // DEFINER
    acceptPunct('=');
    size_t end = p_ > 0 ? t[p_ - 1].end : begin;
    if (accept("CURRENT_USER") || accept("CURRENT_ROLE")) {
      end = t[p_ - 1].end;
      if (acceptPunct('(') && acceptPunct(')')) end = t[p_ - 1].end;
      return {begin, end};
    }
    if (p_ < t.size() && (t[p_].isName() || t[p_].kind == SqlTokenKind::kString)) {
      end = t[p_++].end;
      if (p_ + 1 < t.size() && t[p_].isPunct('@') && t[p_].begin == end) {
        end = t[p_ + 1].end;
        p_ += 2;
        // An unquoted host such as 127.0.0.1 lexes as several tokens: take those that touch.
        while (p_ < t.size() && t[p_].begin == end && !t[p_].isName()) end = t[p_++].end;
      }
    }
    return {begin, end};
  }
};

// The statement with the spans removed or replaced (back to front).
std::string splice(std::string_view sql,
                   std::vector<std::pair<std::pair<size_t, size_t>, std::string>> edits) {
  std::sort(edits.begin(), edits.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  std::string out(sql);
  for (size_t n = edits.size(); n-- > 0;)
    out.replace(edits[n].first.first, edits[n].first.second - edits[n].first.first,
                edits[n].second);
  return out;
}

// Renames every `db`.`name` the statement mentions as the mapping renames it.
void renameQualified(const std::vector<SqlToken>& t, const Mapping* mapping,
                     std::vector<std::pair<std::pair<size_t, size_t>, std::string>>* edits) {
  if (mapping == nullptr) return;
  for (size_t i = 0; i + 2 < t.size(); ++i) {
    if (!t[i].isName() || !t[i + 1].isPunct('.') ||
        !(t[i + 2].isName() || t[i + 2].kind == SqlTokenKind::kNumber))
      continue;
    // A dot right after a name that follows a dot is a column of db.table.column: not a pair.
    if (i > 0 && t[i - 1].isPunct('.')) continue;
    const std::string& db = t[i].text;
    const std::string& name = t[i + 2].text;
    if (auto route = mapping->route(db, name)) {
      if (route->target_database != db)
        edits->push_back({{t[i].begin, t[i].end}, mysql::quoteIdentifier(route->target_database)});
      if (route->target_table != name)
        edits->push_back(
            {{t[i + 2].begin, t[i + 2].end}, mysql::quoteIdentifier(route->target_table)});
    } else if (mapping->selectsDatabase(db) && mapping->targetDatabase(db) != db) {
      edits->push_back(
          {{t[i].begin, t[i].end}, mysql::quoteIdentifier(mapping->targetDatabase(db))});
    }
    i += 2;
  }
}

bool isAny(const SqlToken* t, std::initializer_list<const char*> words) {
  if (t == nullptr) return false;
  for (const char* w : words)
    if (t->isWord(w)) return true;
  return false;
}

ObjectStatement skipped(ObjectKind kind = ObjectKind::kOther) {
  ObjectStatement s;
  s.action = ObjectStatement::Action::kSkip;
  s.kind = kind;
  return s;
}

ObjectStatement notApplied(ObjectKind kind, std::string reason) {
  ObjectStatement s;
  s.action = ObjectStatement::Action::kNotApplied;
  s.kind = kind;
  s.reason = std::move(reason);
  return s;
}

}  // namespace

Result<std::optional<ObjectStatement>> rewriteObjectStatement(std::string_view sql,
                                                              std::string_view default_db,
                                                              const Mapping* mapping,
                                                              mysql::SqlLexerOptions lex) {
  auto lexed = lexOpened(sql, lex);
  if (!lexed.ok()) return std::optional<ObjectStatement>();  // the table rules decide
  const std::vector<SqlToken>& t = lexed->toks;
  Cursor c(t);
  // Maintenance, accounts, plugins: nothing the task moves changes.
  if (isAny(c.peek(), {"GRANT", "REVOKE", "ANALYZE", "OPTIMIZE", "REPAIR", "CHECK", "CHECKSUM",
                       "FLUSH", "INSTALL", "UNINSTALL"}))
    return std::optional<ObjectStatement>(skipped());
  if (c.accept("RENAME")) {
    if (isAny(c.peek(), {"USER"})) return std::optional<ObjectStatement>(skipped());
    return std::optional<ObjectStatement>();
  }
  if (c.accept("SET")) {
    if (isAny(c.peek(), {"PASSWORD", "DEFAULT"})) return std::optional<ObjectStatement>(skipped());
    return std::optional<ObjectStatement>();
  }
  const bool create = c.isWord("CREATE");
  const bool alter = c.isWord("ALTER");
  const bool drop = c.isWord("DROP");
  if (!create && !alter && !drop) return std::optional<ObjectStatement>();
  c.skip();
  std::optional<std::pair<size_t, size_t>> definer;
  for (;;) {
    if (c.accept("OR")) {
      if (!c.accept("REPLACE")) return std::optional<ObjectStatement>();
    } else if (c.accept("ALGORITHM")) {
      c.acceptPunct('=');
      c.skip();
    } else if (c.atDefinerClause()) {
      definer = c.definer();
    } else if (c.accept("SQL")) {
      if (!c.accept("SECURITY")) return std::optional<ObjectStatement>();
      c.skip();
    } else if (!(c.accept("AGGREGATE") || c.accept("EDITIONABLE") || c.accept("NONEDITIONABLE"))) {
      break;
    }
  }
  if (isAny(c.peek(), {"USER", "ROLE", "SERVER"})) return std::optional<ObjectStatement>(skipped());
  ObjectKind kind;
  if (c.accept("VIEW")) {
    kind = ObjectKind::kView;
  } else if (c.accept("PROCEDURE")) {
    kind = ObjectKind::kProcedure;
  } else if (c.accept("FUNCTION")) {
    kind = ObjectKind::kFunction;
  } else if (c.accept("PACKAGE")) {
    c.accept("BODY");
    kind = ObjectKind::kProcedure;
  } else if (c.accept("TRIGGER")) {
    kind = ObjectKind::kTrigger;
  } else if (c.accept("EVENT")) {
    kind = ObjectKind::kEvent;
  } else {
    return std::optional<ObjectStatement>();
  }
  if (c.accept("IF")) {
    c.accept("NOT");
    c.accept("EXISTS");
  }
  auto object = c.name();
  if (!object) return std::optional<ObjectStatement>();
  const std::string db = object->db.empty() ? std::string(default_db) : object->db;
  auto dbSelected = [&](const std::string& d) {
    return mapping == nullptr || (!d.empty() && mapping->selectsDatabase(d));
  };
  if (kind == ObjectKind::kTrigger) {
    if (drop) {
      if (!dbSelected(db)) return std::optional<ObjectStatement>(skipped(kind));
      return std::optional<ObjectStatement>(notApplied(kind, kTriggerNotAppliedReason));
    }
    // CREATE TRIGGER name {BEFORE|AFTER} {INSERT|UPDATE|DELETE} ON table
    while (!c.atEnd() && !c.isWord("ON")) c.skip();
    if (!c.accept("ON")) return std::optional<ObjectStatement>();
    auto table = c.name();
    if (!table) return std::optional<ObjectStatement>();
    const std::string table_db = table->db.empty() ? std::string(default_db) : table->db;
    if (mapping != nullptr && !mapping->route(table_db, table->name))
      return std::optional<ObjectStatement>(skipped(kind));
    return std::optional<ObjectStatement>(notApplied(kind, kTriggerNotAppliedReason));
  }
  if (kind == ObjectKind::kEvent) {
    if (!dbSelected(db)) return std::optional<ObjectStatement>(skipped(kind));
    return std::optional<ObjectStatement>(notApplied(kind, kEventNotAppliedReason));
  }
  // Views and routines: the objects of a database the task moves whole.
  if (!dbSelected(db) || (mapping != nullptr && mapping->hasTableList(db)))
    return std::optional<ObjectStatement>(skipped(kind));
  if (kind == ObjectKind::kFunction && !drop) {
    for (size_t i = c.pos(); i < t.size(); ++i) {
      if (t[i].isWord("SONAME"))
        return std::optional<ObjectStatement>(notApplied(
            kind, "a loadable function (CREATE FUNCTION ... SONAME) is installed per server"));
    }
  }
  std::vector<std::pair<std::pair<size_t, size_t>, std::string>> edits;
  if (definer) edits.push_back({*definer, ""});
  renameQualified(t, mapping, &edits);
  ObjectStatement s;
  s.action = ObjectStatement::Action::kApply;
  s.kind = kind;
  s.sql = splice(lexed->sql, std::move(edits));
  if (!default_db.empty())
    s.target_database = dbSelected(std::string(default_db)) && mapping != nullptr
                            ? mapping->targetDatabase(default_db)
                            : std::string(default_db);
  return std::optional<ObjectStatement>(std::move(s));
}

Result<std::string> objectDefinitionForDestination(std::string_view create_sql,
                                                   const Mapping* mapping) {
  auto lexed = lexOpened(create_sql);
  if (!lexed.ok())
    return Status::InvalidArgument("cannot read definition: " + lexed.status().message());
  const std::vector<SqlToken>& t = lexed->toks;
  std::vector<std::pair<std::pair<size_t, size_t>, std::string>> edits;
  Cursor c(t);
  if (!c.accept("CREATE"))
    return Status::InvalidArgument("definition does not start with CREATE: " +
                                   excerpt(create_sql, 80));
  // The DEFINER clause sits before the object's kind word.
  while (!c.atEnd() &&
         !isAny(c.peek(), {"VIEW", "PROCEDURE", "FUNCTION", "TRIGGER", "EVENT", "PACKAGE"})) {
    if (c.atDefinerClause()) {
      edits.push_back({c.definer(), ""});
    } else {
      c.skip();
    }
  }
  renameQualified(t, mapping, &edits);
  return splice(lexed->sql, std::move(edits));
}

}  // namespace dts::pipeline
