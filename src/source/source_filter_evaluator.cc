#include "source/source_filter_evaluator.h"

#include "common/log.h"
#include "pipeline/row_filter.h"

namespace dts::source {

SourceFilterEvaluator::SourceFilterEvaluator(mysql::ConnectOptions options)
    : options_(std::move(options)) {}

SourceFilterEvaluator::~SourceFilterEvaluator() = default;

Status SourceFilterEvaluator::connect() {
  conn_.reset();
  DTS_ASSIGN_OR_RETURN(auto conn, mysql::Connection::connect(options_));
  DTS_RETURN_IF_ERROR(conn->execute("SET SESSION time_zone = '+00:00'"));
  // Values carry their column's coercibility through CAST(.. COLLATE ..) where the server has it
  // (MariaDB 10.x accepts it; a server that refuses the syntax gets COLLATE clauses).
  auto probe = conn->queryValue(
      "SELECT COERCIBILITY(CAST(_utf8mb4 X'61' AS CHAR CHARACTER SET utf8mb4 COLLATE "
      "utf8mb4_bin))");
  if (!probe.ok() && probe.status().code() == Status::Code::kUnavailable) return probe.status();
  options_for_row_.implicit_collation = probe.ok() && probe->value_or("") == "2";
  if (!options_for_row_.implicit_collation) {
    spdlog::warn(
        "row filter: the source has no CAST(.. COLLATE ..); two columns of different collations "
        "in one filter expression may fail with the server's 'illegal mix of collations'");
  }
  conn_ = std::move(conn);
  return Status::OK();
}

Result<bool> SourceFilterEvaluator::run(const std::string& select) {
  if (conn_ == nullptr) DTS_RETURN_IF_ERROR(connect());
  ++queries_;
  auto v = conn_->queryValue(select);
  if (!v.ok() && v.status().code() == Status::Code::kUnavailable) {
    // Lost since the last row: once more on a new connection (the SELECT changes nothing).
    spdlog::info("row filter: source connection lost ({}); reconnecting", v.status().toString());
    DTS_RETURN_IF_ERROR(connect());
    v = conn_->queryValue(select);
  }
  if (!v.ok()) {
    if (v.status().code() == Status::Code::kUnavailable) conn_.reset();
    return v.status();
  }
  if (!v->has_value() || (**v != "0" && **v != "1")) {
    return Status::Internal("the source answered '" + v->value_or("NULL") + "' to " + select);
  }
  return **v == "1";
}

Result<std::vector<bool>> SourceFilterEvaluator::runMany(const std::string& select, size_t n) {
  if (conn_ == nullptr) DTS_RETURN_IF_ERROR(connect());
  ++queries_;
  auto r = conn_->query(select);
  if (!r.ok() && r.status().code() == Status::Code::kUnavailable) {
    spdlog::info("row filter: source connection lost ({}); reconnecting", r.status().toString());
    DTS_RETURN_IF_ERROR(connect());
    r = conn_->query(select);
  }
  if (!r.ok()) {
    if (r.status().code() == Status::Code::kUnavailable) conn_.reset();
    return r.status();
  }
  if (r->rows.size() != 1 || r->rows[0].size() != n) {
    return Status::Internal("the source answered " + std::to_string(r->rows.size()) +
                            " rows to a filter batch of " + std::to_string(n) + " expressions");
  }
  std::vector<bool> out;
  out.reserve(n);
  for (const auto& v : r->rows[0]) {
    if (!v.has_value() || (*v != "0" && *v != "1")) {
      return Status::Internal("the source answered '" + v.value_or("NULL") +
                              "' to a row filter expression");
    }
    out.push_back(*v == "1");
  }
  return out;
}

void SourceFilterEvaluator::remember(std::string expr, bool selected) {
  if (cache_.size() >= kMaxCached) cache_.clear();
  cache_.emplace(std::move(expr), selected);
}

Result<std::vector<bool>> SourceFilterEvaluator::evaluateMany(
    const pipeline::RowFilter& filter, const mysql::TableInfo& table,
    const std::vector<const mysql::RowImage*>& rows) {
  if (conn_ == nullptr) DTS_RETURN_IF_ERROR(connect());
  auto quote = [this](std::string_view s) { return conn_->quoteString(s); };
  std::vector<bool> out(rows.size());
  // The rows not answered yet: their index and cache key ("SELECT (expr) IS TRUE", as evaluate's).
  std::vector<std::pair<size_t, std::string>> pending;
  std::string select;
  auto flush = [&]() -> Status {
    if (pending.empty()) return Status::OK();
    DTS_ASSIGN_OR_RETURN(std::vector<bool> answers, runMany(select, pending.size()));
    for (size_t k = 0; k < pending.size(); ++k) {
      out[pending[k].first] = answers[k];
      remember(std::move(pending[k].second), answers[k]);
    }
    pending.clear();
    select.clear();
    return Status::OK();
  };
  for (size_t i = 0; i < rows.size(); ++i) {
    DTS_ASSIGN_OR_RETURN(std::string expr,
                         filter.toSqlForRow(table, *rows[i], quote, options_for_row_));
    std::string key = "SELECT (" + expr + ") IS TRUE";
    if (auto it = cache_.find(key); it != cache_.end()) {
      out[i] = it->second;
      continue;
    }
    if (!pending.empty() &&
        (pending.size() >= kMaxBatchRows || select.size() + expr.size() > kMaxBatchBytes)) {
      DTS_RETURN_IF_ERROR(flush());
    }
    select += (pending.empty() ? "SELECT (" : ", (") + expr + ") IS TRUE";
    pending.emplace_back(i, std::move(key));
  }
  DTS_RETURN_IF_ERROR(flush());
  return out;
}

Result<bool> SourceFilterEvaluator::evaluate(const pipeline::RowFilter& filter,
                                             const mysql::TableInfo& table,
                                             const mysql::RowImage& row) {
  if (conn_ == nullptr) DTS_RETURN_IF_ERROR(connect());
  auto quote = [this](std::string_view s) { return conn_->quoteString(s); };
  DTS_ASSIGN_OR_RETURN(std::string expr, filter.toSqlForRow(table, row, quote, options_for_row_));
  std::string select = "SELECT (" + expr + ") IS TRUE";
  if (auto it = cache_.find(select); it != cache_.end()) return it->second;
  DTS_ASSIGN_OR_RETURN(bool selected, run(select));
  remember(std::move(select), selected);
  return selected;
}

}  // namespace dts::source
