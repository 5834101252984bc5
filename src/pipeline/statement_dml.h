// Data changes the source logged as SQL statements rather than as row events.
//
// A session with binlog_format=STATEMENT (or MIXED, for a statement the server deems safe) logs
// its INSERT, UPDATE, DELETE, REPLACE and LOAD DATA as QUERY events, and so does a secondary node
// that replicates such a primary with log_slave_updates. A native replica runs the statement
// again; dts applies rows (renamed, filtered, cut to a column subset), and its change records
// are rows, so such a statement is an error naming it when it writes a table the task moves
// (TransactionBuilder::Options::refuse_statement_dml), never a change silently left out.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "mysql/sql_lexer.h"

namespace dts::pipeline {

struct StatementDml {
  std::string verb;  // "INSERT", "UPDATE", ... as written, upper-cased
  // The tables it writes, (db, table), the default database filled in for an unqualified name.
  // For UPDATE and a multi-table DELETE every table of the table references (aliases too): a
  // superset. Empty with unknown_targets when the statement does not say what it writes (a
  // SELECT or DO of a function that writes, CALL) or its tables could not be read.
  std::vector<std::pair<std::string, std::string>> targets;
  bool unknown_targets = false;
};

// What `sql` (run with default database `default_db`, read as `lex` says) writes; nullopt when it
// is no data-changing statement (DDL, SET, GRANT, BEGIN, ...).
std::optional<StatementDml> statementDml(std::string_view sql, std::string_view default_db,
                                         mysql::SqlLexerOptions lex = {});

}  // namespace dts::pipeline
