#include "source/schema_tracker.h"

#include <algorithm>
#include <charconv>

#include "common/strings.h"
#include "mysql/row_decoder.h"
#include "mysql/sql_lexer.h"
#include "mysql/unique_keys.h"
#include "source/schema_history.h"

namespace dts::source {

using mysql::ColumnInfo;
using mysql::ColumnType;
using mysql::TableInfo;

namespace {

std::string cacheKey(const std::string& db, const std::string& table) {
  return db + '\0' + table;
}

uint32_t toU32(const std::optional<std::string>& v) {
  uint32_t out = 0;
  if (v) std::from_chars(v->data(), v->data() + v->size(), out);
  return out;
}

std::string describeMapColumn(const ColumnInfo& c) {
  return "binlog type " + std::to_string(static_cast<int>(c.type)) + " (metadata " +
         std::to_string(c.meta) + ")";
}

// The statement's tokens as ddlEffect reads them: comments skipped, an end token at the end.
// "x" is read as a name (the ANSI_QUOTES reading: where a name is expected this only widens
// what is forgotten). next() is false when the statement holds something not followed: an
// unterminated quote or comment, or an executable comment (its content is code we do not read).
struct Token {
  enum class Kind : uint8_t { kWord, kQuoted, kPunct, kString, kEnd };
  Kind kind = Kind::kEnd;
  std::string text;  // words as written, quoted identifiers unquoted
};

class Tokenizer {
 public:
  Tokenizer(std::string_view sql, bool no_backslash_escapes)
      : lexer_(sql, {.ansi_quotes = true, .no_backslash_escapes = no_backslash_escapes}) {}
  bool next(Token* t) {
    auto r = lexer_.next();
    if (!r.ok()) return false;
    if (!r->has_value()) {
      *t = Token{};
      return true;
    }
    mysql::SqlToken& tok = **r;
    switch (tok.kind) {
      case mysql::SqlTokenKind::kExecutableComment: return false;
      case mysql::SqlTokenKind::kWord:
      case mysql::SqlTokenKind::kNumber: t->kind = Token::Kind::kWord; break;
      case mysql::SqlTokenKind::kQuotedIdentifier: t->kind = Token::Kind::kQuoted; break;
      case mysql::SqlTokenKind::kPunct: t->kind = Token::Kind::kPunct; break;
      case mysql::SqlTokenKind::kString: t->kind = Token::Kind::kString; break;
      case mysql::SqlTokenKind::kComment:
      case mysql::SqlTokenKind::kSpace: return false;  // never returned without keep_trivia
    }
    t->text = std::move(tok.text);
    return true;
  }

