#include "pipeline/ddl_rewrite.h"

#include <algorithm>
#include <vector>

#include "common/strings.h"
#include "mysql/connection.h"
#include "mysql/sql_lexer.h"
#include "pipeline/alter_for_route.h"

namespace dts::pipeline {

namespace {

using mysql::SqlToken;
using mysql::SqlTokenKind;

// The statement's tokens (comments skipped; executable comments already opened).
Result<std::vector<SqlToken>> tokenize(std::string_view sql, mysql::SqlLexerOptions lex) {
  auto toks = mysql::lexSql(sql, lex);
  if (!toks.ok()) return Status::Unsupported("DDL with an " + toks.status().message());
  return toks;
}

// A table name in the statement: token span and resolved names.
struct NameRef {
  size_t begin = 0;  // byte span in the statement
  size_t end = 0;
  std::string db;
  std::string table;
  bool database_only = false;
  bool only_read = false;  // CREATE TABLE ... LIKE's model: read, not changed
};

class Parser : public mysql::SqlTokenCursor {
 public:
  Parser(std::string_view sql, const std::vector<SqlToken>& toks, std::string_view default_db)
      : SqlTokenCursor(toks), sql_(sql), default_db_(default_db) {}

  bool isIdent() const { return peek() != nullptr && peek()->isName(); }
  Result<NameRef> name() {
    auto n = acceptQualifiedName();
    if (!n) return Status::Unsupported("expected a table name in DDL: " + snippet());
    NameRef ref;
    ref.begin = n->begin;
    ref.end = n->end;
    ref.db = n->db.empty() ? std::string(default_db_) : std::move(n->db);
    ref.table = std::move(n->name);
    return ref;
  }
  std::string snippet() const { return excerpt(sql_, 80); }

