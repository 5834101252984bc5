#include "sink/fake_destination_for_tests.h"

#include <algorithm>
#include <cctype>
#include <cstring>

namespace dts::sink::testing {
namespace {

bool startsWith(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && s.substr(0, prefix.size()) == prefix;
}

// Statements of a round, split at ';' outside '...', "..." and `...`.
std::vector<std::string> splitStatements(std::string_view sql) {
  std::vector<std::string> out;
  std::string cur;
  char quote = 0;
  for (size_t i = 0; i < sql.size(); ++i) {
    char c = sql[i];
    if (quote != 0) {
      cur.push_back(c);
      if (c == '\\' && quote != '`' && i + 1 < sql.size()) {
        cur.push_back(sql[++i]);
      } else if (c == quote) {
        quote = 0;
      }
      continue;
    }
    if (c == '\'' || c == '"' || c == '`') quote = c;
    if (c == ';') {
      out.push_back(std::move(cur));
      cur.clear();
      continue;
    }
    cur.push_back(c);
  }
  out.push_back(std::move(cur));
  std::vector<std::string> trimmed;
  for (std::string& s : out) {
    size_t a = s.find_first_not_of(" \t\n");
    if (a == std::string::npos) continue;
    size_t b = s.find_last_not_of(" \t\n");
    trimmed.push_back(s.substr(a, b - a + 1));
  }
  return trimmed;
}

// The quoted string starting at s[*at] ('...' with backslash escapes); advances *at past it.
std::string readQuoted(std::string_view s, size_t* at) {
  std::string out;
  size_t i = *at + 1;
  while (i < s.size() && s[i] != '\'') {
    if (s[i] == '\\' && i + 1 < s.size()) ++i;
    out.push_back(s[i++]);
  }
  *at = i + 1;
  return out;
}

// The table an information_schema query names: TABLE_SCHEMA = '<db>' AND TABLE_NAME = '<table>'.
std::pair<std::string, std::string> namedTable(std::string_view sql) {
  auto value = [&](std::string_view column) {
    size_t at = sql.find(column);
    if (at == std::string_view::npos) return std::string();
    at = sql.find('\'', at);
    return at == std::string_view::npos ? std::string() : readQuoted(sql, &at);
  };
  return {value("TABLE_SCHEMA"), value("TABLE_NAME")};
}

// The value of X'hex' (optionally after a _charset introducer) or a bare number at s[*at].
std::string readLiteral(std::string_view s, size_t* at) {
  size_t i = *at;
  while (i < s.size() && (s[i] == ' ' || s[i] == ',' || s[i] == '(')) ++i;
  if (s[i] == '_') {
    while (i < s.size() && s[i] != ' ') ++i;
    ++i;
  }
  std::string out;
  if (s[i] == 'X' && i + 1 < s.size() && s[i + 1] == '\'') {
    i += 2;
    while (i + 1 < s.size() && s[i] != '\'') {
      out.push_back(static_cast<char>(std::stoi(std::string(s.substr(i, 2)), nullptr, 16)));
      i += 2;
    }
    ++i;
  } else {
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) out.push_back(s[i++]);
  }
  *at = i;
  return out;
}

// Every 'name' passed to fn( in s, e.g. the lock names of GET_LOCK('a', 1)+GET_LOCK('b', 1).
std::vector<std::string> callArguments(std::string_view s, std::string_view fn) {
  std::vector<std::string> out;
  size_t at = 0;
  while ((at = s.find(fn, at)) != std::string_view::npos) {
    at += fn.size();
    if (at < s.size() && s[at] == '\'') out.push_back(readQuoted(s, &at));
  }
  return out;
}

Status serverError(const std::string& stmt, unsigned err) {
  std::string msg =
      "fake destination: " + stmt.substr(0, 60) + " failed (error " + std::to_string(err) + ")";
  if (err == FakeDestination::kConnectionLost || err == 2006) return Status::Unavailable(msg);
  return Status::FailedPrecondition(msg);
}

}  // namespace

