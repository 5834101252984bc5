#include "pipeline/mapping_stage.h"

#include <algorithm>
#include <map>

#include "common/strings.h"
#include "pipeline/ddl_rewrite.h"
#include "pipeline/row_filter.h"

namespace dts::pipeline {
namespace {
// More definitions than any task has tables means a producer that makes one per row: start over
// rather than grow.
constexpr size_t kMaxCachedTables = 4096;
}  // namespace

// The source's answers for a piece's rows, asked for together before the rows are mapped one by
// one (Mapping::mapRow asks its evaluator row by row); a row it has no answer for goes to the
// source itself.
class PrejudgedRows final : public FilterEvaluator {
 public:
  explicit PrejudgedRows(FilterEvaluator* source) : source_(source) {}
  Result<bool> evaluate(const RowFilter& filter, const mysql::TableInfo& table,
                        const mysql::RowImage& row) override {
    if (auto it = answers.find(&row); it != answers.end()) return it->second;
    return source_->evaluate(filter, table, row);
  }
  std::unordered_map<const mysql::RowImage*, bool> answers;

 private:
  FilterEvaluator* source_;
};

Status MappingStage::judgeTogether(Transaction* piece, PrejudgedRows* out) {
  // The rows the source must judge, by filter and definition, in the piece's order.
  using Group = std::pair<const RowFilter*, const mysql::TableInfo*>;
  std::map<Group, std::vector<const mysql::RowImage*>> groups;
  size_t pending = 0;
  for (ChangeEvent& ev : piece->events) {
    if (ev.op == ChangeEvent::Op::kDdl) continue;
    auto table = resolve(ev);
    if (!table.ok()) return Status::OK();  // map() reports it
    const ResolvedTable& t = **table;
    if (!t.moved || !t.route.dml.allows(ev.op) || t.route.filter == nullptr) continue;
    for (const mysql::RowImage* image : {ev.op != ChangeEvent::Op::kInsert ? &ev.before : nullptr,
                                         ev.op != ChangeEvent::Op::kDelete ? &ev.after : nullptr}) {
      if (image == nullptr) continue;
      auto local = t.route.filter->matchesLocally(*t.source, *image);
      if (!local.ok() || local->has_value()) continue;  // errors: map() reports them per row
      groups[{t.route.filter.get(), t.source.get()}].push_back(image);
      ++pending;
    }
  }
  if (pending < 2) return Status::OK();  // nothing to gain
  for (const auto& [group, rows] : groups) {
    const auto& [filter, info] = group;
    auto answers = source_->evaluateMany(*filter, *info, rows);
    if (!answers.ok()) {
      return answers.status().withContext("where: evaluating the filter of " + info->database +
                                          "." + info->table + " at the source for " +
                                          std::to_string(rows.size()) + " rows");
    }
    for (size_t i = 0; i < rows.size(); ++i) out->answers[rows[i]] = (*answers)[i];
  }
  return Status::OK();
}

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
  // Without DDL (which may change definitions between rows), the rows only the source can judge
  // are judged in a few statements rather than one each.
  PrejudgedRows prejudged(source_);
  FilterEvaluator* source = source_;
  if (mapping_ != nullptr && source_ != nullptr && !ddl_seen) {
    if (Status st = judgeTogether(piece, &prejudged); !st.ok()) return context(st);
    if (!prejudged.answers.empty()) source = &prejudged;
  }
  size_t out = 0;
  for (size_t i = 0; i < piece->events.size(); ++i) {
    ChangeEvent& ev = piece->events[i];
    bool keep = true;
    if (ev.op == ChangeEvent::Op::kDdl) {
      auto r = rewriteDdl(ev.sql, ev.database, mapping_.get(), ddl_use_, ddlLexerOptions(ev));
      if (!r.ok()) return context(r.status());
      keep = r->has_value();
      if (keep && !(*r)->not_applied.empty()) {
        keep = false;
        not_applied_.push_back("transaction " +
                               (piece->gtid.empty() ? std::string("(no GTID)") : piece->gtid) +
                               ": " + (*r)->not_applied + ": " + excerpt(ev.sql));
      }
      if (keep) {
        ev.ddl_holds_no_rows = (*r)->holds_no_rows;
        ev.sql = std::move((*r)->sql);
        ev.database = std::move((*r)->target_database);
        if (!(*r)->table.empty()) ev.table = std::move((*r)->table);
        ev.ddl_tables = std::move((*r)->tables);
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
      auto moved = Mapping::mapRow(**table, &ev, source);
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
