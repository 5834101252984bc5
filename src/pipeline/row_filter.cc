#include "pipeline/row_filter.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdlib>
#include <optional>

#include "common/strings.h"
#include "mysql/connection.h"

namespace dts::pipeline {

namespace {

// A scalar during evaluation: NULL, a number, or a string (binary = compare byte-wise).
struct Scalar {
  enum class Kind { kNull, kNumber, kString } kind = Kind::kNull;
  long double number = 0;
  std::string text;
  bool binary = false;

  static Scalar null() { return {}; }
  static Scalar ofNumber(long double v) {
    Scalar s;
    s.kind = Kind::kNumber;
    s.number = v;
    return s;
  }
  static Scalar ofString(std::string v, bool binary) {
    Scalar s;
    s.kind = Kind::kString;
    s.text = std::move(v);
    s.binary = binary;
    return s;
  }
  static Scalar ofBool(std::optional<bool> b) {
    if (!b.has_value()) return null();
    return ofNumber(*b ? 1 : 0);
  }
  bool isNull() const { return kind == Kind::kNull; }
};

// MySQL's string-to-number conversion: the longest numeric prefix, 0 when there is none.
long double toNumber(const Scalar& s) {
  if (s.kind == Scalar::Kind::kNumber) return s.number;
  const char* begin = s.text.c_str();
  while (*begin == ' ' || *begin == '\t') ++begin;
  char* end = nullptr;
  long double v = std::strtold(begin, &end);
  if (end == begin) return 0;
  return v;
}

// The truth of a scalar: nullopt for NULL.
std::optional<bool> truth(const Scalar& s) {
  if (s.isNull()) return std::nullopt;
  return toNumber(s) != 0;
}

int compareStrings(const std::string& a, const std::string& b, bool binary) {
  if (binary) return a.compare(b);
  // Trailing spaces are not significant for PAD SPACE collations (the default ones).
  size_t na = a.size(), nb = b.size();
  while (na > 0 && a[na - 1] == ' ') --na;
  while (nb > 0 && b[nb - 1] == ' ') --nb;
  size_t n = std::min(na, nb);
  for (size_t i = 0; i < n; ++i) {
    int ca = static_cast<unsigned char>(toAsciiLower(a[i]));
    int cb = static_cast<unsigned char>(toAsciiLower(b[i]));
    if (ca != cb) return ca < cb ? -1 : 1;
  }
  if (na == nb) return 0;
  return na < nb ? -1 : 1;
}

// nullopt when either side is NULL.
std::optional<int> compare(const Scalar& a, const Scalar& b) {
  if (a.isNull() || b.isNull()) return std::nullopt;
  if (a.kind == Scalar::Kind::kString && b.kind == Scalar::Kind::kString) {
    return compareStrings(a.text, b.text, a.binary || b.binary);
  }
  long double x = toNumber(a), y = toNumber(b);
  if (x < y) return -1;
  if (x > y) return 1;
  return 0;
}

bool likeMatch(std::string_view text, std::string_view pattern, bool binary) {
  auto eq = [binary](char a, char b) {
    if (binary) return a == b;
    return toAsciiLower(a) == toAsciiLower(b);
  };
  // Iterative wildcard matching with backtracking to the last '%'.
  size_t t = 0, p = 0, star_p = std::string_view::npos, star_t = 0;
  while (t < text.size()) {
    if (p < pattern.size() && pattern[p] == '\\' && p + 1 < pattern.size()) {
      if (eq(text[t], pattern[p + 1])) {
        t++;
        p += 2;
        continue;
      }
    } else if (p < pattern.size() && pattern[p] == '%') {
      star_p = p++;
      star_t = t;
      continue;
    } else if (p < pattern.size() && (pattern[p] == '_' || eq(text[t], pattern[p]))) {
      t++;
      p++;
      continue;
    }
    if (star_p == std::string_view::npos) return false;
    p = star_p + 1;
    t = ++star_t;
  }
  while (p < pattern.size() && pattern[p] == '%') p++;
  return p == pattern.size();
}

Scalar fromValue(const mysql::Value& v, const mysql::ColumnInfo& col) {
  using K = mysql::Value::Kind;
  switch (v.kind) {
    case K::kNull: return Scalar::null();
    case K::kInt: return Scalar::ofNumber(static_cast<long double>(v.i));
    case K::kUInt: return Scalar::ofNumber(static_cast<long double>(v.u));
    case K::kFloat:
    case K::kDouble: return Scalar::ofNumber(v.d);
    case K::kBit: return Scalar::ofNumber(static_cast<long double>(v.u));
    case K::kDecimal: return Scalar::ofNumber(std::strtold(v.s.c_str(), nullptr));
    case K::kEnum:
    case K::kSet:
      if (v.s.empty() && v.u != 0) return Scalar::ofNumber(static_cast<long double>(v.u));
      return Scalar::ofString(v.s, false);
    case K::kBytes: return Scalar::ofString(v.s, true);
    case K::kString: return Scalar::ofString(v.s, col.collation == mysql::kBinaryCollation);
    case K::kTemporal:
    case K::kJson: return Scalar::ofString(v.s, true);
  }
  return Scalar::null();
}

}  // namespace

struct RowFilter::Node {
  enum class Type {
    kLiteral,
    kColumn,
    kNot,
    kAnd,
    kOr,
    kCompare,  // op
    kIsNull,   // negated
    kIn,       // negated; children[0] operand, rest the list
    kBetween,  // negated; children: operand, low, high
    kLike,     // negated; children: operand, pattern
  };
  Type type = Type::kLiteral;
  Scalar literal;
  std::string raw;  // a number literal as written (for toSql)
  std::string column;
  std::string op;
  bool negated = false;
  std::vector<std::unique_ptr<Node>> children;
};

namespace {

using Node = RowFilter::Node;

class Parser {
 public:
  explicit Parser(std::string_view text) : text_(text) {}

