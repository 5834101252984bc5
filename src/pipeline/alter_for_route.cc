#include "pipeline/alter_for_route.h"

#include <initializer_list>

#include "common/strings.h"
#include "mysql/connection.h"

namespace dts::pipeline {

namespace {

using mysql::SqlToken;
using mysql::SqlTokenKind;

bool isAscii(std::string_view s) {
  for (char ch : s) {
    if (static_cast<unsigned char>(ch) >= 0x80) return false;
  }
  return true;
}

enum class Match { kNo, kYes, kMaybe };

// Whether column `name` is one of `columns`, as the server compares column names.
Match matchColumn(std::string_view name, const std::vector<std::string>& columns) {
  Match m = Match::kNo;
  for (const std::string& c : columns) {
    if (equalsIgnoreCase(name, c)) return Match::kYes;
    // Letters beyond ASCII fold too (Ä is ä); a name that may be the same is not told apart.
    if (!isAscii(name) && !isAscii(c) && name.size() == c.size()) m = Match::kMaybe;
  }
  return m;
}

// What becomes of one specification.
struct Decision {
  enum Kind { kDrop, kKeep, kModifier } kind = kKeep;
  std::string text;  // kKeep, kModifier: the specification to run
};

// A cursor over the tokens [p, end) of one specification.
class Spec {
 public:
  Spec(std::string_view sql, const std::vector<SqlToken>& t, size_t b, size_t e)
      : sql_(sql), t_(t), b_(b), p_(b), e_(e) {}

  bool is(const char* w) const { return p_ < e_ && t_[p_].isWord(w); }
  bool isAnyOf(std::initializer_list<const char*> words) const {
    for (const char* w : words) {
      if (is(w)) return true;
    }
    return false;
  }
  bool accept(const char* w) {
    if (!is(w)) return false;
    ++p_;
    return true;
  }
  // IF EXISTS, or IF NOT EXISTS when `not_exists`.
  bool acceptIf(bool not_exists) {
    if (!is("IF")) return true;
    ++p_;
    if (not_exists && !accept("NOT")) return false;
    return accept("EXISTS");
  }
  bool isPunct(char c) const { return p_ < e_ && t_[p_].isPunct(c); }
  std::optional<std::string> name() {
    if (p_ >= e_ || !t_[p_].isName()) return std::nullopt;
    return t_[p_++].text;
  }
  size_t pos() const { return p_; }
  size_t end() const { return e_; }
  const SqlToken& at(size_t i) const { return t_[i]; }

  std::string text() const { return span(b_, e_); }
  std::string span(size_t from, size_t to) const {
    if (from >= to) return "";
    return std::string(sql_.substr(t_[from].begin, t_[to - 1].end - t_[from].begin));
  }
  // The specification with its FIRST or AFTER col clause (at depth 0) left out.
  std::string textWithoutPosition() const {
    int depth = 0;
    for (size_t i = b_; i < e_; ++i) {
      if (t_[i].isPunct('(')) ++depth;
      if (t_[i].isPunct(')')) --depth;
      if (depth != 0) continue;
      size_t clause_end = 0;
      if (t_[i].isWord("FIRST")) clause_end = i + 1;
      if (t_[i].isWord("AFTER") && i + 1 < e_ && t_[i + 1].isName()) clause_end = i + 2;
      if (clause_end == 0) continue;
      std::string before = span(b_, i);
      std::string after = span(clause_end, e_);
      return after.empty() ? before : before + " " + after;
    }
    return text();
  }
  // The first name of each comma-separated part of the parenthesized list at the cursor (index
  // parts `a(10) DESC`, column definitions `a INT`); nullopt when a part starts otherwise (an
  // expression).
  std::optional<std::vector<std::string>> leadingNames() {
    if (!isPunct('(')) return std::nullopt;
    std::vector<std::string> out;
    int depth = 0;
    bool part_start = true;
    for (; p_ < e_; ++p_) {
      const SqlToken& t = t_[p_];
      if (t.isPunct('(')) {
        ++depth;
        if (depth == 1) {
          part_start = true;
          continue;
        }
      }
      if (t.isPunct(')') && --depth == 0) {
        ++p_;
        return out;
      }
      if (depth == 1 && t.isPunct(',')) {
        part_start = true;
        continue;
      }
      if (part_start) {
        if (depth != 1 || !t.isName()) return std::nullopt;
        out.push_back(t.text);
        part_start = false;
      }
    }
    return std::nullopt;
  }
  // Every name from the cursor on (a CHECK expression's columns, and its function names).
  std::vector<std::string> allNames() const {
    std::vector<std::string> out;
    for (size_t i = p_; i < e_; ++i) {
      if (t_[i].isName()) out.push_back(t_[i].text);
    }
    return out;
  }
  bool hasWordAtDepth0(const char* w) const {
    int depth = 0;
    for (size_t i = b_; i < e_; ++i) {
      if (t_[i].isPunct('(')) ++depth;
      if (t_[i].isPunct(')')) --depth;
      if (depth == 0 && t_[i].isWord(w)) return true;
    }
    return false;
  }