class FakeDestination::Session final : public DestinationSession {
 public:
  Session(std::shared_ptr<FakeDestination> dest, int id) : dest_(std::move(dest)), id_(id) {}
  ~Session() override { end(); }

  Status execute(std::string_view sql) override {
    for (const std::string& stmt : splitStatements(sql)) {
      mysql::QueryResult ignored;
      DTS_RETURN_IF_ERROR(run(stmt, &ignored));
    }
    last_errno_ = 0;
    return Status::OK();
  }
  Result<uint64_t> executeBulk(const std::string& sql,
                               const std::vector<mysql::BulkStatement::Param>& params,
                               const mysql::BulkRows& rows) override {
    if (!supportsBulk()) return Status::Unsupported("fake destination: no bulk statements");
    if (params.size() != rows.columns()) return Status::Internal("fake: parameters and columns");
    // "<sql> -- N rows: (1,'a'),(2,NULL)": the rows as a multi-row statement would show them.
    std::string text = sql + " -- " + std::to_string(rows.rows()) + " rows:";
    bool first = true;
    rows.forEachRow([&](const char* const* f, const unsigned long* len, unsigned n) {
      text += first ? " (" : ",(";
      first = false;
      for (unsigned i = 0; i < n; ++i) {
        if (i > 0) text.push_back(',');
        if (f[i] == nullptr) {
          text += "NULL";
        } else if (params[i] == mysql::BulkStatement::Param::kInt64 ||
                   params[i] == mysql::BulkStatement::Param::kUInt64) {
          uint64_t v = 0;
          std::memcpy(&v, f[i], std::min<size_t>(8, len[i]));
          text += params[i] == mysql::BulkStatement::Param::kInt64
                      ? std::to_string(static_cast<int64_t>(v))
                      : std::to_string(v);
        } else {
          text += "'" + std::string(f[i], len[i]) + "'";
        }
      }
      text.push_back(')');
    });
    mysql::QueryResult ignored;
    DTS_RETURN_IF_ERROR(run(text, &ignored));
    last_errno_ = 0;
    return rows.rows();
  }
  bool supportsBulk() override {
    std::lock_guard<std::mutex> lock(dest_->mu_);
    return dest_->bulk_;
  }
  mysql::ServerFlavor flavor() override {
    std::lock_guard<std::mutex> lock(dest_->mu_);
    return dest_->flavor_;
  }
  Result<mysql::QueryResult> query(std::string_view sql) override {
    mysql::QueryResult r;
    DTS_RETURN_IF_ERROR(run(std::string(sql), &r));
    last_errno_ = 0;
    return r;
  }
  unsigned lastErrorNumber() const override { return last_errno_; }
  Result<uint64_t> maxAllowedPacket() override {
    std::lock_guard<std::mutex> lock(dest_->mu_);
    return dest_->max_allowed_packet_;
  }
  std::string quoteString(std::string_view text) override {
    std::string out = "'";
    for (char c : text) {
      if (c == '\'' || c == '\\') out.push_back('\\');
      out.push_back(c);
    }
    out.push_back('\'');
    return out;
  }

 private:
  // Ends the session as the server would: what is open rolls back, its locks go.
  void end() {
    if (ended_) return;
    ended_ = true;
    std::lock_guard<std::mutex> lock(dest_->mu_);
    pending_.clear();
    --dest_->open_;
    for (auto it = dest_->locks_.begin(); it != dest_->locks_.end();) {
      it = it->second == id_ ? dest_->locks_.erase(it) : std::next(it);
    }
  }

