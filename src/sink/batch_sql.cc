#include "sink/batch_sql.h"

#include <algorithm>
#include <cstring>

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

// st with the table of info named (a literal's error names only its column).
Status inTable(Status st, const mysql::TableInfo& info) {
  return st.ok() ? st : st.withContext("table " + mysql::quoteQualified(info.database, info.table));
}

// Appends "(v1,v2,...)" as `destination` stores them; sets *lenient when a value is an ENUM's
// error value (sql_literal.h), whose statement then runs alone under the lenient sql_mode.
Status appendRowLiteral(std::string* out, const mysql::TableInfo& info, const mysql::RowImage& row,
                        mysql::ServerFlavor destination, bool* lenient) {
  out->push_back('(');
  for (size_t i = 0; i < info.columns.size(); ++i) {
    if (i > 0) out->push_back(',');
    DTS_RETURN_IF_ERROR(
        inTable(appendSqlLiteral(out, row.values[i], info.columns[i], destination), info));
    if (row.has(i) && isEnumErrorValue(row.values[i])) *lenient = true;
  }
  out->push_back(')');
  return Status::OK();
}

mysql::BulkStatement::Param paramOfForm(const std::string& form) {
  using Param = mysql::BulkStatement::Param;
  if (form == "i") return Param::kInt64;
  if (form == "u") return Param::kUInt64;
  if (form == "t") return Param::kString;
  return Param::kBinary;  // "b", "c<charset>", "" (NULL in every row)
}

// A parameter in the statement: CONVERT(? USING cs) for "c<cs>", else ?.
void appendPlaceholder(std::string* out, const std::string& form) {
  if (!form.empty() && form[0] == 'c') {
    out->append("CONVERT(? USING ");
    out->append(form, 1);
    out->push_back(')');
  } else {
    out->push_back('?');
  }
}

}  // namespace

size_t BulkReplace::bytes(size_t begin, size_t end) const {
  size_t n = 0;
  for (size_t i = begin; i < std::min(end, rows.size()); ++i) {
    for (const mysql::Value& v : rows[i].values) n += v.s.size() + 8;
  }
  return n;
}

Result<mysql::BulkRows> BulkReplace::bulkRows(size_t begin, size_t end) const {
  const size_t ncols = params.size();
  mysql::BulkRows out(ncols);
  end = std::min(end, rows.size());
  out.reserve(bytes(begin, end));
  std::string text;
  for (size_t i = begin; i < end; ++i) {
    const mysql::RowImage& r = rows[i];
    for (size_t n = 0; n < ncols; ++n) {
      const mysql::Value& v = r.values[n];
      if (v.isNull()) {
        out.appendValue(n, nullptr, 0);
        continue;
      }
      switch (params[n]) {
        case mysql::BulkStatement::Param::kInt64:
        case mysql::BulkStatement::Param::kUInt64: {
          uint64_t x = v.kind == mysql::Value::Kind::kInt ? static_cast<uint64_t>(v.i) : v.u;
          char raw[8];
          std::memcpy(raw, &x, 8);
          out.appendValue(n, raw, 8);
          break;
        }
        case mysql::BulkStatement::Param::kString:
          if (v.kind == mysql::Value::Kind::kTemporal || v.kind == mysql::Value::Kind::kEnum ||
              v.kind == mysql::Value::Kind::kSet) {
            // A temporal value's text (checked like its literal); an empty SET is ''.
            text.clear();
            if (v.kind == mysql::Value::Kind::kTemporal) {
              DTS_RETURN_IF_ERROR(appendSqlLiteral(&text, v, info->columns[n], destination));
              out.appendValue(n, text.data() + 1, text.size() - 2);  // without its quotes
            } else {
              out.appendValue(n, "", 0);
            }
          } else {
            text.clear();  // a number as its literal
            DTS_RETURN_IF_ERROR(
                inTable(appendSqlLiteral(&text, v, info->columns[n], destination), *info));
            out.appendValue(n, text.data(), text.size());
          }
          break;
        case mysql::BulkStatement::Param::kBinary:
          out.appendValue(n, v.s.data(), v.s.size());
          break;
      }
    }
    out.endRow();
  }
  return out;
}