 private:
  std::string_view sql_;
  std::string_view default_db_;
};

struct Target {
  bool selected = false;
  std::string db;
  std::string table;
  bool column_subset = false;  // a column subset or a WHERE filter
  RouteColumns columns;        // column_subset: what DDL on the table must respect
};

Target routeOf(const Mapping* mapping, const NameRef& ref) {
  Target t;
  if (mapping == nullptr) {
    t.selected = true;
    t.db = ref.db;
    t.table = ref.table;
    return t;
  }
  if (ref.database_only) {
    t.selected = mapping->selectsDatabase(ref.db);
    t.db = mapping->targetDatabase(ref.db);
    return t;
  }
  auto route = mapping->route(ref.db, ref.table);
  if (!route) return t;
  t.selected = true;
  t.db = route->target_database;
  t.table = route->target_table;
  t.column_subset = !route->allColumns() || route->filter != nullptr;
  t.columns.kept = route->columns;
  if (route->filter != nullptr) t.columns.filtered = route->filter->columns();
  return t;
}

}  // namespace

namespace {

// The tables a statement names, in statement order (a RENAME: from, to, from, to...).
// kUnsupported, naming the statement, when it cannot be read.
// *alter_specs: for ALTER TABLE, the index of the token after the table name. *sequence: it
// creates, alters or drops a SEQUENCE (MariaDB), which dts does not move (task/catalog.h).
Status parseRefs(std::string_view sql, Parser& p, std::vector<NameRef>* out, bool* structural,
                 std::optional<size_t>* alter_specs, bool* sequence) {
  std::vector<NameRef>& refs = *out;
  auto unsupported = [&](const std::string& why) {
    return Status::Unsupported("cannot apply DDL '" + excerpt(sql) + "': " + why);
  };
  if (p.accept("CREATE")) {
    if (p.accept("OR")) {
      if (!p.accept("REPLACE")) return unsupported("unrecognised CREATE OR");
    }
    p.accept("TEMPORARY");
    if (p.accept("SEQUENCE")) {
      *sequence = true;
      if (p.accept("IF")) {
        if (!p.accept("NOT") || !p.accept("EXISTS")) return unsupported("unrecognised IF");
      }
      DTS_ASSIGN_OR_RETURN(NameRef r, p.name());
      refs.push_back(r);
    } else if (p.accept("TABLE")) {
      *structural = true;
      if (p.accept("IF")) {
        if (!p.accept("NOT") || !p.accept("EXISTS")) return unsupported("unrecognised IF");
      }
      DTS_ASSIGN_OR_RETURN(NameRef r, p.name());
      refs.push_back(r);
      bool paren = p.acceptPunct('(');
      if (p.accept("LIKE") || (paren && p.accept("LIKE"))) {
        DTS_ASSIGN_OR_RETURN(NameRef like, p.name());
        like.only_read = true;
        refs.push_back(like);
      }
    } else if (p.accept("DATABASE") || p.accept("SCHEMA")) {
      if (p.accept("IF")) {
        if (!p.accept("NOT") || !p.accept("EXISTS")) return unsupported("unrecognised IF");
      }
      DTS_ASSIGN_OR_RETURN(NameRef r, p.name());
      r.db = r.table;
      r.table.clear();
      r.database_only = true;
      refs.push_back(r);
    } else {
      (void)(p.accept("UNIQUE") || p.accept("FULLTEXT") || p.accept("SPATIAL"));
      if (p.accept("INDEX")) {
        if (p.accept("IF")) {
          if (!p.accept("NOT") || !p.accept("EXISTS")) return unsupported("unrecognised IF");
        }
        DTS_ASSIGN_OR_RETURN(NameRef idx, p.name());
        (void)idx;
        if (!p.accept("ON")) return unsupported("expected ON after CREATE INDEX name");
        DTS_ASSIGN_OR_RETURN(NameRef r, p.name());
        refs.push_back(r);
      }
    }
  } else if (p.accept("ALTER")) {
    p.accept("ONLINE");
    p.accept("IGNORE");
    if (p.accept("SEQUENCE")) {
      *sequence = true;
      if (p.accept("IF")) {
        if (!p.accept("EXISTS")) return unsupported("unrecognised IF");
      }
      DTS_ASSIGN_OR_RETURN(NameRef r, p.name());
      refs.push_back(r);
    } else if (p.accept("TABLE")) {
      *structural = true;
      if (p.accept("IF")) {
        if (!p.accept("EXISTS")) return unsupported("unrecognised IF");
      }
      DTS_ASSIGN_OR_RETURN(NameRef r, p.name());
      refs.push_back(r);
      *alter_specs = p.pos();
      const auto& t = p.tokens();
      for (size_t i = p.pos(); i < t.size(); ++i) {
        if (!t[i].isWord("RENAME")) continue;
        std::string next = i + 1 < t.size() ? toUpper(t[i + 1].text) : "";
        if (next == "COLUMN" || next == "INDEX" || next == "KEY") continue;
        // The new name is a name the statement acts on, as RENAME TABLE's: renamed by the
        // task's routes when applied, and deciding whether the table stays in the selection.
        const size_t resume = p.pos();
        p.seek(i + 1);
        (void)(p.accept("TO") || p.accept("AS"));
        auto renamed = p.name();
        p.seek(resume);
        if (!renamed.ok()) return renamed.status();
        refs.push_back(*renamed);
      }
    }
  } else if (p.accept("DROP")) {
    p.accept("TEMPORARY");
    const bool drops_sequence = p.accept("SEQUENCE");
    if (drops_sequence || p.accept("TABLE") || p.accept("TABLES")) {
      *sequence = drops_sequence;
      if (p.accept("IF")) {
        if (!p.accept("EXISTS")) return unsupported("unrecognised IF");
      }
      do {
        DTS_ASSIGN_OR_RETURN(NameRef r, p.name());
        refs.push_back(r);
      } while (p.acceptPunct(','));
    } else if (p.accept("DATABASE") || p.accept("SCHEMA")) {
      if (p.accept("IF")) {
        if (!p.accept("EXISTS")) return unsupported("unrecognised IF");
      }
      DTS_ASSIGN_OR_RETURN(NameRef r, p.name());
      r.db = r.table;
      r.table.clear();
      r.database_only = true;
      refs.push_back(r);
    } else if (p.accept("INDEX")) {
      if (p.accept("IF")) {
        if (!p.accept("EXISTS")) return unsupported("unrecognised IF");
      }
      DTS_ASSIGN_OR_RETURN(NameRef idx, p.name());
      (void)idx;
      if (!p.accept("ON")) return unsupported("expected ON after DROP INDEX name");
      DTS_ASSIGN_OR_RETURN(NameRef r, p.name());
      refs.push_back(r);
    }
  } else if (p.accept("RENAME")) {
    if (p.accept("TABLE") || p.accept("TABLES")) {
      do {
        DTS_ASSIGN_OR_RETURN(NameRef from, p.name());
        if (!p.accept("TO")) return unsupported("expected TO in RENAME TABLE");
        DTS_ASSIGN_OR_RETURN(NameRef to, p.name());
        refs.push_back(from);
        refs.push_back(to);
      } while (p.acceptPunct(','));
    }
  } else if (p.accept("TRUNCATE")) {
    p.accept("TABLE");
    DTS_ASSIGN_OR_RETURN(NameRef r, p.name());
    refs.push_back(r);
  }
  return Status::OK();
}

std::string quotedName(const NameRef& r) {
  return r.database_only ? mysql::quoteIdentifier(r.db) : mysql::quoteQualified(r.db, r.table);
}

// The statement as a change log records it (DdlUse::kRecord): as sent, never refused.
std::optional<RewrittenDdl> recordDdl(std::string_view sql, std::string_view default_db,
                                      const Mapping* mapping, const std::vector<NameRef>& refs) {
  const bool default_selected =
      mapping == nullptr || (!default_db.empty() && mapping->selectsDatabase(default_db));
  RewrittenDdl out;
  out.sql = std::string(sql);
  out.target_database = mapping != nullptr && default_selected ? mapping->targetDatabase(default_db)
                                                               : std::string(default_db);
  bool any_selected = false;
  std::vector<Target> tables;  // the selected tables it names, as the task names them
  for (const NameRef& r : refs) {
    Target t = routeOf(mapping, r);
    if (!t.selected) continue;
    any_selected = true;
    if (r.database_only) continue;
    bool seen = false;
    for (const Target& o : tables) seen = seen || (o.db == t.db && o.table == t.table);
    if (!seen) tables.push_back(std::move(t));
  }
  if (!any_selected && !(refs.empty() && default_selected)) return std::nullopt;
  if (tables.size() == 1 && tables[0].db == out.target_database) out.table = tables[0].table;
  for (const Target& t : tables) out.tables.emplace_back(t.db, t.table);
  return out;
}

}  // namespace

Result<std::optional<RewrittenDdl>> rewriteDdl(std::string_view sent, std::string_view default_db,
                                               const Mapping* mapping, DdlUse use,
                                               mysql::SqlLexerOptions lex) {
  // The statement as the source ran it: its executable comments opened, or left out, as that
  // server did (mysql::openExecutableComments). The destination gets that text.
  auto opened = mysql::openExecutableComments(sent, lex);
  if (!opened.ok()) {
    if (use == DdlUse::kRecord) return recordDdl(sent, default_db, mapping, {});
    return Status::Unsupported("cannot apply DDL '" + excerpt(sent) +
                               "': " + opened.status().message());
  }
  const std::string_view sql = *opened;
  auto unsupported = [&](const std::string& why) {
    return Status::Unsupported("cannot apply DDL '" + excerpt(sql) + "': " + why);
  };
  if (use == DdlUse::kApply) {
    DTS_ASSIGN_OR_RETURN(auto object, rewriteObjectStatement(sql, default_db, mapping, lex));
    if (object) {
      using Action = ObjectStatement::Action;
      if (object->action == Action::kSkip) return std::optional<RewrittenDdl>();
      RewrittenDdl r;
      if (object->action == Action::kNotApplied) {
        r.sql = std::string(sql);
        r.target_database = std::string(default_db);
        r.not_applied = std::move(object->reason);
      } else {
        r.sql = std::move(object->sql);
        r.target_database = std::move(object->target_database);
        r.holds_no_rows = true;
      }
      return std::optional<RewrittenDdl>(std::move(r));
    }
  }
  std::vector<NameRef> refs;
  bool structural = false;  // CREATE/ALTER TABLE: the column set matters
  std::optional<size_t> alter_specs;
  bool sequence = false;  // CREATE/ALTER/DROP SEQUENCE
  auto toks = tokenize(sql, lex);
  if (!toks.ok()) {
    // A statement the server ran that dts cannot read is still recorded, by its default database.
    if (use == DdlUse::kRecord) return recordDdl(sent, default_db, mapping, {});
    return toks.status().withContext("statement '" + excerpt(sql) + "'");
  }
  Parser p(sql, *toks, default_db);
  Status parsed = parseRefs(sql, p, &refs, &structural, &alter_specs, &sequence);
  if (use == DdlUse::kRecord)
    return recordDdl(sent, default_db, mapping, parsed.ok() ? refs : std::vector<NameRef>{});
  if (!parsed.ok()) return parsed;

  std::string target_default =
      mapping == nullptr ? std::string(default_db) : mapping->targetDatabase(default_db);
  bool default_selected =
      mapping == nullptr || (!default_db.empty() && mapping->selectsDatabase(default_db));
  if (refs.empty()) {
    if (!default_selected) return std::optional<RewrittenDdl>();
    return unsupported("statement kind not understood in a selected database '" +
                       std::string(default_db) + "'");
  }
  size_t selected = 0;
  bool changes_selected = false;  // a table it changes (not only reads) is selected
  std::vector<Target> targets;
  for (const NameRef& r : refs) {
    targets.push_back(routeOf(mapping, r));
    if (targets.back().selected) {
      ++selected;
      changes_selected = changes_selected || !r.only_read;
    }
  }
  // A table it only reads (CREATE TABLE other.copy LIKE moved.t) changes nothing the task moves.
  if (!changes_selected) return std::optional<RewrittenDdl>();
  if (sequence) {
    std::string moved;
    for (size_t i = 0; i < refs.size(); ++i)
      if (targets[i].selected) moved += (moved.empty() ? "" : ", ") + quotedName(refs[i]);
    return unsupported("dts does not move sequences, and " + moved +
                       " is in a database the task moves whole; add it to that database's "
                       "objects[].exclude_tables and run the task again");
  }
  if (selected != refs.size()) {
    std::string moved, not_moved;
    for (size_t i = 0; i < refs.size(); ++i) {
      std::string& list = targets[i].selected ? moved : not_moved;
      const std::string name = quotedName(refs[i]);
      if (list.find(name) != std::string::npos) continue;
      list += (list.empty() ? "" : ", ") + name;
    }
    return unsupported("it names both tables the task moves (" + moved +
                       ") and tables it does not (" + not_moved + ")");
  }
  std::optional<std::string> subset_specs;  // an ALTER of a column subset: what remains of it
  for (size_t i = 0; i < targets.size(); ++i) {
    if (!structural || !targets[i].column_subset) continue;
    const std::string what =
        "table " + quotedName(refs[i]) + " is moved with a column subset or row filter";
    if (!alter_specs || refs.size() != 1) return unsupported(what);
    auto specs = alterSpecsForRoute(sql, p.tokens(), *alter_specs, targets[i].columns);
    if (!specs.ok()) return unsupported(what + ", and the statement " + specs.status().message());
    // Nothing the destination has changes: the rows that follow are cut by name as before.
    if (!specs->has_value()) return std::optional<RewrittenDdl>();
    // A WHERE filter alone keeps every specification: the statement goes as any other.
    if (!targets[i].columns.kept.empty()) subset_specs = std::move(**specs);
  }
  // A column subset: the REFERENCES of a left-out specification go with it, and a foreign key
  // over kept columns is refused (alter_for_route.h).
  if (subset_specs) {
    const NameRef& r = refs.front();
    const size_t specs_begin =
        *alter_specs < p.tokens().size() ? p.tokens()[*alter_specs].begin : sql.size();
    std::string out = std::string(sql.substr(0, r.begin)) +
                      mysql::quoteQualified(targets[0].db, targets[0].table) +
                      std::string(sql.substr(r.end, specs_begin - r.end)) + *subset_specs;
    return std::optional<RewrittenDdl>(
        RewrittenDdl{std::move(out), default_selected ? target_default : "", "", "", false, {}});
  }
  if (mapping != nullptr && refs.front().db != targets.front().db) {
    for (const SqlToken& t : p.tokens()) {
      if (t.isWord("REFERENCES")) {
        return unsupported("a REFERENCES clause under a database rename");
      }
    }
  }
  // Splice the target names in, back to front so offsets stay valid.
  std::string out(sql);
  for (size_t n = refs.size(); n-- > 0;) {
    const NameRef& r = refs[n];
    std::string repl = r.database_only ? mysql::quoteIdentifier(targets[n].db)
                                       : mysql::quoteQualified(targets[n].db, targets[n].table);
    out.replace(r.begin, r.end - r.begin, repl);
  }
  // The tables (or databases, with an empty table) it acts on, by their target names: what the
  // applier fingerprints before running it (sink/mysql_applier.h).
  std::vector<std::pair<std::string, std::string>> acted_on;
  for (const Target& t : targets) {
    std::pair<std::string, std::string> name{t.db, t.table};
    if (std::find(acted_on.begin(), acted_on.end(), name) == acted_on.end())
      acted_on.push_back(std::move(name));
  }
  return std::optional<RewrittenDdl>(RewrittenDdl{
      std::move(out), default_selected ? target_default : "", "", "", false, std::move(acted_on)});
}

}  // namespace dts::pipeline
