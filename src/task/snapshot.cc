#include "task/snapshot.h"

#include <algorithm>
#include <memory>
#include <mutex>
#include <optional>

#include "common/log.h"
#include "common/strings.h"

namespace dts::task {

namespace {

// ER_SPECIFIC_ACCESS_DENIED_ERROR, ER_DBACCESS_DENIED_ERROR: the backup lock needs RELOAD.
constexpr unsigned kAccessDenied = 1227;
constexpr unsigned kDbAccessDenied = 1044;

// MariaDB's BACKUP STAGE BLOCK_DDL on its own connection, released by the destructor.
class DdlBlock {
 public:
  // Null when the server refused the lock for lack of privilege (warned); an error otherwise.
  static Result<std::unique_ptr<DdlBlock>> take(mysql::Connection& reader) {
    DTS_RETURN_IF_ERROR(reader.execute("SET SESSION lock_wait_timeout = 30"));
    Status st = reader.execute("BACKUP STAGE START");
    if (st.ok()) {
      st = reader.execute("BACKUP STAGE BLOCK_DDL");
      if (!st.ok()) (void)reader.execute("BACKUP STAGE END");
    }
    if (st.ok()) return std::unique_ptr<DdlBlock>(new DdlBlock(reader));
    unsigned err = reader.lastErrorNumber();
    if (err == kAccessDenied || err == kDbAccessDenied) {
      static std::once_flag warned;
      std::call_once(warned, [&] {
        spdlog::warn(
            "source {}: BACKUP STAGE BLOCK_DDL refused ({}); the schema history's starting "
            "definitions are read right after the snapshot opens without holding DDL off, so a "
            "DDL committed in that instant could be missed. Grant RELOAD to the task's user.",
            reader.options().endpoint.toString(), st.message());
      });
      return std::unique_ptr<DdlBlock>();
    }
    return st.withContext("holding DDL off while the snapshot opens (a DDL still running?)");
  }
  ~DdlBlock() { (void)reader_.execute("BACKUP STAGE END"); }

 private:
  explicit DdlBlock(mysql::Connection& reader) : reader_(reader) {}
  mysql::Connection& reader_;
};

// START TRANSACTION WITH CONSISTENT SNAPSHOT on MariaDB, and its GTID position.
Result<std::string> snapshotPosition(mysql::Connection& src, SnapshotPositionCache* cache);

}  // namespace

Result<std::string> openSnapshot(mysql::Connection& src, SnapshotPositionCache* cache,
                                 const AtSnapshotPosition& at_position) {
  DTS_RETURN_IF_ERROR(
      src.execute("SET SESSION time_zone = '+00:00', SESSION net_write_timeout = 3600"));
  DTS_RETURN_IF_ERROR(src.execute("SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ"));
  std::unique_ptr<mysql::Connection> reader;
  if (at_position) {
    DTS_ASSIGN_OR_RETURN(reader, mysql::Connection::connect(src.options()));
  }
  if (!src.isMariaDB()) {
    // MySQL has no snapshot position: hold the global read lock only while the snapshot opens
    // (and at_position reads: no DDL runs under it either).
    DTS_RETURN_IF_ERROR(src.execute("FLUSH TABLES WITH READ LOCK"));
    Status st = src.execute("START TRANSACTION WITH CONSISTENT SNAPSHOT");
    auto gtid = st.ok() ? src.queryValue("SELECT @@GLOBAL.gtid_executed")
                        : Result<std::optional<std::string>>(st);
    Status seen =
        gtid.ok() && at_position ? at_position(*reader, gtid->value_or("")) : Status::OK();
    Status unlock = src.execute("UNLOCK TABLES");
    if (!gtid.ok()) return gtid.status();
    DTS_RETURN_IF_ERROR(seen);
    DTS_RETURN_IF_ERROR(unlock);
    return gtid->value_or("");
  }
  std::unique_ptr<DdlBlock> block;
  if (reader != nullptr) {
    DTS_ASSIGN_OR_RETURN(block, DdlBlock::take(*reader));
  }
  DTS_ASSIGN_OR_RETURN(std::string gtid, snapshotPosition(src, cache));
  if (at_position) DTS_RETURN_IF_ERROR(at_position(*reader, gtid));
  return gtid;
}

Result<std::optional<std::string>> openSharedSnapshot(
    const mysql::ConnectOptions& source, const std::vector<mysql::Connection*>& readers) {
  DTS_ASSIGN_OR_RETURN(auto locker, mysql::Connection::connect(source));
  DTS_RETURN_IF_ERROR(locker->execute("SET SESSION lock_wait_timeout = 30"));
  const bool maria = locker->isMariaDB();
  // MariaDB: the backup stages in order (BLOCK_DDL waits for a running DDL, BLOCK_COMMIT for
  // running commits and then holds new ones); MySQL: the global read lock.
  Status locked = maria ? locker->execute(
                              "BACKUP STAGE START; BACKUP STAGE FLUSH; BACKUP STAGE BLOCK_DDL; "
                              "BACKUP STAGE BLOCK_COMMIT")
                        : locker->execute("FLUSH TABLES WITH READ LOCK");
  if (!locked.ok()) {
    const unsigned err = locker->lastErrorNumber();
    if (maria) (void)locker->execute("BACKUP STAGE END");
    if (err == kAccessDenied || err == kDbAccessDenied) return std::optional<std::string>();
    return locked.withContext("holding commits off while the snapshots open");
  }
  SnapshotPositionCache cache;
  std::string position;
  Status opened;
  for (size_t i = 0; i < readers.size() && opened.ok(); ++i) {
    auto at = openSnapshot(*readers[i], &cache);
    if (!at.ok()) {
      opened = at.status();
    } else if (i == 0) {
      position = *at;
    } else if (*at != position) {
      opened = Status::Internal(
          "snapshots opened under a held commit lock report different positions (" + position +
          ", " + *at + ")");
    }
  }
  Status released = locker->execute(maria ? "BACKUP STAGE END" : "UNLOCK TABLES");
  DTS_RETURN_IF_ERROR(opened);
  DTS_RETURN_IF_ERROR(released);
  return std::optional<std::string>(position);
}

namespace {

Result<std::string> snapshotPosition(mysql::Connection& src, SnapshotPositionCache* cache) {
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

}  // namespace

}  // namespace dts::task
