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
    if (!db.exclude.empty() && !db.tables.empty())
      return Status::InvalidArgument(
          where +
          ": exclude_tables and tables cannot be combined (tables lists what is moved; "
          "exclude_tables leaves tables out of every table of the database)");
    std::set<std::string> excluded;
    for (size_t j = 0; j < db.exclude.size(); ++j) {
      std::string ewhere = where + ".exclude_tables[" + std::to_string(j) + "]";
      if (db.exclude[j].empty()) return Status::InvalidArgument(ewhere + ": must not be empty");
      if (!excluded.insert(db.exclude[j]).second)
        return Status::InvalidArgument(ewhere + ": table '" + db.exclude[j] + "' is listed twice");
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

bool DatabaseSelection::excludes(std::string_view table) const {
  return std::find(exclude.begin(), exclude.end(), table) != exclude.end();
}

bool Mapping::selectsDatabase(std::string_view db) const {
  return findDatabase(db) != nullptr;
}

bool Mapping::selectsTable(std::string_view db, std::string_view table) const {
  const auto* s = findDatabase(db);
  if (s == nullptr) return false;
  if (s->tables.empty()) return !s->excludes(table);
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
    if (s->excludes(table)) return std::nullopt;
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

std::optional<std::pair<std::string, std::string>> Mapping::sourceTable(
    std::string_view target_db, std::string_view target_table) const {
  for (const auto& s : selections_) {
    if ((s.rename_to.empty() ? s.database : s.rename_to) != target_db) continue;
    if (s.tables.empty()) {
      if (s.excludes(target_table)) return std::nullopt;
      return std::make_pair(s.database, std::string(target_table));
    }
    for (const auto& t : s.tables) {
      if ((t.rename_to.empty() ? t.name : t.rename_to) == target_table)
        return std::make_pair(s.database, t.name);
    }
    return std::nullopt;
  }
  return std::nullopt;
}

Result<ResolvedTable> Mapping::resolve(
    std::string_view db, std::string_view table,
    const std::shared_ptr<const mysql::TableInfo>& source) const {
  ResolvedTable r;
  r.source = source;
  std::optional<TableRoute> route = this->route(db, table);
  if (!route.has_value()) return r;
  if (source == nullptr) {
    return Status::Internal("mapping " + std::string(db) + "." + std::string(table) +
                            ": row event without table_info");
  }
  r.moved = true;
  r.route = std::move(*route);
  if (r.route.allColumns()) {
    for (size_t i = 0; i < source->columns.size(); ++i) r.kept.push_back(i);
  } else {
    for (const auto& name : r.route.columns) {
      for (size_t i = 0; i < source->columns.size(); ++i) {
        if (source->columns[i].name == name) r.kept.push_back(i);
      }
    }
  }
  for (size_t i = 0; i < r.kept.size(); ++i) r.all_columns = r.all_columns && r.kept[i] == i;
  r.all_columns = r.all_columns && r.kept.size() == source->columns.size();
  auto cut = keepColumns(*source, r.kept);
  cut->database = r.route.target_database;
  cut->table = r.route.target_table;
  r.target = std::move(cut);
  return r;
}

std::shared_ptr<mysql::TableInfo> keepColumns(const mysql::TableInfo& source,
                                              const std::vector<size_t>& kept) {
  auto cut = std::make_shared<mysql::TableInfo>();
  cut->table_id = source.table_id;
  cut->database = source.database;
  cut->table = source.table;
  for (size_t i : kept) cut->columns.push_back(source.columns[i]);
  for (size_t pk : source.primary_key) {
    auto pos = std::find(kept.begin(), kept.end(), pk);
    if (pos == kept.end()) {
      cut->primary_key.clear();
      break;
    }
    cut->primary_key.push_back(static_cast<size_t>(pos - kept.begin()));
  }
  return cut;
}

void cutImage(mysql::RowImage* image, const std::vector<size_t>& kept, bool all_columns) {
  if (all_columns && image->values.size() == kept.size() &&
      (image->present.empty() || image->present.size() == image->values.size())) {
    return;  // every column, in order: nothing to copy
  }
  mysql::RowImage out;
  out.values.reserve(kept.size());
  out.present.reserve(kept.size());
  for (size_t i : kept) {
    out.values.push_back(i < image->values.size() ? std::move(image->values[i])
                                                  : mysql::Value::null());
    out.present.push_back(i < image->values.size() &&
                          (i >= image->present.size() || image->present[i]));
  }
  *image = std::move(out);
}

Result<bool> Mapping::mapRow(const ResolvedTable& t, ChangeEvent* event, FilterEvaluator* source) {
  if (!t.moved || !t.route.dml.allows(event->op)) return false;
  ChangeEvent::Op op = event->op;
  if (t.route.filter != nullptr) {
    const mysql::TableInfo& info = *t.source;
    bool before_in = false, after_in = false;
    if (op != ChangeEvent::Op::kInsert) {
      DTS_ASSIGN_OR_RETURN(before_in, t.route.filter->matches(info, event->before, source));
    }
    if (op != ChangeEvent::Op::kDelete) {
      DTS_ASSIGN_OR_RETURN(after_in, t.route.filter->matches(info, event->after, source));
    }
    switch (op) {
      case ChangeEvent::Op::kInsert:
        if (!after_in) return false;
        break;
      case ChangeEvent::Op::kDelete:
        if (!before_in) return false;
        break;
      default:
        if (!before_in && !after_in) return false;
        if (!before_in) op = ChangeEvent::Op::kInsert;
        if (!after_in) op = ChangeEvent::Op::kDelete;
        break;
    }
  }
  const bool changed = op != event->op || !t.all_columns;
  event->op = op;
  event->database = t.route.target_database;
  event->table = t.route.target_table;
  event->table_info = t.target;
  if (op == ChangeEvent::Op::kInsert)
    event->before = mysql::RowImage();
  else
    cutImage(&event->before, t.kept, t.all_columns);
  if (op == ChangeEvent::Op::kDelete)
    event->after = mysql::RowImage();
  else
    cutImage(&event->after, t.kept, t.all_columns);
  if (changed && event->memory_bytes != 0) measureRow(event);
  return true;
}

Result<std::optional<ChangeEvent>> Mapping::mapEvent(ChangeEvent event,
                                                     FilterEvaluator* source) const {
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
  DTS_ASSIGN_OR_RETURN(ResolvedTable table, resolve(event.database, event.table, event.table_info));
  DTS_ASSIGN_OR_RETURN(bool moved, mapRow(table, &event, source));
  if (!moved) return std::optional<ChangeEvent>();
  return std::optional<ChangeEvent>(std::move(event));
}

}  // namespace dts::pipeline