Result<std::vector<std::string>> BulkReplace::statements(size_t max_bytes, size_t begin) const {
  const std::string head = sql.substr(0, sql.find(" VALUES (") + 8);  // REPLACE INTO ... VALUES
  std::vector<std::string> out;
  std::string stmt;
  std::string row;
  for (size_t i = begin; i < rows.size(); ++i) {
    const mysql::RowImage& r = rows[i];
    row.clear();
    bool lenient = false;  // never: such rows do not go by bulk REPLACE
    DTS_RETURN_IF_ERROR(appendRowLiteral(&row, *info, r, destination, &lenient));
    if (!stmt.empty() && stmt.size() + row.size() > max_bytes) {
      out.push_back(std::move(stmt));
      stmt.clear();
    }
    stmt += stmt.empty() ? head : ",";
    stmt += row;
  }
  if (!stmt.empty()) out.push_back(std::move(stmt));
  return out;
}

std::string columnList(const mysql::TableInfo& info) {
  std::string out;
  for (size_t i = 0; i < info.columns.size(); ++i) {
    if (i > 0) out.push_back(',');
    out += mysql::quoteIdentifier(info.columns[i].name);
  }
  return out;
}

std::string columnList(const mysql::TableInfo& info, const std::vector<size_t>& identity) {
  std::string out;
  for (size_t n = 0; n < identity.size(); ++n) {
    if (n > 0) out.push_back(',');
    out += mysql::quoteIdentifier(info.columns[identity[n]].name);
  }
  return out;
}

Result<std::string> keyTuple(const mysql::TableInfo& info, const std::vector<size_t>& identity,
                             const mysql::RowImage& row, const char* image) {
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
    DTS_RETURN_IF_ERROR(appendMatchLiteral(&out, row.values[i], info.columns[i]));
  }
  out.push_back(')');
  return out;
}

namespace {

bool keyHasEnumOrSet(const mysql::TableInfo& info, const std::vector<size_t>& identity) {
  return std::any_of(identity.begin(), identity.end(), [&](size_t i) {
    return i < info.columns.size() && mysql::isEnumOrSet(info.columns[i]);
  });
}

}  // namespace

KeyListDelete keyListDelete(const std::string& table_sql, const mysql::TableInfo& info,
                            const std::vector<size_t>& identity) {
  if (keyHasEnumOrSet(info, identity)) return {"DELETE FROM " + table_sql + " WHERE ", " OR ", ""};
  return {"DELETE FROM " + table_sql + " WHERE (" + columnList(info, identity) + ") IN (", ",",
          ")"};
}

Result<std::string> keyTerm(const mysql::TableInfo& info, const std::vector<size_t>& identity,
                            const mysql::RowImage& row, const char* image) {
  if (!keyHasEnumOrSet(info, identity)) return keyTuple(info, identity, row, image);
  std::string out = "(";
  for (size_t n = 0; n < identity.size(); ++n) {
    size_t i = identity[n];
    if (i >= info.columns.size() || !row.has(i)) return keyTuple(info, identity, row, image);
    if (n > 0) out += " AND ";
    out += mysql::quoteIdentifier(info.columns[i].name) + "=";
    DTS_RETURN_IF_ERROR(appendMatchLiteral(&out, row.values[i], info.columns[i]));
  }
  out.push_back(')');
  return out;
}

void BatchSql::endOpenInsert() {
  if (!open_insert_.empty()) {
    if (!open_delete_.empty()) out_.push_back(BatchStep{open_delete_ + open_delete_tail_, nullptr});
    open_delete_.clear();
    open_keys_.clear();
    out_.push_back(BatchStep{std::move(open_insert_), nullptr});
  }
  open_insert_.clear();
  open_insert_head_.clear();
}

void BatchSql::emit(std::string statement) {
  endOpenInsert();
  endOpenBulk();
  out_.push_back(BatchStep{std::move(statement), nullptr});
}

void BatchSql::emitLenient(std::string statement) {
  emit(setSqlModeSql(lenientSqlMode()));
  emit(std::move(statement));
  emit(setSqlModeSql(strictSqlMode()));
}