  Result<std::unique_ptr<Node>> parse() {
    DTS_ASSIGN_OR_RETURN(auto root, parseOr());
    skipSpace();
    if (pos_ < text_.size())
      return error("unexpected '" + std::string(text_.substr(pos_, 20)) + "'");
    return root;
  }

  std::vector<std::string> columns;

 private:
  Status error(const std::string& what) const {
    return Status::InvalidArgument("where: " + what + " at offset " + std::to_string(pos_));
  }

  void skipSpace() {
    while (pos_ < text_.size() && isAsciiSpace(text_[pos_])) ++pos_;
  }

  static bool isWordChar(char c) {
    return isAsciiAlnum(c) || c == '_' || c == '$' || static_cast<unsigned char>(c) >= 0x80;
  }

  // Consumes keyword kw (case-insensitive, whole word) if next.
  bool keyword(std::string_view kw) {
    skipSpace();
    if (pos_ + kw.size() > text_.size()) return false;
    if (!equalsIgnoreCase(text_.substr(pos_, kw.size()), kw)) return false;
    if (pos_ + kw.size() < text_.size() && isWordChar(text_[pos_ + kw.size()])) return false;
    pos_ += kw.size();
    return true;
  }

  bool symbol(std::string_view sym) {
    skipSpace();
    if (text_.substr(pos_, sym.size()) != sym) return false;
    pos_ += sym.size();
    return true;
  }

  Result<std::unique_ptr<Node>> parseOr() {
    DTS_ASSIGN_OR_RETURN(auto left, parseAnd());
    while (keyword("OR") || symbol("||")) {
      DTS_ASSIGN_OR_RETURN(auto right, parseAnd());
      auto n = std::make_unique<Node>();
      n->type = Node::Type::kOr;
      n->children.push_back(std::move(left));
      n->children.push_back(std::move(right));
      left = std::move(n);
    }
    return left;
  }

  Result<std::unique_ptr<Node>> parseAnd() {
    DTS_ASSIGN_OR_RETURN(auto left, parseNot());
    while (keyword("AND") || symbol("&&")) {
      DTS_ASSIGN_OR_RETURN(auto right, parseNot());
      auto n = std::make_unique<Node>();
      n->type = Node::Type::kAnd;
      n->children.push_back(std::move(left));
      n->children.push_back(std::move(right));
      left = std::move(n);
    }
    return left;
  }

