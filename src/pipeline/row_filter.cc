#include "pipeline/row_filter.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <optional>

#include "common/strings.h"
#include "mysql/collations.h"
#include "mysql/connection.h"
#include "pipeline/filter_evaluator.h"

namespace dts::pipeline {

namespace {

// A scalar during local evaluation. Numbers are exact (decimal text: integers, DECIMAL, the
// filter's number literals without an exponent, comparison results) or approximate (a double:
// FLOAT, DOUBLE, literals with an exponent), as the server types them. Strings carry their
// collation: 0 for a literal of the filter (the source connection's collation). kOpaque is a
// value whose comparison rules dts does not reproduce (temporal, ENUM, SET, JSON): only IS NULL
// is judged locally, anything else goes to the server.
struct Scalar {
  enum class Kind { kNull, kNumber, kString, kOpaque } kind = Kind::kNull;
  bool exact = true;  // kNumber: `text` is exact decimal text; else `approx`
  double approx = 0;
  std::string text;  // kNumber exact: decimal text; kString: the bytes
  uint16_t collation = 0;
  bool literal = false;  // written in the filter (not a column's value)
  bool year = false;     // a YEAR column's value
  // A BIGINT column's value: the server converts a constant compared with it to an integer when
  // the constant holds one exactly (convert_const_to_int), so such a comparison is exact.
  bool longlong = false;
  bool is_unsigned = false;

  static Scalar null() { return {}; }
  static Scalar exactNumber(std::string decimal_text, bool literal) {
    Scalar s;
    s.kind = Kind::kNumber;
    s.text = std::move(decimal_text);
    s.literal = literal;
    return s;
  }
  static Scalar approxNumber(double v, bool literal) {
    Scalar s;
    s.kind = Kind::kNumber;
    s.exact = false;
    s.approx = v;
    s.literal = literal;
    return s;
  }
  static Scalar ofString(std::string v, uint16_t collation, bool literal) {
    Scalar s;
    s.kind = Kind::kString;
    s.text = std::move(v);
    s.collation = collation;
    s.literal = literal;
    return s;
  }
  static Scalar opaque() {
    Scalar s;
    s.kind = Kind::kOpaque;
    return s;
  }
  static Scalar ofBool(std::optional<bool> b) {
    if (!b.has_value()) return null();
    return exactNumber(*b ? "1" : "0", false);
  }
  bool isNull() const { return kind == Kind::kNull; }
};

// Why a row could not be judged locally; the first reason wins (for logs and tests).
struct Judgement {
  bool exact = true;
  std::string why;      // the first reason, when !exact
  std::string refused;  // non-empty: not even the server can be asked exactly (an error)
  void giveUp(std::string reason) {
    if (exact) why = std::move(reason);
    exact = false;
  }
  void refuse(std::string reason) {
    if (refused.empty()) refused = std::move(reason);
    exact = false;
  }
};

// Decimal text as [-]digits[.digits] -> sign, integer digits without leading zeros, fraction
// digits without trailing zeros; nullopt when it is not such text.
struct DecimalParts {
  bool negative = false;
  std::string_view int_part, frac_part;
};
std::optional<DecimalParts> decimalParts(std::string_view s) {
  DecimalParts d;
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
    d.negative = s[0] == '-';
    s.remove_prefix(1);
  }
  size_t dot = s.find('.');
  std::string_view ip = s.substr(0, dot),
                   fp = dot == std::string_view::npos ? "" : s.substr(dot + 1);
  if (ip.empty() && fp.empty()) return std::nullopt;
  for (char c : ip)
    if (c < '0' || c > '9') return std::nullopt;
  for (char c : fp)
    if (c < '0' || c > '9') return std::nullopt;
  while (!ip.empty() && ip.front() == '0') ip.remove_prefix(1);
  while (!fp.empty() && fp.back() == '0') fp.remove_suffix(1);
  d.int_part = ip;
  d.frac_part = fp;
  if (ip.empty() && fp.empty()) d.negative = false;  // -0 = 0
  return d;
}

// Exact comparison of two decimal texts; nullopt when one is not decimal text.
std::optional<int> compareDecimal(std::string_view a, std::string_view b) {
  auto x = decimalParts(a), y = decimalParts(b);
  if (!x || !y) return std::nullopt;
  if (x->negative != y->negative) return x->negative ? -1 : 1;
  int sign = x->negative ? -1 : 1;
  if (x->int_part.size() != y->int_part.size())
    return x->int_part.size() < y->int_part.size() ? -sign : sign;
  if (int c = x->int_part.compare(y->int_part); c != 0) return c < 0 ? -sign : sign;
  if (int c = x->frac_part.compare(y->frac_part); c != 0) return c < 0 ? -sign : sign;
  return 0;
}

// The integer a BIGINT column (signed or not) holds for `d`, as decimal text: nullopt when d is
// not an integer of that range. The server compares such a double with the column as this integer.
std::optional<std::string> bigintOfDouble(double d, bool is_unsigned) {
  if (!std::isfinite(d) || std::trunc(d) != d) return std::nullopt;
  if (is_unsigned ? (d < 0 || d >= 18446744073709551616.0)
                  : (d < -9223372036854775808.0 || d >= 9223372036854775808.0)) {
    return std::nullopt;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.0f", d);  // exact: an integral double
  std::string text = buf;
  return text == "-0" ? "0" : text;
}

// A string constant the server converts exactly to an integer of a BIGINT column: [-]digits
// without spaces, leading '+' or fraction, in the column's range. nullopt otherwise.
std::optional<std::string> bigintOfString(std::string_view s, bool is_unsigned) {
  std::string_view digits = s;
  bool negative = !digits.empty() && digits[0] == '-';
  if (negative) digits.remove_prefix(1);
  if (digits.empty() || digits.size() > 20) return std::nullopt;
  for (char c : digits)
    if (c < '0' || c > '9') return std::nullopt;
  while (digits.size() > 1 && digits[0] == '0') digits.remove_prefix(1);
  if (digits == "0") return std::string("0");
  const std::string_view limit = is_unsigned
                                     ? "18446744073709551615"
                                     : (negative ? "9223372036854775808" : "9223372036854775807");
  if (is_unsigned && negative) return std::nullopt;
  if (digits.size() > limit.size() || (digits.size() == limit.size() && digits > limit))
    return std::nullopt;
  return (negative ? "-" : "") + std::string(digits);
}

// A string constant a YEAR column reads as the same four-digit year (1901..2155); the server
// reads other strings by YEAR's rules ('0' and '00' are 2000, '24' is 2024).
std::optional<std::string> yearOfString(std::string_view s) {
  if (s.size() != 4 ||
      !std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return std::nullopt;
  if (s < "1901" || s > "2155") return std::nullopt;
  return std::string(s);
}

// 2^53: below it every integer is a double, so comparing as doubles is exact.
constexpr double kExactDoubleLimit = 9007199254740992.0;

double toDouble(const Scalar& s) {
  return s.exact ? std::strtod(s.text.c_str(), nullptr) : s.approx;
}

bool isAscii(std::string_view s) {
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return static_cast<unsigned char>(c) < 0x80; });
}

bool isPrintableAscii(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c >= 0x20 && c <= 0x7e; });
}

