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
// whole expression is TRUE. The full-data phase runs the filter at the source server (toSql); the
// incremental phase must select exactly the rows that server would, so a row is judged in dts
// only when dts provably computes the server's answer, and by the source server otherwise
// (matches() with a FilterEvaluator, which runs toSqlForRow()). Judged in dts:
//   - NULL tests (IS [NOT] NULL, <=> NULL, NULL operands);
//   - numbers against numbers: integers, DECIMAL and exact literals compared as exact decimals,
//     FLOAT/DOUBLE and literals with an exponent as doubles (as the server compares them), except
//     a BIGINT against an integral double, which the server compares as integers; a YEAR column
//     only against 0 or a four-digit year, as a number or a string (the server reads 24 and '24'
//     as 2024: refused otherwise);
//   - a string column against a string literal under a byte-ordered collation (binary, *_bin of
//     utf8mb4/utf8mb3/latin1/ascii; a non-utf8mb4 one only with an ASCII literal), with the
//     collation's PAD SPACE / NO PAD rule; LIKE there only on single-byte text;
//   - equality (=, <>, <=>, IN) of printable-ASCII values under the common case-insensitive
//     collations (general_ci, unicode_ci, unicode_520_ci, 0900_ai_ci, uca1400_ai_ci,
//     latin1_swedish_ci, ascii_general_ci), where it is ASCII case folding.
// Everything else goes to the server: other collations, non-ASCII text under a *_ci collation,
// string ordering and LIKE under *_ci, temporal, ENUM, SET, JSON values, numbers against
// strings, column against column. A row is never passed or dropped on a guess: without an
// evaluator such a row is an error.
// Thread-safety: immutable after compile(); matches() may run on many threads at once (each with
// its own evaluator).
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "mysql/table_info.h"

namespace dts::pipeline {

class FilterEvaluator;  // filter_evaluator.h

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

  struct RowSqlOptions {
    // Strings as CAST(_cs X'..' AS CHAR CHARACTER SET cs COLLATE c): a column's coercibility
    // (IMPLICIT), so two columns of different collations meet as on the real columns. False for
    // a server without COLLATE in CAST: `_cs X'..' COLLATE c` (EXPLICIT), where two different
    // collations of one character set are the server's "illegal mix of collations".
    bool implicit_collation = true;
  };

  // The expression with every column replaced by the row's value as a literal the server
  // compares as it compares the column (strings in the column's character set and collation with
  // its coercibility, `_binary X'..'`, exact numbers, doubles with an exponent,
  // CAST('..' AS DATETIME(6)), an ENUM's index or name as the other operands read it, a BIT's
  // bytes and a YEAR's four digits as LIKE's subject, NULL), for a session with time_zone
  // '+00:00'. A constant compared with a BIGINT or YEAR column is sent as the integer the server
  // converts it to (it does so only for a column). kUnsupported for what no literal reproduces
  // (an ENUM in a BETWEEN of numbers and strings, a BIGINT beyond 2^53 against a string that is
  // not an integer, a collation dts does not know).
  Result<std::string> toSqlForRow(const mysql::TableInfo& table, const mysql::RowImage& row,
                                  const std::function<std::string(std::string_view)>& quote_string,
                                  const RowSqlOptions& options) const;
  Result<std::string> toSqlForRow(
      const mysql::TableInfo& table, const mysql::RowImage& row,
      const std::function<std::string(std::string_view)>& quote_string) const {
    return toSqlForRow(table, row, quote_string, RowSqlOptions{});
  }

  // The local judgement alone: true/false when dts computes exactly what the server would,
  // nullopt when only the server can tell (*why, when given, says why).
  Result<std::optional<bool>> matchesLocally(const mysql::TableInfo& table,
                                             const mysql::RowImage& row,
                                             std::string* why = nullptr) const;

  // kUnsupported, as matches() would return for every row, when the expression compares one of
  // `year_columns` (YEAR columns of database.table) with a constant no row can be judged against
  // (a two-digit year): told before any row is read. OK otherwise.
  Status checkYearConstants(const std::string& database, const std::string& table,
                            const std::vector<std::string>& year_columns) const;

  // True when the expression is TRUE for the row: judged locally when that is exact, else by
  // `source` (FilterEvaluator::evaluate, its errors returned with context; kUnavailable is a lost
  // source connection). kFailedPrecondition when the row needs the server and source is null;
  // kUnsupported for a comparison neither can judge exactly (a YEAR against a two-digit year);
  // kInvalidArgument when it names a column the table does not have, or that the image lacks.
  Result<bool> matches(const mysql::TableInfo& table, const mysql::RowImage& row,
                       FilterEvaluator* source) const;

 private:
  RowFilter() = default;
  std::string text_;
  std::vector<std::string> columns_;
  std::unique_ptr<Node> root_;
};

}  // namespace dts::pipeline
