// Catalog: what the task needs to know about its source tables before moving them: which tables
// the mapping selects, their columns (with how to render each value), and the key the full-data
// phase chunks by.
#pragma once

#include <string>
#include <vector>

#include "common/status.h"
#include "mysql/connection.h"
#include "pipeline/mapping.h"

namespace dts::task {

struct CatalogColumn {
  std::string name;
  std::string data_type;   // information_schema DATA_TYPE: "int", "varchar", "blob", ...
  bool generated = false;  // VIRTUAL/STORED generated: never inserted
  bool nullable = true;
  // How a text-protocol value is written into SQL: as is (numbers), as X'hex' (bytes), quoted.
  enum class Render { kNumber, kHex, kString } render = Render::kString;
  std::string column_type;  // information_schema COLUMN_TYPE: "float(10,4) unsigned", ...
  std::string charset;      // information_schema CHARACTER_SET_NAME; "" for other columns
};

struct CatalogTable {
  pipeline::TableRoute route;
  std::vector<CatalogColumn> columns;     // every source column, in table order
  std::vector<std::string> copy_columns;  // the columns moved (selected, not generated), in order
  // The key the full-data phase chunks by: the primary key, else a unique key of NOT NULL
  // columns; empty when the table has none, or when the column subset drops it (the destination
  // then has no key either, and the table is loaded in one transaction).
  std::vector<std::string> chunk_key;
  bool source_has_key = false;  // the source table has a PK or unique NOT NULL key
  uint64_t estimated_rows = 0;  // information_schema TABLE_ROWS (InnoDB: an estimate)
  uint64_t avg_row_length = 0;

  std::string describe() const { return route.source_database + "." + route.source_table; }
};

// A FLOAT or DOUBLE (REAL, DOUBLE PRECISION) column.
bool isFloating(const CatalogColumn& column);

// How a column is SELECTed so that its text form converts back to the same stored value: the
// column itself, except FLOAT and DOUBLE (REAL, FLOAT(M,D), DOUBLE(M,D), UNSIGNED), which the
// server prints with 6 significant digits (FLOAT) or with the column's D decimals: those are
// floatTextExpr.
std::string exactSelectExpr(const CatalogColumn& column);
// The text of a FLOAT or DOUBLE (`quoted`: the column, quoted) that converts back to the same
// value, sign of a zero included: multiplied by 1e0 it becomes a DOUBLE of the same value (exact:
// widening and multiplying by one never round), which MySQL and MariaDB print in the shortest form
// that converts back to that double, hence to the same float; but MariaDB prints -0 as "0", so a
// zero is "-0" or "0" by its sign (ATAN2(-0, -1) is -pi). CAST(... AS DOUBLE) would do the same but
// MySQL has it only since 8.0.17. Writing "-0" back is sink::negativeZeroLiteral's concern.
std::string floatTextExpr(const std::string& quoted);
// The chunk key's columns as exactSelectExpr selects them (but a FLOAT or DOUBLE as the number
// `col` * 1e0, -0 printing as 0, and a keyOrderIsNumber column as `col` + 0), comma separated:
// read so, a key read back into a predicate (a chunk bound) is a key of the table, also when it
// is a FLOAT, and compares with the column in the order ORDER BY sorts it.
std::string exactKeySelectList(const CatalogTable& table);

// A BIT, ENUM or SET column: the server sorts it (ORDER BY, the index) by its number, BIT's
// value, ENUM's member index, SET's bitmask, while a literal of its text or bytes compares
// otherwise (X'..' against a BIT matches everything or nothing at MariaDB; 'a' against an ENUM
// compares as a string). A bound on such a column is read and written as that number, which
// compares by it (`k` > 7919, `e` <= 2).
bool keyOrderIsNumber(const CatalogColumn& column);

// An ENUM or SET column whose text does not tell every value apart: an ENUM with a member ''
// reads '' for it and for the error value (index 0), a SET with a member '' reads '' for the
// empty set and for {''}. Such a column is read (`col` + 0) and written as its index or bitmask.
// So is one whose definition cannot be parsed.
bool enumTextIsAmbiguous(const CatalogColumn& column);

// OK unless a copied ENUM or SET column's definition may not be the source's: MariaDB shows a
// character outside the Basic Multilingual Plane (4-byte UTF-8, such as an emoji) in an ENUM or
// SET member as '?', in SHOW CREATE TABLE and information_schema alike, while the rows hold the
// real member. A member with '?' in a column whose character set holds such characters
// (utf8mb4, utf16, utf16le, utf32) cannot be told from one, so a destination table created from
// that definition could store other values than the source's: kFailedPrecondition naming the
// table and column and what to do (create the table at the destination with the source's
// definition, and options.conflicting_tables: ignore).
Status enumDefinitionsAreExact(const CatalogTable& table);

// The selected base tables of the source, in mapping order (then by name). Errors: a listed
// database or table that does not exist, a listed column the table does not have, a WHERE that
// names a missing column, and a selected table dts cannot move (kUnsupported, naming it and why):
// a system-versioned table (WITH SYSTEM VERSIONING) or a SEQUENCE, whether listed or part of a
// whole database, never left out silently. With `unsupported`, the tables of a whole-database
// selection that dts cannot move are described there ("db.t: why") instead (what the console's
// browser shows); a listed one still fails.
Result<std::vector<CatalogTable>> loadCatalog(mysql::Connection& source,
                                              const pipeline::Mapping& mapping,
                                              std::vector<std::string>* unsupported = nullptr);

// The source's databases by name, without the server's own (mysql, information_schema,
// performance_schema, sys): what a task may select.
Result<std::vector<std::string>> listDatabases(mysql::Connection& source);

// Reads one table's columns and keys (exposed for tests).
Status describeTable(mysql::Connection& source, CatalogTable* table);

}  // namespace dts::task