  Result<std::unique_ptr<Node>> parseNot() {
    if (keyword("NOT")) {
      DTS_ASSIGN_OR_RETURN(auto inner, parseNot());
      auto n = std::make_unique<Node>();
      n->type = Node::Type::kNot;
      n->children.push_back(std::move(inner));
      return n;
    }
    return parsePredicate();
  }

  Result<std::unique_ptr<Node>> parsePredicate() {
    DTS_ASSIGN_OR_RETURN(auto left, parseOperand());
    skipSpace();
    for (std::string_view op : {"<=>", "<>", "!=", "<=", ">=", "=", "<", ">"}) {
      if (symbol(op)) {
        DTS_ASSIGN_OR_RETURN(auto right, parseOperand());
        auto n = std::make_unique<Node>();
        n->type = Node::Type::kCompare;
        n->op = std::string(op == "!=" ? "<>" : op);
        n->children.push_back(std::move(left));
        n->children.push_back(std::move(right));
        return n;
      }
    }
    if (keyword("IS")) {
      auto n = std::make_unique<Node>();
      n->type = Node::Type::kIsNull;
      n->negated = keyword("NOT");
      if (!keyword("NULL")) return error("expected NULL after IS");
      n->children.push_back(std::move(left));
      return n;
    }
    size_t save = pos_;
    bool negated = keyword("NOT");
    if (keyword("IN")) {
      auto n = std::make_unique<Node>();
      n->type = Node::Type::kIn;
      n->negated = negated;
      n->children.push_back(std::move(left));
      if (!symbol("(")) return error("expected '(' after IN");
      do {
        DTS_ASSIGN_OR_RETURN(auto item, parseOperand());
        n->children.push_back(std::move(item));
      } while (symbol(","));
      if (!symbol(")")) return error("expected ')' closing the IN list");
      return n;
    }
    if (keyword("BETWEEN")) {
      auto n = std::make_unique<Node>();
      n->type = Node::Type::kBetween;
      n->negated = negated;
      n->children.push_back(std::move(left));
      DTS_ASSIGN_OR_RETURN(auto low, parseOperand());
      if (!keyword("AND")) return error("expected AND in BETWEEN");
      DTS_ASSIGN_OR_RETURN(auto high, parseOperand());
      n->children.push_back(std::move(low));
      n->children.push_back(std::move(high));
      return n;
    }
    if (keyword("LIKE")) {
      auto n = std::make_unique<Node>();
      n->type = Node::Type::kLike;
      n->negated = negated;
      n->children.push_back(std::move(left));
      DTS_ASSIGN_OR_RETURN(auto pattern, parseOperand());
      if (pattern->type != Node::Type::kLiteral || pattern->literal.kind != Scalar::Kind::kString) {
        return error("LIKE needs a string literal pattern");
      }
      n->children.push_back(std::move(pattern));
      return n;
    }
    if (negated) {
      pos_ = save;
      return error("expected IN, BETWEEN or LIKE after NOT");
    }
    return left;
  }

