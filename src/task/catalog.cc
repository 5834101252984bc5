#include "task/catalog.h"

#include <algorithm>
#include <map>
#include <set>

#include "common/strings.h"
#include "mysql/unique_keys.h"
#include "source/schema_tracker.h"

namespace dts::task {

namespace {

CatalogColumn::Render renderFor(const std::string& type) {
  static const std::set<std::string> numbers = {"tinyint", "smallint", "mediumint", "int",
                                                "integer", "bigint",   "decimal",   "numeric",
                                                "float",   "double",   "real",      "year"};
  static const std::set<std::string> bytes = {
      "binary",   "varbinary",  "tinyblob",        "blob",         "mediumblob",
      "longblob", "bit",        "geometry",        "point",        "linestring",
      "polygon",  "multipoint", "multilinestring", "multipolygon", "geometrycollection"};
  if (numbers.count(type) != 0) return CatalogColumn::Render::kNumber;
  if (bytes.count(type) != 0) return CatalogColumn::Render::kHex;
  return CatalogColumn::Render::kString;
}

}  // namespace

Status enumDefinitionsAreExact(const CatalogTable& t) {
  for (const CatalogColumn& c : t.columns) {
    if (c.data_type != "enum" && c.data_type != "set") continue;
    if (std::find(t.copy_columns.begin(), t.copy_columns.end(), c.name) == t.copy_columns.end())
      continue;
    if (c.charset != "utf8mb4" && c.charset != "utf16" && c.charset != "utf16le" &&
        c.charset != "utf32")
      continue;
    auto members = source::parseEnumMembers(c.column_type);
    if (!members.ok()) return members.status().withContext("column " + c.name);
    for (const std::string& m : *members) {
      if (m.find('?') == std::string::npos) continue;
      return Status::FailedPrecondition(
          "table " + mysql::quoteQualified(t.route.source_database, t.route.source_table) +
          " column " + mysql::quoteIdentifier(c.name) + ": the source shows its definition as " +
          c.column_type +
          "; MariaDB shows a character outside the Basic Multilingual Plane (4-byte UTF-8, such "
          "as an emoji) in an ENUM or SET member as '?', so dts cannot create this table with "
          "the source's members. Create it at the destination with the source's definition (its "
          "CREATE TABLE as written) and set options.conflicting_tables: ignore");
    }
  }
  return Status::OK();
}

bool isFloating(const CatalogColumn& c) {
  return c.data_type == "float" || c.data_type == "double" || c.data_type == "real" ||
         c.data_type == "double precision";
}

std::string exactSelectExpr(const CatalogColumn& c) {
  std::string q = mysql::quoteIdentifier(c.name);
  return isFloating(c) ? floatTextExpr(q) : q;
}

std::string floatTextExpr(const std::string& q) {
  // A string (IF's type is its branches'), its number as the number itself prints.
  return "IF(" + q + " = 0, IF(ATAN2(" + q + ", -1) < 0, '-0', '0'), " + q + " * 1e0)";
}

std::string exactKeySelectList(const CatalogTable& t) {
  std::string out;
  for (const auto& k : t.chunk_key) {
    auto c = std::find_if(t.columns.begin(), t.columns.end(),
                          [&](const CatalogColumn& x) { return x.name == k; });
    std::string q = mysql::quoteIdentifier(k);
    if (c != t.columns.end() && isFloating(*c)) q = "(" + q + " * 1e0)";
    if (c != t.columns.end() && keyOrderIsNumber(*c)) q = "(" + q + " + 0)";
    out += (out.empty() ? "" : ", ") + q;
  }
  return out;
}

bool keyOrderIsNumber(const CatalogColumn& c) {
  return c.data_type == "bit" || c.data_type == "enum" || c.data_type == "set";
}

bool enumTextIsAmbiguous(const CatalogColumn& c) {
  if (c.data_type != "enum" && c.data_type != "set") return false;
  auto members = source::parseEnumMembers(c.column_type);
  return !members.ok() ||
         std::find(members->begin(), members->end(), std::string()) != members->end();
}

Status describeTable(mysql::Connection& src, CatalogTable* t) {
  const std::string& db = t->route.source_database;
  const std::string& table = t->route.source_table;
  DTS_ASSIGN_OR_RETURN(
      auto cols, src.query("SELECT COLUMN_NAME, DATA_TYPE, EXTRA, IS_NULLABLE, COLUMN_TYPE,"
                           " CHARACTER_SET_NAME FROM information_schema.COLUMNS"
                           " WHERE TABLE_SCHEMA = " +
                           src.quoteString(db) + " AND TABLE_NAME = " + src.quoteString(table) +
                           " ORDER BY ORDINAL_POSITION"));
  if (cols.rows.empty())
    return Status::NotFound("source table " + t->describe() + " does not exist");
  t->columns.clear();
  for (const auto& r : cols.rows) {
    CatalogColumn c;
    c.name = r[0].value_or("");
    c.data_type = r[1].value_or("");
    c.generated = mysql::isGeneratedColumnExtra(r[2].value_or(""));
    c.nullable = r[3].value_or("YES") == "YES";
    c.column_type = r[4].value_or("");
    c.charset = r.size() > 5 ? r[5].value_or("") : "";
    c.render = renderFor(c.data_type);
    t->columns.push_back(std::move(c));
  }
  auto has = [&](const std::string& name) {
    return std::any_of(t->columns.begin(), t->columns.end(),
                       [&](const auto& c) { return c.name == name; });
  };
  for (const auto& c : t->route.columns) {
    if (!has(c))
      return Status::FailedPrecondition("source table " + t->describe() + " has no column '" + c +
                                        "'");
  }
  if (t->route.filter != nullptr) {
    for (const auto& c : t->route.filter->columns()) {
      if (!has(c)) {
        return Status::FailedPrecondition("where of " + t->describe() + " names column '" + c +
                                          "', which the table does not have");
      }
    }
  }
  t->copy_columns.clear();
  for (const auto& c : t->columns) {
    if (!c.generated && t->route.keepsColumn(c.name)) t->copy_columns.push_back(c.name);
  }
  // Keys: PRIMARY first, then unique keys whose columns are all NOT NULL.
  DTS_ASSIGN_OR_RETURN(auto unique, mysql::readUniqueKeys(src, db, table));
  t->chunk_key.clear();
  t->source_has_key = false;
  for (const auto& [name, key_cols, nullable, sub_parts] : unique) {
    if (nullable) continue;
    t->source_has_key = true;
    bool kept = std::all_of(key_cols.begin(), key_cols.end(), [&](const std::string& c) {
      return std::find(t->copy_columns.begin(), t->copy_columns.end(), c) != t->copy_columns.end();
    });
    if (kept) {
      t->chunk_key = key_cols;
      break;
    }
  }
  DTS_ASSIGN_OR_RETURN(
      auto stats, src.query("SELECT TABLE_ROWS, AVG_ROW_LENGTH FROM information_schema.TABLES"
                            " WHERE TABLE_SCHEMA = " +
                            src.quoteString(db) + " AND TABLE_NAME = " + src.quoteString(table)));
  if (!stats.rows.empty()) {
    t->estimated_rows = std::stoull(stats.rows[0][0].value_or("0"));
    t->avg_row_length = std::stoull(stats.rows[0][1].value_or("0"));
  }
  return Status::OK();
}

Result<std::vector<std::string>> listDatabases(mysql::Connection& src) {
  DTS_ASSIGN_OR_RETURN(auto r, src.query("SELECT SCHEMA_NAME FROM information_schema.SCHEMATA"
                                         " WHERE SCHEMA_NAME NOT IN ('mysql', 'information_schema',"
                                         " 'performance_schema', 'sys') ORDER BY SCHEMA_NAME"));
  std::vector<std::string> out;
  for (const auto& row : r.rows)
    if (!row.empty() && row[0]) out.push_back(*row[0]);
  return out;
}

namespace {

// Why dts cannot move a table of this information_schema.TABLES.TABLE_TYPE; empty if it can.
std::string unsupportedKind(const std::string& type) {
  if (type == "SYSTEM VERSIONED")
    return "a system-versioned table (WITH SYSTEM VERSIONING): dts does not move its history "
           "or its row_start/row_end columns";
  if (type == "SEQUENCE") return "a SEQUENCE: dts does not move sequences";
  return "";
}

}  // namespace

Result<std::vector<CatalogTable>> loadCatalog(mysql::Connection& src,
                                              const pipeline::Mapping& mapping,
                                              std::vector<std::string>* unsupported) {
  std::vector<CatalogTable> out;
  for (const auto& db : mapping.selections()) {
    DTS_ASSIGN_OR_RETURN(auto exists,
                         src.queryValue("SELECT COUNT(*) FROM information_schema.SCHEMATA"
                                        " WHERE SCHEMA_NAME = " +
                                        src.quoteString(db.database)));
    if (exists.value_or("0") == "0") {
      return Status::FailedPrecondition("source database '" + db.database + "' does not exist");
    }
    // Every kind of table that holds rows, so that none is left out unnoticed (views are not).
    DTS_ASSIGN_OR_RETURN(
        auto tables,
        src.query(
            "SELECT TABLE_NAME, TABLE_TYPE FROM information_schema.TABLES WHERE TABLE_SCHEMA = " +
            src.quoteString(db.database) +
            " AND TABLE_TYPE IN ('BASE TABLE', 'SYSTEM VERSIONED', 'SEQUENCE') ORDER BY "
            "TABLE_NAME"));
    std::map<std::string, std::string> present;  // name -> why dts cannot move it ("" if it can)
    for (const auto& r : tables.rows)
      present[r[0].value_or("")] = unsupportedKind(r.size() > 1 ? r[1].value_or("") : "");
    auto refuse = [&](const std::string& name) {
      return Status::Unsupported(
          "source table " + db.database + "." + name + " is " + present[name] +
          (db.tables.empty() ? "; add it to objects[].exclude_tables to leave it out (the "
                               "database's other tables, views and routines are still moved)"
                             : "; remove it from objects[].tables"));
    };
    std::vector<std::string> names;
    if (db.tables.empty()) {
      for (const auto& [name, why] : present) {
        if (db.excludes(name)) continue;
        if (why.empty()) {
          names.push_back(name);
        } else if (unsupported != nullptr) {
          unsupported->push_back(db.database + "." + name + ": " + why);
        } else {
          return refuse(name);
        }
      }
    } else {
      for (const auto& t : db.tables) {
        auto it = present.find(t.name);
        if (it == present.end()) {
          return Status::FailedPrecondition("source table " + db.database + "." + t.name +
                                            " does not exist");
        }
        if (!it->second.empty()) return refuse(t.name);
        names.push_back(t.name);
      }
    }
    for (const auto& name : names) {
      CatalogTable t;
      t.route = *mapping.route(db.database, name);
      DTS_RETURN_IF_ERROR(describeTable(src, &t));
      out.push_back(std::move(t));
    }
  }
  return out;
}

}  // namespace dts::task