bool BatchSql::rowForms(const mysql::TableInfo& info, const mysql::RowImage& row,
                        std::vector<std::string>* forms) {
  using Kind = mysql::Value::Kind;
  const size_t ncols = info.columns.size();
  if (row.values.size() < ncols) return false;
  forms->assign(ncols, "");
  for (size_t i = 0; i < ncols; ++i) {
    const mysql::Value& v = row.values[i];
    const mysql::ColumnInfo& col = info.columns[i];
    std::string& form = (*forms)[i];
    switch (v.kind) {
      case Kind::kNull: break;
      case Kind::kInt: form = "i"; break;
      case Kind::kUInt: form = "u"; break;
      case Kind::kFloat:
      case Kind::kDouble:
      case Kind::kDecimal:
      case Kind::kTemporal: form = "t"; break;
      case Kind::kBytes: form = "b"; break;
      case Kind::kString:
      case Kind::kJson: {
        std::string_view cs =
            v.kind == Kind::kJson ? std::string_view("utf8mb4") : charsetOfCollation(col.collation);
        form = cs.empty() ? "b" : "c" + std::string(cs);
        break;
      }
      case Kind::kEnum:
      case Kind::kSet:
        if (isEnumErrorValue(v)) return false;
        if (!v.s.empty()) {
          std::string_view cs = charsetOfCollation(
              col.enum_values_collation != 0 ? col.enum_values_collation : col.collation);
          form = cs.empty() ? "b" : "c" + std::string(cs);
        } else if (v.kind == Kind::kSet && v.u == 0) {
          form = "t";  // ''
        } else {
          return false;  // known by its index only: a number would be read as a name first
        }
        break;
      case Kind::kBit: return false;
    }
  }
  return true;
}

void BatchSql::addBulk(bool replace, const std::string& table_sql,
                       const std::shared_ptr<const mysql::TableInfo>& info, mysql::RowImage row,
                       const std::vector<std::string>& forms) {
  endOpenInsert();
  size_t bytes = 0;
  for (const mysql::Value& v : row.values) bytes += v.s.size() + 10;
  bool fits = open_bulk_ != nullptr && open_bulk_->info == info && open_bulk_table_ == table_sql &&
              open_bulk_replace_ == replace && open_bulk_bytes_ + bytes <= max_bytes_;
  for (size_t i = 0; fits && i < forms.size(); ++i) {
    fits = forms[i].empty() || open_bulk_forms_[i].empty() || forms[i] == open_bulk_forms_[i];
  }
  if (!fits) {
    endOpenBulk();
    open_bulk_ = std::make_shared<BulkReplace>();
    open_bulk_replace_ = replace;
    open_bulk_->info = info;
    open_bulk_->destination = destination_;
    open_bulk_table_ = table_sql;
    open_bulk_forms_.assign(info->columns.size(), "");
    open_bulk_bytes_ = 0;
  }
  for (size_t i = 0; i < forms.size(); ++i) {
    if (open_bulk_forms_[i].empty()) open_bulk_forms_[i] = forms[i];
  }
  open_bulk_bytes_ += bytes;
  open_bulk_->rows.push_back(std::move(row));
}

void BatchSql::endOpenBulk() {
  if (open_bulk_ == nullptr) return;
  if (!open_delete_.empty()) out_.push_back(BatchStep{open_delete_ + open_delete_tail_, nullptr});
  open_delete_.clear();
  open_keys_.clear();
  BulkReplace& b = *open_bulk_;
  b.table = open_bulk_table_;
  b.sql = std::string(upsertVerb(open_bulk_replace_)) + " INTO " + open_bulk_table_ + " (" +
          columnList(*b.info) + ") VALUES (";
  for (size_t i = 0; i < open_bulk_forms_.size(); ++i) {
    if (i > 0) b.sql.push_back(',');
    appendPlaceholder(&b.sql, open_bulk_forms_[i]);
    b.params.push_back(paramOfForm(open_bulk_forms_[i]));
  }
  b.sql.push_back(')');
  out_.push_back(BatchStep{std::string(), std::move(open_bulk_)});
  open_bulk_.reset();
  open_bulk_forms_.clear();
  open_bulk_table_.clear();
  open_bulk_bytes_ = 0;
}