 private:
  std::string_view sql_;
  const std::vector<SqlToken>& t_;
  size_t b_;
  size_t p_;
  size_t e_;
};

class Decider {
 public:
  explicit Decider(const RouteColumns& route) : route_(route), subset_(!route.kept.empty()) {}

  Result<Decision> decide(Spec& s) const {
    const std::string whole = s.text();
    auto unrecognised = [&]() {
      return Status::Unsupported("'" + whole.substr(0, 60) + "' is not understood");
    };
    if (s.is("ALGORITHM") || s.is("LOCK")) return Decision{Decision::kModifier, whole};
    if (s.accept("ADD")) {
      if (s.isAnyOf({"INDEX", "KEY", "UNIQUE", "FULLTEXT", "SPATIAL", "VECTOR", "PRIMARY",
                     "CONSTRAINT", "FOREIGN", "CHECK", "PERIOD", "SYSTEM", "PARTITION"})) {
        return addKeyOrConstraint(s, whole);
      }
      s.accept("COLUMN");
      if (!s.acceptIf(true)) return unrecognised();
      std::vector<std::string> names;
      if (s.isPunct('(')) {
        auto list = s.leadingNames();
        if (!list) return unrecognised();
        names = std::move(*list);
      } else if (auto n = s.name()) {
        names.push_back(*n);
      } else {
        return unrecognised();
      }
      if (!subset_) return keep(whole);
      for (const std::string& n : names) {
        DTS_ASSIGN_OR_RETURN(bool kept, isKept(n));
        if (kept) {
          return Status::Unsupported("adds column " + mysql::quoteIdentifier(n) +
                                     " under the name of a column the task moves");
        }
      }
      return drop();
    }
    if (s.accept("DROP")) {
      if (s.accept("INDEX") || s.accept("KEY")) return dropIfExists(s, "INDEX", whole);
      if (s.accept("FOREIGN")) {
        if (!s.accept("KEY")) return unrecognised();
        return dropIfExists(s, "FOREIGN KEY", whole);
      }
      if (s.accept("CONSTRAINT")) return dropIfExists(s, "CONSTRAINT", whole);
      if (s.isAnyOf({"PRIMARY", "CHECK", "PARTITION", "PERIOD", "SYSTEM"})) {
        return keptUnlessSubset(whole);
      }
      auto n = columnName(s);
      if (!n) return unrecognised();
      if (readByFilter(*n)) return Status::Unsupported(filterMessage("drops", *n));
      if (!subset_) return keep(whole);
      DTS_ASSIGN_OR_RETURN(bool kept, isKept(*n));
      if (kept) {
        return Status::Unsupported("drops column " + mysql::quoteIdentifier(*n) +
                                   ", which the task moves");
      }
      return drop();
    }
    if (s.accept("MODIFY")) {
      auto n = columnName(s);
      if (!n) return unrecognised();
      if (!subset_) return keep(whole);
      DTS_ASSIGN_OR_RETURN(bool kept, isKept(*n));
      return kept ? keep(s.textWithoutPosition()) : drop();
    }
    if (s.accept("CHANGE")) {
      auto from = columnName(s);
      auto to = s.name();
      if (!from || !to) return unrecognised();
      return renameColumn(*from, *to, s.textWithoutPosition(), whole);
    }
    if (s.accept("RENAME")) {
      if (s.accept("COLUMN")) {
        auto from = s.name();
        if (!s.accept("TO")) return unrecognised();
        auto to = s.name();
        if (!from || !to) return unrecognised();
        return renameColumn(*from, *to, whole, whole);
      }
      if (s.is("INDEX") || s.is("KEY")) return keptUnlessSubset(whole);
      return Status::Unsupported("'" + whole.substr(0, 60) + "' is not understood");
    }
    if (s.accept("ALTER")) {
      if (s.isAnyOf({"INDEX", "KEY", "CONSTRAINT", "CHECK"})) {
        return keptUnlessSubset(whole);
      }
      auto n = columnName(s);
      if (!n) return unrecognised();
      if (!subset_) return keep(whole);
      DTS_ASSIGN_OR_RETURN(bool kept, isKept(*n));
      return kept ? keep(whole) : drop();
    }
    // Options of the table itself apply to what the destination has.
    if (s.isAnyOf({"ENGINE",
                   "COMMENT",
                   "AUTO_INCREMENT",
                   "ROW_FORMAT",
                   "DEFAULT",
                   "CHARACTER",
                   "CHARSET",
                   "COLLATE",
                   "CONVERT",
                   "KEY_BLOCK_SIZE",
                   "FORCE",
                   "ENABLE",
                   "DISABLE",
                   "STATS_PERSISTENT",
                   "STATS_AUTO_RECALC",
                   "STATS_SAMPLE_PAGES",
                   "PACK_KEYS",
                   "CHECKSUM",
                   "PAGE_CHECKSUM",
                   "MAX_ROWS",
                   "MIN_ROWS",
                   "AVG_ROW_LENGTH",
                   "TRANSACTIONAL",
                   "PAGE_COMPRESSED",
                   "PAGE_COMPRESSION_LEVEL",
                   "ENCRYPTED",
                   "ENCRYPTION_KEY_ID",
                   "DELAY_KEY_WRITE"}) &&
        !s.hasWordAtDepth0("PARTITION") && !s.hasWordAtDepth0("PARTITIONS")) {
      return keep(whole);
    }
    return keptUnlessSubset(whole);
  }