  Status run(const std::string& stmt, mysql::QueryResult* result) {
    if (ended_) {
      last_errno_ = 2006;
      return serverError(stmt, 2006);
    }
    Hook hook;
    {
      std::lock_guard<std::mutex> lock(dest_->mu_);
      hook = dest_->hook_;
    }
    if (unsigned err = hook ? hook(id_, stmt) : 0; err != 0) {
      last_errno_ = err;
      if (err == kConnectionLost) {
        end();
      } else if (err == 1213) {
        pending_.clear();  // a deadlock rolls the whole transaction back
        in_txn_ = false;
      }
      return serverError(stmt, err);
    }
    std::lock_guard<std::mutex> lock(dest_->mu_);
    if (stmt == "START TRANSACTION" || stmt == "BEGIN") {
      pending_.clear();
      in_txn_ = true;
    } else if (stmt == "COMMIT") {
      for (std::string& s : pending_) applyLocked(std::move(s));
      pending_.clear();
      in_txn_ = false;
    } else if (stmt == "ROLLBACK") {
      pending_.clear();
      in_txn_ = false;
    } else if (startsWith(stmt, "SET ") || startsWith(stmt, "USE ") ||
               startsWith(stmt, "CREATE DATABASE IF NOT EXISTS") ||
               startsWith(stmt, "CREATE TABLE IF NOT EXISTS")) {
      // session set-up and the checkpoint schema
    } else if (startsWith(stmt, "DO ")) {
      for (const std::string& name : callArguments(stmt, "RELEASE_LOCK(")) {
        auto it = dest_->locks_.find(name);
        if (it != dest_->locks_.end() && it->second == id_) dest_->locks_.erase(it);
      }
    } else if (startsWith(stmt, "SELECT") && stmt.find("GET_LOCK(") != std::string::npos) {
      int got = 0;
      for (const std::string& name : callArguments(stmt, "GET_LOCK(")) {
        auto [it, fresh] = dest_->locks_.try_emplace(name, id_);
        if (fresh || it->second == id_) ++got;
      }
      result->rows.push_back({std::to_string(got)});
    } else if (startsWith(stmt, "SELECT slot, applied")) {
      size_t at = stmt.find("task=") + 5;
      std::string task = readLiteral(stmt, &at);
      for (const auto& [key, row] : dest_->checkpoint_) {
        if (key.first != task) continue;
        result->rows.push_back(
            {std::to_string(key.second), row.applied, row.position, row.pending_ddl});
      }
    } else if (startsWith(stmt, "SELECT INDEX_NAME")) {
      auto it = dest_->tables_.find(namedTable(stmt));
      if (it != dest_->tables_.end()) {
        for (const auto& k : it->second.keys)
          result->rows.push_back(
              {k.index, k.column, std::string(k.nullable ? "YES" : ""),
               k.sub_part == 0 ? std::nullopt : std::optional(std::to_string(k.sub_part))});
      }
    } else if (startsWith(stmt, "SELECT k.TABLE_SCHEMA")) {
      for (const auto& [name, table] : dest_->tables_) {
        for (const auto& r : table.referencing) {
          result->rows.push_back({r[0], r[1], r[3], r[4], name.first, name.second, r[5]});
        }
      }
    } else if (startsWith(stmt, "SELECT COUNT(*) FROM")) {
      dest_->reads_.push_back(Committed{id_, stmt});  // a read ahead (RowPrefetcher)
      result->rows.push_back({std::string("0")});
    } else if (startsWith(stmt, "SELECT COLUMN_NAME, EXTRA")) {
      auto it = dest_->tables_.find(namedTable(stmt));
      if (it != dest_->tables_.end()) {
        for (const auto& c : it->second.generated)
          result->rows.push_back({c, std::string("VIRTUAL GENERATED")});
      }
    } else if (in_txn_) {
      pending_.push_back(stmt);
    } else {
      applyLocked(stmt);
    }
    return Status::OK();
  }

  // REQUIRES: dest_->mu_ held.
  void applyLocked(std::string stmt) {
    if (stmt.find("`checkpoint` (task, slot,") != std::string::npos) {
      size_t at = stmt.find("VALUES (") + 7;
      std::string task = readLiteral(stmt, &at);
      int slot = std::stoi(readLiteral(stmt, &at));
      CheckpointRow& row = dest_->checkpoint_[{task, slot}];
      row.applied = readLiteral(stmt, &at);
      row.position = readLiteral(stmt, &at);
      row.pending_ddl = readLiteral(stmt, &at);
      return;
    }
    dest_->committed_.push_back(Committed{id_, std::move(stmt)});
  }