// How dts may compare strings of a collation locally.
enum class LocalStrings {
  kNo,         // never: the server decides
  kBytes,      // byte-wise (binary, *_bin of a charset whose byte order is code point order)
  kAsciiFold,  // printable ASCII equality is ASCII case folding (no ordering, no LIKE)
};

struct CollationRules {
  LocalStrings local = LocalStrings::kNo;
  bool pad_space = true;  // trailing spaces are not significant (PAD SPACE) vs NO PAD
  bool utf8mb4 = false;   // the column's bytes are utf8mb4 (a filter literal's bytes are)
};

CollationRules rulesOf(uint16_t collation) {
  CollationRules r;
  if (collation == mysql::kBinaryCollation) {
    r.local = LocalStrings::kBytes;
    r.pad_space = false;
    return r;
  }
  const mysql::Collation* c = mysql::findCollation(collation);
  if (c == nullptr) return r;
  const std::string charset = c->charset;
  const std::string name = toLower(c->name);
  r.utf8mb4 = charset == "utf8mb4";
  r.pad_space = name.find("nopad") == std::string::npos && name.find("_0900_") == std::string::npos;
  const bool unicode_or_single_byte =
      charset == "utf8mb4" || charset == "utf8mb3" || charset == "latin1" || charset == "ascii";
  if (!unicode_or_single_byte) return r;
  auto endsWith = [&](std::string_view suffix) {
    return name.size() >= suffix.size() &&
           name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0;
  };
  if (endsWith("_bin")) {
    r.local = LocalStrings::kBytes;  // utf8 byte order is code point order; latin1/ascii: one byte
    return r;
  }
  // Collations where two printable ASCII strings are equal exactly when they are equal ignoring
  // ASCII case: no contractions, no ignorable printable characters, no two printable ASCII
  // characters sharing a weight.
  static const char* const kFolding[] = {
      "utf8mb4_general_ci",       "utf8mb3_general_ci",       "utf8mb4_unicode_ci",
      "utf8mb3_unicode_ci",       "utf8mb4_unicode_520_ci",   "utf8mb3_unicode_520_ci",
      "utf8mb4_0900_ai_ci",       "utf8mb4_uca1400_ai_ci",    "utf8mb3_uca1400_ai_ci",
      "latin1_swedish_ci",        "ascii_general_ci",         "utf8mb4_general_nopad_ci",
      "utf8mb3_general_nopad_ci", "utf8mb4_unicode_nopad_ci", "utf8mb3_unicode_nopad_ci",
      "latin1_swedish_nopad_ci",  "ascii_general_nopad_ci",   "utf8mb4_uca1400_ai_ci"};
  for (const char* f : kFolding) {
    if (name == f) r.local = LocalStrings::kAsciiFold;
  }
  return r;
}

// a and b under PAD SPACE (the shorter padded with spaces) or NO PAD; eq folds or not.
int compareBytes(std::string_view a, std::string_view b, bool pad_space, bool fold) {
  size_t n = std::min(a.size(), b.size());
  for (size_t i = 0; i < n; ++i) {
    int ca = static_cast<unsigned char>(fold ? toAsciiLower(a[i]) : a[i]);
    int cb = static_cast<unsigned char>(fold ? toAsciiLower(b[i]) : b[i]);
    if (ca != cb) return ca < cb ? -1 : 1;
  }
  if (a.size() == b.size()) return 0;
  if (!pad_space) return a.size() < b.size() ? -1 : 1;
  // The longer one's tail against spaces.
  bool a_longer = a.size() > b.size();
  std::string_view tail = a_longer ? a.substr(n) : b.substr(n);
  for (char c : tail) {
    int ct = static_cast<unsigned char>(c);
    if (ct != ' ') return (ct > ' ') == a_longer ? 1 : -1;
  }
  return 0;
}

