#include "pipeline/mapping_stage.h"

#include <algorithm>

#include "pipeline/ddl_rewrite.h"

namespace dts::pipeline {
namespace {
// More definitions than any task has tables means a producer that makes one per row: start over
// rather than grow.
constexpr size_t kMaxCachedTables = 4096;
}  // namespace

MappingStage::MappingStage(std::shared_ptr<const Mapping> mapping, FilterEvaluator* source,
                           DdlUse ddl)
    : mapping_(std::move(mapping)), source_(source), ddl_use_(ddl) {}

Result<const ResolvedTable*> MappingStage::resolve(const ChangeEvent& ev) {
  const mysql::TableInfo* key = ev.table_info.get();
  if (key == last_key_ && key != nullptr) return last_;
  auto it = tables_.find(key);
  if (it == tables_.end() || key == nullptr) {
    DTS_ASSIGN_OR_RETURN(ResolvedTable r, mapping_->resolve(ev.database, ev.table, ev.table_info));
    ++resolutions_;
    if (key == nullptr) {  // not moved (resolve refuses a moved table without a definition)
      static const ResolvedTable kNotMoved;
      return &kNotMoved;
    }
    if (tables_.size() >= kMaxCachedTables) tables_.clear();
    it = tables_.emplace(key, std::move(r)).first;
  }
  last_key_ = key;
  last_ = &it->second;
  return last_;
}

Status MappingStage::map(Transaction* piece) {
  auto context = [&](const Status& st) {
    return st.withContext("transaction " +
                          (piece->gtid.empty() ? std::string("(no GTID)") : piece->gtid));
  };
  bool ddl_seen = false;
  for (const ChangeEvent& ev : piece->events) ddl_seen = ddl_seen || ev.op == ChangeEvent::Op::kDdl;
  if (ddl_seen) {
    // A DDL may change any definition: resolve every table again after it.
    tables_.clear();
    last_key_ = nullptr;
    last_ = nullptr;
  }
  if (mapping_ == nullptr && !ddl_seen) return Status::OK();
  size_t out = 0;
  for (size_t i = 0; i < piece->events.size(); ++i) {
    ChangeEvent& ev = piece->events[i];
    bool keep = true;
    if (ev.op == ChangeEvent::Op::kDdl) {
      auto r = rewriteDdl(ev.sql, ev.database, mapping_.get(), ddl_use_);
      if (!r.ok()) return context(r.status());
      keep = r->has_value();
      if (keep) {
        ev.sql = std::move((*r)->sql);
        ev.database = std::move((*r)->target_database);
        if (!(*r)->table.empty()) ev.table = std::move((*r)->table);
        if (ev.table_info != nullptr && mapping_ != nullptr) {
          // The new definition, as the task moves the table (target names, selected columns);
          // none for a table the task does not move.
          const mysql::TableInfo& def = *ev.table_info;
          auto resolved = mapping_->resolve(def.database, def.table, ev.table_info);
          if (!resolved.ok()) return context(resolved.status());
          ev.table_info = resolved->moved ? resolved->target : nullptr;
        }
      }
    } else if (mapping_ != nullptr) {
      auto table = resolve(ev);
      if (!table.ok()) return context(table.status());
      auto moved = Mapping::mapRow(**table, &ev, source_);
      if (!moved.ok()) return context(moved.status());
      keep = *moved;
    }
    if (!keep) continue;
    if (out != i) piece->events[out] = std::move(ev);
    ++out;
  }
  piece->events.resize(out);
  return Status::OK();
}

}  // namespace dts::pipeline