 private:
  static Decision keep(std::string text) { return Decision{Decision::kKeep, std::move(text)}; }
  // What a column subset cannot follow (the destination may not have what it names), and any
  // table with every column can.
  Result<Decision> keptUnlessSubset(const std::string& whole) const {
    if (!subset_) return keep(whole);
    return Status::Unsupported("'" + whole.substr(0, 60) + "' on a column subset");
  }
  // [COLUMN] [IF EXISTS] name: the name; nullopt when the words do not read so.
  static std::optional<std::string> columnName(Spec& s) {
    s.accept("COLUMN");
    if (!s.acceptIf(false)) return std::nullopt;
    return s.name();
  }
  static Decision drop() { return Decision{Decision::kDrop, ""}; }

  Result<bool> isKept(const std::string& name) const {
    switch (matchColumn(name, route_.kept)) {
      case Match::kYes: return true;
      case Match::kNo: return false;
      case Match::kMaybe: break;
    }
    return Status::Unsupported("cannot tell whether column " + mysql::quoteIdentifier(name) +
                               " is one the task moves (its name differs from one only in letters "
                               "beyond ASCII)");
  }
  bool readByFilter(const std::string& name) const {
    return matchColumn(name, route_.filtered) != Match::kNo;
  }
  static std::string filterMessage(const char* verb, const std::string& name) {
    return std::string(verb) + " column " + mysql::quoteIdentifier(name) +
           ", which the WHERE filter reads";
  }

  Result<Decision> renameColumn(const std::string& from, const std::string& to,
                                std::string kept_text, const std::string& whole) const {
    const bool renamed = !equalsIgnoreCase(from, to);
    if (renamed && readByFilter(from)) return Status::Unsupported(filterMessage("renames", from));
    if (!subset_) return keep(whole);
    DTS_ASSIGN_OR_RETURN(bool kept, isKept(from));
    if (kept) {
      if (renamed) {
        return Status::Unsupported("renames column " + mysql::quoteIdentifier(from) +
                                   ", which the task moves");
      }
      return keep(std::move(kept_text));
    }
    DTS_ASSIGN_OR_RETURN(bool into, isKept(to));
    if (into) {
      return Status::Unsupported("renames column " + mysql::quoteIdentifier(from) + " to " +
                                 mysql::quoteIdentifier(to) +
                                 ", the name of a column the task moves");
    }
    return drop();
  }