// Compares a and b as the server would, when dts can do so exactly; otherwise records why in j
// (the caller then asks the server) and returns 0. nullopt when either side is NULL.
// ordering: the caller needs <, > (not only equality).
std::optional<int> compare(const Scalar& a, const Scalar& b, bool ordering, Judgement* j) {
  if (a.isNull() || b.isNull()) return std::nullopt;
  using K = Scalar::Kind;
  if ((a.year && b.kind == K::kString) || (b.year && a.kind == K::kString)) {
    const Scalar& other = a.year ? b : a;
    auto year = other.literal ? yearOfString(other.text) : std::nullopt;
    if (!year.has_value()) {
      j->refuse("a YEAR column compared with " +
                (other.literal ? "'" + other.text + "'" : std::string("a string column")) +
                ", which is not a four-digit year from 1901 to 2155 (the server reads '0' as "
                "2000 and '24' as 2024)");
      return 0;
    }
    Scalar y = Scalar::exactNumber(*year, true);
    return a.year ? compare(a, y, ordering, j) : compare(y, b, ordering, j);
  }
  if (a.kind == K::kOpaque || b.kind == K::kOpaque) {
    j->giveUp("a temporal, ENUM, SET or JSON value");
    return 0;
  }
  if (a.kind == K::kNumber && b.kind == K::kNumber) {
    if (a.year || b.year) {
      // The server stores a constant compared with a YEAR column as a YEAR (24 -> 2024): only
      // four-digit years and 0 compare as written.
      const Scalar& other = a.year ? b : a;
      if (other.literal) {
        auto d = other.exact ? decimalParts(other.text) : std::nullopt;
        bool plain_year = d.has_value() && d->frac_part.empty() &&
                          (d->int_part.empty() || (!d->negative && d->int_part.size() == 4 &&
                                                   d->int_part >= "1901" && d->int_part <= "2155"));
        if (!plain_year) {
          // No literal reproduces the conversion at the server either.
          j->refuse("a YEAR column compared with " + (other.exact ? other.text : "a double") +
                    ", which is not 0 or a four-digit year from 1901 to 2155");
          return 0;
        }
      }
    }
    if (a.exact && b.exact) {
      if (auto c = compareDecimal(a.text, b.text); c.has_value()) return c;
      j->giveUp("a number dts cannot read exactly");
      return 0;
    }
    // A BIGINT column against an integral double constant: the server converts the constant to
    // the column's integer and compares integers (beyond 2^53 doubles would merge neighbours).
    if (a.longlong != b.longlong && (a.longlong ? !b.exact && b.literal : !a.exact && a.literal)) {
      const Scalar& col = a.longlong ? a : b;
      const Scalar& lit = a.longlong ? b : a;
      if (auto n = bigintOfDouble(lit.approx, col.is_unsigned); n.has_value()) {
        Scalar exact = Scalar::exactNumber(*n, true);
        return a.longlong ? compare(a, exact, ordering, j) : compare(exact, b, ordering, j);
      }
    }
    // FLOAT/DOUBLE (or a literal with an exponent) against anything numeric: the server compares
    // as doubles, and strtod rounds the other side as the server does.
    double x = toDouble(a), y = toDouble(b);
    if (x < y) return -1;
    if (x > y) return 1;
    return 0;
  }
  if (a.kind == K::kString && b.kind == K::kString) {
    if (a.literal == b.literal) {
      j->giveUp(a.literal ? "two string literals" : "two string columns");
      return 0;
    }
    const Scalar& col = a.literal ? b : a;
    const Scalar& lit = a.literal ? a : b;
    CollationRules r = rulesOf(col.collation);
    if (r.local == LocalStrings::kBytes && col.collation != mysql::kBinaryCollation && !r.utf8mb4 &&
        !isAscii(lit.text)) {
      // The literal is utf8mb4 text; the server converts it to the column's character set.
      j->giveUp("a non-ASCII literal against a column that is not utf8mb4");
      return 0;
    }
    if (r.local == LocalStrings::kBytes) return compareBytes(a.text, b.text, r.pad_space, false);
    if (r.local == LocalStrings::kAsciiFold && !ordering && isPrintableAscii(a.text) &&
        isPrintableAscii(b.text)) {
      return compareBytes(a.text, b.text, r.pad_space, true);
    }
    j->giveUp(std::string(ordering ? "ordering" : "equality") + " of strings under collation " +
              [&] {
                const mysql::Collation* c = mysql::findCollation(col.collation);
                return c != nullptr ? std::string(c->name)
                                    : "id " + std::to_string(col.collation) + " (unknown)";
              }() +
              (r.local == LocalStrings::kNo ? "" : " on non-ASCII or control characters"));
    return 0;
  }
  j->giveUp("a number compared with a string");
  return 0;
}