void BatchSql::emitInsert(const std::string& verb, const std::string& table_sql,
                          const mysql::TableInfo& info, std::string values_row, bool lenient) {
  std::string head = verb + " INTO " + table_sql + " (" + columnList(info) + ") VALUES ";
  if (lenient) {
    emitLenient(head + values_row);
    return;
  }
  endOpenBulk();
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
  // Rows that end deleted (or whose key went away; kFail: every row), in one or more DELETE ... IN.
  std::string del;
  size_t listed = 0;
  const KeyListDelete d = keyListDelete(table_sql, *p.entries.front().info, p.identity);
  for (const Entry& e : p.entries) {
    if (e.present && p.replace) continue;  // kFail: every row it touched (see key conflicts)
    if (!del.empty() && (del.size() + e.key_sql.size() > max_bytes_ ||
                         listed >= maxKeysPerList(p.identity.size()))) {
      emit(del + d.tail);
      del.clear();
      listed = 0;
    }
    if (del.empty()) {
      del = d.head;
    } else {
      del += d.separator;
    }
    del += e.key_sql;
    ++listed;
  }
  if (!del.empty()) emit(del + d.tail);
  std::vector<std::string> forms;
  for (Entry& e : p.entries) {
    if (!e.present) continue;
    if (e.row_sql.empty()) {  // kept as an image for a bulk upsert (see add)
      if (rowForms(*e.info, e.row, &forms)) {
        addBulk(p.replace, table_sql, e.info, std::move(e.row), forms);
        continue;
      }
      DTS_RETURN_IF_ERROR(appendRowLiteral(&e.row_sql, *e.info, e.row, destination_, &e.lenient));
    }
    emitInsert(upsertVerb(p.replace), table_sql, *e.info, std::move(e.row_sql), e.lenient);
  }
  endOpenInsert();
  endOpenBulk();
  pending_.erase(it);
  return Status::OK();
}

Status BatchSql::flushAll() {
  for (const std::string& t : pending_order_) DTS_RETURN_IF_ERROR(flushTable(t));
  pending_order_.clear();
  return Status::OK();
}

bool firesForeignKeyActions(const ChangeEvent& ev, const TableKeys& keys) {
  if (!ev.foreign_key_checks) return false;
  if (ev.op == ChangeEvent::Op::kDelete) return keys.delete_acts;
  if (ev.op != ChangeEvent::Op::kUpdate) return false;
  for (size_t i : keys.update_acting) {
    if (!ev.after.has(i)) continue;  // not written: unchanged
    if (!ev.before.has(i) || !(ev.before.values[i] == ev.after.values[i])) return true;
  }
  return false;
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

  if (firesForeignKeyActions(ev, keys)) {
    bool done = false;
    DTS_RETURN_IF_ERROR(emitActing(ev, table_sql, keys, &done));
    if (done) return Status::OK();
  }
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
    p.replace = replacing(ev, keys);
    pending_order_.push_back(table_sql);
  } else if (p.identity != keys.identity || p.replace != replacing(ev, keys)) {
    DTS_RETURN_IF_ERROR(flushTable(table_sql));
    return add(ev, keys);
  }
  // Under bulk_replace a row keeps its image (for a bulk upsert); otherwise it is rendered now,
  // as the INSERT or REPLACE row it will be.
  auto setState = [&](std::string key, bool present, const mysql::RowImage* row) -> Status {
    auto [it, fresh] = p.index.try_emplace(key, p.entries.size());
    if (fresh) {
      p.entries.emplace_back();
      p.entries.back().key_sql = std::move(key);
    }
    Entry& e = p.entries[it->second];
    e.info = ev.table_info;
    e.present = present;
    e.row = mysql::RowImage{};
    e.row_sql.clear();
    e.lenient = false;
    if (row == nullptr) return Status::OK();
    if (bulk_replace_) {
      e.row = *row;
      return Status::OK();
    }
    return appendRowLiteral(&e.row_sql, info, *row, destination_, &e.lenient);
  };
  if (ev.op == ChangeEvent::Op::kInsert) {
    DTS_ASSIGN_OR_RETURN(std::string k, keyTerm(info, keys.identity, ev.after, "after"));
    return setState(std::move(k), true, &ev.after);
  } else if (ev.op == ChangeEvent::Op::kDelete) {
    DTS_ASSIGN_OR_RETURN(std::string k, keyTerm(info, keys.identity, ev.before, "before"));
    return setState(std::move(k), false, nullptr);
  } else {
    DTS_ASSIGN_OR_RETURN(std::string kb, keyTerm(info, keys.identity, ev.before, "before"));
    DTS_ASSIGN_OR_RETURN(std::string ka, keyTerm(info, keys.identity, ev.after, "after"));
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
      return Status::InvalidArgument(
          "insert into " + table_sql +
          " has a partial row image (the source logged it with binlog_row_image=MINIMAL or NOBLOB, "
          "which leave columns out; the destination row cannot be written whole: set "
          "binlog_row_image=FULL on the source and start the task again from a new snapshot)");
    }
    if (keyed) return emitUpsert(ev, table_sql, keys, ev.after);
    std::string row;
    bool lenient = false;
    DTS_RETURN_IF_ERROR(appendRowLiteral(&row, info, ev.after, destination_, &lenient));
    emitInsert("INSERT", table_sql, info, std::move(row), lenient);
    return Status::OK();
  }
  endOpenInsert();
  std::string where;
  DTS_RETURN_IF_ERROR(matchWhere(ev, table_sql, keys, &where));
  const char* limit = keyed ? "" : " LIMIT 1";
  if (ev.op == ChangeEvent::Op::kDelete) {
    emit("DELETE FROM " + table_sql + " WHERE " + where + limit);
    return Status::OK();
  }
  if (keyed && allPresent(ev.after, ncols)) {
    // Full after image of a keyed table: an upsert, so a row missing at the destination is
    // written rather than lost.
    DTS_ASSIGN_OR_RETURN(std::string kb, keyTerm(info, keys.identity, ev.before, "before"));
    DTS_ASSIGN_OR_RETURN(std::string ka, keyTerm(info, keys.identity, ev.after, "after"));
    if (kb != ka) emit("DELETE FROM " + table_sql + " WHERE " + where);
    return emitUpsert(ev, table_sql, keys, ev.after);
  }
  std::string set;
  bool lenient = false;
  for (size_t i = 0; i < ncols; ++i) {
    if (!ev.after.has(i)) continue;
    if (!set.empty()) set.push_back(',');
    set += mysql::quoteIdentifier(info.columns[i].name) + "=";
    DTS_RETURN_IF_ERROR(
        inTable(appendSqlLiteral(&set, ev.after.values[i], info.columns[i], destination_), info));
    if (isEnumErrorValue(ev.after.values[i])) lenient = true;
  }
  if (set.empty()) return Status::OK();  // nothing to change
  std::string update = "UPDATE " + table_sql + " SET " + set + " WHERE " + where + limit;
  if (lenient) {
    emitLenient(std::move(update));
  } else {
    emit(std::move(update));
  }
  return Status::OK();
}