  Result<std::unique_ptr<Node>> parseOperand() {
    skipSpace();
    if (pos_ >= text_.size()) return error("unexpected end of expression");
    char c = text_[pos_];
    if (c == '(') {
      ++pos_;
      DTS_ASSIGN_OR_RETURN(auto inner, parseOr());
      if (!symbol(")")) return error("expected ')'");
      return inner;
    }
    if (c == '\'' || c == '"') return parseString(c);
    if (c == '`') {
      std::string name;
      ++pos_;
      while (true) {
        if (pos_ >= text_.size()) return error("unterminated `identifier`");
        if (text_[pos_] == '`') {
          if (pos_ + 1 < text_.size() && text_[pos_ + 1] == '`') {
            name.push_back('`');
            pos_ += 2;
            continue;
          }
          ++pos_;
          break;
        }
        name.push_back(text_[pos_++]);
      }
      return columnNode(std::move(name));
    }
    if (std::isdigit(static_cast<unsigned char>(c)) || c == '-' || c == '+' || c == '.') {
      size_t start = pos_;
      if (c == '-' || c == '+') ++pos_;
      skipSpace();
      size_t num_start = pos_;
      while (pos_ < text_.size() &&
             (std::isdigit(static_cast<unsigned char>(text_[pos_])) || text_[pos_] == '.' ||
              text_[pos_] == 'e' || text_[pos_] == 'E' ||
              ((text_[pos_] == '-' || text_[pos_] == '+') && pos_ > num_start &&
               (text_[pos_ - 1] == 'e' || text_[pos_ - 1] == 'E')))) {
        ++pos_;
      }
      std::string digits(text_.substr(num_start, pos_ - num_start));
      char* end = nullptr;
      long double v = digits.empty() ? 0 : std::strtold(digits.c_str(), &end);
      if (digits.empty() || end != digits.c_str() + digits.size()) {
        pos_ = start;
        return error("bad number");
      }
      auto n = std::make_unique<Node>();
      n->type = Node::Type::kLiteral;
      n->literal = Scalar::ofNumber(c == '-' ? -v : v);
      n->raw = (c == '-' ? "-" : "") + digits;
      return n;
    }
    if (isWordChar(c)) {
      size_t start = pos_;
      while (pos_ < text_.size() && isWordChar(text_[pos_])) ++pos_;
      std::string word(text_.substr(start, pos_ - start));
      std::string upper = toUpper(word);
      if (upper == "NULL") return literal(Scalar::null());
      if (upper == "TRUE") return literal(Scalar::ofNumber(1));
      if (upper == "FALSE") return literal(Scalar::ofNumber(0));
      for (const char* reserved : {"AND", "OR", "NOT", "IS", "IN", "LIKE", "BETWEEN", "SELECT"}) {
        if (upper == reserved) {
          pos_ = start;
          return error("expected a column or a value, got " + upper);
        }
      }
      skipSpace();
      if (pos_ < text_.size() && (text_[pos_] == '(' || text_[pos_] == '.')) {
        return error("functions and qualified names are not supported in a row filter ('" + word +
                     "')");
      }
      return columnNode(std::move(word));
    }
    return error(std::string("unexpected '") + c + "'");
  }

  Result<std::unique_ptr<Node>> parseString(char quote) {
    std::string value;
    ++pos_;
    while (true) {
      if (pos_ >= text_.size()) return error("unterminated string");
      char ch = text_[pos_];
      if (ch == quote) {
        if (pos_ + 1 < text_.size() && text_[pos_ + 1] == quote) {
          value.push_back(quote);
          pos_ += 2;
          continue;
        }
        ++pos_;
        break;
      }
      if (ch == '\\' && pos_ + 1 < text_.size()) {
        char e = text_[pos_ + 1];
        switch (e) {
          case 'n': value.push_back('\n'); break;
          case 't': value.push_back('\t'); break;
          case 'r': value.push_back('\r'); break;
          case '0': value.push_back('\0'); break;
          // LIKE patterns keep \% and \_ escaped, as the server does.
          case '%': value += "\\%"; break;
          case '_': value += "\\_"; break;
          default: value.push_back(e); break;
        }
        pos_ += 2;
        continue;
      }
      value.push_back(ch);
      ++pos_;
    }
    return literal(Scalar::ofString(std::move(value), false));
  }

  std::unique_ptr<Node> literal(Scalar s) {
    auto n = std::make_unique<Node>();
    n->type = Node::Type::kLiteral;
    // TRUE / FALSE. push_back: assigning a literal trips GCC 12's -Wrestrict at -O3.
    if (s.kind == Scalar::Kind::kNumber) n->raw.push_back(s.number != 0 ? '1' : '0');
    n->literal = std::move(s);
    return n;
  }

