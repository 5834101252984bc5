// VerifyProgress: what a verification run has finished, kept in a file so that a run stopped
// (SIGTERM, kill -9, a task restart) continues where it stood instead of starting over
// (VerifyOptions::progress_file). Per table: its result so far and, for a keyed table still
// under way, the chunk key after which it goes on; a finished table's result is reused whole.
// The file belongs to one task definition and one row hash: a file written for another is
// ignored (and replaced). Written whole to a temporary file then renamed, so a crash leaves the
// previous or the next state, never a torn one. Thread-safe.
#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "task/verify.h"

namespace dts::task {

class VerifyProgress {
 public:
  struct Table {
    TableVerifyResult result;
    bool done = false;
    // Keyed tables under way: the upper bound of the last finished chunk (server text values).
    std::optional<std::vector<std::string>> after;
  };

  // Reads path when it exists and belongs to `identity` (the task definition and the hash);
  // otherwise starts empty. An unreadable file is an error naming it.
  static Result<std::unique_ptr<VerifyProgress>> open(std::string path, std::string identity);

  // A copy of what was saved for the table (source name db.table), if anything.
  std::optional<Table> find(const std::string& table) const;
  bool empty() const;
  // Records the table's state and rewrites the file.
  Status save(const Table& table);
  // Deletes the file (the run ended).
  Status remove();

 private:
  VerifyProgress(std::string path, std::string identity)
      : path_(std::move(path)), identity_(std::move(identity)) {}
  Status writeLocked();

  std::string path_, identity_;
  mutable std::mutex mu_;
  std::vector<Table> tables_;
};

// A table's result as JSON and back (what the progress file holds, fix SQL included).
std::string tableResultToJson(const TableVerifyResult& t);
Result<TableVerifyResult> tableResultFromJson(const std::string& json);

}  // namespace dts::task
