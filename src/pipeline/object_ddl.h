// Statements about what holds no rows: views, stored procedures and functions, triggers and
// events, and statements that change neither rows nor table definitions (table maintenance,
// accounts and privileges, plugins). How a destination follows them, during incremental changes
// and in the initial schema copy (task/schema_objects.h):
//   views, procedures, functions  applied, named for the destination: their DEFINER clause is
//                                 left out (the object's definer becomes the destination user,
//                                 which needs no SUPER or SET USER privilege; SQL SECURITY is
//                                 kept), and every `db`.`name` they mention is renamed as the
//                                 task renames db (and the table, when the task routes db.name).
//                                 Only objects of a database the task moves whole (no table
//                                 list) are the task's; the others are skipped.
//   triggers                      not applied: dts applies the source's rows, which already hold
//                                 what the source's triggers did, so a trigger at the destination
//                                 would do it a second time;
//   events                        not applied: the event would run on both servers;
//   loadable functions (SONAME)   not applied: they are installed per server.
//   maintenance, accounts         skipped (ANALYZE, OPTIMIZE, REPAIR, CHECK, FLUSH, GRANT, REVOKE,
//                                 CREATE/ALTER/DROP/RENAME USER and ROLE, SET PASSWORD, SET
//                                 DEFAULT ROLE, INSTALL/UNINSTALL, CREATE/ALTER/DROP SERVER):
//                                 nothing the task moves changes.
// "Not applied" is said (ObjectStatement::reason) so the caller warns and counts it; "skipped"
// is not a task matter at all. mysqldump's executable comments (/*!50001 CREATE ... */) around
// such statements are read as the server reads them.
// Pure and thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"
#include "mysql/sql_lexer.h"
#include "pipeline/mapping.h"

namespace dts::pipeline {

enum class ObjectKind : uint8_t { kView, kProcedure, kFunction, kTrigger, kEvent, kOther };

// Why a destination does not get them (ObjectStatement::reason, and the precheck's list).
inline constexpr const char* kTriggerNotAppliedReason =
    "triggers are not created at the destination: the rows dts applies already hold what the "
    "source's trigger did, so it would act a second time (create it at the destination when "
    "it takes over from the source)";
inline constexpr const char* kEventNotAppliedReason =
    "events are not created at the destination: the event would run on both servers (create it "
    "at the destination when it takes over from the source)";

struct ObjectStatement {
  enum class Action : uint8_t { kApply, kNotApplied, kSkip };
  Action action = Action::kSkip;
  ObjectKind kind = ObjectKind::kOther;
  std::string sql;              // kApply: the statement to run at the destination
  std::string target_database;  // kApply: the default database to run it in ("" for none)
  std::string reason;           // kNotApplied: why, for the operator
};

// What the destination does with a source statement (see above); nullopt when it is not such a
// statement (a table or database statement, or one not understood): the caller decides.
// mapping == nullptr: everything is selected, nothing renamed.
Result<std::optional<ObjectStatement>> rewriteObjectStatement(std::string_view sql,
                                                              std::string_view default_db,
                                                              const Mapping* mapping,
                                                              mysql::SqlLexerOptions lex = {});

// A view's, routine's or trigger's SHOW CREATE text for the destination: its DEFINER clause left
// out and the `db`.`name` it mentions renamed as above (the object's own name included).
// kInvalidArgument when the text cannot be read.
Result<std::string> objectDefinitionForDestination(std::string_view create_sql,
                                                   const Mapping* mapping);

}  // namespace dts::pipeline