bool BatchSql::replacing(const ChangeEvent& ev, const TableKeys& keys) {
  if (replace_) return true;
  if (!guarded_ || !keys.identity_only) return false;
  auto [it, fresh] = guarded_tables_.try_emplace({ev.database, ev.table});
  if (fresh) {
    for (size_t i : keys.identity) it->second.push_back(ev.table_info->columns[i].name);
  }
  return true;
}

Status BatchSql::emitUpsert(const ChangeEvent& ev, const std::string& table_sql,
                            const TableKeys& keys, const mysql::RowImage& row) {
  const std::shared_ptr<const mysql::TableInfo>& info = ev.table_info;
  const bool replace = replacing(ev, keys);
  std::string key;
  if (!replace) {
    DTS_ASSIGN_OR_RETURN(key, keyTerm(*info, keys.identity, row, "after"));
    // A statement open without a DELETE (a compacted table's flush), of another table or key,
    // or with this key already: ended first.
    if (open_delete_.empty() || open_delete_table_ != table_sql ||
        open_delete_identity_ != keys.identity || open_keys_.count(key) != 0 ||
        open_keys_.size() >= maxKeysPerList(keys.identity.size())) {
      endOpenInsert();
      endOpenBulk();
    }
  }
  // The row joins the open statement (or starts one, which ends the one before with its DELETE);
  // then its identity joins that statement's DELETE.
  std::vector<std::string> forms;
  bool lenient = false;
  if (bulk_replace_ && rowForms(*info, row, &forms)) {
    addBulk(replace, table_sql, info, row, forms);
  } else {
    std::string values;
    DTS_RETURN_IF_ERROR(appendRowLiteral(&values, *info, row, destination_, &lenient));
    if (lenient && !replace) {  // emitted alone, now: its DELETE goes first
      const KeyListDelete d = keyListDelete(table_sql, *info, keys.identity);
      emit(d.head + key + d.tail);
      key.clear();
    }
    emitInsert(upsertVerb(replace), table_sql, *info, std::move(values), lenient);
  }
  if (key.empty()) return Status::OK();
  if (open_delete_.empty()) {  // the DELETE's head is built once per statement
    KeyListDelete d = keyListDelete(table_sql, *info, keys.identity);
    open_delete_ = std::move(d.head);
    open_delete_separator_ = d.separator;
    open_delete_tail_ = d.tail;
    open_delete_table_ = table_sql;
    open_delete_identity_ = keys.identity;
  } else {
    open_delete_ += open_delete_separator_;
  }
  open_delete_ += key;
  open_keys_.insert(std::move(key));
  return Status::OK();
}