  std::shared_ptr<FakeDestination> dest_;
  int id_;
  bool ended_ = false;
  bool in_txn_ = false;
  std::vector<std::string> pending_;
  unsigned last_errno_ = 0;
};

SessionFactory FakeDestination::factory() {
  std::weak_ptr<FakeDestination> weak = shared_from_this();
  return [weak]() -> Result<std::unique_ptr<DestinationSession>> {
    auto dest = weak.lock();
    if (dest == nullptr) return Status::Unavailable("fake destination is gone");
    int id;
    {
      std::lock_guard<std::mutex> lock(dest->mu_);
      if (dest->unreachable_) return Status::Unavailable("fake destination: connection refused");
      id = dest->opened_++;
      ++dest->open_;
    }
    return std::unique_ptr<DestinationSession>(new Session(dest, id));
  };
}

void FakeDestination::setHook(Hook hook) {
  std::lock_guard<std::mutex> lock(mu_);
  hook_ = std::move(hook);
}

void FakeDestination::setBulk(bool supported) {
  std::lock_guard<std::mutex> lock(mu_);
  bulk_ = supported;
}

void FakeDestination::setFlavor(mysql::ServerFlavor flavor) {
  std::lock_guard<std::mutex> lock(mu_);
  flavor_ = flavor;
}

void FakeDestination::setMaxAllowedPacket(uint64_t bytes) {
  std::lock_guard<std::mutex> lock(mu_);
  max_allowed_packet_ = bytes;
}

void FakeDestination::addKey(const std::string& db, const std::string& table,
                             const std::string& index, const std::vector<std::string>& columns,
                             bool nullable, uint32_t sub_part) {
  std::lock_guard<std::mutex> lock(mu_);
  auto& keys = tables_[{db, table}].keys;
  for (const std::string& c : columns) keys.push_back({index, c, nullable, sub_part});
  // As the applier's query orders them: PRIMARY first, then by index name (stable within one).
  std::stable_sort(keys.begin(), keys.end(), [](const Table::Key& a, const Table::Key& b) {
    if ((a.index == "PRIMARY") != (b.index == "PRIMARY")) return a.index == "PRIMARY";
    return a.index < b.index;
  });
}

void FakeDestination::addGenerated(const std::string& db, const std::string& table,
                                   const std::string& column) {
  std::lock_guard<std::mutex> lock(mu_);
  tables_[{db, table}].generated.push_back(column);
}

void FakeDestination::addReferencing(const std::string& db, const std::string& table,
                                     const std::string& child_db, const std::string& child,
                                     const std::string& constraint, const std::string& on_delete,
                                     const std::string& on_update, const std::string& column) {
  std::lock_guard<std::mutex> lock(mu_);
  tables_[{db, table}].referencing.push_back(
      {child_db, child, constraint, on_delete, on_update, column});
}

void FakeDestination::setUnreachable(bool unreachable) {
  std::lock_guard<std::mutex> lock(mu_);
  unreachable_ = unreachable;
}

std::vector<FakeDestination::Committed> FakeDestination::committed() const {
  std::lock_guard<std::mutex> lock(mu_);
  return committed_;
}

std::vector<FakeDestination::Committed> FakeDestination::reads() const {
  std::lock_guard<std::mutex> lock(mu_);
  return reads_;
}

std::vector<std::string> FakeDestination::committedMatching(const std::string& needle) const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::string> out;
  for (const Committed& c : committed_) {
    if (c.sql.find(needle) != std::string::npos) out.push_back(c.sql);
  }
  return out;
}

std::map<int, FakeDestination::CheckpointRow> FakeDestination::checkpoint(
    const std::string& task) const {
  std::lock_guard<std::mutex> lock(mu_);
  std::map<int, CheckpointRow> out;
  for (const auto& [key, row] : checkpoint_) {
    if (key.first == task) out[key.second] = row;
  }
  return out;
}

int FakeDestination::sessionsOpened() const {
  std::lock_guard<std::mutex> lock(mu_);
  return opened_;
}

int FakeDestination::sessionsOpen() const {
  std::lock_guard<std::mutex> lock(mu_);
  return open_;
}

}  // namespace dts::sink::testing
