#include "task/precheck.h"

#include <unistd.h>

#include <algorithm>
#include <map>
#include <set>
#include <utility>

#include "common/strings.h"
#include "mysql/unique_keys.h"
#include "source/node_checks.h"
#include "task/schema_copier.h"
#include "task/schema_objects.h"

namespace dts::task {

bool PrecheckReport::passed() const {
  return std::none_of(items.begin(), items.end(),
                      [](const auto& i) { return i.level == PrecheckItem::Level::kFail; });
}

Status PrecheckReport::toStatus() const {
  std::string msg;
  bool all_retryable = true;
  for (const auto& i : items) {
    if (i.level != PrecheckItem::Level::kFail) continue;
    msg += (msg.empty() ? "" : "; ") + i.name + ": " + i.message;
    all_retryable = all_retryable && i.retryable;
  }
  if (msg.empty()) return Status::OK();
  if (all_retryable) return Status::Unavailable("precheck failed: " + msg);
  return Status::FailedPrecondition("precheck failed: " + msg);
}

std::string PrecheckReport::toString() const {
  std::string out;
  for (const auto& i : items) {
    const char* level = i.level == PrecheckItem::Level::kOk     ? "ok  "
                        : i.level == PrecheckItem::Level::kWarn ? "warn"
                                                                : "FAIL";
    out += std::string("  [") + level + "] " + i.name +
           (i.message.empty() ? "" : ": " + i.message) + "\n";
  }
  return out;
}

namespace {

// The columns of `t` in MariaDB's 5.3 temporal format with fractional seconds
// ("`d` datetime(3) /* mariadb-5.3 */, ..."), or "". Their binlog type (DATETIME, TIME or
// TIMESTAMP with no metadata) does not give their precision, and the value's length depends on
// it; without fractions the old format is the one MySQL 5.5 logged, which dts reads.
std::string oldTemporalColumns(const CatalogTable& t) {
  std::string out;
  for (const auto& c : t.columns) {
    if (c.column_type.find("mariadb-5.3") == std::string::npos) continue;
    const size_t open = c.column_type.find('(');
    if (open == std::string::npos || c.column_type.compare(open, 3, "(0)") == 0) continue;
    out += (out.empty() ? "" : ", ") + mysql::quoteIdentifier(c.name) + " " + c.column_type;
  }
  return out;
}

// For a destination table that exists already (options.conflicting_tables: ignore): its unique
// keys that no unique key of the source table implies (a key on columns S implies one on any
// superset of S, NULLs included). Rows unique at the source can collide on such a key, and dts
// would lose one of them silently: the full load's INSERT IGNORE skips it, and the applier's
// REPLACE of the changes the chunks may hold deletes the row it collides with (later changes stop
// the task instead). "" when there is none; else the message.
Result<std::string> keysTheSourceDoesNotImply(mysql::Connection& src, mysql::Connection& dest,
                                              const CatalogTable& t) {
  DTS_ASSIGN_OR_RETURN(auto dest_keys,
                       mysql::readUniqueKeys(dest, t.route.target_database, t.route.target_table));
  DTS_ASSIGN_OR_RETURN(auto src_keys,
                       mysql::readUniqueKeys(src, t.route.source_database, t.route.source_table));
  // Column collations: a destination key compares strings no finer than the source's only with
  // the same collation, or a binary one (a source NO PAD collation keeps 'a' and 'a ' apart,
  // which a PAD SPACE _bin merges).
  auto collations = [](mysql::Connection& c, const std::string& db,
                       const std::string& table) -> Result<std::map<std::string, std::string>> {
    DTS_ASSIGN_OR_RETURN(
        auto rows, c.query("SELECT COLUMN_NAME, COLLATION_NAME FROM information_schema.COLUMNS "
                           "WHERE TABLE_SCHEMA = " +
                           c.quoteString(db) + " AND TABLE_NAME = " + c.quoteString(table)));
    std::map<std::string, std::string> out;
    for (const auto& r : rows.rows) out[toLower(r[0].value_or(""))] = r[1].value_or("");
    return out;
  };
  DTS_ASSIGN_OR_RETURN(auto src_coll,
                       collations(src, t.route.source_database, t.route.source_table));
  DTS_ASSIGN_OR_RETURN(auto dest_coll,
                       collations(dest, t.route.target_database, t.route.target_table));
  auto as_fine = [&](const std::string& column) {
    const std::string a = src_coll[toLower(column)], b = dest_coll[toLower(column)];
    if (a == b) return true;
    return (b == "binary" || b.ends_with("_bin")) && a.find("nopad") == std::string::npos;
  };
  // A source key implies a destination key when its columns are among the destination key's,
  // each compared as finely, and each covered at least as far (a prefix of the source's no
  // longer than the destination's; a destination prefix is implied by no whole-column key).
  auto implied = [&](const mysql::UniqueKey& d) {
    for (const mysql::UniqueKey& s : src_keys) {
      bool subset = true;
      for (size_t i = 0; i < s.columns.size() && subset; ++i) {
        const uint32_t s_part = i < s.sub_parts.size() ? s.sub_parts[i] : 0;
        bool in = false;
        for (size_t j = 0; j < d.columns.size() && !in; ++j) {
          if (!equalsIgnoreCase(s.columns[i], d.columns[j])) continue;
          const uint32_t d_part = j < d.sub_parts.size() ? d.sub_parts[j] : 0;
          in = (d_part == 0 || (s_part != 0 && s_part <= d_part)) && as_fine(s.columns[i]);
        }
        subset = in;
      }
      if (subset) return true;
    }
    return false;
  };
  std::string out;
  for (const mysql::UniqueKey& d : dest_keys) {
    if (implied(d)) continue;
    std::string cols;
    for (size_t i = 0; i < d.columns.size(); ++i) {
      cols += (cols.empty() ? "" : ", ") + d.columns[i];
      if (i < d.sub_parts.size() && d.sub_parts[i] != 0)
        cols += "(" + std::to_string(d.sub_parts[i]) + ")";
      if (const std::string& c = dest_coll[toLower(d.columns[i])];
          !c.empty() && c != src_coll[toLower(d.columns[i])])
        cols += " " + c;
    }
    out += (out.empty() ? "" : "; ") + std::string("key ") + mysql::quoteIdentifier(d.name) + " (" +
           cols + ")";
  }
  if (out.empty()) return out;
  return "destination table " +
         mysql::quoteQualified(t.route.target_database, t.route.target_table) + " has a unique " +
         out + " that no unique key of the source table " +
         mysql::quoteQualified(t.route.source_database, t.route.source_table) +
         " implies: rows that are unique at the source could collide there, and dts would keep "
         "only one of them (fix: drop that key at the destination, or add it at the source)";
}

std::string value(mysql::Connection& c, const std::string& sql) {
  auto v = c.queryValue(sql);
  if (!v.ok() || !v->has_value()) return "";
  return **v;
}

// Whether src and dest are connections to one server: a user lock taken on src is in use as
// dest sees it. Exact whatever the endpoints look like (a proxy, another address, a socket), and
// needs no privilege.
Result<bool> sameServer(mysql::Connection& src, mysql::Connection& dest) {
  DTS_ASSIGN_OR_RETURN(auto id, src.queryValue("SELECT CONNECTION_ID()"));
  const std::string lock = src.quoteString("dts-same-server-probe-" + std::to_string(::getpid()) +
                                           "-" + id.value_or(""));
  DTS_ASSIGN_OR_RETURN(auto got, src.queryValue("SELECT GET_LOCK(" + lock + ", 0)"));
  if (got.value_or("") != "1") return false;
  auto used = dest.queryValue("SELECT IS_USED_LOCK(" + lock + ")");
  (void)src.queryValue("SELECT RELEASE_LOCK(" + lock + ")");
  if (!used.ok()) return used.status();
  return used->has_value();
}

// On one server, a target database the selection also reads would have the task write into
// what it copies (into the very tables, without renames): what it names, or empty.
std::string targetsTheTaskReads(mysql::Connection& server, const pipeline::Mapping& mapping) {
  const bool fold = value(server, "SELECT @@GLOBAL.lower_case_table_names") != "0";
  std::string found;
  for (const auto& sel : mapping.selections()) {
    const std::string target = mapping.targetDatabase(sel.database);
    for (const auto& other : mapping.selections()) {
      const bool same =
          fold ? toLower(other.database) == toLower(target) : other.database == target;
      if (!same) continue;
      found += (found.empty() ? "" : "; ") + mysql::quoteIdentifier(sel.database) + " goes to " +
               mysql::quoteIdentifier(target) + ", which the task also reads";
    }
  }
  return found;
}

// The source's foreign keys that act ON DELETE or ON UPDATE (CASCADE, SET NULL, SET DEFAULT),
// as "`db`.`child` (name) ON DELETE CASCADE -> `db`.`parent`": those that reference a selected
// table, and those of a selected table that reference a table the task does not move (whose
// actions change moved rows without a row event the task reads). One query for every selected
// database.
struct ForeignKeyActions {
  std::vector<std::string> referencing_selected;
  std::vector<std::string> parent_not_moved;
  // Not in referencing_selected: those whose referenced table the task moves with a `where:`
  // or without the dml that fires the action (changes of its rows the task leaves out fire no
  // action at the destination).
  std::vector<std::string> parent_filtered;
};
// The privileges the connected user's grants name (SHOW GRANTS, on *.* or on one database or
// table), and whether it holds everything on *.*: what can be judged without resolving roles,
// enough to name a grant that is missing.
struct Grants {
  std::set<std::string> privileges;  // "SELECT", "ALL PRIVILEGES", "SHOW VIEW", ...
  bool everything = false;
  // db_level: a privilege that may be granted on a database, which ALL PRIVILEGES on one grants.
  bool has(const std::string& privilege, bool db_level = true) const {
    return everything || privileges.count(privilege) > 0 ||
           (db_level && privileges.count("ALL PRIVILEGES") > 0);
  }
};

// "GRANT SELECT, INSERT (a, b), SHOW VIEW ON `d`.* TO ..." -> SELECT, INSERT, SHOW VIEW.
void addPrivileges(std::string_view grant, Grants& g) {
  if (grant.substr(0, 6) != "GRANT ") return;
  grant.remove_prefix(6);
  std::string name;
  int depth = 0;
  auto flush = [&] {
    while (!name.empty() && name.back() == ' ') name.pop_back();
    if (!name.empty()) g.privileges.insert(name);
    name.clear();
  };
  for (size_t i = 0; i < grant.size(); ++i) {
    const char c = grant[i];
    if (depth == 0 && grant.substr(i, 4) == " ON ") {
      flush();
      if (grant.substr(i + 4, 4) == "*.* " && g.privileges.count("ALL PRIVILEGES") > 0)
        g.everything = true;
      return;
    }
    if (c == '(') ++depth;
    if (depth == 0 && c == ',')
      flush();
    else if (depth == 0 && !(c == ' ' && name.empty()))
      name += c;
    if (c == ')' && depth > 0) --depth;
  }
  // "GRANT role TO user": no privilege named here.
  name.clear();
}

Result<Grants> readGrants(mysql::Connection& c) {
  DTS_ASSIGN_OR_RETURN(auto rows, c.query("SHOW GRANTS"));
  Grants g;
  for (const auto& r : rows.rows) {
    Grants line;
    addPrivileges(r[0].value_or(""), line);
    g.privileges.insert(line.privileges.begin(), line.privileges.end());
    g.everything |= line.everything;
  }
  return g;
}

std::string joined(const std::vector<std::string>& items) {
  std::string list;
  for (const auto& i : items) list += (list.empty() ? "" : ", ") + i;
  return list;
}

Result<ForeignKeyActions> foreignKeyActions(mysql::Connection& src,
                                            const std::vector<CatalogTable>& catalog) {
  std::map<std::pair<std::string, std::string>, const pipeline::TableRoute*> selected;
  std::set<std::string> databases;
  for (const auto& t : catalog) {
    selected[{t.route.source_database, t.route.source_table}] = &t.route;
    databases.insert(t.route.source_database);
  }
  std::string in;
  for (const auto& db : databases) in += (in.empty() ? "" : ", ") + src.quoteString(db);
  DTS_ASSIGN_OR_RETURN(
      auto rows,
      src.query("SELECT r.CONSTRAINT_SCHEMA, r.TABLE_NAME, r.CONSTRAINT_NAME, r.DELETE_RULE,"
                " r.UPDATE_RULE, r.UNIQUE_CONSTRAINT_SCHEMA, r.REFERENCED_TABLE_NAME"
                " FROM information_schema.REFERENTIAL_CONSTRAINTS r"
                " WHERE (r.UNIQUE_CONSTRAINT_SCHEMA IN (" +
                in + ") OR r.CONSTRAINT_SCHEMA IN (" + in +
                ")) AND (r.DELETE_RULE NOT IN ('RESTRICT', 'NO ACTION') OR r.UPDATE_RULE NOT IN"
                " ('RESTRICT', 'NO ACTION')) ORDER BY 1, 2, 3"));
  ForeignKeyActions out;
  for (const auto& r : rows.rows) {
    if (r.size() < 7) continue;
    const bool parent = selected.count({r[5].value_or(""), r[6].value_or("")}) != 0;
    const bool child = selected.count({r[0].value_or(""), r[1].value_or("")}) != 0;
    if (!parent && !child) continue;
    std::string text = mysql::quoteQualified(r[0].value_or(""), r[1].value_or("")) + " (" +
                       r[2].value_or("") + ")";
    const std::string on_delete = r[3].value_or(""), on_update = r[4].value_or("");
    if (mysql::foreignKeyRuleActs(on_delete)) text += " ON DELETE " + on_delete;
    if (mysql::foreignKeyRuleActs(on_update)) text += " ON UPDATE " + on_update;
    text += " -> " + mysql::quoteQualified(r[5].value_or(""), r[6].value_or(""));
    if (parent) {
      const pipeline::TableRoute& route = *selected[{r[5].value_or(""), r[6].value_or("")}];
      std::string left_out;
      if (route.filter != nullptr) left_out = "where: " + route.where;
      if (mysql::foreignKeyRuleActs(on_delete) && !route.dml.del)
        left_out += std::string(left_out.empty() ? "" : ", ") + "no delete in dml";
      if (mysql::foreignKeyRuleActs(on_update) && !route.dml.update)
        left_out += std::string(left_out.empty() ? "" : ", ") + "no update in dml";
      if (!left_out.empty()) {
        out.parent_filtered.push_back(text + " (" + left_out + ")");
        continue;
      }
    }
    (parent ? out.referencing_selected : out.parent_not_moved).push_back(std::move(text));
  }
  return out;
}

// exclude_tables: what each whole-database selection leaves out, and names the source does not
// have now (a misspelt name leaves out nothing, and the table meant is moved).
template <typename Add>
void checkExcludedTables(mysql::Connection& src, const pipeline::Mapping& mapping, Add add) {
  using L = PrecheckItem::Level;
  std::string left_out, missing;
  for (const auto& db : mapping.selections()) {
    if (db.exclude.empty()) continue;
    std::string names;
    for (const auto& t : db.exclude) names += (names.empty() ? "" : ", ") + src.quoteString(t);
    auto present =
        src.query("SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = " +
                  src.quoteString(db.database) + " AND TABLE_NAME IN (" + names + ")");
    if (!present.ok()) {
      add("excluded tables", L::kWarn,
          "could not list the excluded tables of " + db.database + ": " +
              present.status().message());
      continue;
    }
    std::set<std::string> found;
    for (const auto& r : present->rows) found.insert(r[0].value_or(""));
    for (const auto& t : db.exclude) {
      std::string& list = found.count(t) != 0 ? left_out : missing;
      list += (list.empty() ? "" : ", ") + mysql::quoteQualified(db.database, t);
    }
  }
  if (!left_out.empty())
    add("excluded tables", L::kOk, left_out + ": not moved (exclude_tables), nor their triggers");
  if (!missing.empty())
    add("excluded tables", L::kWarn,
        missing +
            ": not at the source (exclude_tables names are exact and case-sensitive; a table "
            "created later under such a name is left out)");
}

}  // namespace

Result<PrecheckReport> runPrecheck(const TaskConfig& config, const pipeline::Mapping& mapping,
                                   const PrecheckOptions& options) {
  PrecheckReport report;
  auto add = [&](std::string name, PrecheckItem::Level level, std::string message) {
    report.items.push_back({std::move(name), level, std::move(message)});
  };
  using L = PrecheckItem::Level;

  std::unique_ptr<mysql::Connection> src, dest;
  std::unique_ptr<mysql::Connection> primary;  // the instance's, when a secondary node is read
  auto src_opts = config.source.connectOptions();
  if (!src_opts.ok()) {
    add("source credentials", L::kFail, src_opts.status().message());
  } else {
    auto c = mysql::Connection::connect(*src_opts);
    if (c.ok()) {
      src = std::move(c).value();
      add("source connectivity", L::kOk,
          src_opts->endpoint.toString() + " (" + src->serverVersion() + ")");
    } else {
      add("source connectivity", L::kFail, c.status().message());
      report.items.back().retryable = c.status().isRetryable();
    }
  }
  auto dest_opts = config.destination.connectOptions();
  if (config.kind == TaskKind::kTracking) {
    add("destination", L::kOk, "none: a tracking task writes its change log");
  } else if (!dest_opts.ok()) {
    add("destination credentials", L::kFail, dest_opts.status().message());
  } else {
    auto c = mysql::Connection::connect(*dest_opts);
    if (c.ok()) {
      dest = std::move(c).value();
      add("destination connectivity", L::kOk,
          dest_opts->endpoint.toString() + " (" + dest->serverVersion() + ")");
    } else {
      add("destination connectivity", L::kFail, c.status().message());
      report.items.back().retryable = c.status().isRetryable();
    }
  }

  if (src != nullptr) {
    std::string where = "source " + src->options().endpoint.toString();
    bool need_binlog = config.incremental();
    L binlog_level = need_binlog ? L::kFail : L::kWarn;
    std::string log_bin = value(*src, "SELECT @@GLOBAL.log_bin");
    if (log_bin != "1")
      add("log_bin", binlog_level, where + " has log_bin OFF (incremental needs the binlog)");
    else
      add("log_bin", L::kOk, "");
    std::string format = value(*src, "SELECT @@GLOBAL.binlog_format");
    if (format != "ROW")
      add("binlog_format", binlog_level, where + " has binlog_format=" + format + " (needs ROW)");
    else
      add("binlog_format", L::kOk, "");
    std::string image = value(*src, "SELECT @@GLOBAL.binlog_row_image");
    if (image != "FULL")
      add("binlog_row_image", binlog_level,
          where + " has binlog_row_image=" + image + " (needs FULL)");
    else
      add("binlog_row_image", L::kOk, "");
    if (need_binlog) {
      // Without FULL row metadata a TABLE_MAP carries types only; names come from the schema
      // history dts keeps by following the DDL of the stream (source/schema_history.h), saved
      // with the checkpoint: any lag across any DDL it can read is fine.
      std::string metadata = value(*src, "SELECT @@GLOBAL.binlog_row_metadata");
      if (metadata == "FULL") {
        add("binlog_row_metadata", L::kOk, "");
      } else {
        add("binlog_row_metadata", L::kWarn,
            where +
                " has binlog_row_metadata=" + (metadata.empty() ? "(not supported)" : metadata) +
                ": column names come from the schema history dts keeps by following DDL, at any "
                "lag; FULL is still needed by `dts binlog tail` for a table created before its "
                "start and changed since (the history falls back to the definition as it is now). "
                "A DDL the history cannot read on a moved table (system versioning, a CREATE TABLE "
                "... SELECT logged as a statement) stops the task whatever the setting");
      }
    }
    if (src->isMariaDB()) {
      auto pos = src->queryValue("SELECT @@GLOBAL.gtid_binlog_pos");
      if (!pos.ok())
        add("gtid position", binlog_level, pos.status().message());
      else
        add("gtid position", L::kOk, "gtid_binlog_pos '" + pos->value_or("") + "'");
    } else {
      std::string mode = value(*src, "SELECT @@GLOBAL.gtid_mode");
      if (mode != "ON")
        add("gtid position", binlog_level, where + " has gtid_mode=" + mode + " (needs ON)");
      else
        add("gtid position", L::kOk, "");
    }
    // Privileges: the grants that full and incremental need, by name.
    auto grants = readGrants(*src);
    if (grants.ok()) {
      std::vector<std::string> missing;
      auto need = [&](const char* priv, bool wanted, bool db_level = true) {
        if (wanted && !grants->has(priv, db_level)) missing.push_back(priv);
      };
      need("SELECT", true);
      need("SHOW VIEW", true);
      need("REPLICATION SLAVE", need_binlog, false);
      // MariaDB 10.5+ shows REPLICATION CLIENT as BINLOG MONITOR.
      if (need_binlog && !grants->has("REPLICATION CLIENT", false) &&
          !grants->has("BINLOG MONITOR", false))
        missing.push_back("REPLICATION CLIENT");
      if (!missing.empty()) {
        const std::string list = joined(missing);
        add("source privileges", L::kFail,
            "user '" + src->options().user + "' lacks " + list + " (fix: GRANT " + list +
                " ON *.* TO the dts user)");
      } else {
        add("source privileges", L::kOk, "");
      }
      // The schema history's starting definitions are read under BACKUP STAGE BLOCK_DDL.
      if (need_binlog && src->isMariaDB() && !grants->has("RELOAD", false)) {
        add("ddl lock at snapshot", L::kWarn,
            "user '" + src->options().user +
                "' lacks RELOAD: the first snapshot opens without holding DDL off, so a DDL "
                "committed in that instant could be replayed onto definitions that already hold "
                "it (fix: GRANT RELOAD ON *.* TO the dts user)");
      }
      // A migration without incremental changes opens its readers' snapshots together under a
      // commit lock (task/snapshot.h openSharedSnapshot).
      if (!need_binlog && !grants->has("RELOAD", false)) {
        add("one snapshot", L::kWarn,
            "user '" + src->options().user +
                "' lacks RELOAD: the readers cannot open their snapshots at one instant, so a "
                "copy of a source that is being written is not of one instant, and without "
                "incremental changes nothing makes it so (fix: GRANT RELOAD ON *.* TO the dts "
                "user, or set options.incremental)");
      }
      // information_schema shows a table's triggers only to a user with TRIGGER on it: without
      // it a migration creates none, and a statement-logged write through one goes unnoticed.
      if (!grants->has("TRIGGER")) {
        std::string lost;
        if (config.kind == TaskKind::kMigration && !need_binlog)
          lost = "the destination gets none of the source's triggers";
        else
          lost =
              "a write logged as a statement through a trigger onto a moved table is not "
              "detected";
        add("trigger visibility", L::kWarn,
            "user '" + src->options().user +
                "' lacks TRIGGER, so the source shows it no "
                "triggers: " +
                lost + " (fix: GRANT TRIGGER ON *.* TO the dts user)");
      }
    } else {
      add("source privileges", L::kWarn, "cannot read grants: " + grants.status().message());
    }
    std::string server_id = value(*src, "SELECT @@GLOBAL.server_id");
    if (need_binlog && (server_id.empty() || server_id == "0")) {
      add("server_id", L::kFail, where + " has server_id=0 (fix: set a unique non-zero server_id)");
    } else {
      add("server_id", L::kOk, server_id);
    }
    if (need_binlog) {
      // Retention: the binlog must outlive any pause of the task (and its retry window).
      double hours = -1;
      std::string secs = value(*src, "SELECT @@GLOBAL.binlog_expire_logs_seconds");
      if (!secs.empty()) {
        hours = std::stod(secs) / 3600.0;
      } else {
        std::string days = value(*src, "SELECT @@GLOBAL.expire_logs_days");
        if (!days.empty()) hours = std::stod(days) * 24.0;
      }
      double window_hours = config.options.retry_time_for_failed_connections / 60.0;
      if (hours > 0 && hours < std::max(24.0, window_hours)) {
        add("binlog retention", L::kWarn,
            where + " keeps binlogs " + std::to_string(static_cast<int>(hours)) +
                " h: a task stopped longer than that cannot resume (fix: keep at least 24 h and "
                "more than retry_time_for_failed_connections)");
      } else {
        add("binlog retention", L::kOk,
            hours <= 0 ? "binlogs are never purged automatically"
                       : std::to_string(static_cast<int>(hours)) + " h");
      }
    }
    if (!config.source.secondary_node.empty()) {
      // The cluster rules: the node must be a secondary of the instance's primary that logs
      // what it replicates (DESIGN.md).
      mysql::ConnectOptions primary_opts = src->options();
      auto ep = mysql::Endpoint::parse(config.source.instance_endpoint);
      if (ep.ok()) {
        primary_opts.endpoint = *ep;
        auto p = mysql::Connection::connect(primary_opts);
        if (p.ok()) {
          primary = std::move(p).value();
        } else {
          add("instance endpoint", L::kFail, p.status().message());
          report.items.back().retryable = p.status().isRetryable();
        }
      } else {
        add("instance endpoint", L::kFail,
            "instance " + config.source.instance + " has no resolved read/write endpoint");
      }
      if (primary != nullptr) {
        // A node promoted since the task began keeps it running (a warning); a task is created
        // on a secondary (DESIGN.md), so before it has written anything the primary fails.
        const std::string node_id = value(*src, "SELECT @@server_id");
        const bool is_primary =
            !node_id.empty() && node_id == value(*primary, "SELECT @@server_id");
        if (is_primary && !options.schema_started) {
          add("secondary node", L::kFail,
              "node " + config.source.secondary_node + " is the primary of instance " +
                  config.source.instance +
                  ": a task reads a secondary node, to keep its load off the primary (fix: "
                  "choose a secondary node, or read the instance's read/write endpoint by "
                  "leaving secondary_node out)");
        }
        for (const auto& item : source::checkSecondaryNode(
                 *src, *primary, config.source.secondary_node, config.source.instance)) {
          if (is_primary && !options.schema_started && item.name == "secondary node") continue;
          L level = item.level == source::CheckItem::Level::kPass   ? L::kOk
                    : item.level == source::CheckItem::Level::kWarn ? L::kWarn
                                                                    : L::kFail;
          add(item.name, level,
              item.detail + (item.hint.empty() ? "" : " (fix: " + item.hint + ")"));
        }
      }
    }
    auto catalog = loadCatalog(*src, mapping);
    if (!catalog.ok()) {
      add("selected objects", L::kFail, catalog.status().message());
    } else {
      report.catalog = std::move(catalog).value();
      if (report.catalog.empty())
        add("selected objects", L::kWarn, "the selection matches no table");
      else
        add("selected objects", L::kOk, std::to_string(report.catalog.size()) + " tables");
      checkExcludedTables(*src, mapping, add);
      for (const auto& t : report.catalog) {
        if (config.kind == TaskKind::kTracking) {
          // No load and no destination: a keyless table's records have "pk": null and the
          // whole row in before/after (docs/change-records.md).
          if (!t.source_has_key)
            add("table without key", L::kWarn,
                t.describe() +
                    " has no primary key: its change records have \"pk\": null, and their "
                    "keys (\"pk\": null) do not tell its rows apart (a consumer that compacts "
                    "or partitions by key keeps them as one); a consumer finds a row by its "
                    "whole before image");
          else if (t.chunk_key.empty())
            add("key not selected", L::kWarn,
                t.describe() +
                    ": the column subset drops every key column, so its change records have "
                    "\"pk\": null and keys that do not tell its rows apart (select the key's "
                    "columns too)");
        } else if (!t.source_has_key) {
          add("table without key", L::kWarn,
              t.describe() +
                  " has no primary or unique NOT NULL key: loaded in one transaction, "
                  "incremental changes applied by full row match");
        } else if (t.chunk_key.empty()) {
          add("key not selected", L::kWarn,
              t.describe() +
                  ": the column subset drops every usable key, so the destination table has none");
        }
        if (config.incremental()) {
          if (std::string old = oldTemporalColumns(t); !old.empty())
            add("temporal format", L::kFail,
                t.describe() +
                    " has MariaDB 5.3-format temporal columns with fractional seconds (" + old +
                    "): the binlog's rows do not say how many bytes their values take, so no "
                    "change to the table can be read. Rebuild it in the current format at the "
                    "source before the task starts: ALTER TABLE " +
                    mysql::quoteQualified(t.route.source_database, t.route.source_table) +
                    " FORCE (with mysql56_temporal_format=ON, the default)");
          // A filter the incremental phase would refuse at its first row (a YEAR against a
          // two-digit year): told now, not after the full load.
          if (t.route.filter != nullptr) {
            std::vector<std::string> years;
            for (const auto& c : t.columns) {
              if (c.data_type == "year") years.push_back(c.name);
            }
            Status judged = years.empty()
                                ? Status::OK()
                                : t.route.filter->checkYearConstants(t.route.source_database,
                                                                     t.route.source_table, years);
            if (!judged.ok()) add("row filter", L::kFail, judged.message());
          }
        }
      }
    }
    if (config.incremental() && !report.catalog.empty()) {
      // Foreign key actions: the binlog never holds the rows they change (sink/batch_sql.h).
      auto acting = foreignKeyActions(*src, report.catalog);
      auto join = [](const std::vector<std::string>& items) {
        std::string list;
        for (const auto& a : items) list += (list.empty() ? "" : "; ") + a;
        return list;
      };
      if (!acting.ok()) {
        add("foreign key actions", L::kWarn,
            "cannot list the foreign keys: " + acting.status().message());
      } else {
        const auto& repeated = acting->referencing_selected;
        if (!repeated.empty() && config.kind == TaskKind::kTracking) {
          add("foreign key actions", L::kWarn,
              join(repeated) +
                  ": the source does not log the rows a foreign key action changes, so the "
                  "change log holds the referenced row's change only (a consumer that keeps a "
                  "copy must repeat the action)");
        } else if (!repeated.empty()) {
          add("foreign key actions", L::kOk,
              (repeated.size() == 1 ? std::string("1 foreign key acts")
                                    : std::to_string(repeated.size()) + " foreign keys act") +
                  " ON DELETE or ON UPDATE; the source does not log the rows "
                  "they change, so the destination's own foreign keys repeat them: " +
                  join(repeated));
        }
        if (!acting->parent_filtered.empty()) {
          add("foreign key actions", L::kWarn,
              join(acting->parent_filtered) +
                  ": the task leaves out some changes of the referenced table, and the source "
                  "logs no row its foreign key action changes, so a referenced row deleted or "
                  "re-keyed outside the filter leaves its referencing rows at the " +
                  std::string(config.kind == TaskKind::kTracking ? "consumer" : "destination") +
                  " (fix: move the referenced table without where:/dml limits, or leave the "
                  "referencing table out)");
        }
        if (!acting->parent_not_moved.empty()) {
          add("foreign key actions", L::kWarn,
              join(acting->parent_not_moved) +
                  ": the task moves a table whose rows these foreign keys change when the table "
                  "they reference, which the task does not move, changes; the source logs no row "
                  "for those changes, so they never reach the " +
                  std::string(config.kind == TaskKind::kTracking ? "change log" : "destination") +
                  " (fix: move the referenced table too)");
        }
      }
    }
    if (config.kind != TaskKind::kTracking) {
      // Views, routines, triggers, events: what the destination gets, and what it does not.
      auto plan = planSchemaObjects(*src, mapping, config.incremental());
      if (!plan.ok()) {
        add("schema objects", L::kWarn,
            "cannot list the views, routines, triggers and events: " + plan.status().message());
      } else {
        size_t views = 0;
        for (const auto& o : plan->create) views += o.kind == pipeline::ObjectKind::kView;
        std::string what = std::to_string(views) + " views and " +
                           std::to_string(plan->create.size() - views) +
                           " procedures and functions created after the tables";
        if (!plan->triggers.empty())
          what += ", " + std::to_string(plan->triggers.size()) + " triggers after the full data";
        if (plan->not_moved.empty()) {
          add("schema objects", L::kOk, what);
        } else {
          std::string list;
          for (const auto& n : plan->not_moved) list += (list.empty() ? "" : "; ") + n;
          add("schema objects", L::kWarn, what + "; not moved: " + list);
        }
        report.schema_objects = std::move(plan).value();
      }
    }
  }

  if (src != nullptr && dest != nullptr) {
    // The server the task reads, and the primary a secondary node read replicates: whatever
    // address reaches them (a proxy, an alias), writing into them could have the task read its
    // own writes.
    const std::string read_what =
        config.source.instance.empty() ? "the source's server"
        : config.source.secondary_node.empty()
            ? "the primary of instance " + config.source.instance
            : "node " + config.source.secondary_node + " of instance " + config.source.instance;
    std::vector<std::pair<std::string, mysql::Connection*>> upstream{{read_what, src.get()}};
    if (primary != nullptr)
      upstream.emplace_back("the primary of instance " + config.source.instance, primary.get());
    bool checked = true;
    std::string one;
    for (const auto& [what, conn] : upstream) {
      auto same = sameServer(*conn, *dest);
      if (!same.ok()) {
        add("destination server", L::kWarn,
            "cannot tell whether it is " + what + ": " + same.status().message());
        checked = false;
      } else if (*same && one.empty()) {
        one = what;
      }
    }
    const std::string where = "destination " + dest->options().endpoint.toString() + " is " + one;
    if (!one.empty() && !config.source.instance.empty()) {
      // As when its address is a registered one (cluster_rules.h).
      add("destination server", L::kFail,
          where + " under another address: a task does not write into a source's own servers");
    } else if (!one.empty()) {
      const std::string overlap = targetsTheTaskReads(*dest, mapping);
      if (!overlap.empty())
        add("destination server", L::kFail,
            where + " and " + overlap + " (fix: rename_to a database the task does not read)");
      else
        add("destination server", L::kOk,
            one + ": the copy goes to databases the task does not read");
    } else if (checked) {
      add("destination server", L::kOk, "not the source's server");
    }
  }

  if (dest != nullptr) {
    std::string ro = value(*dest, "SELECT @@GLOBAL.read_only");
    if (ro == "1") {
      add("destination writable", L::kFail,
          "destination " + dest->options().endpoint.toString() +
              " is read-only (fix: choose a writable primary; a secondary node cannot be "
              "the destination)");
      // A task that already wrote there meets a read-only destination in a failover or
      // maintenance window: retried within retry_time_for_other_issues, as the write that
      // failed on it (error 1290) is. A new task's is a mistake: told at once.
      report.items.back().retryable = options.schema_started;
    } else {
      add("destination writable", L::kOk, "");
    }
    // What the task will do there, by privilege: rows (the full load's INSERT, the applier's
    // REPLACE, UPDATE and DELETE, dts_meta's checkpoints), the schema, DDL replayed in
    // incremental, views, routines and triggers.
    if (auto grants = readGrants(*dest); grants.ok()) {
      std::vector<std::string> missing;
      auto need = [&](const char* priv, bool wanted) {
        if (wanted && !grants->has(priv)) missing.push_back(priv);
      };
      for (const char* p : {"SELECT", "INSERT", "UPDATE", "DELETE", "CREATE"}) need(p, true);
      const bool ddl = config.incremental() && config.options.ddl;
      need("ALTER", ddl);
      need("DROP", ddl);
      need("INDEX", ddl);
      bool views = false, routines = false;
      if (report.schema_objects) {
        for (const auto& o : report.schema_objects->create) {
          views |= o.kind == pipeline::ObjectKind::kView;
          routines |= o.kind != pipeline::ObjectKind::kView;
        }
      }
      need("CREATE VIEW", views);
      need("CREATE ROUTINE", routines);
      need("TRIGGER", report.schema_objects && !report.schema_objects->triggers.empty());
      if (!missing.empty()) {
        const std::string list = joined(missing);
        add("destination privileges", L::kWarn,
            "user '" + dest->options().user + "' may lack " + list +
                " (no grant names them; fix: GRANT " + list +
                " ON the target databases and dts_meta TO that user)");
      } else {
        add("destination privileges", L::kOk, "");
      }
    } else {
      add("destination privileges", L::kWarn, "cannot read grants: " + grants.status().message());
    }
    if (!report.catalog.empty() && !options.schema_started) {
      std::vector<std::string> conflicts;
      std::vector<std::string> looser;  // existing tables with a key the source does not imply
      for (const auto& t : report.catalog) {
        auto exists = tableExists(*dest, t.route.target_database, t.route.target_table);
        if (!exists.ok()) return exists.status();
        if (!*exists) {
          if (Status exact = enumDefinitionsAreExact(t); !exact.ok())
            add("enum and set definitions", L::kFail, exact.message());
          continue;
        }
        conflicts.push_back(t.route.target_database + "." + t.route.target_table);
        if (config.options.conflicting_tables != ConflictPolicy::kIgnore || src == nullptr)
          continue;
        auto extra = keysTheSourceDoesNotImply(*src, *dest, t);
        if (!extra.ok()) return extra.status();
        if (!extra->empty()) looser.push_back(*extra);
      }
      for (const std::string& l : looser) add("destination unique keys", L::kFail, l);
      if (looser.empty() && !conflicts.empty() &&
          config.options.conflicting_tables == ConflictPolicy::kIgnore)
        add("destination unique keys", L::kOk, "");
      if (!conflicts.empty()) {
        std::string list;
        for (const auto& c : conflicts) list += (list.empty() ? "" : ", ") + c;
        if (config.options.conflicting_tables == ConflictPolicy::kPrecheck) {
          add("conflicting tables", L::kFail,
              "destination tables already exist: " + list +
                  " (drop them, or set options.conflicting_tables: ignore)");
        } else {
          add("conflicting tables", L::kWarn,
              "destination tables already exist and are used as they are: " + list);
        }
      } else {
        add("conflicting tables", L::kOk, "");
      }
    }
  }
  return report;
}

}  // namespace dts::task