  // DROP INDEX/KEY, DROP FOREIGN KEY, DROP CONSTRAINT: the destination of a column subset may
  // never have had it (its columns are not moved), so it is dropped if it exists.
  Result<Decision> dropIfExists(Spec& s, const char* what, const std::string& whole) const {
    if (!s.acceptIf(false)) {
      return Status::Unsupported("'" + whole.substr(0, 60) + "' is not understood");
    }
    auto n = s.name();
    if (!n || s.pos() != s.end()) {
      return Status::Unsupported("'" + whole.substr(0, 60) + "' is not understood");
    }
    if (!subset_) return keep(whole);
    return keep("DROP " + std::string(what) + " IF EXISTS " + mysql::quoteIdentifier(*n));
  }

  Result<Decision> addKeyOrConstraint(Spec& s, const std::string& whole) const {
    if (!subset_) return keep(whole);
    auto refused = [&](const std::string& why) { return Status::Unsupported(why); };
    if (s.accept("CONSTRAINT")) {
      if (!s.isAnyOf({"PRIMARY", "UNIQUE", "FOREIGN", "CHECK"})) {
        s.acceptIf(true);
        (void)s.name();
      }
    }
    if (s.is("PRIMARY")) return refused("changes the primary key of a column subset");
    if (s.isAnyOf({"PERIOD", "SYSTEM", "PARTITION"})) {
      return refused("'" + whole.substr(0, 60) + "' on a column subset");
    }
    if (s.accept("CHECK")) {
      for (const std::string& n : s.allNames()) {
        if (matchColumn(n, route_.kept) != Match::kNo) {
          return refused("adds a CHECK constraint that reads column " + mysql::quoteIdentifier(n) +
                         ", which the task moves");
        }
      }
      return drop();
    }
    const bool foreign = s.accept("FOREIGN");
    // Up to the key's column list: UNIQUE, INDEX/KEY, IF NOT EXISTS, its name, USING ...
    while (s.pos() < s.end() && !s.isPunct('(')) {
      if (s.is("IF")) {
        if (!s.acceptIf(true)) break;
        continue;
      }
      if (!s.name()) break;
    }
    auto columns = s.leadingNames();
    if (!columns) {
      return refused("'" + whole.substr(0, 60) + "' is not understood on a column subset");
    }
    size_t kept = 0;
    for (const std::string& c : *columns) {
      DTS_ASSIGN_OR_RETURN(bool k, isKept(c));
      if (k) ++kept;
    }
    if (kept == 0) return drop();
    if (foreign) {
      return refused(
          "adds a foreign key over columns the task moves; add it at the destination "
          "by hand");
    }
    if (kept != columns->size()) {
      return refused("adds an index over columns the task moves and columns it does not");
    }
    return keep(whole);
  }

  const RouteColumns& route_;
  const bool subset_;
};

}  // namespace

Result<std::optional<std::string>> alterSpecsForRoute(std::string_view sql,
                                                      const std::vector<SqlToken>& toks,
                                                      size_t first, const RouteColumns& route) {
  // MariaDB's WAIT n / NOWAIT come before the specifications and stay with them.
  std::string prefix;
  if (first < toks.size() && toks[first].isWord("NOWAIT")) {
    prefix = "NOWAIT ";
    ++first;
  } else if (first + 1 < toks.size() && toks[first].isWord("WAIT") &&
             toks[first + 1].kind == SqlTokenKind::kNumber) {
    prefix = "WAIT " + toks[first + 1].text + " ";
    first += 2;
  }
  Decider decider(route);
  std::vector<std::string> kept;
  std::vector<std::string> modifiers;
  int depth = 0;
  size_t begin = first;
  for (size_t i = first; i <= toks.size(); ++i) {
    if (i < toks.size()) {
      if (toks[i].isPunct('(')) ++depth;
      if (toks[i].isPunct(')')) --depth;
      if (depth != 0 || !toks[i].isPunct(',')) continue;
    }
    if (i == begin) {
      if (i == toks.size()) break;
      return Status::Unsupported("an empty specification");
    }
    Spec spec(sql, toks, begin, i);
    DTS_ASSIGN_OR_RETURN(Decision d, decider.decide(spec));
    if (d.kind == Decision::kKeep) kept.push_back(std::move(d.text));
    if (d.kind == Decision::kModifier) modifiers.push_back(std::move(d.text));
    begin = i + 1;
  }
  if (kept.empty()) return std::optional<std::string>();
  std::string out = prefix;
  for (size_t i = 0; i < kept.size(); ++i) out += (i == 0 ? "" : ", ") + kept[i];
  for (const std::string& m : modifiers) out += ", " + m;
  return std::optional<std::string>(std::move(out));
}

}  // namespace dts::pipeline
