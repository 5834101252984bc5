#include "sink/ddl_rewrite.h"

#include <vector>

#include "mysql/connection.h"

namespace dts::sink {

namespace {

struct Token {
  enum Kind { kWord, kQuotedIdent, kString, kPunct } kind;
  size_t begin;
  size_t end;
  std::string text;  // word upper-cased, identifier unquoted
};

std::string upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(toupper(static_cast<unsigned char>(c)));
  return out;
}

Result<std::vector<Token>> tokenize(std::string_view sql) {
  std::vector<Token> out;
  size_t i = 0;
  while (i < sql.size()) {
    char c = sql[i];
    if (isspace(static_cast<unsigned char>(c))) {
      ++i;
    } else if (c == '#' || (c == '-' && i + 2 < sql.size() && sql[i + 1] == '-' &&
                            isspace(static_cast<unsigned char>(sql[i + 2])))) {
      while (i < sql.size() && sql[i] != '\n') ++i;
    } else if (c == '/' && i + 1 < sql.size() && sql[i + 1] == '*') {
      size_t close = sql.find("*/", i + 2);
      if (close == std::string_view::npos)
        return Status::Unsupported("DDL with an unterminated comment");
      // Executable comments (/*! ... */, /*M! ... */) change the statement: refuse to guess.
      if (i + 2 < sql.size() && (sql[i + 2] == '!' || sql[i + 2] == 'M')) {
        return Status::Unsupported("DDL with an executable comment");
      }
      i = close + 2;
    } else if (c == '`') {
      std::string name;
      size_t j = i + 1;
      while (true) {
        if (j >= sql.size()) return Status::Unsupported("DDL with an unterminated `identifier`");
        if (sql[j] == '`') {
          if (j + 1 < sql.size() && sql[j + 1] == '`') {
            name.push_back('`');
            j += 2;
            continue;
          }
          break;
        }
        name.push_back(sql[j++]);
      }
      out.push_back({Token::kQuotedIdent, i, j + 1, name});
      i = j + 1;
    } else if (c == '\'' || c == '"') {
      size_t j = i + 1;
      while (j < sql.size() && sql[j] != c) j += (sql[j] == '\\') ? 2 : 1;
      if (j >= sql.size()) return Status::Unsupported("DDL with an unterminated string");
      out.push_back({Token::kString, i, j + 1, std::string(sql.substr(i, j + 1 - i))});
      i = j + 1;
    } else if (isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '$' ||
               static_cast<unsigned char>(c) >= 0x80) {
      size_t j = i;
      while (j < sql.size() && (isalnum(static_cast<unsigned char>(sql[j])) || sql[j] == '_' ||
                                sql[j] == '$' || static_cast<unsigned char>(sql[j]) >= 0x80)) {
        ++j;
      }
      out.push_back({Token::kWord, i, j, std::string(sql.substr(i, j - i))});
      i = j;
    } else {
      out.push_back({Token::kPunct, i, i + 1, std::string(1, c)});
      ++i;
    }
  }
  return out;
}

// A table name in the statement: token span and resolved names.
struct NameRef {
  size_t begin = 0;  // byte span in the statement
  size_t end = 0;
  std::string db;
  std::string table;
  bool database_only = false;
};

class Parser {
 public:
  Parser(std::string_view sql, std::vector<Token> toks, std::string_view default_db)
      : sql_(sql), t_(std::move(toks)), default_db_(default_db) {}

  bool atEnd() const { return p_ >= t_.size(); }
  bool isWord(const char* w, size_t ahead = 0) const {
    return p_ + ahead < t_.size() && t_[p_ + ahead].kind == Token::kWord &&
           upper(t_[p_ + ahead].text) == w;
  }
  bool accept(const char* w) {
    if (!isWord(w)) return false;
    ++p_;
    return true;
  }
  bool acceptPunct(char c) {
    if (p_ < t_.size() && t_[p_].kind == Token::kPunct && t_[p_].text[0] == c) {
      ++p_;
      return true;
    }
    return false;
  }
  bool isIdent() const {
    return p_ < t_.size() && (t_[p_].kind == Token::kQuotedIdent || t_[p_].kind == Token::kWord);
  }
  Result<NameRef> name() {
    if (!isIdent()) return Status::Unsupported("expected a table name in DDL: " + snippet());
    NameRef ref;
    ref.begin = t_[p_].begin;
    std::string first = t_[p_].text;
    ref.end = t_[p_].end;
    ++p_;
    if (p_ + 1 < t_.size() && t_[p_].kind == Token::kPunct && t_[p_].text == "." &&
        (t_[p_ + 1].kind == Token::kQuotedIdent || t_[p_ + 1].kind == Token::kWord)) {
      ref.db = first;
      ref.table = t_[p_ + 1].text;
      ref.end = t_[p_ + 1].end;
      p_ += 2;
    } else {
      ref.db = std::string(default_db_);
      ref.table = first;
    }
    return ref;
  }
  size_t pos() const { return p_; }
  const std::vector<Token>& tokens() const { return t_; }
  std::string snippet() const { return std::string(sql_.substr(0, 80)); }

