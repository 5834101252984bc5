#include "server/group_tokens.h"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <chrono>

namespace dts::server {
namespace {

constexpr char kPrefix[] = "dtsg_";

std::string hex(const unsigned char* data, size_t n) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  out.reserve(2 * n);
  for (size_t i = 0; i < n; ++i) {
    out += digits[data[i] >> 4];
    out += digits[data[i] & 15];
  }
  return out;
}

Result<std::string> sha256Hex(const std::string& text) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(text.data(), text.size(), md, &len, EVP_sha256(), nullptr) != 1)
    return Status::Internal("hashing a group token: EVP_Digest failed");
  return hex(md, len);
}

int64_t nowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

bool GroupTokenStore::looksLikeGroupToken(const std::string& text) {
  return text.size() == sizeof(kPrefix) - 1 + 64 &&
         text.compare(0, sizeof(kPrefix) - 1, kPrefix) == 0;
}

Result<std::unique_ptr<GroupTokenStore>> GroupTokenStore::open(const std::string& path) {
  DTS_ASSIGN_OR_RETURN(auto db, Sqlite::open(path));
  DTS_RETURN_IF_ERROR(
      db->exec("PRAGMA synchronous=FULL;"
               "CREATE TABLE IF NOT EXISTS group_tokens ("
               "  task TEXT NOT NULL, group_id TEXT NOT NULL, token_sha256 TEXT NOT NULL UNIQUE,"
               "  created_at_ms INTEGER NOT NULL, PRIMARY KEY (task, group_id))"));
  return std::unique_ptr<GroupTokenStore>(new GroupTokenStore(std::move(db)));
}

Result<std::string> GroupTokenStore::issue(const std::string& task, const std::string& group) {
  unsigned char raw[32];
  if (RAND_bytes(raw, sizeof raw) != 1)
    return Status::Internal("generating a group token: RAND_bytes failed");
  std::string token = kPrefix + hex(raw, sizeof raw);
  DTS_ASSIGN_OR_RETURN(std::string hash, sha256Hex(token));
  std::lock_guard lock(mu_);
  auto r = db_->query(
      "INSERT INTO group_tokens (task, group_id, token_sha256, created_at_ms) VALUES (?1, ?2, "
      "?3, ?4) ON CONFLICT (task, group_id) DO UPDATE SET token_sha256 = excluded.token_sha256, "
      "created_at_ms = excluded.created_at_ms",
      {task, group, hash, std::to_string(nowMs())});
  if (!r.ok())
    return r.status().withContext("storing the token of group '" + group + "' of task '" + task +
                                  "' in " + db_->path());
  return token;
}

Result<bool> GroupTokenStore::revoke(const std::string& task, const std::string& group) {
  std::lock_guard lock(mu_);
  auto found =
      db_->query("SELECT 1 FROM group_tokens WHERE task = ?1 AND group_id = ?2", {task, group});
  if (!found.ok()) return found.status().withContext("reading " + db_->path());
  if (found->empty()) return false;
  auto r = db_->query("DELETE FROM group_tokens WHERE task = ?1 AND group_id = ?2", {task, group});
  if (!r.ok())
    return r.status().withContext("revoking the token of group '" + group + "' of task '" + task +
                                  "' in " + db_->path());
  return true;
}

Status GroupTokenStore::forgetTask(const std::string& task) {
  std::lock_guard lock(mu_);
  auto r = db_->query("DELETE FROM group_tokens WHERE task = ?1", {task});
  if (!r.ok())
    return r.status().withContext("forgetting the group tokens of task '" + task + "' in " +
                                  db_->path());
  return Status::OK();
}

Result<std::optional<GroupTokenScope>> GroupTokenStore::find(const std::string& token) {
  if (!looksLikeGroupToken(token)) return std::optional<GroupTokenScope>();
  DTS_ASSIGN_OR_RETURN(std::string hash, sha256Hex(token));
  std::lock_guard lock(mu_);
  // Looked up by hash: the comparison is on a digest of the token, not on the token itself.
  auto rows = db_->query("SELECT task, group_id FROM group_tokens WHERE token_sha256 = ?1", {hash});
  if (!rows.ok()) return rows.status().withContext("reading " + db_->path());
  if (rows->empty()) return std::optional<GroupTokenScope>();
  return std::optional<GroupTokenScope>(
      GroupTokenScope{(*rows)[0][0].value_or(""), (*rows)[0][1].value_or("")});
}

}  // namespace dts::server