Status BatchSql::matchWhere(const ChangeEvent& ev, const std::string& table_sql,
                            const TableKeys& keys, std::string* out) const {
  const mysql::TableInfo& info = *ev.table_info;
  const size_t ncols = info.columns.size();
  std::string& where = *out;
  where.clear();
  if (!keys.identity.empty()) {
    for (size_t n = 0; n < keys.identity.size(); ++n) {
      size_t i = keys.identity[n];
      if (!ev.before.has(i)) {
        return Status::InvalidArgument(std::string(pipeline::opName(ev.op)) + " on " + table_sql +
                                       ": the before image lacks key column '" +
                                       info.columns[i].name + "'");
      }
      if (n > 0) where += " AND ";
      where += mysql::quoteIdentifier(info.columns[i].name) + "=";
      DTS_RETURN_IF_ERROR(appendMatchLiteral(&where, ev.before.values[i], info.columns[i]));
    }
  } else {
    // The row is found by all its values: a -0 and a +0 row are told apart by their sign (LIMIT 1
    // must take the row the source changed, not another that is equal in SQL).
    for (size_t i = 0; i < ncols; ++i) {
      if (!ev.before.has(i)) continue;
      if (!where.empty()) where += " AND ";
      std::string column = mysql::quoteIdentifier(info.columns[i].name);
      where += column + "<=>";
      DTS_RETURN_IF_ERROR(appendMatchLiteral(&where, ev.before.values[i], info.columns[i]));
      appendZeroSignTest(&where, column, ev.before.values[i]);
    }
    if (where.empty()) {
      return Status::InvalidArgument(std::string(pipeline::opName(ev.op)) + " on " + table_sql +
                                     " has an empty before image and the table has no key");
    }
  }
  return Status::OK();
}

Status BatchSql::emitActing(const ChangeEvent& ev, const std::string& table_sql,
                            const TableKeys& keys, bool* done) {
  // An action may change rows of any table: everything before this row is written first.
  DTS_RETURN_IF_ERROR(flushAll());
  emit("SET SESSION foreign_key_checks=1");
  const mysql::TableInfo& info = *ev.table_info;
  if (ev.op == ChangeEvent::Op::kDelete || keys.identity.empty() ||
      !allPresent(ev.after, info.columns.size())) {
    // A DELETE, or an UPDATE of the row: the statement that acts, as it is.
    DTS_RETURN_IF_ERROR(emitDirect(ev, table_sql, keys));
    emit("SET SESSION foreign_key_checks=0");
    *done = true;
    return Status::OK();
  }
  // A keyed row's full image goes as an upsert, whose delete would act as a delete: the changed
  // referenced columns go by UPDATE first (the actions run), then the row as usual.
  std::string where, set;
  DTS_RETURN_IF_ERROR(matchWhere(ev, table_sql, keys, &where));
  for (size_t i : keys.update_acting) {
    if (i >= info.columns.size() || !ev.after.has(i) ||
        (ev.before.has(i) && ev.before.values[i] == ev.after.values[i])) {
      continue;
    }
    if (!set.empty()) set.push_back(',');
    set += mysql::quoteIdentifier(info.columns[i].name) + "=";
    DTS_RETURN_IF_ERROR(
        inTable(appendSqlLiteral(&set, ev.after.values[i], info.columns[i], destination_), info));
  }
  if (!set.empty()) emit("UPDATE " + table_sql + " SET " + set + " WHERE " + where);
  emit("SET SESSION foreign_key_checks=0");
  *done = false;
  return Status::OK();
}

Status BatchSql::finish() {
  DTS_RETURN_IF_ERROR(flushAll());
  endOpenInsert();
  endOpenBulk();
  return Status::OK();
}

std::vector<BatchStep> BatchSql::takeSteps() {
  endOpenInsert();
  endOpenBulk();
  std::vector<BatchStep> out = std::move(out_);
  out_.clear();
  rows_ = 0;
  return out;
}

std::vector<std::string> BatchSql::takeStatements() {
  std::vector<std::string> out;  // bulk REPLACEs as "<sql> -- N rows"
  for (BatchStep& s : takeSteps()) {
    out.push_back(s.bulk == nullptr
                      ? std::move(s.sql)
                      : s.bulk->sql + " -- " + std::to_string(s.bulk->rows.size()) + " rows");
  }
  return out;
}

}  // namespace dts::sink
