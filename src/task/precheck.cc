#include "task/precheck.h"

#include <algorithm>

#include "task/schema_copier.h"

namespace dts::task {

bool PrecheckReport::passed() const {
  return std::none_of(items.begin(), items.end(), [](const auto& i) { return i.level == PrecheckItem::Level::kFail; });
}

Status PrecheckReport::toStatus() const {
  std::string msg;
  for (const auto& i : items) {
    if (i.level != PrecheckItem::Level::kFail) continue;
    msg += (msg.empty() ? "" : "; ") + i.name + ": " + i.message;
  }
  if (msg.empty()) return Status::OK();
  return Status::FailedPrecondition("precheck failed: " + msg);
}

std::string PrecheckReport::toString() const {
  std::string out;
  for (const auto& i : items) {
    const char* level = i.level == PrecheckItem::Level::kOk ? "ok  " : i.level == PrecheckItem::Level::kWarn ? "warn" : "FAIL";
    out += std::string("  [") + level + "] " + i.name + (i.message.empty() ? "" : ": " + i.message) + "\n";
  }
  return out;
}

namespace {

std::string value(mysql::Connection& c, const std::string& sql) {
  auto v = c.queryValue(sql);
  if (!v.ok() || !v->has_value()) return "";
  return **v;
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
  auto src_opts = config.source.connectOptions();
  if (!src_opts.ok()) {
    add("source credentials", L::kFail, src_opts.status().message());
  } else {
    auto c = mysql::Connection::connect(*src_opts);
    if (c.ok()) {
      src = std::move(c).value();
      add("source connectivity", L::kOk, src_opts->endpoint.toString() + " (" + src->serverVersion() + ")");
    } else {
      add("source connectivity", L::kFail, c.status().message());
    }
  }
  auto dest_opts = config.destination.connectOptions();
  if (!dest_opts.ok()) {
    add("destination credentials", L::kFail, dest_opts.status().message());
  } else {
    auto c = mysql::Connection::connect(*dest_opts);
    if (c.ok()) {
      dest = std::move(c).value();
      add("destination connectivity", L::kOk, dest_opts->endpoint.toString() + " (" + dest->serverVersion() + ")");
    } else {
      add("destination connectivity", L::kFail, c.status().message());
    }
  }

  if (src != nullptr) {
    std::string where = "source " + src->options().endpoint.toString();
    bool need_binlog = config.incremental();
    L binlog_level = need_binlog ? L::kFail : L::kWarn;
    std::string log_bin = value(*src, "SELECT @@GLOBAL.log_bin");
    if (log_bin != "1") add("log_bin", binlog_level, where + " has log_bin OFF (incremental needs the binlog)");
    else add("log_bin", L::kOk, "");
    std::string format = value(*src, "SELECT @@GLOBAL.binlog_format");
    if (format != "ROW") add("binlog_format", binlog_level, where + " has binlog_format=" + format + " (needs ROW)");
    else add("binlog_format", L::kOk, "");
    std::string image = value(*src, "SELECT @@GLOBAL.binlog_row_image");
    if (image != "FULL") add("binlog_row_image", binlog_level, where + " has binlog_row_image=" + image + " (needs FULL)");
    else add("binlog_row_image", L::kOk, "");
    if (src->isMariaDB()) {
      auto pos = src->queryValue("SELECT @@GLOBAL.gtid_binlog_pos");
      if (!pos.ok()) add("gtid position", binlog_level, pos.status().message());
      else add("gtid position", L::kOk, "gtid_binlog_pos '" + pos->value_or("") + "'");
    } else {
      std::string mode = value(*src, "SELECT @@GLOBAL.gtid_mode");
      if (mode != "ON") add("gtid position", binlog_level, where + " has gtid_mode=" + mode + " (needs ON)");
      else add("gtid position", L::kOk, "");
    }
    // Privileges: the grants that full and incremental need, by name.
    auto grants = src->query("SHOW GRANTS");
    if (grants.ok()) {
      std::string all;
      for (const auto& r : grants->rows) all += r[0].value_or("") + "\n";
      bool everything = all.find("ALL PRIVILEGES ON *.*") != std::string::npos;
      std::vector<std::string> missing;
      auto need = [&](const char* priv, bool wanted) {
        if (wanted && !everything && all.find(priv) == std::string::npos) missing.push_back(priv);
      };
      need("SELECT", true);
      need("REPLICATION SLAVE", need_binlog);
      if (!missing.empty()) {
        std::string list;
        for (const auto& m : missing) list += (list.empty() ? "" : ", ") + m;
        add("source privileges", L::kFail, "user '" + src->options().user + "' lacks " + list);
      } else {
        add("source privileges", L::kOk, "");
      }
    } else {
      add("source privileges", L::kWarn, "cannot read grants: " + grants.status().message());
    }
    auto catalog = loadCatalog(*src, mapping);
    if (!catalog.ok()) {
      add("selected objects", L::kFail, catalog.status().message());
    } else {
      report.catalog = std::move(catalog).value();
      if (report.catalog.empty()) add("selected objects", L::kWarn, "the selection matches no table");
      else add("selected objects", L::kOk, std::to_string(report.catalog.size()) + " tables");
      for (const auto& t : report.catalog) {
        if (!t.source_has_key) {
          add("table without key", L::kWarn,
              t.describe() + " has no primary or unique NOT NULL key: loaded in one transaction, "
                             "incremental changes applied by full row match");
        } else if (t.chunk_key.empty()) {
          add("key not selected", L::kWarn,
              t.describe() + ": the column subset drops every usable key, so the destination table has none");
        }
      }
    }
  }

  if (dest != nullptr) {
    std::string ro = value(*dest, "SELECT @@GLOBAL.read_only");
    if (ro == "1") add("destination writable", L::kFail, "destination " + dest->options().endpoint.toString() + " is read-only");
    else add("destination writable", L::kOk, "");
    if (!report.catalog.empty() && !options.schema_started) {
      std::vector<std::string> conflicts;
      for (const auto& t : report.catalog) {
        auto exists = tableExists(*dest, t.route.target_database, t.route.target_table);
        if (!exists.ok()) return exists.status();
        if (*exists) conflicts.push_back(t.route.target_database + "." + t.route.target_table);
      }
      if (!conflicts.empty()) {
        std::string list;
        for (const auto& c : conflicts) list += (list.empty() ? "" : ", ") + c;
        if (config.options.conflicting_tables == ConflictPolicy::kPrecheck) {
          add("conflicting tables", L::kFail,
              "destination tables already exist: " + list + " (drop them, or set options.conflicting_tables: ignore)");
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
