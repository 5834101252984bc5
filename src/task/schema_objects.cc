#include "task/schema_objects.h"

#include <mysqld_error.h>

#include <algorithm>
#include <set>

namespace dts::task {

namespace {

using pipeline::ObjectKind;

const char* kindWord(ObjectKind kind) {
  switch (kind) {
    case ObjectKind::kView: return "VIEW";
    case ObjectKind::kProcedure: return "PROCEDURE";
    case ObjectKind::kFunction: return "FUNCTION";
    case ObjectKind::kTrigger: return "TRIGGER";
    case ObjectKind::kEvent: return "EVENT";
    case ObjectKind::kOther: break;
  }
  return "OBJECT";
}

std::string lower(const char* s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  return out;
}

// Creation order: routines, views (which may call them), triggers.
int rank(ObjectKind kind) {
  return kind == ObjectKind::kProcedure || kind == ObjectKind::kFunction ? 0
         : kind == ObjectKind::kView                                     ? 1
                                                                         : 2;
}

// Does an object of this kind and name exist at dest?
Result<bool> exists(mysql::Connection& dest, ObjectKind kind, const std::string& db,
                    const std::string& name) {
  std::string sql;
  const std::string d = dest.quoteString(db), n = dest.quoteString(name);
  if (kind == ObjectKind::kView) {
    sql = "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = " + d +
          " AND TABLE_NAME = " + n;
  } else if (kind == ObjectKind::kTrigger) {
    sql = "SELECT COUNT(*) FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = " + d +
          " AND TRIGGER_NAME = " + n;
  } else {
    sql = "SELECT COUNT(*) FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = " + d +
          " AND ROUTINE_NAME = " + n + " AND ROUTINE_TYPE = '" + kindWord(kind) + "'";
  }
  DTS_ASSIGN_OR_RETURN(auto count, dest.queryValue(sql));
  return count.value_or("0") != "0";
}

// The server refused the statement (as opposed to a connection that failed).
bool refusedByServer(unsigned err) {
  return err > 0 && err < 2000;
}

}  // namespace

std::string SchemaObject::describe() const {
  return lower(kindWord(kind)) + " " + database + "." + name;
}

Result<SchemaObjectPlan> planSchemaObjects(mysql::Connection& src, const pipeline::Mapping& mapping,
                                           bool incremental) {
  SchemaObjectPlan plan;
  for (const auto& db : mapping.selections()) {
    const std::string q = src.quoteString(db.database);
    if (db.tables.empty()) {
      DTS_ASSIGN_OR_RETURN(auto views, src.query("SELECT TABLE_NAME FROM information_schema.TABLES "
                                                 "WHERE TABLE_SCHEMA = " +
                                                 q + " AND TABLE_TYPE = 'VIEW' ORDER BY 1"));
      for (const auto& r : views.rows)
        plan.create.push_back({ObjectKind::kView, db.database, r[0].value_or("")});
      DTS_ASSIGN_OR_RETURN(
          auto routines,
          src.query("SELECT ROUTINE_NAME, ROUTINE_TYPE FROM information_schema.ROUTINES WHERE "
                    "ROUTINE_SCHEMA = " +
                    q + " ORDER BY 2, 1"));
      for (const auto& r : routines.rows) {
        const std::string type = r[1].value_or("");
        const std::string name = r[0].value_or("");
        if (type == "PROCEDURE" || type == "FUNCTION") {
          plan.create.push_back(
              {type == "PROCEDURE" ? ObjectKind::kProcedure : ObjectKind::kFunction, db.database,
               name});
        } else {
          plan.not_moved.push_back(lower(type.c_str()) + " " + db.database + "." + name +
                                   ": dts does not move packages (create it at the destination)");
        }
      }
      DTS_ASSIGN_OR_RETURN(auto events,
                           src.query("SELECT EVENT_NAME FROM information_schema.EVENTS WHERE "
                                     "EVENT_SCHEMA = " +
                                     q + " ORDER BY 1"));
      for (const auto& r : events.rows)
        plan.not_moved.push_back("event " + db.database + "." + r[0].value_or("") + ": " +
                                 pipeline::kEventNotAppliedReason);
    }
    DTS_ASSIGN_OR_RETURN(
        auto triggers,
        src.query("SELECT TRIGGER_NAME, EVENT_OBJECT_TABLE FROM information_schema.TRIGGERS WHERE "
                  "TRIGGER_SCHEMA = " +
                  q + " ORDER BY 2, 1"));
    for (const auto& r : triggers.rows) {
      if (!mapping.selectsTable(db.database, r[1].value_or(""))) continue;
      SchemaObject t{ObjectKind::kTrigger, db.database, r[0].value_or("")};
      if (incremental) {
        plan.not_moved.push_back(t.describe() + ": " + pipeline::kTriggerNotAppliedReason);
      } else {
        plan.triggers.push_back(std::move(t));
      }
    }
  }
  return plan;
}

Result<SchemaObjectsResult> copySchemaObjects(mysql::Connection& src, mysql::Connection& dest,
                                              const std::vector<SchemaObject>& objects,
                                              const pipeline::Mapping& mapping) {
  SchemaObjectsResult result;
  if (objects.empty()) return result;
  DTS_RETURN_IF_ERROR(src.execute("SET SESSION sql_quote_show_create = 1"));
  DTS_ASSIGN_OR_RETURN(auto dest_mode, dest.queryValue("SELECT @@SESSION.sql_mode"));
  std::vector<const SchemaObject*> pending;
  for (const auto& o : objects) pending.push_back(&o);
  std::stable_sort(
      pending.begin(), pending.end(),
      [](const SchemaObject* a, const SchemaObject* b) { return rank(a->kind) < rank(b->kind); });
  std::set<std::string> databases;
  // A view may name a view created later in the list: each pass retries the views that failed
  // for a missing object, until a pass creates none.
  std::vector<std::pair<const SchemaObject*, std::string>> waiting;  // and the last error
  for (bool progress = true; progress && !pending.empty();) {
    progress = false;
    waiting.clear();
    for (const SchemaObject* o : pending) {
      const std::string target_db = mapping.targetDatabase(o->database);
      const std::string target = lower(kindWord(o->kind)) + " " + target_db + "." + o->name;
      if (databases.insert(target_db).second) {
        DTS_RETURN_IF_ERROR(
            dest.execute("CREATE DATABASE IF NOT EXISTS " + mysql::quoteIdentifier(target_db))
                .withContext("creating destination database " + target_db));
      }
      DTS_ASSIGN_OR_RETURN(bool there, exists(dest, o->kind, target_db, o->name));
      if (there) {
        result.existing.push_back(target);
        continue;
      }
      DTS_ASSIGN_OR_RETURN(auto show, src.query(std::string("SHOW CREATE ") + kindWord(o->kind) +
                                                " " + mysql::quoteQualified(o->database, o->name)));
      // VIEW: View, Create View, ...; PROCEDURE/FUNCTION/TRIGGER: name, sql_mode, definition.
      const size_t def_col = o->kind == ObjectKind::kView ? 1 : 2;
      if (show.rows.empty() || show.rows[0].size() <= def_col || !show.rows[0][def_col]) {
        result.refused.push_back(o->describe() +
                                 ": its definition cannot be read at the source (the source user "
                                 "needs SELECT on mysql.proc, or to be its definer)");
        continue;
      }
      auto definition = pipeline::objectDefinitionForDestination(*show.rows[0][def_col], &mapping);
      if (!definition.ok()) {
        result.refused.push_back(o->describe() + ": " + definition.status().message());
        continue;
      }
      DTS_RETURN_IF_ERROR(dest.execute("USE " + mysql::quoteIdentifier(target_db)));
      const bool own_mode = o->kind != ObjectKind::kView && show.rows[0][1].has_value();
      if (own_mode)  // the body is parsed as it was at the source
        DTS_RETURN_IF_ERROR(
            dest.execute("SET SESSION sql_mode = " + dest.quoteString(*show.rows[0][1])));
      Status st = dest.execute(*definition);
      const unsigned err = st.ok() ? 0 : dest.lastErrorNumber();
      if (own_mode)
        DTS_RETURN_IF_ERROR(
            dest.execute("SET SESSION sql_mode = " + dest.quoteString(dest_mode.value_or(""))));
      if (st.ok()) {
        result.created.push_back(target);
        progress = true;
        continue;
      }
      if (!refusedByServer(err)) return st.withContext("creating " + target);
      if (o->kind == ObjectKind::kView &&
          (err == ER_NO_SUCH_TABLE || err == ER_VIEW_INVALID || err == ER_SP_DOES_NOT_EXIST)) {
        waiting.emplace_back(o, st.message());
      } else {
        result.refused.push_back(target + ": " + st.message());
      }
    }
    pending.clear();
    for (const auto& [o, why] : waiting) pending.push_back(o);
  }
  for (const auto& [o, why] : waiting)
    result.refused.push_back("view " + mapping.targetDatabase(o->database) + "." + o->name + ": " +
                             why);
  return result;
}

}  // namespace dts::task