// The truth of a scalar: nullopt for NULL.
std::optional<bool> truth(const Scalar& s, Judgement* j) {
  if (s.isNull()) return std::nullopt;
  if (s.kind != Scalar::Kind::kNumber) {
    j->giveUp("a string or temporal value used as a condition");
    return false;
  }
  if (!s.exact) return s.approx != 0;
  auto c = compareDecimal(s.text, "0");
  if (!c.has_value()) {
    j->giveUp("a number dts cannot read exactly");
    return false;
  }
  return *c != 0;
}

bool likeMatch(std::string_view text, std::string_view pattern) {
  // Iterative wildcard matching with backtracking to the last '%'; one byte is one character
  // (the caller only matches single-byte text here).
  size_t t = 0, p = 0, star_p = std::string_view::npos, star_t = 0;
  while (t < text.size()) {
    if (p < pattern.size() && pattern[p] == '\\' && p + 1 < pattern.size()) {
      if (text[t] == pattern[p + 1]) {
        t++;
        p += 2;
        continue;
      }
    } else if (p < pattern.size() && pattern[p] == '%') {
      star_p = p++;
      star_t = t;
      continue;
    } else if (p < pattern.size() && (pattern[p] == '_' || text[t] == pattern[p])) {
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

std::string decimalOf(int64_t v) {
  return std::to_string(v);
}

Scalar fromValue(const mysql::Value& v, const mysql::ColumnInfo& col) {
  using K = mysql::Value::Kind;
  switch (v.kind) {
    case K::kNull: return Scalar::null();
    case K::kInt: {
      Scalar s = Scalar::exactNumber(decimalOf(v.i), false);
      s.year = col.type == mysql::ColumnType::kYear;
      s.longlong = col.type == mysql::ColumnType::kLongLong;
      return s;
    }
    case K::kUInt: {
      Scalar s = Scalar::exactNumber(std::to_string(v.u), false);
      s.longlong = col.type == mysql::ColumnType::kLongLong;
      s.is_unsigned = true;
      return s;
    }
    case K::kBit: return Scalar::exactNumber(std::to_string(v.u), false);
    case K::kFloat:
    case K::kDouble: return Scalar::approxNumber(v.d, false);
    case K::kDecimal: return Scalar::exactNumber(v.s, false);
    case K::kBytes: return Scalar::ofString(v.s, mysql::kBinaryCollation, false);
    case K::kString: return Scalar::ofString(v.s, col.collation, false);
    case K::kEnum:
    case K::kSet:
    case K::kTemporal:
    case K::kJson: return Scalar::opaque();
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
      double v = digits.empty() ? 0 : std::strtod(digits.c_str(), &end);
      if (digits.empty() || end != digits.c_str() + digits.size()) {
        pos_ = start;
        return error("bad number");
      }
      auto n = std::make_unique<Node>();
      n->type = Node::Type::kLiteral;
      n->raw = (c == '-' ? "-" : "") + digits;
      // As the server types it: an exponent makes a double, anything else is exact.
      n->literal = digits.find_first_of("eE") != std::string::npos
                       ? Scalar::approxNumber(c == '-' ? -v : v, true)
                       : Scalar::exactNumber(n->raw, true);
      return n;
    }
    if (isWordChar(c)) {
      size_t start = pos_;
      while (pos_ < text_.size() && isWordChar(text_[pos_])) ++pos_;
      std::string word(text_.substr(start, pos_ - start));
      std::string upper = toUpper(word);
      if (upper == "NULL") return literal(Scalar::null());
      if (upper == "TRUE") return literal(Scalar::exactNumber("1", true));
      if (upper == "FALSE") return literal(Scalar::exactNumber("0", true));
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
    return literal(Scalar::ofString(std::move(value), 0, true));
  }

  std::unique_ptr<Node> literal(Scalar s) {
    auto n = std::make_unique<Node>();
    n->type = Node::Type::kLiteral;
    // TRUE / FALSE. push_back: assigning a literal trips GCC 12's -Wrestrict at -O3.
    if (s.kind == Scalar::Kind::kNumber) n->raw.push_back(s.text == "0" ? '0' : '1');
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
  Judgement* judgement;
};

// The column `name` of the table and its value in the row image.
Result<std::pair<const mysql::ColumnInfo*, const mysql::Value*>> columnValue(
    const std::string& name, const mysql::TableInfo& table, const mysql::RowImage& row) {
  for (size_t i = 0; i < table.columns.size(); ++i) {
    if (table.columns[i].name != name) continue;
    if (!row.has(i)) {
      return Status::InvalidArgument("where: column '" + name + "' of " + table.database + "." +
                                     table.table +
                                     " is not in the row image (binlog_row_image must be FULL)");
    }
    return std::make_pair(&table.columns[i], &row.values[i]);
  }
  return Status::InvalidArgument("where: table " + table.database + "." + table.table +
                                 " has no column '" + name + "'");
}

Result<Scalar> eval(const Node& n, const EvalContext& ctx) {
  using T = Node::Type;
  Judgement* j = ctx.judgement;
  switch (n.type) {
    case T::kLiteral: return n.literal;
    case T::kColumn: {
      DTS_ASSIGN_OR_RETURN(auto cv, columnValue(n.column, ctx.table, ctx.row));
      return fromValue(*cv.second, *cv.first);
    }
    case T::kNot: {
      DTS_ASSIGN_OR_RETURN(Scalar v, eval(*n.children[0], ctx));
      auto t = truth(v, j);
      return Scalar::ofBool(t.has_value() ? std::optional<bool>(!*t) : std::nullopt);
    }
    case T::kAnd:
    case T::kOr: {
      DTS_ASSIGN_OR_RETURN(Scalar a, eval(*n.children[0], ctx));
      DTS_ASSIGN_OR_RETURN(Scalar b, eval(*n.children[1], ctx));
      auto x = truth(a, j), y = truth(b, j);
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
      const bool ordering = n.op != "=" && n.op != "<>" && n.op != "<=>";
      if (n.op == "<=>") {
        if (a.isNull() || b.isNull()) return Scalar::ofBool(a.isNull() && b.isNull());
        return Scalar::ofBool(*compare(a, b, ordering, j) == 0);
      }
      auto c = compare(a, b, ordering, j);
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
        auto c = compare(v, item, false, j);
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
      auto a = compare(v, lo, true, j), b = compare(v, hi, true, j);
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
      const std::string& pattern = n.children[1]->literal.text;
      // LIKE matches character by character without padding: exact here only for byte-wise
      // collations on single-byte (binary, or ASCII) text.
      CollationRules r =
          v.kind == Scalar::Kind::kString && !v.literal ? rulesOf(v.collation) : CollationRules{};
      bool single_byte =
          v.collation == mysql::kBinaryCollation || (isAscii(v.text) && isAscii(pattern));
      if (r.local != LocalStrings::kBytes || !single_byte) {
        j->giveUp("LIKE on a value that is not a binary or _bin string of single-byte characters");
        return Scalar::ofBool(false);
      }
      return Scalar::ofBool(likeMatch(v.text, pattern) != n.negated);
    }
  }
  return Status::Internal("where: unknown expression node");
}

std::string hex(std::string_view bytes) {
  static const char kDigits[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (char c : bytes) {
    out.push_back(kDigits[static_cast<unsigned char>(c) >> 4]);
    out.push_back(kDigits[static_cast<unsigned char>(c) & 15]);
  }
  return out;
}

const mysql::Collation* knownCollation(uint16_t id, const mysql::ColumnInfo& col,
                                       const mysql::TableInfo& table, Status* error) {
  const mysql::Collation* c = mysql::findCollation(id);
  if (c == nullptr) {
    *error = Status::FailedPrecondition(
        "where: the collation of column '" + col.name + "' of " + table.database + "." +
        table.table + " is not known (id " + std::to_string(id) +
        "), so its filter cannot be evaluated as the source server would");
  }
  return c;
}

// `bytes` in collation `target`, read as text of collation `from`, with a column's coercibility
// (IMPLICIT): CAST(.. AS CHAR CHARACTER SET .. COLLATE ..), so that two values of different
// collations meet as their columns do (a _bin collation wins, a Unicode column's character set
// wins) instead of failing as two COLLATE clauses (EXPLICIT) do. Servers without COLLATE in
// CAST get `_cs X'..' COLLATE c` (RowSqlOptions::implicit_collation false).
std::string stringLiteral(std::string_view bytes, const mysql::Collation& from,
                          const mysql::Collation& target, bool implicit) {
  std::string lit = "_" + std::string(from.charset) + " X'" + hex(bytes) + "'";
  if (implicit) {
    return "CAST(" + lit + " AS CHAR CHARACTER SET " + target.charset + " COLLATE " + target.name +
           ")";
  }
  if (std::string_view(from.charset) != target.charset)
    lit = "CONVERT(" + lit + " USING " + target.charset + ")";
  return "(" + lit + " COLLATE " + target.name + ")";
}

// Where a column is read: as a number (ENUM -> its index, SET -> its bit mask), as a string, or
// as LIKE's subject (a string: BIT -> its bytes, YEAR -> four digits).
enum class ColumnContext { kNumber, kString, kLike, kUnknown };

// How an operand compares: a number, a string, or nothing that decides (NULL, a column without
// value). ENUM and SET count as strings (two ENUMs compare by name).
using OperandClass = std::function<ColumnContext(const Node&)>;

ColumnContext classOfValue(const mysql::Value& v) {
  using K = mysql::Value::Kind;
  switch (v.kind) {
    case K::kNull: return ColumnContext::kUnknown;
    case K::kInt:
    case K::kUInt:
    case K::kFloat:
    case K::kDouble:
    case K::kDecimal:
    case K::kBit: return ColumnContext::kNumber;
    default: return ColumnContext::kString;
  }
}

// The context of `n`'s operand `child`: what the other operands are (literals by their type,
// columns by their value's).
ColumnContext contextOf(const Node& n, size_t child, const OperandClass& classOf) {
  using T = Node::Type;
  if (n.type == T::kLike) return child == 0 ? ColumnContext::kLike : ColumnContext::kString;
  if (n.type != T::kCompare && n.type != T::kIn && n.type != T::kBetween)
    return ColumnContext::kNumber;
  bool numbers = false, strings = false;
  for (size_t i = 0; i < n.children.size(); ++i) {
    if (i == child) continue;
    // In an IN list, an item meets only the subject (child 0).
    if (n.type == T::kIn && child != 0 && i != 0) continue;
    ColumnContext c = classOf(*n.children[i]);
    numbers |= c == ColumnContext::kNumber;
    strings |= c == ColumnContext::kString;
  }
  if (numbers && strings) return ColumnContext::kUnknown;
  return numbers ? ColumnContext::kNumber : ColumnContext::kString;
}

// A row's value as a SQL literal that the server compares as it compares the column.
Result<std::string> valueSql(const mysql::Value& v, const mysql::ColumnInfo& col,
                             const mysql::TableInfo& table, ColumnContext context,
                             const RowFilter::RowSqlOptions& options) {
  using K = mysql::Value::Kind;
  using CT = mysql::ColumnType;
  Status error;
  auto unsupported = [&](const std::string& what) {
    return Status::Unsupported("where: " + what + " (column '" + col.name + "' of " +
                               table.database + "." + table.table +
                               "): dts cannot evaluate this filter as the source server would; "
                               "rewrite the condition");
  };
  switch (v.kind) {
    case K::kNull: return std::string("NULL");
    case K::kInt: {
      if (col.type == CT::kYear && context == ColumnContext::kLike) {
        // LIKE reads a YEAR as its four digits ('0000' for 0), as SELECT prints it.
        char buf[16];
        std::snprintf(buf, sizeof buf, "'%04lld'", static_cast<long long>(v.i));
        return std::string(buf);
      }
      return "(" + std::to_string(v.i) + ")";
    }
    case K::kUInt: return std::to_string(v.u);
    case K::kBit:
      // A BIT is a number everywhere but as LIKE's subject, which reads its bytes.
      if (context == ColumnContext::kLike) return "_binary X'" + hex(v.s) + "'";
      return std::to_string(v.u);
    case K::kFloat:
    case K::kDouble: {
      // A double literal (exponent) with round-trip precision.
      char buf[64];
      std::snprintf(buf, sizeof buf, "%.17e", v.d);
      return "(" + std::string(buf) + ")";
    }
    case K::kDecimal: {
      if (!decimalParts(v.s).has_value()) return unsupported("the DECIMAL value '" + v.s + "'");
      return "(" + v.s + ")";
    }
    case K::kTemporal: {
      std::string type;
      switch (col.type) {
        case CT::kDate:
        case CT::kNewDate: type = "DATE"; break;
        case CT::kTime:
        case CT::kTime2: type = "TIME(6)"; break;
        // TIMESTAMP values are UTC, as the evaluating session's time_zone (+00:00) reads them.
        case CT::kDateTime:
        case CT::kDateTime2:
        case CT::kTimestamp:
        case CT::kTimestamp2: type = "DATETIME(6)"; break;
        default: return unsupported("a temporal value of an unexpected column type");
      }
      return "CAST('" + v.s + "' AS " + type + ")";
    }
    case K::kBytes: return "_binary X'" + hex(v.s) + "'";
    case K::kString: {
      const mysql::Collation* c = knownCollation(col.collation, col, table, &error);
      if (c == nullptr) return error;
      return stringLiteral(v.s, *c, *c, options.implicit_collation);
    }
    case K::kJson: {
      const mysql::Collation* c = mysql::findCollation(col.collation);
      if (c != nullptr && col.collation != mysql::kBinaryCollation) {
        return stringLiteral(v.s, *c, *c, options.implicit_collation);  // MariaDB: JSON is text
      }
      return "CAST(_utf8mb4 X'" + hex(v.s) + "' AS JSON)";  // MySQL's JSON type
    }
    case K::kEnum:
    case K::kSet: {
      if (context == ColumnContext::kUnknown) {
        return unsupported(
            "an ENUM or SET column compared with numbers and strings at once (BETWEEN)");
      }
      if (context == ColumnContext::kNumber) return std::to_string(v.u);
      std::string name = v.s;
      if (name.empty() && v.u != 0) {
        if (v.kind == K::kEnum && v.u <= col.enum_values.size()) {
          name = col.enum_values[v.u - 1];
        } else {
          return unsupported("an ENUM or SET value whose member names are not known");
        }
      }
      const mysql::Collation* target = knownCollation(col.collation, col, table, &error);
      if (target == nullptr) return error;
      const mysql::Collation* from =
          col.enum_values_collation != 0
              ? knownCollation(col.enum_values_collation, col, table, &error)
              : target;
      if (from == nullptr) return error;
      return stringLiteral(name, *from, *target, options.implicit_collation);
    }
  }
  return Status::Internal("where: unknown value kind");
}

using ColumnSql = std::function<Result<std::string>(const std::string& column, ColumnContext)>;
// The SQL of a literal compared with column `anchor` (empty: with no column), when it is not the
// literal as written: the server converts a constant compared with a BIGINT or YEAR column to the
// column's type, and a literal value in the column's place would not trigger that.
using LiteralSql = std::function<Result<std::optional<std::string>>(const Node& literal,
                                                                    const std::string& anchor)>;

struct SqlRender {
  const std::function<std::string(std::string_view)>& quote;
  const ColumnSql& column;
  const LiteralSql& literal;
  const OperandClass& classOf;
  const std::function<bool(const Node&)>& isEnumOrSet;  // a column holding an ENUM or SET value
};

// The column a literal operand of n is compared with: the other side of a comparison, the
// subject of IN or BETWEEN.
std::string anchorOf(const Node& n, size_t child) {
  using T = Node::Type;
  if (n.type == T::kCompare) {
    const Node& other = *n.children[1 - child];
    return other.type == T::kColumn ? other.column : "";
  }
  if ((n.type == T::kIn || n.type == T::kBetween) && child != 0 &&
      n.children[0]->type == T::kColumn) {
    return n.children[0]->column;
  }
  return "";
}

Result<std::string> toSqlNode(const Node& n, const SqlRender& r, ColumnContext context);

Result<std::string> childSql(const Node& n, size_t i, const SqlRender& r, ColumnContext context) {
  const Node& c = *n.children[i];
  if (c.type == Node::Type::kLiteral) {
    DTS_ASSIGN_OR_RETURN(auto rewritten, r.literal(c, anchorOf(n, i)));
    if (rewritten.has_value()) return *rewritten;
  }
  return toSqlNode(c, r, context);
}

Result<std::string> toSqlNode(const Node& n, const SqlRender& r, ColumnContext context) {
  using T = Node::Type;
  // An IN whose subject meets numbers and strings (an ENUM against 2 and 'b'): the server
  // compares it with each item by the item's type, so each item gets its own comparison.
  if (n.type == T::kIn && r.isEnumOrSet(*n.children[0]) &&
      contextOf(n, 0, r.classOf) == ColumnContext::kUnknown) {
    std::string s = std::string("(") + (n.negated ? "NOT " : "") + "(";
    for (size_t i = 1; i < n.children.size(); ++i) {
      auto item_class = r.classOf(*n.children[i]);
      DTS_ASSIGN_OR_RETURN(
          std::string subject,
          toSqlNode(*n.children[0], r,
                    item_class == ColumnContext::kUnknown ? ColumnContext::kString : item_class));
      DTS_ASSIGN_OR_RETURN(std::string item, childSql(n, i, r, contextOf(n, i, r.classOf)));
      s += (i > 1 ? " OR " : "") + ("(" + subject + " = " + item + ")");
    }
    return s + "))";
  }
  std::vector<std::string> c;
  for (size_t i = 0; i < n.children.size(); ++i) {
    DTS_ASSIGN_OR_RETURN(std::string s, childSql(n, i, r, contextOf(n, i, r.classOf)));
    c.push_back(std::move(s));
  }
  std::string neg = n.negated ? "NOT " : "";
  switch (n.type) {
    case T::kLiteral:
      if (n.literal.kind == Scalar::Kind::kNull) return std::string("NULL");
      if (n.literal.kind == Scalar::Kind::kNumber) return n.raw;
      return r.quote(n.literal.text);
    case T::kColumn: return r.column(n.column, context);
    case T::kNot: return "(NOT " + c[0] + ")";
    case T::kAnd: return "(" + c[0] + " AND " + c[1] + ")";
    case T::kOr: return "(" + c[0] + " OR " + c[1] + ")";
    case T::kCompare: return "(" + c[0] + " " + n.op + " " + c[1] + ")";
    case T::kIsNull: return "(" + c[0] + " IS " + neg + "NULL)";
    case T::kIn: {
      std::string s = "(" + c[0] + " " + neg + "IN (";
      for (size_t i = 1; i < c.size(); ++i) s += (i > 1 ? ", " : "") + c[i];
      return s + "))";
    }
    case T::kBetween: return "(" + c[0] + " " + neg + "BETWEEN " + c[1] + " AND " + c[2] + ")";
    case T::kLike: return "(" + c[0] + " " + neg + "LIKE " + c[1] + ")";
  }
  return std::string();
}

// Literal class for contexts: numbers and strings as written.
ColumnContext classOfLiteral(const Node& n) {
  if (n.type != Node::Type::kLiteral) return ColumnContext::kUnknown;
  if (n.literal.kind == Scalar::Kind::kNumber) return ColumnContext::kNumber;
  if (n.literal.kind == Scalar::Kind::kString) return ColumnContext::kString;
  return ColumnContext::kUnknown;
}

}  // namespace

RowFilter::~RowFilter() = default;

std::string RowFilter::toSql(
    const std::function<std::string(std::string_view)>& quote_string) const {
  ColumnSql column = [](const std::string& name, ColumnContext) -> Result<std::string> {
    return mysql::quoteIdentifier(name);
  };
  LiteralSql literal = [](const Node&, const std::string&) -> Result<std::optional<std::string>> {
    return std::optional<std::string>();
  };
  OperandClass classOf = [](const Node&) { return ColumnContext::kNumber; };
  std::function<bool(const Node&)> isEnumOrSet = [](const Node&) { return false; };
  return toSqlNode(*root_, SqlRender{quote_string, column, literal, classOf, isEnumOrSet},
                   ColumnContext::kNumber)
      .value();
}

Result<std::string> RowFilter::toSqlForRow(
    const mysql::TableInfo& table, const mysql::RowImage& row,
    const std::function<std::string(std::string_view)>& quote_string,
    const RowSqlOptions& options) const {
  ColumnSql column = [&](const std::string& name, ColumnContext context) -> Result<std::string> {
    DTS_ASSIGN_OR_RETURN(auto cv, columnValue(name, table, row));
    return valueSql(*cv.second, *cv.first, table, context, options);
  };
  OperandClass classOf = [&](const Node& n) {
    if (n.type != Node::Type::kColumn) return classOfLiteral(n);
    auto cv = columnValue(n.column, table, row);
    return cv.ok() ? classOfValue(*cv->second) : ColumnContext::kUnknown;
  };
  std::function<bool(const Node&)> isEnumOrSet = [&](const Node& n) {
    if (n.type != Node::Type::kColumn) return false;
    auto cv = columnValue(n.column, table, row);
    return cv.ok() && (cv->second->kind == mysql::Value::Kind::kEnum ||
                       cv->second->kind == mysql::Value::Kind::kSet);
  };
  LiteralSql literal = [&](const Node& lit,
                           const std::string& anchor) -> Result<std::optional<std::string>> {
    const Scalar& l = lit.literal;
    if (anchor.empty() || l.kind == Scalar::Kind::kNull) return std::optional<std::string>();
    DTS_ASSIGN_OR_RETURN(auto cv, columnValue(anchor, table, row));
    const mysql::ColumnInfo& col = *cv.first;
    const mysql::Value& v = *cv.second;
    if (col.type == mysql::ColumnType::kYear && l.kind == Scalar::Kind::kString) {
      // Only four-digit years get here (matchesLocally refuses other strings).
      if (auto y = yearOfString(l.text); y.has_value()) return std::optional<std::string>(*y);
      return std::optional<std::string>();
    }
    const bool bigint = col.type == mysql::ColumnType::kLongLong &&
                        (v.kind == mysql::Value::Kind::kInt || v.kind == mysql::Value::Kind::kUInt);
    if (!bigint) return std::optional<std::string>();
    const bool is_unsigned = v.kind == mysql::Value::Kind::kUInt;
    if (l.kind == Scalar::Kind::kString) {
      if (auto n = bigintOfString(l.text, is_unsigned); n.has_value())
        return std::optional<std::string>(*n);
      // Any other string: the server's conversion (or not) only matters where doubles lose
      // integers; below 2^53 the comparison is the same either way.
      double value = is_unsigned ? static_cast<double>(v.u) : static_cast<double>(v.i);
      double constant = std::strtod(l.text.c_str(), nullptr);
      if (std::fabs(value) >= kExactDoubleLimit || !(std::fabs(constant) < kExactDoubleLimit)) {
        return Status::Unsupported(
            "where: the BIGINT column '" + col.name + "' of " + table.database + "." + table.table +
            " is compared with the string '" + l.text +
            "' beyond 2^53, where the server's conversion of that string is not reproducible "
            "by dts; write the constant as an integer");
      }
      return std::optional<std::string>();
    }
    if (l.kind == Scalar::Kind::kNumber && !l.exact) {
      if (auto n = bigintOfDouble(l.approx, is_unsigned); n.has_value())
        return std::optional<std::string>(*n);
    }
    return std::optional<std::string>();
  };
  return toSqlNode(*root_, SqlRender{quote_string, column, literal, classOf, isEnumOrSet},
                   ColumnContext::kNumber);
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

Result<std::optional<bool>> RowFilter::matchesLocally(const mysql::TableInfo& table,
                                                      const mysql::RowImage& row,
                                                      std::string* why) const {
  Judgement j;
  DTS_ASSIGN_OR_RETURN(Scalar v, eval(*root_, EvalContext{table, row, &j}));
  auto t = truth(v, &j);
  if (!j.refused.empty()) {
    return Status::Unsupported("where: the filter of " + table.database + "." + table.table +
                               " cannot be evaluated exactly: " + j.refused +
                               "; rewrite the condition");
  }
  if (!j.exact) {
    if (why != nullptr) *why = j.why;
    return std::optional<bool>();
  }
  return std::optional<bool>(t.has_value() && *t);
}

Status RowFilter::checkYearConstants(const std::string& database, const std::string& table,
                                     const std::vector<std::string>& year_columns) const {
  // Every column the filter reads, YEAR columns holding a year and the others NULL: eval()
  // evaluates every operand (AND and OR included), and a YEAR against a literal is refused
  // whatever the year, while NULL decides nothing else.
  mysql::TableInfo info;
  info.database = database;
  info.table = table;
  mysql::RowImage row;
  for (const std::string& name : columns_) {
    mysql::ColumnInfo c;
    c.name = name;
    const bool year = std::any_of(year_columns.begin(), year_columns.end(),
                                  [&](const std::string& y) { return equalsIgnoreCase(y, name); });
    c.type = year ? mysql::ColumnType::kYear : mysql::ColumnType::kLong;
    info.columns.push_back(std::move(c));
    row.values.push_back(year ? mysql::Value::ofInt(2000) : mysql::Value::null());
  }
  return matchesLocally(info, row).status();
}

Result<bool> RowFilter::matches(const mysql::TableInfo& table, const mysql::RowImage& row,
                                FilterEvaluator* source) const {
  std::string why;
  DTS_ASSIGN_OR_RETURN(std::optional<bool> local, matchesLocally(table, row, &why));
  if (local.has_value()) return *local;
  if (source == nullptr) {
    return Status::FailedPrecondition("where: the filter of " + table.database + "." + table.table +
                                      " needs the source server to judge this row (" + why +
                                      ") and no source connection was given");
  }
  auto r = source->evaluate(*this, table, row);
  if (!r.ok()) {
    return r.status().withContext("where: evaluating the filter of " + table.database + "." +
                                  table.table + " at the source (" + why + ")");
  }
  return *r;
}

}  // namespace dts::pipeline
