#include "pipeline/mapping.h"

#include <algorithm>
#include <set>

namespace dts::pipeline {

bool DmlSet::allows(ChangeEvent::Op op) const {
  switch (op) {
    case ChangeEvent::Op::kInsert: return insert;
    case ChangeEvent::Op::kUpdate: return update;
    case ChangeEvent::Op::kDelete: return del;
    case ChangeEvent::Op::kDdl: return true;
  }
  return false;
}

Result<DmlSet> DmlSet::parse(const std::vector<std::string>& names) {
  DmlSet set{false, false, false};
  for (const auto& n : names) {
    if (n == "insert")
      set.insert = true;
    else if (n == "update")
      set.update = true;
    else if (n == "delete")
      set.del = true;
    else
      return Status::InvalidArgument("must be a list of insert, update, delete; got '" + n + "'");
  }
  return set;
}

bool TableRoute::keepsColumn(std::string_view column) const {
  if (columns.empty()) return true;
  return std::find(columns.begin(), columns.end(), column) != columns.end();
}

namespace {
std::string key(std::string_view db, std::string_view table) {
  std::string k(db);
  k.push_back('\0');
  k.append(table);
  return k;
}
}  // namespace

Result<Mapping> Mapping::create(std::vector<DatabaseSelection> selections) {
  Mapping m;
  std::set<std::string> dbs, target_dbs, target_tables;
  for (size_t i = 0; i < selections.size(); ++i) {
    const auto& db = selections[i];
    std::string where = "objects[" + std::to_string(i) + "]";
    if (db.database.empty()) return Status::InvalidArgument(where + ".database: must not be empty");
    if (!dbs.insert(db.database).second) {
      return Status::InvalidArgument(where + ".database: '" + db.database + "' is listed twice");
    }
    std::string target_db = db.rename_to.empty() ? db.database : db.rename_to;
    if (!target_dbs.insert(target_db).second) {
      return Status::InvalidArgument(where + ": two databases map onto destination database '" +
                                     target_db + "'");
    }
    std::set<std::string> tables;
    for (size_t j = 0; j < db.tables.size(); ++j) {
      const auto& t = db.tables[j];
      std::string twhere = where + ".tables[" + std::to_string(j) + "]";
      if (t.name.empty()) return Status::InvalidArgument(twhere + ".name: must not be empty");
      if (!tables.insert(t.name).second) {
        return Status::InvalidArgument(twhere + ".name: table '" + t.name + "' is listed twice");
      }
      std::string target = key(target_db, t.rename_to.empty() ? t.name : t.rename_to);
      if (!target_tables.insert(target).second) {
        return Status::InvalidArgument(twhere + ": two tables map onto destination table '" +
                                       target_db + "." +
                                       (t.rename_to.empty() ? t.name : t.rename_to) + "'");
      }
      std::set<std::string> cols;
      for (const auto& c : t.columns) {
        if (c.empty()) return Status::InvalidArgument(twhere + ".columns: a column name is empty");
        if (!cols.insert(c).second) {
          return Status::InvalidArgument(twhere + ".columns: column '" + c + "' is listed twice");
        }
      }
      if (!t.where.empty()) {
        auto f = RowFilter::compile(t.where);
        if (!f.ok()) return f.status().withContext(twhere);
        m.filters_[key(db.database, t.name)] = *f;
      }
    }
  }
  m.selections_ = std::move(selections);
  return m;
}

const DatabaseSelection* Mapping::findDatabase(std::string_view db) const {
  for (const auto& s : selections_) {
    if (s.database == db) return &s;
  }
  return nullptr;
}

bool Mapping::selectsDatabase(std::string_view db) const {
  return findDatabase(db) != nullptr;
}

bool Mapping::selectsTable(std::string_view db, std::string_view table) const {
  const auto* s = findDatabase(db);
  if (s == nullptr) return false;
  if (s->tables.empty()) return true;
  for (const auto& t : s->tables) {
    if (t.name == table) return true;
  }
  return false;
}

bool Mapping::hasTableList(std::string_view db) const {
  const auto* s = findDatabase(db);
  return s != nullptr && !s->tables.empty();
}

std::string Mapping::targetDatabase(std::string_view db) const {
  const auto* s = findDatabase(db);
  if (s == nullptr || s->rename_to.empty()) return std::string(db);
  return s->rename_to;
}

std::optional<TableRoute> Mapping::route(std::string_view db, std::string_view table) const {
  const auto* s = findDatabase(db);
  if (s == nullptr) return std::nullopt;
  TableRoute r;
  r.source_database = std::string(db);
  r.source_table = std::string(table);
  r.target_database = s->rename_to.empty() ? s->database : s->rename_to;
  if (s->tables.empty()) {
    r.target_table = std::string(table);
    return r;
  }
  for (const auto& t : s->tables) {
    if (t.name != table) continue;
    r.target_table = t.rename_to.empty() ? t.name : t.rename_to;
    r.columns = t.columns;
    r.where = t.where;
    r.dml = t.dml;
    auto it = filters_.find(key(db, table));
    if (it != filters_.end()) r.filter = it->second;
    return r;
  }
  return std::nullopt;
}

std::shared_ptr<const mysql::TableInfo> Mapping::cutTableInfo(
    const std::shared_ptr<const mysql::TableInfo>& source, const TableRoute& route,
    std::shared_ptr<const std::vector<size_t>>* kept) const {
  std::lock_guard<std::mutex> lock(cache_->mu);
  auto it = cache_->entries.find(source.get());
  if (it != cache_->entries.end() && it->second.cut->database == route.target_database &&
      it->second.cut->table == route.target_table) {
    *kept = it->second.kept;
    return it->second.cut;
  }
  auto cut = std::make_shared<mysql::TableInfo>();
  cut->table_id = source->table_id;
  cut->database = route.target_database;
  cut->table = route.target_table;
  std::vector<size_t> keep;
  if (route.allColumns()) {
    for (size_t i = 0; i < source->columns.size(); ++i) keep.push_back(i);
  } else {
    for (const auto& name : route.columns) {
      for (size_t i = 0; i < source->columns.size(); ++i) {
        if (source->columns[i].name == name) keep.push_back(i);
      }
    }
  }
  for (size_t i : keep) cut->columns.push_back(source->columns[i]);
  for (size_t pk : source->primary_key) {
    auto pos = std::find(keep.begin(), keep.end(), pk);
    // A key column that is not kept: the destination table has no such key either.
    if (pos == keep.end()) {
      cut->primary_key.clear();
      break;
    }
    cut->primary_key.push_back(static_cast<size_t>(pos - keep.begin()));
  }
  *kept = std::make_shared<const std::vector<size_t>>(std::move(keep));
  cache_->entries[source.get()] = CutCache::Entry{source, cut, *kept};
  return cut;
}

namespace {
// The image's kept columns, in `kept` order; a column the image lacks becomes an absent NULL.
mysql::RowImage cutImage(mysql::RowImage&& image, const std::vector<size_t>& kept) {
  bool identity = image.values.size() == kept.size() &&
                  (image.present.empty() || image.present.size() == image.values.size());
  for (size_t i = 0; identity && i < kept.size(); ++i) identity = kept[i] == i;
  if (identity) return std::move(image);  // every column, in order: nothing to copy
  mysql::RowImage out;
  out.values.reserve(kept.size());
  out.present.reserve(kept.size());
  for (size_t i : kept) {
    out.values.push_back(i < image.values.size() ? std::move(image.values[i])
                                                 : mysql::Value::null());
    out.present.push_back(i < image.values.size() &&
                          (i >= image.present.size() || image.present[i]));
  }
  return out;
}
}  // namespace

Result<std::optional<ChangeEvent>> Mapping::mapEvent(ChangeEvent event) const {
  if (event.op == ChangeEvent::Op::kDdl) {
    if (!selectsDatabase(event.database)) return std::optional<ChangeEvent>();
    if (!event.table.empty() && !route(event.database, event.table).has_value()) {
      return std::optional<ChangeEvent>();
    }
    ChangeEvent out = std::move(event);
    if (!out.table.empty()) out.table = route(out.database, out.table)->target_table;
    out.database = targetDatabase(out.database);
    return std::optional<ChangeEvent>(std::move(out));
  }
  auto r = route(event.database, event.table);
  if (!r.has_value() || !r->dml.allows(event.op)) return std::optional<ChangeEvent>();
  if (event.table_info == nullptr) {
    return Status::Internal("mapping " + event.database + "." + event.table +
                            ": row event without table_info");
  }
  ChangeEvent out;
  out.op = event.op;
  if (r->filter != nullptr) {
    bool before_in = false, after_in = false;
    if (event.op != ChangeEvent::Op::kInsert) {
      DTS_ASSIGN_OR_RETURN(before_in, r->filter->matches(*event.table_info, event.before));
    }
    if (event.op != ChangeEvent::Op::kDelete) {
      DTS_ASSIGN_OR_RETURN(after_in, r->filter->matches(*event.table_info, event.after));
    }
    switch (event.op) {
      case ChangeEvent::Op::kInsert:
        if (!after_in) return std::optional<ChangeEvent>();
        break;
      case ChangeEvent::Op::kDelete:
        if (!before_in) return std::optional<ChangeEvent>();
        break;
      default:
        if (!before_in && !after_in) return std::optional<ChangeEvent>();
        if (!before_in) out.op = ChangeEvent::Op::kInsert;
        if (!after_in) out.op = ChangeEvent::Op::kDelete;
        break;
    }
  }
  out.database = r->target_database;
  out.table = r->target_table;
  std::shared_ptr<const std::vector<size_t>> kept;
  out.table_info = cutTableInfo(event.table_info, *r, &kept);
  if (out.op != ChangeEvent::Op::kInsert) out.before = cutImage(std::move(event.before), *kept);
  if (out.op != ChangeEvent::Op::kDelete) out.after = cutImage(std::move(event.after), *kept);
  if (out.op == event.op && r->allColumns()) {  // the same images: the same sizes
    out.memory_bytes = event.memory_bytes;
    out.payload_bytes = event.payload_bytes;
  } else if (event.memory_bytes != 0) {
    measureRow(&out);
  }
  return std::optional<ChangeEvent>(std::move(out));
}

}  // namespace dts::pipeline