 private:
  std::string_view sql_;
  std::vector<Token> t_;
  size_t p_ = 0;
  std::string_view default_db_;
};

struct Target {
  bool selected = false;
  std::string db;
  std::string table;
  bool column_subset = false;
};

Target routeOf(const pipeline::Mapping* mapping, const NameRef& ref) {
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
  return t;
}

}  // namespace

Result<std::optional<RewrittenDdl>> rewriteDdl(std::string_view sql, std::string_view default_db,
                                               const pipeline::Mapping* mapping) {
  auto toks = tokenize(sql);
  if (!toks.ok())
    return toks.status().withContext("statement '" + std::string(sql.substr(0, 80)) + "'");
  Parser p(sql, std::move(*toks), default_db);
  std::vector<NameRef> refs;
  bool structural = false;  // CREATE/ALTER TABLE: the column set matters
  auto unsupported = [&](const std::string& why) {
    return Status::Unsupported("cannot apply DDL '" + std::string(sql.substr(0, 120)) +
                               "': " + why);
  };

  if (p.accept("CREATE")) {
    if (p.accept("OR")) {
      if (!p.accept("REPLACE")) return unsupported("unrecognised CREATE OR");
    }
    p.accept("TEMPORARY");
    if (p.accept("TABLE")) {
      structural = true;
      if (p.accept("IF")) {
        if (!p.accept("NOT") || !p.accept("EXISTS")) return unsupported("unrecognised IF");
      }
      DTS_ASSIGN_OR_RETURN(NameRef r, p.name());
      refs.push_back(r);
      bool paren = p.acceptPunct('(');
      if (p.accept("LIKE")) {
        DTS_ASSIGN_OR_RETURN(NameRef like, p.name());
        refs.push_back(like);
      } else if (paren && p.accept("LIKE")) {
        DTS_ASSIGN_OR_RETURN(NameRef like, p.name());
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
    if (p.accept("TABLE")) {
      structural = true;
      if (p.accept("IF")) {
        if (!p.accept("EXISTS")) return unsupported("unrecognised IF");
      }
      DTS_ASSIGN_OR_RETURN(NameRef r, p.name());
      refs.push_back(r);
      const auto& t = p.tokens();
      for (size_t i = p.pos(); i < t.size(); ++i) {
        if (t[i].kind != Token::kWord || upper(t[i].text) != "RENAME") continue;
        std::string next = i + 1 < t.size() ? upper(t[i + 1].text) : "";
        if (next != "COLUMN" && next != "INDEX" && next != "KEY") {
          return unsupported("ALTER TABLE ... RENAME TO is not supported; use RENAME TABLE");
        }
      }
    }
  } else if (p.accept("DROP")) {
    p.accept("TEMPORARY");
    if (p.accept("TABLE") || p.accept("TABLES")) {
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
  std::vector<Target> targets;
  for (const NameRef& r : refs) {
    targets.push_back(routeOf(mapping, r));
    if (targets.back().selected) ++selected;
  }
  if (selected == 0) return std::optional<RewrittenDdl>();
  if (selected != refs.size()) {
    return unsupported("it names both tables the task moves and tables it does not");
  }
  for (const Target& t : targets) {
    if (structural && t.column_subset) {
      return unsupported("table `" + t.table + "` is moved with a column subset or row filter");
    }
  }
  if (mapping != nullptr && refs.front().db != targets.front().db) {
    for (const Token& t : p.tokens()) {
      if (t.kind == Token::kWord && upper(t.text) == "REFERENCES") {
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
  return std::optional<RewrittenDdl>(
      RewrittenDdl{std::move(out), default_selected ? target_default : ""});
}

}  // namespace dts::sink