 private:
  mysql::SqlLexer lexer_;
};

bool isWord(const Token& t, std::string_view word) {
  return t.kind == Token::Kind::kWord && equalsIgnoreCase(t.text, word);
}
bool isName(const Token& t) {
  return t.kind == Token::Kind::kWord || t.kind == Token::Kind::kQuoted;
}

// Reads [db.]name at the cursor; false when the tokens are not a name.
bool readQualified(Tokenizer* tk, Token* cur, std::string_view default_db,
                   std::pair<std::string, std::string>* out) {
  if (!isName(*cur)) return false;
  std::string first = cur->text;
  if (!tk->next(cur)) return false;
  if (cur->kind == Token::Kind::kPunct && cur->text == ".") {
    if (!tk->next(cur) || !isName(*cur)) return false;
    *out = {first, cur->text};
    return tk->next(cur);
  }
  *out = {std::string(default_db), first};
  return true;
}

}  // namespace

DdlEffect ddlEffect(std::string_view default_db, std::string_view sql, bool no_backslash_escapes) {
  DdlEffect everything;
  everything.kind = DdlEffect::Kind::kEverything;
  DdlEffect none;
  Tokenizer tk(sql, no_backslash_escapes);
  Token t;
  if (!tk.next(&t)) return everything;
  if (t.kind != Token::Kind::kWord) return none;
  const std::string verb = toLower(t.text);
  if (verb != "alter" && verb != "create" && verb != "drop" && verb != "rename") return none;
  // Skip the modifiers that may sit between the verb and the object kind.
  auto advance = [&] { return tk.next(&t); };
  if (!advance()) return everything;
  while (t.kind == Token::Kind::kWord) {
    std::string w = toLower(t.text);
    if (w == "definer") {
      // DEFINER = user@host: skip to the object kind (the user part may be a bare word too).
      while (true) {
        if (!advance()) return everything;
        if (t.kind == Token::Kind::kEnd) return everything;
        std::string k = toLower(t.text);
        if (t.kind == Token::Kind::kWord && (k == "trigger" || k == "view" || k == "procedure" ||
                                             k == "function" || k == "event" || k == "sql")) {
          break;
        }
      }
      continue;
    }
    if (w == "or" || w == "replace" || w == "temporary" || w == "online" || w == "offline" ||
        w == "ignore" || w == "unique" || w == "fulltext" || w == "spatial" || w == "algorithm" ||
        w == "sql" || w == "security") {
      if (!advance()) return everything;
      continue;
    }
    break;
  }
  if (t.kind != Token::Kind::kWord) return everything;
  const std::string object = toLower(t.text);
  if (!advance()) return everything;
  auto skipIfExists = [&]() -> bool {
    if (isWord(t, "if")) {
      if (!advance()) return false;
      if (isWord(t, "not") && !advance()) return false;
      if (!isWord(t, "exists") || !advance()) return false;
    }
    return true;
  };

  if (object == "database" || object == "schema") {
    if (!skipIfExists()) return everything;
    if (!isName(t)) return everything;
    DdlEffect e;
    e.kind = DdlEffect::Kind::kDatabase;
    e.database = t.text;
    return e;
  }
  if (object == "table" || object == "tables") {
    if (!skipIfExists()) return everything;
    DdlEffect e;
    e.kind = DdlEffect::Kind::kTables;
    // DROP TABLE a, b / RENAME TABLE a TO b, c TO d / ALTER TABLE a ... / CREATE TABLE a ...
    while (true) {
      std::pair<std::string, std::string> name;
      if (!readQualified(&tk, &t, default_db, &name)) return everything;
      e.tables.push_back(std::move(name));
      if (verb == "rename") {
        if (!isWord(t, "to") || !advance()) return everything;
        if (!readQualified(&tk, &t, default_db, &name)) return everything;
        e.tables.push_back(std::move(name));
      }
      if ((verb == "drop" || verb == "rename") && t.kind == Token::Kind::kPunct && t.text == ",") {
        if (!advance()) return everything;
        continue;
      }
      break;
    }
    // ALTER TABLE a RENAME [TO|AS] b: the new name changes too.
    if (verb == "alter") {
      while (t.kind != Token::Kind::kEnd) {
        if (isWord(t, "rename")) {
          if (!advance()) return everything;
          if (isWord(t, "column") || isWord(t, "index") || isWord(t, "key")) continue;
          if (isWord(t, "to") || isWord(t, "as")) {
            if (!advance()) return everything;
          }
          std::pair<std::string, std::string> name;
          if (readQualified(&tk, &t, default_db, &name)) e.tables.push_back(std::move(name));
          continue;
        }
        if (!advance()) return everything;
      }
    }
    return e;
  }
  if (object == "index") {
    // CREATE INDEX i ON t (...) / DROP INDEX i ON t
    if (!skipIfExists()) return everything;
    while (t.kind != Token::Kind::kEnd && !isWord(t, "on")) {
      if (!advance()) return everything;
    }
    if (!isWord(t, "on") || !advance()) return everything;
    DdlEffect e;
    e.kind = DdlEffect::Kind::kTables;
    std::pair<std::string, std::string> name;
    if (!readQualified(&tk, &t, default_db, &name)) return everything;
    e.tables.push_back(std::move(name));
    return e;
  }
  // Views, routines, triggers, events, users, servers, sequences...: no table definition
  // a row event depends on. Sequences are tables in MariaDB: be safe.
  if (object == "view" || object == "procedure" || object == "function" || object == "trigger" ||
      object == "event" || object == "user" || object == "role" || object == "server" ||
      object == "logfile" || object == "tablespace" || object == "resource" ||
      object == "spatial") {
    return none;
  }
  return everything;
}

Result<std::vector<std::string>> parseEnumMembers(std::string_view column_type) {
  auto bad = [&](const std::string& why) {
    return Status::InvalidArgument("ENUM/SET column type '" + std::string(column_type) + "'" + why);
  };
  size_t open = column_type.find('(');
  if (open == std::string_view::npos) return bad(" has no member list");
  // The server prints each member as a string literal: quotes doubled, and backslash, newline,
  // carriage return, NUL and ^Z escaped with a backslash.
  mysql::SqlLexer lexer(column_type.substr(open + 1));
  std::vector<std::string> out;
  while (true) {
    auto member = lexer.next();
    if (!member.ok()) return bad(": unterminated member");
    if (!member->has_value()) return bad(" is not closed");
    if ((*member)->kind != mysql::SqlTokenKind::kString) return bad(": expected a quote");
    out.push_back(std::move((*member)->text));
    auto sep = lexer.next();
    if (!sep.ok()) return bad(": " + sep.status().message());
    if (!sep->has_value()) return bad(" is not closed");
    if ((*sep)->isPunct(',')) continue;
    if ((*sep)->isPunct(')')) return out;
    return bad(": expected ',' or ')'");
  }
}

Status checkColumnMatches(const ColumnInfo& m, const SchemaColumn& def) {
  const std::string& dt = def.data_type;
  auto differ = [&](const std::string& why) {
    return Status::FailedPrecondition("column `" + def.name + "` is " + def.column_type +
                                      " on the server but " + describeMapColumn(m) +
                                      " in the binlog" + (why.empty() ? "" : ": " + why));
  };
  auto is = [&](ColumnType t) { return m.type == t; };
  auto temporal = [&](ColumnType v2, ColumnType v1) -> Status {
    if (is(v2))
      return m.meta == def.datetime_precision ? Status::OK() : differ("fractional seconds differ");
    if (is(v1) && def.datetime_precision != 0 &&
        def.column_type.find("mariadb-5.3") != std::string::npos)
      return differ(
          "a MariaDB 5.3-format temporal column with fractional seconds, whose binlog values do "
          "not say how many bytes they take, so dts cannot read them: rebuild the table in the "
          "current format at the source (ALTER TABLE ... FORCE, with "
          "mysql56_temporal_format=ON), then start the task again");
    if (is(v1))
      return def.datetime_precision == 0 ? Status::OK() : differ("fractional seconds differ");
    return differ("");
  };
  auto stringKind = [&](ColumnType want) -> std::optional<mysql::StringMeta> {
    if (is(ColumnType::kString)) {
      auto sm = mysql::decodeStringMeta(m.meta);
      if (sm.real_type == want) return sm;
      return std::nullopt;
    }
    if (is(want)) return mysql::StringMeta{want, static_cast<uint32_t>(m.meta & 0xff)};
    return std::nullopt;
  };
  auto blobClass = [&](uint16_t bytes) -> Status {
    if (is(ColumnType::kBlob) || is(ColumnType::kTinyBlob) || is(ColumnType::kMediumBlob) ||
        is(ColumnType::kLongBlob)) {
      return m.meta == bytes ? Status::OK() : differ("length class differs");
    }
    return differ("");
  };

  if (dt == "tinyint") return is(ColumnType::kTiny) ? Status::OK() : differ("");
  if (dt == "smallint") return is(ColumnType::kShort) ? Status::OK() : differ("");
  if (dt == "mediumint") return is(ColumnType::kInt24) ? Status::OK() : differ("");
  if (dt == "int" || dt == "integer") return is(ColumnType::kLong) ? Status::OK() : differ("");
  if (dt == "bigint") return is(ColumnType::kLongLong) ? Status::OK() : differ("");
  if (dt == "float") return is(ColumnType::kFloat) ? Status::OK() : differ("");
  if (dt == "double" || dt == "real") return is(ColumnType::kDouble) ? Status::OK() : differ("");
  if (dt == "decimal" || dt == "numeric") {
    if (!is(ColumnType::kNewDecimal)) return differ("");
    if ((m.meta >> 8) != def.precision || (m.meta & 0xff) != def.scale)
      return differ("precision or scale differs");
    return Status::OK();
  }
  if (dt == "year") return is(ColumnType::kYear) ? Status::OK() : differ("");
  if (dt == "date")
    return is(ColumnType::kDate) || is(ColumnType::kNewDate) ? Status::OK() : differ("");
  if (dt == "time") return temporal(ColumnType::kTime2, ColumnType::kTime);
  if (dt == "datetime") return temporal(ColumnType::kDateTime2, ColumnType::kDateTime);
  if (dt == "timestamp") return temporal(ColumnType::kTimestamp2, ColumnType::kTimestamp);
  if (dt == "bit") {
    if (!is(ColumnType::kBit)) return differ("");
    uint32_t bits = (m.meta >> 8) * 8u + (m.meta & 0xff);
    return bits == def.precision ? Status::OK() : differ("width differs");
  }
  // A character column whose character set is unknown (a schema history without one) has no
  // known byte length: only its kind is checked.
  const bool length_unknown = def.octet_length == 0 && def.collation == 0;
  if (dt == "char" || dt == "binary") {
    auto sm = stringKind(ColumnType::kString);
    if (!sm) return differ("");
    return sm->max_length == def.octet_length || length_unknown ? Status::OK()
                                                                : differ("length differs");
  }
  if (dt == "varchar" || dt == "varbinary") {
    if (!is(ColumnType::kVarchar) && !is(ColumnType::kVarString)) return differ("");
    // A COMPRESSED column's length counts the byte that says how its value is stored.
    const uint32_t stored = def.octet_length + (m.compressed ? 1 : 0);
    return m.meta == stored || length_unknown ? Status::OK() : differ("length differs");
  }
  if (dt == "enum" || dt == "set") {
    auto sm = stringKind(dt == "enum" ? ColumnType::kEnum : ColumnType::kSet);
    if (!sm) return differ("");
    auto members = parseEnumMembers(def.column_type);
    if (!members.ok()) return differ(members.status().message());
    size_t n = members->size();
    uint32_t want = 0;
    if (dt == "enum") {
      want = n <= 255 ? 1 : 2;
    } else {
      want = static_cast<uint32_t>((n + 7) / 8);
      if (want > 4) want = 8;
    }
    return sm->max_length == want ? Status::OK() : differ("number of members differs");
  }
  if (dt == "tinytext" || dt == "tinyblob") return blobClass(1);
  if (dt == "text" || dt == "blob") return blobClass(2);
  if (dt == "mediumtext" || dt == "mediumblob") return blobClass(3);
  if (dt == "longtext" || dt == "longblob") return blobClass(4);
  if (dt == "json")
    return is(ColumnType::kJson) || is(ColumnType::kBlob) ? Status::OK() : differ("");
  if (dt == "geometry" || dt == "point" || dt == "linestring" || dt == "polygon" ||
      dt == "multipoint" || dt == "multilinestring" || dt == "multipolygon" ||
      dt == "geometrycollection" || dt == "geomcollection") {
    return is(ColumnType::kGeometry) ? Status::OK() : differ("");
  }
  if (dt == "inet4" || dt == "inet6" || dt == "uuid") {
    return stringKind(ColumnType::kString) ? Status::OK() : differ("");
  }
  return Status::Unsupported("column `" + def.name + "` has type " + def.column_type +
                             ", which dts cannot match against the binlog");
}

// ---- InformationSchemaLoader ----

Result<std::unique_ptr<InformationSchemaLoader>> InformationSchemaLoader::connect(
    const mysql::ConnectOptions& options) {
  DTS_ASSIGN_OR_RETURN(auto conn, mysql::Connection::connect(options));
  return std::make_unique<InformationSchemaLoader>(std::move(conn));
}

Result<SchemaTable> InformationSchemaLoader::load(const std::string& database,
                                                  const std::string& table) {
  return loadSchemaTable(*conn_, database, table);
}

Result<SchemaTable> loadSchemaTable(mysql::Connection& c, const std::string& database,
                                    const std::string& table) {
  const std::string what = "reading the definition of " + mysql::quoteQualified(database, table);
  auto cols = c.query(
      "SELECT c.COLUMN_NAME, LOWER(c.DATA_TYPE), c.COLUMN_TYPE, c.IS_NULLABLE, co.ID, c.NUMERIC_PRECISION, "
      "c.NUMERIC_SCALE, c.DATETIME_PRECISION, c.CHARACTER_OCTET_LENGTH "
      "FROM information_schema.COLUMNS c LEFT JOIN information_schema.COLLATIONS co "
      "ON co.COLLATION_NAME = c.COLLATION_NAME WHERE c." +
      std::string("TABLE_SCHEMA = ") + c.quoteString(database) +
      " AND c.TABLE_NAME = " + c.quoteString(table) + " ORDER BY c.ORDINAL_POSITION");
  if (!cols.ok()) return cols.status().withContext(what);
  if (cols->rows.empty()) {
    return Status::NotFound("table " + mysql::quoteQualified(database, table) +
                            " does not exist on " + c.options().endpoint.toString());
  }
  SchemaTable out;
  out.database = database;
  out.table = table;
  for (const auto& row : cols->rows) {
    if (row.size() < 9 || !row[0] || !row[1] || !row[2])
      return Status::Internal(what + ": unexpected NULL in COLUMNS");
    SchemaColumn col;
    col.name = *row[0];
    col.data_type = *row[1];
    col.column_type = *row[2];
    col.nullable = row[3].value_or("YES") == "YES";
    col.collation = static_cast<uint16_t>(toU32(row[4]));
    col.precision = toU32(row[5]);
    col.scale = toU32(row[6]);
    col.datetime_precision = toU32(row[7]);
    col.octet_length = toU32(row[8]);
    const std::string& dt = col.data_type;
    if (dt == "binary" || dt == "varbinary" || dt == "tinyblob" || dt == "blob" ||
        dt == "mediumblob" || dt == "longblob") {
      col.collation = mysql::kBinaryCollation;
    }
    out.columns.push_back(std::move(col));
  }
  auto keys = mysql::readUniqueKeys(c, database, table);
  if (!keys.ok()) return keys.status().withContext(what);
  if (!keys->empty() && keys->front().primary()) out.primary_key = std::move(keys->front().columns);
  return out;
}

namespace {

Result<std::string> firstValue(mysql::Connection& c, const std::string& sql,
                               const std::string& what) {
  auto r = c.query(sql);
  if (!r.ok()) return r.status().withContext(what);
  if (r->rows.empty() || r->rows[0].empty() || !r->rows[0][0]) return std::string();
  return *r->rows[0][0];
}

}  // namespace

Result<std::string> InformationSchemaLoader::databaseCollation(const std::string& database) {
  return firstValue(
      *conn_,
      "SELECT DEFAULT_COLLATION_NAME FROM information_schema.SCHEMATA WHERE "
      "SCHEMA_NAME = " +
          conn_->quoteString(database),
      "reading the default collation of database " + mysql::quoteIdentifier(database));
}

Result<std::string> InformationSchemaLoader::serverCollation() {
  return firstValue(*conn_, "SELECT @@collation_server", "reading @@collation_server");
}

// ---- SchemaTracker ----

SchemaTracker::SchemaTracker(std::unique_ptr<SchemaLoader> loader, Options options)
    : loader_(std::move(loader)) {
  SchemaHistory::Options h;
  h.cares = std::move(options.cares);
  if (loader_ != nullptr) {
    SchemaLoader* l = loader_.get();
    h.database_collation = [l](const std::string& db) { return l->databaseCollation(db); };
    h.server_collation = [l]() { return l->serverCollation(); };
  }
  history_ = std::make_unique<SchemaHistory>(std::move(h));
}

SchemaTracker::~SchemaTracker() = default;

Result<std::shared_ptr<const SchemaTable>> SchemaTracker::definition(const std::string& db,
                                                                     const std::string& table,
                                                                     bool reload) {
  std::string key = cacheKey(db, table);
  if (!reload) {
    auto it = cache_.find(key);
    if (it != cache_.end()) return it->second;
  }
  ++loads_;
  auto loaded = loader_->load(db, table);
  if (!loaded.ok()) {
    cache_.erase(key);
    if (loaded.status().code() == Status::Code::kNotFound) {
      return Status::FailedPrecondition(
          loaded.status().message() +
          " now, but the binlog still writes rows to it (dropped or renamed later); "
          "its column names are unknown: use binlog_row_metadata=FULL");
    }
    return loaded.status();
  }
  auto def = std::make_shared<const SchemaTable>(std::move(loaded).value());
  cache_[key] = def;
  return def;
}

namespace {

// Every column of the TABLE_MAP against a definition: OK, or the first difference.
Status checkTableMatches(const TableInfo& map, const SchemaTable& def, const std::string& where,
                         const std::string& which, const std::string& why) {
  if (def.columns.size() != map.columns.size()) {
    return Status::FailedPrecondition(
        "table " + where + " has " + std::to_string(def.columns.size()) + " columns " + which +
        " but " + std::to_string(map.columns.size()) + " in the binlog" + why);
  }
  for (size_t i = 0; i < map.columns.size(); ++i) {
    Status st = checkColumnMatches(map.columns[i], def.columns[i]);
    if (!st.ok()) {
      if (st.code() == Status::Code::kUnsupported) return st.withContext("table " + where);
      return Status::FailedPrecondition("table " + where + " column " + std::to_string(i + 1) +
                                        " (" + which + why + "): " + st.message());
    }
  }
  return Status::OK();
}

// MariaDB's UUID, INET6 and INET4: the binlog has their bytes as a binary STRING; the row
// decoder gives their text (mysql/row_decoder.h), which this column then says is ASCII.
bool isFixedBinaryText(const std::string& data_type) {
  return data_type == "uuid" || data_type == "inet6" || data_type == "inet4";
}
void markFixedBinaryText(ColumnInfo& c, const SchemaColumn& d) {
  if (!isFixedBinaryText(d.data_type)) return;
  c.column_type = d.data_type;
  c.collation = mysql::kUtf8mb4Collation;
}

// What full row metadata leaves out, from a definition with the same columns: a UUID or INET
// column's type (the TABLE_MAP shows a binary string).
std::shared_ptr<const TableInfo> completeFullMetadata(const TableInfo& map,
                                                      const SchemaTable& def) {
  if (def.columns.size() != map.columns.size()) return std::make_shared<const TableInfo>(map);
  auto out = std::make_shared<TableInfo>(map);
  for (size_t i = 0; i < out->columns.size(); ++i) {
    ColumnInfo& c = out->columns[i];
    const SchemaColumn& d = def.columns[i];
    if (!equalsIgnoreCase(c.name, d.name)) continue;
    markFixedBinaryText(c, d);
  }
  return out;
}

bool needsDefinition(const TableInfo& map) {
  return std::any_of(map.columns.begin(), map.columns.end(), [](const ColumnInfo& c) {
    return c.type == ColumnType::kString && c.collation == mysql::kBinaryCollation &&
           (c.meta & 0xff) <= 16;
  });
}

// The TABLE_MAP completed with a definition that matches it.
Result<std::shared_ptr<const TableInfo>> fill(const TableInfo& map, const SchemaTable& def,
                                              const std::string& where) {
  auto out = std::make_shared<TableInfo>(map);
  for (size_t i = 0; i < out->columns.size(); ++i) {
    ColumnInfo& c = out->columns[i];
    const SchemaColumn& d = def.columns[i];
    c.name = d.name;
    c.column_type = d.column_type;
    c.is_unsigned = d.column_type.find("unsigned") != std::string::npos;
    if (d.collation != 0) c.collation = d.collation;
    markFixedBinaryText(c, d);
    if (d.data_type == "enum" || d.data_type == "set") {
      auto members = parseEnumMembers(d.column_type);
      if (!members.ok()) return members.status().withContext("table " + where);
      c.enum_values = std::move(members).value();
      // Both information_schema (through the loader's utf8mb4 connection) and the history (from
      // DDL text) give the names as utf8mb4 text, not in the column's character set.
      c.enum_values_collation = mysql::kUtf8mb4Collation;
    }
  }
  out->primary_key.clear();
  for (const std::string& k : def.primary_key) {
    for (size_t i = 0; i < def.columns.size(); ++i) {
      if (def.columns[i].name == k) out->primary_key.push_back(i);
    }
  }
  return std::shared_ptr<const TableInfo>(std::move(out));
}

}  // namespace

std::shared_ptr<const TableInfo> tableInfoOf(const SchemaTable& def) {
  auto out = std::make_shared<TableInfo>();
  out->database = def.database;
  out->table = def.table;
  for (const SchemaColumn& d : def.columns) {
    ColumnInfo& c = out->columns.emplace_back();
    c.name = d.name;
    c.column_type = d.column_type;
    c.is_unsigned = d.column_type.find("unsigned") != std::string::npos;
    c.nullable = d.nullable;
    c.collation = d.collation;
  }
  for (const std::string& k : def.primary_key) {
    for (size_t i = 0; i < def.columns.size(); ++i) {
      if (equalsIgnoreCase(def.columns[i].name, k)) out->primary_key.push_back(i);
    }
  }
  return out;
}

Result<std::shared_ptr<const TableInfo>> SchemaTracker::complete(const TableInfo& map) {
  const bool full_metadata =
      !map.columns.empty() && std::all_of(map.columns.begin(), map.columns.end(),
                                          [](const ColumnInfo& c) { return !c.name.empty(); });
  if (full_metadata) {
    // Names and character sets are the TABLE_MAP's. A short binary string (a UUID or INET?) asks
    // the definition: the history's, else the server's now.
    if (!needsDefinition(map)) return std::make_shared<const TableInfo>(map);
    if (history_->knows(map.database, map.table)) {
      auto def = history_->find(map.database, map.table);
      if (def != nullptr) return completeFullMetadata(map, def->shape);
    } else if (loader_ != nullptr) {
      auto def = definition(map.database, map.table, false);
      if (def.ok()) return completeFullMetadata(map, **def);
    }
    return std::make_shared<const TableInfo>(map);
  }

  const std::string where = mysql::quoteQualified(map.database, map.table);
  if (history_->knows(map.database, map.table)) {
    auto def = history_->find(map.database, map.table);
    if (def == nullptr) {
      return Status::FailedPrecondition(
          "table " + where +
          " has rows in the binlog where the schema history says it does not exist");
    }
    DTS_RETURN_IF_ERROR(checkTableMatches(map, def->shape, where,
                                          "in the schema history at this point of the stream",
                                          " (a DDL the history missed?)"));
    return fill(map, def->shape, where);
  }
  if (loader_ == nullptr) return std::make_shared<const TableInfo>(map);

  Status mismatch;
  for (int attempt = 0; attempt < 2; ++attempt) {
    // A mismatch against a cached definition may only mean the cache is stale (a DDL we could
    // not follow): reload once before calling it an error.
    DTS_ASSIGN_OR_RETURN(std::shared_ptr<const SchemaTable> def,
                         definition(map.database, map.table, attempt > 0));
    mismatch = checkTableMatches(map, *def, where, "on the server now",
                                 " (its definition changed after this point of the stream)");
    if (mismatch.code() == Status::Code::kUnsupported) return mismatch;
    if (!mismatch.ok()) continue;
    return fill(map, *def, where);
  }
  return mismatch;
}

Status SchemaTracker::onQuery(std::string_view default_db, std::string_view sql, uint64_t marker,
                              bool* changed,
                              std::vector<std::pair<std::string, std::string>>* defined,
                              const StatementSession& session) {
  DTS_ASSIGN_OR_RETURN(SchemaHistory::Applied applied,
                       history_->apply(default_db, sql, marker, session));
  if (changed != nullptr) *changed = applied.changed;
  if (defined != nullptr) *defined = std::move(applied.defined);
  if (applied.unknown_everything) {
    invalidateAll();
    return Status::OK();
  }
  for (const auto& [db, table] : applied.unknown) {
    if (table.empty()) {
      invalidateDatabase(db);
    } else {
      invalidateTable(db, table);
    }
  }
  return Status::OK();
}

void SchemaTracker::invalidateTable(const std::string& database, const std::string& table) {
  cache_.erase(cacheKey(database, table));
}

void SchemaTracker::invalidateDatabase(const std::string& database) {
  std::string prefix = database + '\0';
  std::erase_if(cache_,
                [&](const auto& kv) { return kv.first.compare(0, prefix.size(), prefix) == 0; });
}

void SchemaTracker::invalidateAll() {
  cache_.clear();
}

}  // namespace dts::source