  std::unique_ptr<Node> columnNode(std::string name) {
    if (std::find(columns.begin(), columns.end(), name) == columns.end()) columns.push_back(name);
    auto n = std::make_unique<Node>();
    n->type = Node::Type::kColumn;
    n->column = std::move(name);
    return n;
  }

  std::string_view text_;
  size_t pos_ = 0;
};

struct EvalContext {
  const mysql::TableInfo& table;
  const mysql::RowImage& row;
};

Result<Scalar> eval(const Node& n, const EvalContext& ctx) {
  using T = Node::Type;
  switch (n.type) {
    case T::kLiteral: return n.literal;
    case T::kColumn: {
      for (size_t i = 0; i < ctx.table.columns.size(); ++i) {
        if (ctx.table.columns[i].name != n.column) continue;
        if (i >= ctx.row.values.size() || (i < ctx.row.present.size() && !ctx.row.present[i])) {
          return Status::InvalidArgument(
              "where: column '" + n.column + "' of " + ctx.table.database + "." + ctx.table.table +
              " is not in the row image (binlog_row_image must be FULL)");
        }
        return fromValue(ctx.row.values[i], ctx.table.columns[i]);
      }
      return Status::InvalidArgument("where: table " + ctx.table.database + "." + ctx.table.table +
                                     " has no column '" + n.column + "'");
    }
    case T::kNot: {
      DTS_ASSIGN_OR_RETURN(Scalar v, eval(*n.children[0], ctx));
      auto t = truth(v);
      return Scalar::ofBool(t.has_value() ? std::optional<bool>(!*t) : std::nullopt);
    }
    case T::kAnd:
    case T::kOr: {
      DTS_ASSIGN_OR_RETURN(Scalar a, eval(*n.children[0], ctx));
      DTS_ASSIGN_OR_RETURN(Scalar b, eval(*n.children[1], ctx));
      auto x = truth(a), y = truth(b);
      if (n.type == T::kAnd) {
        if ((x.has_value() && !*x) || (y.has_value() && !*y)) return Scalar::ofBool(false);
        if (!x.has_value() || !y.has_value()) return Scalar::null();
        return Scalar::ofBool(true);
      }
      if ((x.has_value() && *x) || (y.has_value() && *y)) return Scalar::ofBool(true);
      if (!x.has_value() || !y.has_value()) return Scalar::null();
      return Scalar::ofBool(false);
    }
    case T::kCompare: {
      DTS_ASSIGN_OR_RETURN(Scalar a, eval(*n.children[0], ctx));
      DTS_ASSIGN_OR_RETURN(Scalar b, eval(*n.children[1], ctx));
      if (n.op == "<=>") {
        if (a.isNull() || b.isNull()) return Scalar::ofBool(a.isNull() && b.isNull());
        return Scalar::ofBool(*compare(a, b) == 0);
      }
      auto c = compare(a, b);
      if (!c.has_value()) return Scalar::null();
      if (n.op == "=") return Scalar::ofBool(*c == 0);
      if (n.op == "<>") return Scalar::ofBool(*c != 0);
      if (n.op == "<") return Scalar::ofBool(*c < 0);
      if (n.op == "<=") return Scalar::ofBool(*c <= 0);
      if (n.op == ">") return Scalar::ofBool(*c > 0);
      return Scalar::ofBool(*c >= 0);
    }
    case T::kIsNull: {
      DTS_ASSIGN_OR_RETURN(Scalar v, eval(*n.children[0], ctx));
      return Scalar::ofBool(v.isNull() != n.negated);
    }
    case T::kIn: {
      DTS_ASSIGN_OR_RETURN(Scalar v, eval(*n.children[0], ctx));
      if (v.isNull()) return Scalar::null();
      bool saw_null = false;
      for (size_t i = 1; i < n.children.size(); ++i) {
        DTS_ASSIGN_OR_RETURN(Scalar item, eval(*n.children[i], ctx));
        auto c = compare(v, item);
        if (!c.has_value()) {
          saw_null = true;
        } else if (*c == 0) {
          return Scalar::ofBool(!n.negated);
        }
      }
      if (saw_null) return Scalar::null();
      return Scalar::ofBool(n.negated);
    }
    case T::kBetween: {
      DTS_ASSIGN_OR_RETURN(Scalar v, eval(*n.children[0], ctx));
      DTS_ASSIGN_OR_RETURN(Scalar lo, eval(*n.children[1], ctx));
      DTS_ASSIGN_OR_RETURN(Scalar hi, eval(*n.children[2], ctx));
      auto a = compare(v, lo), b = compare(v, hi);
      // -1: false, 0: unknown, 1: true (plain ints keep -Wmaybe-uninitialized quiet).
      int ge = a.has_value() ? (*a >= 0 ? 1 : -1) : 0;
      int le = b.has_value() ? (*b <= 0 ? 1 : -1) : 0;
      if (ge < 0 || le < 0) return Scalar::ofBool(n.negated);
      if (ge == 0 || le == 0) return Scalar::null();
      return Scalar::ofBool(!n.negated);
    }
    case T::kLike: {
      DTS_ASSIGN_OR_RETURN(Scalar v, eval(*n.children[0], ctx));
      if (v.isNull()) return Scalar::null();
      std::string text = v.kind == Scalar::Kind::kString ? v.text : [&] {
        std::string s = std::to_string(static_cast<double>(v.number));
        if (v.number == static_cast<long double>(static_cast<long long>(v.number))) {
          s = std::to_string(static_cast<long long>(v.number));
        }
        return s;
      }();
      bool m = likeMatch(text, n.children[1]->literal.text, v.binary);
      return Scalar::ofBool(m != n.negated);
    }
  }
  return Status::Internal("where: unknown expression node");
}

std::string toSqlNode(const Node& n, const std::function<std::string(std::string_view)>& q) {
  using T = Node::Type;
  auto child = [&](size_t i) { return toSqlNode(*n.children[i], q); };
  std::string neg = n.negated ? "NOT " : "";
  switch (n.type) {
    case T::kLiteral:
      if (n.literal.kind == Scalar::Kind::kNull) return "NULL";
      if (n.literal.kind == Scalar::Kind::kNumber) return n.raw;
      return q(n.literal.text);
    case T::kColumn: return mysql::quoteIdentifier(n.column);
    case T::kNot: return "(NOT " + child(0) + ")";
    case T::kAnd: return "(" + child(0) + " AND " + child(1) + ")";
    case T::kOr: return "(" + child(0) + " OR " + child(1) + ")";
    case T::kCompare: return "(" + child(0) + " " + n.op + " " + child(1) + ")";
    case T::kIsNull: return "(" + child(0) + " IS " + neg + "NULL)";
    case T::kIn: {
      std::string s = "(" + child(0) + " " + neg + "IN (";
      for (size_t i = 1; i < n.children.size(); ++i) s += (i > 1 ? ", " : "") + child(i);
      return s + "))";
    }
    case T::kBetween:
      return "(" + child(0) + " " + neg + "BETWEEN " + child(1) + " AND " + child(2) + ")";
    case T::kLike: return "(" + child(0) + " " + neg + "LIKE " + child(1) + ")";
  }
  return "";
}

}  // namespace

RowFilter::~RowFilter() = default;

std::string RowFilter::toSql(
    const std::function<std::string(std::string_view)>& quote_string) const {
  return toSqlNode(*root_, quote_string);
}

Result<std::shared_ptr<const RowFilter>> RowFilter::compile(std::string_view where) {
  Parser parser(where);
  DTS_ASSIGN_OR_RETURN(auto root, parser.parse());
  std::shared_ptr<RowFilter> f(new RowFilter());
  f->text_ = std::string(where);
  f->columns_ = std::move(parser.columns);
  f->root_ = std::move(root);
  return std::shared_ptr<const RowFilter>(std::move(f));
}

Result<bool> RowFilter::matches(const mysql::TableInfo& table, const mysql::RowImage& row) const {
  DTS_ASSIGN_OR_RETURN(Scalar v, eval(*root_, EvalContext{table, row}));
  auto t = truth(v);
  return t.has_value() && *t;
}

}  // namespace dts::pipeline
