// DDL rewriting for the mapping stage (mapping_stage.h): a source DDL statement, with the
// task's database/table renames applied to the names it acts on, or "skip" when it touches no
// selected table.
//
// Understood (names may be `quoted`, qualified or not; unqualified names resolve against the
// statement's default database):
//   CREATE [OR REPLACE] [TEMPORARY] TABLE [IF NOT EXISTS] t ... [LIKE s]
//   ALTER [ONLINE] [IGNORE] TABLE t ... [RENAME [TO|AS] t2] ...
//   DROP [TEMPORARY] TABLE [IF EXISTS] t [, t2 ...]
//   RENAME TABLE a TO b [, c TO d ...]
//   TRUNCATE [TABLE] t
//   CREATE [UNIQUE|FULLTEXT|SPATIAL] INDEX i ON t ... / DROP INDEX i ON t
//   CREATE DATABASE / CREATE SCHEMA / DROP DATABASE / DROP SCHEMA [IF [NOT] EXISTS] d
// Views, stored routines, triggers, events, table maintenance and account statements follow
// object_ddl.h (applied, not applied with a reason, or skipped).
// Executable comments (/*!50100 ... */, /*M! ... */) are read, and for kApply sent, as the source
// server ran them: opened where it ran their code, left out where it did not (lex's
// server_version: mysql::openExecutableComments), so that a destination of another version or
// kind runs what the source ran (sysbench's `/*! ENGINE = innodb */`, mysqldump's wrapped
// CREATE VIEW).
// Anything else is skipped when its default database is not selected and kUnsupported when it is
// (so a statement dts cannot place is never applied to the wrong table, nor silently dropped).
// A statement naming both selected and unselected tables, CREATE TABLE of a table whose route
// keeps a column subset or a WHERE filter, or a REFERENCES clause under a database rename is
// kUnsupported; the message names the table (source names, `quoted` as the server quotes them).
// ALTER TABLE of such a table keeps what the destination table needs (alter_for_route.h): an
// unkept column's ADD/DROP/MODIFY is left out (and a statement left empty is skipped), a kept
// column's MODIFY is applied, a kept column dropped or renamed is kUnsupported.
//
// DdlUse::kRecord is for a sink that records statements and applies none (a tracking task's
// change log): every statement valid on the source that names a selected table, or runs in a
// selected default database, is kept as the client sent it (`sql` unchanged, never refused):
// a table leaving the selection (RENAME to an unselected name) or entering it, a statement
// naming selected and unselected tables, a column-subset table, an executable comment, a
// statement kind not understood. `target_database` is then the default database as the task
// names it (renamed when selected, as it ran otherwise) and `table` the one selected table the
// statement names, as the task names it, when it is in that database.
// Pure and thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"
#include "pipeline/mapping.h"
#include "pipeline/object_ddl.h"

namespace dts::pipeline {

struct RewrittenDdl {
  std::string sql;              // the statement to run at the destination
  std::string target_database;  // default database to run it in ("" for none)
  std::string table;            // kRecord: the one selected table it names (see above); else ""
  // kApply: why the destination does not get this statement although it concerns the task (a
  // trigger or an event: object_ddl.h). The caller drops it, warns and counts it.
  std::string not_applied;
  // kApply: a view's or stored routine's statement (object_ddl.h). It holds no rows, so a
  // destination that refuses it is warned about and counted, and the task goes on.
  bool holds_no_rows = false;
  // kRecord: every selected table it names, as the task names them (database, table), in the
  // order the statement first names them; empty for a statement of a database or of no table.
  // kApply: every table it names by its target name ((database, "") for a database).
  std::vector<std::pair<std::string, std::string>> tables;
};

// What the rewritten statement is for.
enum class DdlUse : uint8_t {
  kApply,   // run at a destination: names rewritten, what cannot be placed refused
  kRecord,  // recorded (a change log): kept as sent, never refused
};

// mapping == nullptr: everything is selected, nothing renamed. lex: how the text reads, from the
// source session's sql_mode (ANSI_QUOTES, NO_BACKSLASH_ESCAPES) and its server's version and kind
// (executable comments): pipeline::ddlLexerOptions.
Result<std::optional<RewrittenDdl>> rewriteDdl(std::string_view sql, std::string_view default_db,
                                               const Mapping* mapping, DdlUse use = DdlUse::kApply,
                                               mysql::SqlLexerOptions lex = {});

}  // namespace dts::pipeline
