#include "task/verify_changes.h"

#include "sink/sql_literal.h"

namespace dts::task {

ChangedKeys::ChangedKeys(const std::vector<CatalogTable>& tables, size_t max_keys)
    : max_keys_(max_keys) {
  for (const auto& t : tables) {
    if (!t.chunk_key.empty())
      key_columns_[{t.route.source_database, t.route.source_table}] = t.chunk_key;
  }
}

void ChangedKeys::add(const pipeline::Transaction& piece) {
  for (const auto& e : piece.events) {
    if (e.op == pipeline::ChangeEvent::Op::kDdl || e.table_info == nullptr) continue;
    auto it = key_columns_.find({e.database, e.table});
    if (it == key_columns_.end()) continue;
    // The key's positions in this event's table (the schema the event was decoded with).
    std::vector<size_t> index;
    for (const auto& name : it->second) {
      const auto& cols = e.table_info->columns;
      for (size_t i = 0; i < cols.size(); ++i) {
        if (cols[i].name == name) {
          index.push_back(i);
          break;
        }
      }
    }
    if (index.size() != it->second.size()) continue;  // the key's columns were dropped
    if (e.op != pipeline::ChangeEvent::Op::kInsert) addKey(e, index, e.before);
    if (e.op != pipeline::ChangeEvent::Op::kDelete) addKey(e, index, e.after);
  }
}

void ChangedKeys::addKey(const pipeline::ChangeEvent& e, const std::vector<size_t>& index,
                         const mysql::RowImage& image) {
  std::vector<std::string> key;
  for (size_t i : index) {
    if (!image.has(i) || i >= e.table_info->columns.size()) return;
    auto literal = sink::matchLiteral(image.values[i], e.table_info->columns[i]);
    if (!literal.ok()) return;  // a value the applier could not write either
    key.push_back(std::move(literal).value());
  }
  std::lock_guard<std::mutex> lock(mu_);
  auto& keys = keys_[e.database + "." + e.table];
  if (keys.count(key) != 0) return;
  if (held_ >= max_keys_) {
    ++dropped_;
    return;
  }
  keys.insert(std::move(key));
  ++held_;
  ++collected_;
}

std::vector<ChangedRows> ChangedKeys::take() {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<ChangedRows> out;
  for (auto& [table, keys] : keys_) {
    if (keys.empty()) continue;
    ChangedRows rows;
    rows.source_table = table;
    rows.keys.assign(keys.begin(), keys.end());
    out.push_back(std::move(rows));
  }
  keys_.clear();
  held_ = 0;
  return out;
}

uint64_t ChangedKeys::dropped() const {
  std::lock_guard<std::mutex> lock(mu_);
  return dropped_;
}

uint64_t ChangedKeys::collected() const {
  std::lock_guard<std::mutex> lock(mu_);
  return collected_;
}

}  // namespace dts::task
