// SchemaObjects: the views, stored procedures and functions, triggers and events of the
// databases a task moves, in the initial schema copy. Which are the task's and how the
// destination gets them is pipeline/object_ddl.h's rule, the same as for the statements that
// change them later:
//   - views, procedures and functions of a database moved whole (no table list) are created in
//     the schema phase, after the tables: routines first (a view may call a function), then the
//     views, each pass retrying the views that name a view not created yet;
//   - triggers of moved tables are created after the full data by a task without an incremental
//     phase (a migration with `incremental: false`): the destination then takes over. A task
//     with an incremental phase does not create them (they would act a second time on the rows
//     dts applies), nor any event (it would run on both servers): the precheck lists them.
// Definitions come from SHOW CREATE at the source, without their DEFINER clause (the object's
// definer becomes the destination user) and with the names the task renames renamed. An object
// whose name the destination already holds is left as it is (a rerun continues). An object the
// destination refuses (a view over a table the task does not move, a function it would not
// accept without log_bin_trust_function_creators) is a warning naming it and the server's
// error: it holds no rows, so the task goes on.
#pragma once

#include <string>
#include <vector>

#include "common/status.h"
#include "mysql/connection.h"
#include "pipeline/mapping.h"
#include "pipeline/object_ddl.h"

namespace dts::task {

struct SchemaObject {
  pipeline::ObjectKind kind = pipeline::ObjectKind::kView;
  std::string database;  // source database
  std::string name;
  std::string describe() const;  // "view shop.v"
};

struct SchemaObjectPlan {
  std::vector<SchemaObject> create;    // views, procedures and functions (schema phase)
  std::vector<SchemaObject> triggers;  // created after the full data (a task without incremental)
  // What the task does not move, each "trigger shop.trg: <why>", for the precheck and the
  // operator.
  std::vector<std::string> not_moved;
};

// Reads the source's catalog. incremental: the task has an incremental phase.
Result<SchemaObjectPlan> planSchemaObjects(mysql::Connection& src, const pipeline::Mapping& mapping,
                                           bool incremental);

struct SchemaObjectsResult {
  std::vector<std::string> created;   // "view shop2.v" (target names)
  std::vector<std::string> existing;  // already at the destination, left as they are
  std::vector<std::string> refused;   // "view shop2.v: <the server's error>"
};

// Creates objects at dest (see above). Errors only for a connection that fails.
Result<SchemaObjectsResult> copySchemaObjects(mysql::Connection& src, mysql::Connection& dest,
                                              const std::vector<SchemaObject>& objects,
                                              const pipeline::Mapping& mapping);

}  // namespace dts::task
