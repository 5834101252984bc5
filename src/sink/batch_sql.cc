#include "sink/batch_sql.h"

#include "mysql/connection.h"
#include "sink/sql_literal.h"

namespace dts::sink {

using pipeline::ChangeEvent;

namespace {

bool allPresent(const mysql::RowImage& row, size_t columns) {
  if (row.values.size() < columns) return false;
  if (row.present.empty()) return true;
  if (row.present.size() < columns) return false;
  for (size_t i = 0; i < columns; ++i) {
    if (!row.present[i]) return false;
  }
  return true;
}

}  // namespace

std::string columnList(const mysql::TableInfo& info) {
  std::string out;
  for (size_t i = 0; i < info.columns.size(); ++i) {
    if (i > 0) out.push_back(',');
    out += mysql::quoteIdentifier(info.columns[i].name);
  }
  return out;
}

Status BatchSql::appendRow(std::string* out, const mysql::TableInfo& info,
                           const mysql::RowImage& row, bool* lenient) {
  out->push_back('(');
  for (size_t i = 0; i < info.columns.size(); ++i) {
    if (i > 0) out->push_back(',');
    DTS_RETURN_IF_ERROR(appendSqlLiteral(out, row.values[i], info.columns[i]));
    if (row.has(i) && isEnumErrorValue(row.values[i])) *lenient = true;
  }
  out->push_back(')');
  return Status::OK();
}

Result<std::string> BatchSql::keySql(const mysql::TableInfo& info,
                                     const std::vector<size_t>& identity,
                                     const mysql::RowImage& row, const char* image) const {
  std::string out = "(";
  for (size_t n = 0; n < identity.size(); ++n) {
    size_t i = identity[n];
    if (i >= info.columns.size() || !row.has(i)) {
      return Status::InvalidArgument(
          "table " + mysql::quoteQualified(info.database, info.table) + ": the " + image +
          " image lacks key column " +
          (i < info.columns.size() ? "'" + info.columns[i].name + "'" : std::to_string(i)));
    }
    if (n > 0) out.push_back(',');
    DTS_RETURN_IF_ERROR(appendSqlLiteral(&out, row.values[i], info.columns[i]));
  }
  out.push_back(')');
  return out;
}

void BatchSql::endOpenInsert() {
  if (!open_insert_.empty()) out_.push_back(std::move(open_insert_));
  open_insert_.clear();
  open_insert_head_.clear();
}

void BatchSql::emitLenient(std::string statement) {
  endOpenInsert();
  out_.push_back(setSqlModeSql(lenientSqlMode()));
  out_.push_back(std::move(statement));
  out_.push_back(setSqlModeSql(strictSqlMode()));
}

void BatchSql::emitInsert(const std::string& verb, const std::string& table_sql,
                          const mysql::TableInfo& info, std::string values_row, bool lenient) {
  std::string head = verb + " INTO " + table_sql + " (" + columnList(info) + ") VALUES ";
  if (lenient) {
    emitLenient(head + values_row);
    return;
  }
  if (open_insert_head_ != head || open_insert_.size() + values_row.size() > max_bytes_) {
    endOpenInsert();
    open_insert_head_ = head;
    open_insert_ = std::move(head);
  } else {
    open_insert_.push_back(',');
  }
  open_insert_ += values_row;
}

Status BatchSql::flushTable(const std::string& table_sql) {
  auto it = pending_.find(table_sql);
  if (it == pending_.end() || it->second.entries.empty()) return Status::OK();
  endOpenInsert();
  Pending& p = it->second;
  // Rows that end deleted (or whose key went away), in one or more DELETE ... IN.
  std::string del;
  std::string del_head;
  {
    const mysql::TableInfo& info = *p.entries.front().info;
    std::string cols;
    for (size_t n = 0; n < p.identity.size(); ++n) {
      if (n > 0) cols.push_back(',');
      cols += mysql::quoteIdentifier(info.columns[p.identity[n]].name);
    }
    del_head = "DELETE FROM " + table_sql + " WHERE (" + cols + ") IN (";
  }
  for (const Entry& e : p.entries) {
    if (e.present) continue;
    if (!del.empty() && del.size() + e.key_sql.size() > max_bytes_) {
      out_.push_back(del + ")");
      del.clear();
    }
    if (del.empty()) {
      del = del_head;
    } else {
      del.push_back(',');
    }
    del += e.key_sql;
  }
  if (!del.empty()) out_.push_back(del + ")");
  for (const Entry& e : p.entries) {
    if (!e.present) continue;
    emitInsert("REPLACE", table_sql, *e.info, e.row_sql, e.lenient);
  }
  endOpenInsert();
  pending_.erase(it);
  return Status::OK();
}

Status BatchSql::flushAll() {
  for (const std::string& t : pending_order_) DTS_RETURN_IF_ERROR(flushTable(t));
  pending_order_.clear();
  return Status::OK();
}

Status BatchSql::add(const ChangeEvent& ev, const TableKeys& keys) {
  if (ev.op == ChangeEvent::Op::kDdl) return Status::Internal("BatchSql::add given a DDL event");
  if (ev.table_info == nullptr) {
    return Status::InvalidArgument("row event for " + mysql::quoteQualified(ev.database, ev.table) +
                                   " has no table info");
  }
  const mysql::TableInfo& info = *ev.table_info;
  const size_t ncols = info.columns.size();
  std::string table_sql = mysql::quoteQualified(ev.database, ev.table);
  ++rows_;

  bool full_after = ev.op != ChangeEvent::Op::kDelete && allPresent(ev.after, ncols);
  bool compactable = keys.byte_comparable && !keys.identity.empty() &&
                     (ev.op == ChangeEvent::Op::kDelete || full_after);
  if (!compactable) {
    DTS_RETURN_IF_ERROR(flushTable(table_sql));
    return emitDirect(ev, table_sql, keys);
  }
  auto [pit, inserted] = pending_.try_emplace(table_sql);
  Pending& p = pit->second;
  if (inserted) {
    p.table_sql = table_sql;
    p.identity = keys.identity;
    pending_order_.push_back(table_sql);
  } else if (p.identity != keys.identity) {
    DTS_RETURN_IF_ERROR(flushTable(table_sql));
    return add(ev, keys);
  }
  auto setState = [&](std::string key, bool present, const mysql::RowImage* row) -> Status {
    std::string row_sql;
    bool lenient = false;
    if (row != nullptr) DTS_RETURN_IF_ERROR(appendRow(&row_sql, info, *row, &lenient));
    auto [it, fresh] = p.index.try_emplace(key, p.entries.size());
    if (fresh) {
      p.entries.push_back(
          Entry{ev.table_info, std::move(key), present, std::move(row_sql), lenient});
    } else {
      Entry& e = p.entries[it->second];
      e.info = ev.table_info;
      e.present = present;
      e.row_sql = std::move(row_sql);
      e.lenient = lenient;
    }
    return Status::OK();
  };
  if (ev.op == ChangeEvent::Op::kInsert) {
    DTS_ASSIGN_OR_RETURN(std::string k, keySql(info, keys.identity, ev.after, "after"));
    return setState(std::move(k), true, &ev.after);
  } else if (ev.op == ChangeEvent::Op::kDelete) {
    DTS_ASSIGN_OR_RETURN(std::string k, keySql(info, keys.identity, ev.before, "before"));
    return setState(std::move(k), false, nullptr);
  } else {
    DTS_ASSIGN_OR_RETURN(std::string kb, keySql(info, keys.identity, ev.before, "before"));
    DTS_ASSIGN_OR_RETURN(std::string ka, keySql(info, keys.identity, ev.after, "after"));
    if (kb != ka) DTS_RETURN_IF_ERROR(setState(std::move(kb), false, nullptr));
    return setState(std::move(ka), true, &ev.after);
  }
}

Status BatchSql::emitDirect(const ChangeEvent& ev, const std::string& table_sql,
                            const TableKeys& keys) {
  const mysql::TableInfo& info = *ev.table_info;
  const size_t ncols = info.columns.size();
  bool keyed = !keys.identity.empty();
  if (ev.op == ChangeEvent::Op::kInsert) {
    if (!allPresent(ev.after, ncols)) {
      return Status::InvalidArgument("insert into " + table_sql + " has a partial row image");
    }
    std::string row;
    bool lenient = false;
    DTS_RETURN_IF_ERROR(appendRow(&row, info, ev.after, &lenient));
    emitInsert(keyed ? "REPLACE" : "INSERT", table_sql, info, std::move(row), lenient);
    return Status::OK();
  }
  endOpenInsert();
  // WHERE clause: identity = before, or every present before column <=> value.
  std::string where;
  if (keyed) {
    for (size_t n = 0; n < keys.identity.size(); ++n) {
      size_t i = keys.identity[n];
      if (!ev.before.has(i)) {
        return Status::InvalidArgument(std::string(pipeline::opName(ev.op)) + " on " + table_sql +
                                       ": the before image lacks key column '" +
                                       info.columns[i].name + "'");
      }
      if (n > 0) where += " AND ";
      where += mysql::quoteIdentifier(info.columns[i].name) + "=";
      DTS_RETURN_IF_ERROR(appendSqlLiteral(&where, ev.before.values[i], info.columns[i]));
    }
  } else {
    for (size_t i = 0; i < ncols; ++i) {
      if (!ev.before.has(i)) continue;
      if (!where.empty()) where += " AND ";
      where += mysql::quoteIdentifier(info.columns[i].name) + "<=>";
      DTS_RETURN_IF_ERROR(appendSqlLiteral(&where, ev.before.values[i], info.columns[i]));
    }
    if (where.empty()) {
      return Status::InvalidArgument(std::string(pipeline::opName(ev.op)) + " on " + table_sql +
                                     " has an empty before image and the table has no key");
    }
  }
  const char* limit = keyed ? "" : " LIMIT 1";
  if (ev.op == ChangeEvent::Op::kDelete) {
    out_.push_back("DELETE FROM " + table_sql + " WHERE " + where + limit);
    return Status::OK();
  }
  if (keyed && allPresent(ev.after, ncols)) {
    // Full after image of a keyed table: an upsert, so a row missing at the destination is
    // written rather than lost.
    DTS_ASSIGN_OR_RETURN(std::string kb, keySql(info, keys.identity, ev.before, "before"));
    DTS_ASSIGN_OR_RETURN(std::string ka, keySql(info, keys.identity, ev.after, "after"));
    if (kb != ka) out_.push_back("DELETE FROM " + table_sql + " WHERE " + where);
    std::string row;
    bool lenient = false;
    DTS_RETURN_IF_ERROR(appendRow(&row, info, ev.after, &lenient));
    emitInsert("REPLACE", table_sql, info, std::move(row), lenient);
    return Status::OK();
  }
  std::string set;
  bool lenient = false;
  for (size_t i = 0; i < ncols; ++i) {
    if (!ev.after.has(i)) continue;
    if (!set.empty()) set.push_back(',');
    set += mysql::quoteIdentifier(info.columns[i].name) + "=";
    DTS_RETURN_IF_ERROR(appendSqlLiteral(&set, ev.after.values[i], info.columns[i]));
    if (isEnumErrorValue(ev.after.values[i])) lenient = true;
  }
  if (set.empty()) return Status::OK();  // nothing to change
  std::string update = "UPDATE " + table_sql + " SET " + set + " WHERE " + where + limit;
  if (lenient) {
    emitLenient(std::move(update));
  } else {
    out_.push_back(std::move(update));
  }
  return Status::OK();
}

Status BatchSql::finish() {
  DTS_RETURN_IF_ERROR(flushAll());
  endOpenInsert();
  return Status::OK();
}

std::vector<std::string> BatchSql::takeStatements() {
  endOpenInsert();
  std::vector<std::string> out = std::move(out_);
  out_.clear();
  rows_ = 0;
  return out;
}

}  // namespace dts::sink
