#include "pipeline/transaction_builder.h"

#include <spdlog/spdlog.h>

#include <cctype>

#include "common/strings.h"
#include "mysql/connection.h"
#include "mysql/row_decoder.h"
#include "mysql/sql_mode.h"
#include "pipeline/statement_dml.h"

namespace dts::pipeline {
namespace {

bool globMatch(std::string_view pat, std::string_view s) {
  // Iterative '*' glob with backtracking to the last star.
  size_t p = 0, i = 0, star = std::string_view::npos, mark = 0;
  while (i < s.size()) {
    if (p < pat.size() && pat[p] == '*') {
      star = p++;
      mark = i;
    } else if (p < pat.size() && pat[p] == s[i]) {
      ++p;
      ++i;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      i = ++mark;
    } else {
      return false;
    }
  }
  while (p < pat.size() && pat[p] == '*') ++p;
  return p == pat.size();
}

// The text after a statement's leading XA keyword, trimmed. REQUIRES: it starts with XA.
std::string_view afterXa(std::string_view sql) {
  return trimLeft(trimLeft(sql).substr(2));
}

bool startsWithXaStart(std::string_view sql) {
  if (!startsWithWord(trimLeft(sql), "XA")) return false;
  sql = afterXa(sql);
  return startsWithWord(sql, "START") || startsWithWord(sql, "BEGIN");
}

// MySQL 8.0.21+ logs CREATE TABLE ... SELECT in ROW format as "CREATE TABLE t (...) START
// TRANSACTION", followed in the same group by the rows and an XID.
// https://dev.mysql.com/doc/refman/8.0/en/create-table-select.html
bool createStartsTransaction(std::string_view sql) {
  sql = trimLeft(sql);
  while (!sql.empty() && (isAsciiSpace(sql.back()) || sql.back() == ';')) sql.remove_suffix(1);
  if (!startsWithWord(sql, "CREATE")) return false;
  auto endsWithWord = [&](std::string_view word) {
    if (sql.size() < word.size()) return false;
    std::string_view tail = sql.substr(sql.size() - word.size());
    for (size_t i = 0; i < word.size(); ++i) {
      if (std::toupper(static_cast<unsigned char>(tail[i])) != word[i]) return false;
    }
    if (sql.size() > word.size() && !isAsciiSpace(sql[sql.size() - word.size() - 1])) return false;
    sql.remove_suffix(word.size());
    while (!sql.empty() && isAsciiSpace(sql.back())) sql.remove_suffix(1);
    return true;
  };
  return endsWithWord("TRANSACTION") && endsWithWord("START");
}

}  // namespace

Result<TableFilter> TableFilter::parse(std::string_view spec) {
  // Items "db", "db.table" (globs * and ?), separated by commas; a name holding '.', ',' or a
  // space goes in backticks, a backtick in it doubled (`we.ird`.*).
  TableFilter f;
  size_t i = 0;
  auto bad = [&](const std::string& why) {
    return Status::InvalidArgument("table pattern list '" + std::string(spec) + "': " + why);
  };
  auto skipSpaces = [&] {
    while (i < spec.size() && spec[i] == ' ') ++i;
  };
  // One name at i: backticked, or up to the next '.', ',' (trailing spaces cut).
  auto name = [&](std::string* out) -> Status {
    out->clear();
    if (i < spec.size() && spec[i] == '`') {
      for (++i;; ++i) {
        if (i >= spec.size()) return bad("a name's closing backtick is missing");
        if (spec[i] == '`') {
          if (i + 1 < spec.size() && spec[i + 1] == '`') {
            out->push_back('`');
            ++i;
            continue;
          }
          ++i;
          break;
        }
        out->push_back(spec[i]);
      }
      if (out->empty()) return bad("an empty name");
      return Status::OK();
    }
    while (i < spec.size() && spec[i] != '.' && spec[i] != ',') out->push_back(spec[i++]);
    while (!out->empty() && out->back() == ' ') out->pop_back();
    if (out->empty()) return bad("an empty name");
    return Status::OK();
  };
  while (true) {
    skipSpaces();
    Pattern p;
    DTS_RETURN_IF_ERROR(name(&p.db));
    skipSpaces();
    if (i < spec.size() && spec[i] == '.') {
      ++i;
      DTS_RETURN_IF_ERROR(name(&p.table));
      skipSpaces();
    } else {
      p.table.push_back('*');  // not = "*": GCC 12 reports a false -Wrestrict at -O3
    }
    if (i < spec.size() && spec[i] != ',')
      return bad("'" + std::string(spec.substr(i, 20)) +
                 "' follows a db.table pattern (a name holding '.' goes in backticks: "
                 "`we.ird`.*)");
    f.patterns_.push_back(std::move(p));
    if (i >= spec.size()) break;
    ++i;  // the comma
  }
  return f;
}

bool TableFilter::selectsTable(std::string_view db, std::string_view table) const {
  if (patterns_.empty()) return true;
  for (const auto& p : patterns_)
    if (globMatch(p.db, db) && globMatch(p.table, table)) return true;
  return false;
}

bool TableFilter::selectsDatabase(std::string_view db) const {
  if (patterns_.empty()) return true;
  for (const auto& p : patterns_)
    if (globMatch(p.db, db)) return true;
  return false;
}

Status TransactionBuilder::refuseStatementDml(const mysql::BinlogEvent& event,
                                              const mysql::QueryEvent& q) const {
  auto dml = statementDml(q.sql, q.database, mysql::lexerOptionsForSqlMode(q.sql_mode.value_or(0)));
  if (!dml.has_value()) return Status::OK();
  const TableSelector* tables = options_.tables.get();
  std::string which;  // the moved table it writes, or why it may
  if (dml->unknown_targets) {
    if (tables == nullptr || tables->selectsDatabase(q.database)) {
      which = "tables its text does not name (its default database `" + q.database + "` is moved)";
    }
  } else {
    for (const auto& [db, table] : dml->targets) {
      if (tables == nullptr || tables->selectsTable(db, table)) {
        which = mysql::quoteQualified(db, table);
        break;
      }
    }
    // A table it does not move may write one it does: a view over it, a trigger on it.
    for (size_t i = 0; which.empty() && options_.writes_through && i < dml->targets.size(); ++i) {
      const auto& [db, table] = dml->targets[i];
      auto through = options_.writes_through(db, table);
      if (!through.ok())
        return through.status().withContext(
            "asking the source about " + mysql::quoteQualified(db, table) +
            ", which a statement logged at " + event.position.file + ":" +
            std::to_string(event.position.offset) + " writes");
      if (!through->empty()) which = mysql::quoteQualified(db, table) + " (" + *through + ")";
    }
  }
  if (which.empty()) return Status::OK();
  const std::string text = excerpt(q.sql);
  const std::string gtid =
      current_.gtid.empty() ? std::string() : " (transaction " + current_.gtid + ")";
  return Status::Unsupported(
      "the source logged a change of " + which + " as an SQL statement, not as rows, at " +
      event.position.file + ":" + std::to_string(event.position.offset) + gtid + ": " + text +
      ". The session that ran it had binlog_format=STATEMENT or MIXED (or a secondary node "
      "replicates such a primary); dts applies and records row events only, so every session "
      "that writes the tables the task moves needs binlog_format=ROW" +
      (current_.gtid.empty()
           ? std::string()
           : ". To go past it: make the change at the destination by hand (a tracking task's "
             "consumers get no record of it), then add " +
                 current_.gtid + " to options.skip_gtids and start the task again"));
}

QueryKind classifyQuery(std::string_view sql) {
  sql = trimLeft(sql);
  while (!sql.empty() && (isAsciiSpace(sql.back()) || sql.back() == ';')) sql.remove_suffix(1);
  if (startsWithWord(sql, "BEGIN") || startsWithWord(sql, "START TRANSACTION"))
    return QueryKind::kBegin;
  if (startsWithWord(sql, "COMMIT")) return QueryKind::kCommit;
  if (startsWithWord(sql, "ROLLBACK")) {
    std::string_view rest = trimLeft(sql.substr(8));
    return startsWithWord(rest, "TO") ? QueryKind::kSavepoint : QueryKind::kRollback;
  }
  if (startsWithWord(sql, "XA")) return QueryKind::kXa;
  if (startsWithWord(sql, "SAVEPOINT") || startsWithWord(sql, "RELEASE SAVEPOINT"))
    return QueryKind::kSavepoint;
  return QueryKind::kOther;
}

namespace {

void appendHex(std::string_view bytes, std::string* out) {
  static const char kHex[] = "0123456789abcdef";
  for (unsigned char c : bytes) {
    out->push_back(kHex[c >> 4]);
    out->push_back(kHex[c & 15]);
  }
}

// One string of an xid at text[*at]: 'text' (quotes doubled or backslash-escaped), X'hex' or
// 0xhex. Its bytes, or nullopt.
std::optional<std::string> xidPart(std::string_view text, size_t* at) {
  size_t i = *at;
  while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
  auto hexValue = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  auto hexRun = [&](size_t from, size_t to) -> std::optional<std::string> {
    if ((to - from) % 2 != 0) return std::nullopt;
    std::string out;
    for (size_t k = from; k < to; k += 2) {
      int hi = hexValue(text[k]), lo = hexValue(text[k + 1]);
      if (hi < 0 || lo < 0) return std::nullopt;
      out.push_back(static_cast<char>(hi * 16 + lo));
    }
    return out;
  };
  if (i + 1 < text.size() && (text[i] == 'X' || text[i] == 'x') && text[i + 1] == '\'') {
    size_t end = text.find('\'', i + 2);
    if (end == std::string_view::npos) return std::nullopt;
    auto bytes = hexRun(i + 2, end);
    *at = end + 1;
    return bytes;
  }
  if (i + 1 < text.size() && text[i] == '0' && (text[i + 1] == 'x' || text[i + 1] == 'X')) {
    size_t end = i + 2;
    while (end < text.size() && hexValue(text[end]) >= 0) ++end;
    auto bytes = hexRun(i + 2, end);
    *at = end;
    return bytes;
  }
  if (i < text.size() && (text[i] == '\'' || text[i] == '"')) {
    const char quote = text[i];
    std::string out;
    for (size_t k = i + 1; k < text.size(); ++k) {
      if (text[k] == '\\' && k + 1 < text.size()) {
        out.push_back(text[++k]);
      } else if (text[k] == quote) {
        if (k + 1 < text.size() && text[k + 1] == quote) {
          out.push_back(quote);
          ++k;
        } else {
          *at = k + 1;
          return out;
        }
      } else {
        out.push_back(text[k]);
      }
    }
  }
  return std::nullopt;
}

}  // namespace

std::string normalXaId(std::string_view gtrid, std::string_view bqual, uint32_t format_id) {
  std::string out = "X'";
  appendHex(gtrid, &out);
  out += "',X'";
  appendHex(bqual, &out);
  out += "'," + std::to_string(format_id);
  return out;
}

std::string normalXaId(std::string_view text) {
  size_t at = 0;
  auto gtrid = xidPart(text, &at);
  if (!gtrid) return "";
  std::string bqual;
  uint64_t format_id = 1;
  auto comma = [&]() {
    size_t i = at;
    while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
    if (i < text.size() && text[i] == ',') {
      at = i + 1;
      return true;
    }
    return false;
  };
  if (comma()) {
    auto b = xidPart(text, &at);
    if (!b) return "";
    bqual = *b;
    if (comma()) {
      while (at < text.size() && std::isspace(static_cast<unsigned char>(text[at]))) ++at;
      size_t start = at;
      while (at < text.size() && std::isdigit(static_cast<unsigned char>(text[at]))) ++at;
      if (at == start || at - start > 10) return "";
      format_id = std::stoull(std::string(text.substr(start, at - start)));
      if (format_id > 0xffffffffull) return "";
    }
  }
  // What may follow (JOIN, RESUME, ONE PHASE) does not name the transaction.
  return normalXaId(*gtrid, bqual, static_cast<uint32_t>(format_id));
}

void TransactionBuilder::open(const mysql::BinlogEvent& event, std::string gtid) {
  open_ = true;
  explicit_begin_ = false;
  ends_at_commit_ = false;
  closed_gtid_.clear();
  commit_ts_us_ = 0;
  piece_bytes_ = 0;
  current_ = Transaction();
  skipping_ = !gtid.empty() && options_.skip_gtids.count(gtid) != 0;
  current_.gtid = std::move(gtid);
  current_.begin = event.position;
}

void TransactionBuilder::cutPiece(std::vector<Transaction>* done) {
  Transaction next;
  next.gtid = current_.gtid;
  next.begin = current_.begin;
  next.first_piece = false;
  next.xa = current_.xa;
  next.xa_id = current_.xa_id;
  current_.last_piece = false;
  done->push_back(std::move(current_));
  current_ = std::move(next);
  piece_bytes_ = 0;
}

void TransactionBuilder::finish(const mysql::BinlogEvent& event, std::vector<Transaction>* done) {
  if (skipping_) {
    spdlog::warn(
        "transaction {} at {}:{}: {} row event(s) and statement(s) of moved tables left out, as "
        "options.skip_gtids asks",
        current_.gtid, current_.begin.file, current_.begin.offset, skipped_);
    current_.skipped_changes = skipped_;
    skipping_ = false;
    skipped_ = 0;
  }
  current_.end = mysql::BinlogPosition{event.position.file, event.end_offset};
  current_.timestamp =
      commit_ts_us_ != 0 ? static_cast<uint32_t>(commit_ts_us_ / 1000000) : event.header.timestamp;
  current_.commit_us = commit_ts_us_;
  current_.last_piece = true;
  closed_gtid_ = current_.gtid;
  closed_at_ = current_.begin;
  done->push_back(std::move(current_));
  current_ = Transaction();
  piece_bytes_ = 0;
  open_ = false;
  explicit_begin_ = false;
  ends_at_commit_ = false;
  commit_ts_us_ = 0;
}

Status TransactionBuilder::addRows(const mysql::BinlogEvent& event, const mysql::RowsEvent& rows,
                                   std::vector<Transaction>* done) {
  const mysql::TableDecoder& decoder = *rows.data.decoder;
  const mysql::TableInfo& table = decoder.table();
  if (options_.tables != nullptr && !options_.tables->selectsTable(table.database, table.table))
    return Status::OK();
  if (skipping_) {
    ++skipped_;
    return Status::OK();
  }
  ChangeEvent::Op op = rows.data.kind == mysql::RowsKind::kInsert   ? ChangeEvent::Op::kInsert
                       : rows.data.kind == mysql::RowsKind::kUpdate ? ChangeEvent::Op::kUpdate
                                                                    : ChangeEvent::Op::kDelete;
  mysql::RowsReader reader(rows.data, event.position);
  const size_t max_rows = options_.max_piece_rows;
  const size_t max_bytes = options_.max_piece_bytes;
  uint32_t row_in_event = 0;
  // Rows_log_event flags (MySQL and MariaDB): bit 1 is NO_FOREIGN_KEY_CHECKS_F.
  const bool foreign_key_checks = (rows.data.flags & 0x0002) == 0;
  while (!reader.done()) {
    // Cut before this row when the piece is full, so a transaction that fits travels whole.
    if (!current_.events.empty() && ((max_rows != 0 && current_.events.size() >= max_rows) ||
                                     (max_bytes != 0 && piece_bytes_ >= max_bytes))) {
      cutPiece(done);
    }
    ChangeEvent& ce = current_.events.emplace_back();
    ce.op = op;
    ce.database = table.database;
    ce.table = table.table;
    ce.table_info = decoder.tableInfo();
    ce.position = event.position;
    ce.row_in_event = row_in_event++;
    ce.server_id = event.header.server_id;
    ce.foreign_key_checks = foreign_key_checks;
    Status s = reader.next(&ce.before, &ce.after);
    if (!s.ok()) {
      current_.events.pop_back();
      return s;
    }
    measureRow(&ce);  // once: every later stage reads the sizes from the event
    piece_bytes_ += ce.memory_bytes;
    ++rows_decoded_;
  }
  return Status::OK();
}

Status TransactionBuilder::openImplicitly(const mysql::BinlogEvent& event, std::string_view what) {
  if (!closed_gtid_.empty()) {
    // Applied as a transaction of their own they would have no GTID, and the group's GTID in a
    // checkpoint would skip them on a restart: stop before either.
    return Status::Unsupported(
        std::string(what) + " at " + event.position.file + ":" +
        std::to_string(event.position.offset) + " comes after transaction " + closed_gtid_ +
        " (at " + closed_at_.file + ":" + std::to_string(closed_at_.offset) +
        ") ended and before the next GTID: dts does not know which transaction it belongs to "
        "(a binlog event group of a shape dts does not read)");
  }
  open(event, {});
  return Status::OK();
}

Status TransactionBuilder::add(const mysql::BinlogEvent& event, std::vector<Transaction>* done) {
  auto startGtid = [&](std::string gtid) -> Status {
    if (open_)
      return Status::Corruption(
          "transaction " + (current_.gtid.empty() ? std::string("(no GTID)") : current_.gtid) +
          " begun at " + current_.begin.file + ":" + std::to_string(current_.begin.offset) +
          " has no commit before the GTID at " + event.position.file + ":" +
          std::to_string(event.position.offset));
    open(event, std::move(gtid));
    return Status::OK();
  };

  if (const auto* g = event.as<mysql::MariaGtidEvent>()) {
    DTS_RETURN_IF_ERROR(startGtid(g->gtid()));
    // Not standalone: the group ends with an XID or COMMIT, whatever DDL it starts with. (An XA
    // COMMIT / ROLLBACK group is not standalone either and ends with its XA statement.)
    ends_at_commit_ = (g->flags & mysql::MariaGtidEvent::kFlStandalone) == 0;
    if (g->flags & mysql::MariaGtidEvent::kFlPreparedXa) {
      // MariaDB writes no XA START query: the GTID says the group is an XA transaction that ends
      // with XA END and XA_PREPARE.
      explicit_begin_ = true;
      current_.xa = Transaction::Xa::kPrepare;
      current_.xa_id = normalXaId(g->xa_gtrid, g->xa_bqual, g->xa_format_id);
    }
    return Status::OK();
  }
  if (const auto* g = event.as<mysql::MySqlGtidEvent>()) {
    DTS_RETURN_IF_ERROR(startGtid(g->gtid()));
    commit_ts_us_ = g->immediate_commit_us;
    return Status::OK();
  }
  if (const auto* q = event.as<mysql::QueryEvent>()) {
    std::shared_ptr<const mysql::TableInfo> definition = std::move(next_ddl_definition_);
    next_ddl_definition_.reset();
    switch (classifyQuery(q->sql)) {
      case QueryKind::kBegin:
        if (!open_) open(event, {});  // no GTID before BEGIN: a source without GTIDs
        explicit_begin_ = true;
        return Status::OK();
      case QueryKind::kCommit:
      case QueryKind::kRollback:
        if (!open_) DTS_RETURN_IF_ERROR(openImplicitly(event, "COMMIT or ROLLBACK"));
        current_.xa = Transaction::Xa::kNone;
        finish(event, done);
        return Status::OK();
      case QueryKind::kXa:
        // XA START opens like BEGIN; XA END/PREPARE are inside; XA COMMIT/ROLLBACK of a prepared
        // transaction come as their own (standalone) GTID group.
        if (startsWithXaStart(q->sql)) {
          if (!open_) open(event, {});
          explicit_begin_ = true;
          // Prepared until its group ends otherwise (XID, ONE PHASE): every piece says so.
          current_.xa = Transaction::Xa::kPrepare;
          current_.xa_id = normalXaId(afterXa(q->sql).substr(5));  // after START/BEGIN
        } else if (open_ && !explicit_begin_) {
          // The decision on a prepared XA transaction, in a group of its own.
          std::string_view sql = afterXa(q->sql);
          Transaction::Xa kind = startsWithWord(sql, "COMMIT")     ? Transaction::Xa::kCommit
                                 : startsWithWord(sql, "ROLLBACK") ? Transaction::Xa::kRollback
                                                                   : Transaction::Xa::kNone;
          if (kind != Transaction::Xa::kNone) {
            sql.remove_prefix(kind == Transaction::Xa::kCommit ? 6 : 8);
            current_.xa = kind;
            current_.xa_id = normalXaId(sql);
            if (current_.xa_id.empty()) {
              return Status::Corruption("XA statement at " + event.position.file + ":" +
                                        std::to_string(event.position.offset) +
                                        " names no XA transaction id: " + q->sql);
            }
          }
          finish(event, done);
        }
        return Status::OK();
      case QueryKind::kSavepoint: return Status::OK();
      case QueryKind::kOther: break;
    }
    if (skipping_ &&
        statementDml(q->sql, q->database, mysql::lexerOptionsForSqlMode(q->sql_mode.value_or(0)))
            .has_value()) {
      ++skipped_;  // a data change logged as a statement, in a transaction the task skips
      if (!explicit_begin_ && !ends_at_commit_) finish(event, done);
      return Status::OK();
    }
    if (options_.refuse_statement_dml) DTS_RETURN_IF_ERROR(refuseStatementDml(event, *q));
    if (!open_) open(event, {});  // a statement of its own (MySQL 5.5)
    if (q->flavor == mysql::ServerFlavor::kMySql && createStartsTransaction(q->sql))
      ends_at_commit_ = true;
    if (options_.keep_all_ddl || options_.tables == nullptr ||
        options_.tables->selectsDatabase(q->database)) {
      ChangeEvent& ce = current_.events.emplace_back();
      ce.op = ChangeEvent::Op::kDdl;
      ce.database = q->database;
      ce.sql = q->sql;
      auto session = std::make_shared<DdlSession>();
      session->start_us = static_cast<int64_t>(event.header.timestamp) * 1000000 + q->start_usec;
      session->time_zone = q->time_zone;
      session->sql_mode = q->sql_mode;
      session->flavor = q->flavor;
      session->server_version = q->server_version;
      session->explicit_defaults_for_timestamp = q->explicit_defaults_for_timestamp;
      session->collation_server = q->server_collation;
      ce.ddl_session = std::move(session);
      ce.table_info = std::move(definition);
      ce.position = event.position;
      ce.server_id = event.header.server_id;
    }
    if (!explicit_begin_ && !ends_at_commit_) finish(event, done);
    return Status::OK();
  }
  if (const auto* x = event.as<mysql::XidEvent>()) {
    if (!open_) DTS_RETURN_IF_ERROR(openImplicitly(event, "an XID event"));
    current_.xid = x->xid;
    current_.xa = Transaction::Xa::kNone;  // committed by this XID (an XA ... ONE PHASE too)
    finish(event, done);
    return Status::OK();
  }
  if (const auto* x = event.as<mysql::XaPrepareEvent>()) {
    if (!open_) DTS_RETURN_IF_ERROR(openImplicitly(event, "an XA PREPARE event"));
    // XA COMMIT ... ONE PHASE commits the group itself.
    current_.xa = x->one_phase ? Transaction::Xa::kNone : Transaction::Xa::kPrepare;
    current_.xa_id = normalXaId(x->gtrid, x->bqual, x->format_id);
    finish(event, done);
    return Status::OK();
  }
  if (const auto* rows = event.as<mysql::RowsEvent>()) {
    if (!open_) {
      const mysql::TableInfo& t = rows->data.decoder->table();
      DTS_RETURN_IF_ERROR(
          openImplicitly(event, "a row event of " + mysql::quoteQualified(t.database, t.table)));
    }
    return addRows(event, *rows, done);
  }
  return Status::OK();
}

}  // namespace dts::pipeline
