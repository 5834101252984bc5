#include "common/sqlite.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>

namespace dts {

Sqlite::~Sqlite() {
  if (db_ != nullptr) sqlite3_close(db_);
}

Result<std::unique_ptr<Sqlite>> Sqlite::open(const std::string& path) {
  // Owner-only from the start: SQLite gives its -wal, -shm and -journal files the database
  // file's mode, and the databases of a data dir hold passwords (dts.db: inline instance and
  // task passwords). A file left readable by an older version is made owner-only.
  // Created only when missing (O_EXCL): closing a descriptor of a file SQLite already has open
  // in this process would drop every POSIX lock SQLite holds on it (fcntl locks belong to the
  // process), and other connections of this process (the state store, the instance registry's
  // watcher) have dts.db open.
  struct stat existing {};
  if (::stat(path.c_str(), &existing) != 0) {
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd >= 0) {
      ::close(fd);
    } else if (errno != EEXIST) {
      return Status::FailedPrecondition("creating " + path + ": " + std::strerror(errno));
    }
  }
  for (const char* suffix : {"", "-wal", "-shm", "-journal"}) {
    struct stat st {};
    const std::string file = path + suffix;
    if (::stat(file.c_str(), &st) == 0 && (st.st_mode & 077) != 0)
      ::chmod(file.c_str(), st.st_mode & 0700);
  }
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    if (db != nullptr) sqlite3_close(db);
    return Status::FailedPrecondition("opening " + path + ": " + msg);
  }
  std::unique_ptr<Sqlite> out(new Sqlite(db, path));
  sqlite3_busy_timeout(db, 10000);
  DTS_RETURN_IF_ERROR(out->exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"));
  return out;
}

Status Sqlite::error(std::string_view what) const {
  return Status::FailedPrecondition(std::string(what) + " in " + path_ + ": " +
                                    sqlite3_errmsg(db_));
}

namespace {

// SQLite returns SQLITE_BUSY without calling the busy handler in a few cases (switching to WAL
// while another process opens the file, a WAL snapshot that went stale): those are retried here
// for as long as the busy timeout, a few milliseconds apart. Statements given to exec() are
// idempotent when they failed busy (schema set-up, BEGIN IMMEDIATE, COMMIT).
constexpr auto kBusyFor = std::chrono::seconds(10);

bool busy(int rc) {
  return (rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED;
}

}  // namespace

Status Sqlite::exec(std::string_view sql) {
  std::string copy(sql);
  auto deadline = std::chrono::steady_clock::now() + kBusyFor;
  while (true) {
    char* err = nullptr;
    int rc = sqlite3_exec(db_, copy.c_str(), nullptr, nullptr, &err);
    if (rc == SQLITE_OK) return Status::OK();
    std::string msg = err != nullptr ? err : "unknown error";
    sqlite3_free(err);
    if (busy(rc) && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
      continue;
    }
    return Status::FailedPrecondition("sqlite in " + path_ + ": " + msg);
  }
}

Result<std::vector<Sqlite::Row>> Sqlite::query(
    std::string_view sql, const std::vector<std::optional<std::string>>& params) {
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db_, sql.data(), static_cast<int>(sql.size()), &stmt, nullptr) !=
      SQLITE_OK) {
    return error("preparing statement");
  }
  std::unique_ptr<sqlite3_stmt, int (*)(sqlite3_stmt*)> guard(stmt, sqlite3_finalize);
  for (size_t i = 0; i < params.size(); ++i) {
    int rc = params[i] ? sqlite3_bind_text(stmt, static_cast<int>(i + 1), params[i]->data(),
                                           static_cast<int>(params[i]->size()), SQLITE_TRANSIENT)
                       : sqlite3_bind_null(stmt, static_cast<int>(i + 1));
    if (rc != SQLITE_OK) return error("binding parameter");
  }
  std::vector<Row> rows;
  auto deadline = std::chrono::steady_clock::now() + kBusyFor;
  while (true) {
    int rc = sqlite3_step(stmt);
    if (busy(rc) && rows.empty() && std::chrono::steady_clock::now() < deadline) {
      sqlite3_reset(stmt);  // nothing was read or written yet: run it again
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
      continue;
    }
    if (rc == SQLITE_DONE) break;
    if (rc != SQLITE_ROW) return error("running statement");
    int n = sqlite3_column_count(stmt);
    Row row;
    for (int c = 0; c < n; ++c) {
      if (sqlite3_column_type(stmt, c) == SQLITE_NULL) {
        row.emplace_back(std::nullopt);
      } else {
        const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt, c));
        row.emplace_back(std::string(text, static_cast<size_t>(sqlite3_column_bytes(stmt, c))));
      }
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

int Sqlite::changes() const {
  return sqlite3_changes(db_);
}

}  // namespace dts
