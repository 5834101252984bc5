#include "task/snapshot.h"

#include <algorithm>
#include <optional>

#include "common/strings.h"

namespace dts::task {

Result<std::string> openSnapshot(mysql::Connection& src, SnapshotPositionCache* cache) {
  DTS_RETURN_IF_ERROR(
      src.execute("SET SESSION time_zone = '+00:00', SESSION net_write_timeout = 3600"));
  DTS_RETURN_IF_ERROR(src.execute("SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ"));
  if (!src.isMariaDB()) {
    // MySQL has no snapshot position: hold the global read lock only while the snapshot opens.
    DTS_RETURN_IF_ERROR(src.execute("FLUSH TABLES WITH READ LOCK"));
    Status st = src.execute("START TRANSACTION WITH CONSISTENT SNAPSHOT");
    auto gtid = st.ok() ? src.queryValue("SELECT @@GLOBAL.gtid_executed")
                        : Result<std::optional<std::string>>(st);
    Status unlock = src.execute("UNLOCK TABLES");
    if (!gtid.ok()) return gtid.status();
    DTS_RETURN_IF_ERROR(unlock);
    return gtid->value_or("");
  }
  DTS_RETURN_IF_ERROR(src.execute("START TRANSACTION WITH CONSISTENT SNAPSHOT"));
  DTS_ASSIGN_OR_RETURN(auto status, src.query("SHOW STATUS LIKE 'binlog_snapshot_%'"));
  std::optional<std::string> file, pos, gtid;
  for (const auto& r : status.rows) {
    std::string name = toLower(r[0].value_or(""));
    if (name == "binlog_snapshot_file") file = r[1];
    if (name == "binlog_snapshot_position") pos = r[1];
    if (name == "binlog_snapshot_gtid_pos") gtid = r[1];
  }
  if (gtid.has_value()) return *gtid;
  if (!file.has_value() || !pos.has_value() || file->empty()) {
    return Status::FailedPrecondition("source " + src.options().endpoint.toString() +
                                      " reports no binlog snapshot position (is log_bin ON?)");
  }
  std::string at = *file + ":" + *pos;
  if (auto hit = cache->find(at); hit != cache->end()) return hit->second;
  DTS_ASSIGN_OR_RETURN(auto g, src.queryValue("SELECT BINLOG_GTID_POS(" + src.quoteString(*file) +
                                              ", " + src.quoteString(*pos) + ")"));
  if (!g.has_value()) {
    return Status::FailedPrecondition("source " + src.options().endpoint.toString() +
                                      ": BINLOG_GTID_POS(" + *file + ", " + *pos + ") is NULL");
  }
  (*cache)[at] = *g;
  return *g;
}

}  // namespace dts::task
