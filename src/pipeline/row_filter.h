// RowFilter: a task's `where:` expression, compiled once and evaluated on decoded row images, so
// that incremental changes are selected by the same condition the full-data phase sends to the
// source as SQL. The accepted language is the small, portable subset of SQL a row filter needs;
// anything else is refused at compile time (so a filter never means one thing in the full phase
// and another in the incremental phase):
//
//   expr      := expr OR expr | expr AND expr | NOT expr | ( expr ) | predicate
//   predicate := operand (= | <> | != | < | <= | > | >= | <=>) operand
//              | operand IS [NOT] NULL
//              | operand [NOT] IN ( operand, ... )
//              | operand [NOT] BETWEEN operand AND operand
//              | operand [NOT] LIKE 'pattern'
//              | operand                      (true when non-zero, as in SQL)
//   operand   := column | `quoted column` | number | -number | 'string' | "string" | NULL | TRUE
//              | FALSE
//
// Evaluation follows SQL: NULL makes comparisons unknown and a row is selected only when the
// whole expression is TRUE. Comparing a number with a string compares numerically; two strings
// compare case-insensitively (ASCII) for text columns and byte-wise for binary ones, which matches
// the server for the default *_general_ci / *_unicode_ci collations on ASCII data.
// Thread-safety: immutable after compile(); matches() may run on many threads at once.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "mysql/table_info.h"

namespace dts::pipeline {

class RowFilter {
 public:
  struct Node;  // the expression tree (row_filter.cc)

  ~RowFilter();

  // Compiles where; kInvalidArgument naming the offset and what was expected.
  static Result<std::shared_ptr<const RowFilter>> compile(std::string_view where);

  const std::string& text() const { return text_; }
  // Every column the expression reads, in first-use order, without duplicates.
  const std::vector<std::string>& columns() const { return columns_; }

  // The expression as SQL for the source server: identifiers through mysql::quoteIdentifier,
  // strings through quote_string (Connection::quoteString), numbers as written, fully
  // parenthesized, so the server evaluates exactly the tree that matches() evaluates.
  std::string toSql(const std::function<std::string(std::string_view)>& quote_string) const;

  // True when the expression is TRUE for the row. kInvalidArgument when it names a column the
  // table does not have, or that the image does not include.
  Result<bool> matches(const mysql::TableInfo& table, const mysql::RowImage& row) const;

 private:
  RowFilter() = default;
  std::string text_;
  std::vector<std::string> columns_;
  std::unique_ptr<Node> root_;
};

}  // namespace dts::pipeline
