// Read-only tokens per consumer group of a tracking task: issued by the API (POST
// /api/v1/tasks/TASK/groups/GROUP/token, shown once), they let one consumer read that task's
// topic(s) as that group only: the SASL/PLAIN password on the Kafka listener (server/
// kafka_listener.h) and the Bearer token of the task's HTTP changes endpoint.
//
// Kept in DATA_DIR/group-tokens.db (SQLite): only each token's SHA-256 is stored, never the token,
// so the file gives nobody access. A token is "dtsg_" followed by 64 hex digits (32 random bytes).
// Issuing a new token for a group replaces the previous one; revoke() removes it (connections
// authenticated with it are closed at their next request).
//
// Thread-safety: every method from any thread (one mutex).
#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "common/sqlite.h"
#include "common/status.h"

namespace dts::server {

// What a group token allows.
struct GroupTokenScope {
  std::string task;   // the tracking task: its topic TASK and the views TASK.FORMAT
  std::string group;  // the only consumer group it may act as
};

class GroupTokenStore {
 public:
  static Result<std::unique_ptr<GroupTokenStore>> open(const std::string& path);

  // A new token for (task, group), replacing the group's previous one. Only its hash is kept.
  Result<std::string> issue(const std::string& task, const std::string& group);
  // Removes the group's token; false when it had none.
  Result<bool> revoke(const std::string& task, const std::string& group);
  // Removes every token of the task (it was deleted).
  Status forgetTask(const std::string& task);
  // The scope of a token; nullopt when it is not an issued token (never an error for a wrong
  // token, whatever its shape).
  Result<std::optional<GroupTokenScope>> find(const std::string& token);

  // Whether text has the shape of a group token (the API token is plain hex).
  static bool looksLikeGroupToken(const std::string& text);

 private:
  explicit GroupTokenStore(std::unique_ptr<Sqlite> db) : db_(std::move(db)) {}
  std::mutex mu_;
  std::unique_ptr<Sqlite> db_;
};

}  // namespace dts::server
