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

Result<bool> SourceFilterEvaluator::evaluate(const pipeline::RowFilter& filter,
                                             const mysql::TableInfo& table,
                                             const mysql::RowImage& row) {
  if (conn_ == nullptr) DTS_RETURN_IF_ERROR(connect());
  auto quote = [this](std::string_view s) { return conn_->quoteString(s); };
  DTS_ASSIGN_OR_RETURN(std::string expr, filter.toSqlForRow(table, row, quote));
  std::string select = "SELECT (" + expr + ") IS TRUE";
  if (auto it = cache_.find(select); it != cache_.end()) return it->second;
  DTS_ASSIGN_OR_RETURN(bool selected, run(select));
  if (cache_.size() >= kMaxCached) cache_.clear();
  cache_.emplace(std::move(select), selected);
  return selected;
}

}  // namespace dts::source
