// Sqlite: a small RAII wrapper over one SQLite database file (the data dir's metadata store).
// Several processes may open the same file (WAL mode, busy timeout), e.g. `dts instance
// remove-node` while `dts run` watches the instance. Not thread-safe: one Sqlite per thread.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

struct sqlite3;

namespace dts {

class Sqlite {
 public:
  using Row = std::vector<std::optional<std::string>>;

  ~Sqlite();
  Sqlite(const Sqlite&) = delete;
  Sqlite& operator=(const Sqlite&) = delete;

  // Opens (creating if needed) the database at path.
  static Result<std::unique_ptr<Sqlite>> open(const std::string& path);

  // Runs one or more statements without parameters.
  Status exec(std::string_view sql);
  // Runs one statement with text parameters bound to ?1, ?2, ... (nullopt binds NULL) and
  // returns its rows as text.
  Result<std::vector<Row>> query(std::string_view sql,
                                 const std::vector<std::optional<std::string>>& params = {});
  // Rows changed by the last statement.
  int changes() const;

  const std::string& path() const { return path_; }

 private:
  Sqlite(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}
  Status error(std::string_view what) const;
  sqlite3* db_;
  std::string path_;
};

}  // namespace dts
