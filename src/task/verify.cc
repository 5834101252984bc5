#include "task/verify.h"

#include <algorithm>
#include <chrono>
#include <future>
#include <map>
#include <set>
#include <thread>

#include "common/clock.h"
#include "common/log.h"
#include "mysql/charset_convert.h"
#include "mysql/unique_keys.h"
#include "task/catalog.h"
#include "task/chunk_plan.h"
#include "task/cluster_rules.h"
#include "task/sql_values.h"
#include "task/throttle.h"
#include "task/verify_progress.h"
#include "task/verify_sql.h"

namespace dts::task {

const char* rowDifferenceKindName(RowDifference::Kind kind) {
  switch (kind) {
    case RowDifference::Kind::kMissing: return "missing";
    case RowDifference::Kind::kExtra: return "extra";
    case RowDifference::Kind::kChanged: return "changed";
  }
  return "?";
}

bool VerifyReport::equal() const {
  return unproven.empty() &&
         std::all_of(tables.begin(), tables.end(), [](const auto& t) { return t.equal(); });
}

uint64_t VerifyReport::rowDifferences() const {
  uint64_t n = 0;
  for (const auto& t : tables) n += t.row_differences;
  return n;
}

uint64_t VerifyReport::schemaDifferences() const {
  uint64_t n = 0;
  for (const auto& t : tables) n += t.schema.size();
  return n;
}

namespace {

using SteadyClock = std::chrono::steady_clock;

double secondsSince(SteadyClock::time_point start) {
  return std::chrono::duration<double>(SteadyClock::now() - start).count();
}

// One side of a table: the server, the quoted table name, the compared columns (the kept columns,
// in source order, each with this side's type) and the rows it is restricted to.
struct Side {
  mysql::Connection* conn = nullptr;
  const char* name = "";  // "source" / "destination", for messages
  ServerFlavor flavor = ServerFlavor::kMariaDB;
  std::string db, table;
  std::string qualified;
  std::vector<VerifyColumn> columns;
  std::string where;  // the route's WHERE at the source, "" at the destination

  std::string describe() const { return std::string(name) + " table " + db + "." + table; }
};

struct Checksum {
  uint64_t count = 0;
  std::string sum;
  double seconds = 0;
  bool operator==(const Checksum& o) const { return count == o.count && sum == o.sum; }
};

// One row as read for comparison: each column's canonical value, then its shown value.
struct RowValues {
  std::vector<std::optional<std::string>> canonical, shown;
};

Result<std::vector<VerifyColumn>> readColumns(mysql::Connection& conn, const std::string& db,
                                              const std::string& table) {
  DTS_ASSIGN_OR_RETURN(
      auto rows, conn.query("SELECT COLUMN_NAME, DATA_TYPE, COLUMN_TYPE, CHARACTER_SET_NAME,"
                            " COLLATION_NAME, IS_NULLABLE, IFNULL(COLUMN_DEFAULT, 'NULL')"
                            " FROM information_schema.COLUMNS"
                            " WHERE TABLE_SCHEMA = " +
                            conn.quoteString(db) + " AND TABLE_NAME = " + conn.quoteString(table) +
                            " ORDER BY ORDINAL_POSITION"));
  std::vector<VerifyColumn> out;
  for (const auto& r : rows.rows) {
    VerifyColumn c;
    c.name = r[0].value_or("");
    c.data_type = r[1].value_or("");
    std::transform(c.data_type.begin(), c.data_type.end(), c.data_type.begin(),
                   [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
    c.column_type = r[2].value_or("");
    c.charset = r[3].value_or("");
    c.collation = r[4].value_or("");
    c.nullable = r[5].value_or("YES") == "YES";
    c.column_default = r[6].value_or("NULL");
    out.push_back(std::move(c));
  }
  if (out.empty() || !conn.isMariaDB()) return out;
  // MariaDB's JSON is LONGTEXT with a CHECK (json_valid(`c`)) constraint named after the column.
  DTS_ASSIGN_OR_RETURN(
      auto checks,
      conn.query("SELECT CHECK_CLAUSE FROM information_schema.CHECK_CONSTRAINTS"
                 " WHERE CONSTRAINT_SCHEMA = " +
                 conn.quoteString(db) + " AND TABLE_NAME = " + conn.quoteString(table)));
  for (const auto& r : checks.rows) {
    std::string clause = r[0].value_or("");
    for (auto& c : out) {
      if (clause == "json_valid(" + mysql::quoteIdentifier(c.name) + ")") c.json = true;
    }
  }
  return out;
}

// COLUMN_TYPE without an integer display width ("int(11)" and MySQL 8's "int" are one type).
std::string comparableType(const VerifyColumn& c) {
  if (c.kind() != VerifyColumn::Kind::kInteger) return c.column_type;
  std::string t = c.column_type;
  auto open = t.find('(');
  auto close = t.find(')');
  if (open != std::string::npos && close != std::string::npos && close > open)
    t.erase(open, close - open + 1);
  return t;
}

CatalogColumn::Render renderOf(const VerifyColumn& c) {
  if (c.shownByNumber()) return CatalogColumn::Render::kNumber;
  switch (c.kind()) {
    case VerifyColumn::Kind::kInteger:
    case VerifyColumn::Kind::kExact:
    case VerifyColumn::Kind::kFloat:
    case VerifyColumn::Kind::kDouble:
    case VerifyColumn::Kind::kBit: return CatalogColumn::Render::kNumber;
    case VerifyColumn::Kind::kBytes: return CatalogColumn::Render::kHex;
    default: return CatalogColumn::Render::kString;
  }
}

bool isUtf8(const std::string& v) {
  return mysql::firstInvalidUtf8(v) == v.size();
}

// Bytes, and any value that is not UTF-8 (reports are JSON, which holds only UTF-8), as 0x hex:
// every byte shown, so two different values are never shown alike.
std::optional<std::string> shownValue(const VerifyColumn& c, const std::optional<std::string>& v) {
  if (!v || (c.kind() != VerifyColumn::Kind::kBytes && isUtf8(*v))) return v;
  std::string out = "0x";
  appendHex(out, v->data(), v->size());
  return out;
}

// A literal equal to v (as displayExpr shows it) in column c: a WHERE's (-0 is -0e0, which any
// zero equals).
std::string literal(const VerifyColumn& c, const std::optional<std::string>& v) {
  std::string out;
  CatalogColumn::Render render = renderOf(c);
  // Repair SQL goes into reports: bytes that are not UTF-8 as X'..', the same bytes; so are the
  // stored bytes of another character set (exact_bytes), which a utf8mb4 literal would convert.
  if (render == CatalogColumn::Render::kString && v &&
      (!isUtf8(*v) || (c.exact_bytes && c.charset != "utf8mb4")))
    render = CatalogColumn::Render::kHex;
  appendSqlValue(out, render, v ? v->data() : nullptr, v ? v->size() : 0);
  return out;
}

// The literal that stores v (as displayExpr shows it) into column c at a `destination` server: a
// FLOAT or DOUBLE -0 as sink::negativeZeroLiteral says (-1e-50 into a FLOAT at MariaDB); where
// no literal stores it, -0e0, and *notes gets why the row will still differ.
std::string storedLiteral(const VerifyColumn& c, const std::optional<std::string>& v,
                          ServerFlavor destination, std::vector<std::string>* notes) {
  if (!v || *v != "-0" ||
      (c.kind() != VerifyColumn::Kind::kFloat && c.kind() != VerifyColumn::Kind::kDouble))
    return literal(c, v);
  auto zero =
      negativeZeroLiteral(c.name, c.data_type, c.column_type,
                          destination == ServerFlavor::kMySQL ? mysql::ServerFlavor::kMySql
                                                              : mysql::ServerFlavor::kMariaDb);
  if (zero.ok()) return std::string(*zero);
  notes->push_back(zero.status().message());
  return "-0e0";
}

// Each note as an SQL comment line, then the statement.
std::string withNotes(const std::vector<std::string>& notes, std::string statement) {
  std::string out;
  for (const auto& n : notes) out += "-- " + n + "\n";
  return out + statement;
}

class TableVerifier {
 public:
  TableVerifier(const VerifyOptions& options, Throttle* throttle, const std::atomic<bool>& stop,
                CatalogTable catalog, Side src, Side dst, TableVerifyResult* result)
      : options_(options),
        throttle_(throttle),
        stop_(stop),
        cat_(std::move(catalog)),
        src_(std::move(src)),
        dst_(std::move(dst)),
        result_(result),
        backoff_(options.load) {
    for (const auto& k : cat_.chunk_key) {
      for (size_t i = 0; i < src_.columns.size(); ++i) {
        if (src_.columns[i].name == k) key_index_.push_back(i);
      }
    }
  }

  Status run() {
    if (cat_.chunk_key.empty()) return compareKeyless();
    return compareByKey();
  }

  // Resumes a keyed table after this chunk key (the last one an earlier run finished), and
  // records each finished chunk in progress (both optional).
  void resumeAfter(std::optional<std::vector<std::string>> after, VerifyProgress* progress) {
    resume_after_ = std::move(after);
    progress_ = progress;
  }
  // Set by another table's worker when it failed: this one stops at its next chunk.
  void haltWith(const std::atomic<bool>* halt) { halt_ = halt; }

  // Compares the rows with these keys (each a predicate over the chunk key, "" for none) in
  // batches, re-checking those that differ once the destination has applied the source position
  // read after them (options.wait_applied must be set): incremental verification.
  Status compareKeys(const std::vector<std::string>& predicates) {
    constexpr size_t kBatch = 200;
    for (size_t i = 0; i < predicates.size(); i += kBatch) {
      if (stopped()) return Status::Aborted("verification stopped at " + src_.describe());
      std::string keys;
      for (size_t j = i; j < std::min(predicates.size(), i + kBatch); ++j)
        keys += (keys.empty() ? "(" : " OR (") + predicates[j] + ")";
      if (!throttle_->acquire(std::min(kBatch, predicates.size() - i), 0, stop_))
        return Status::Aborted("verification stopped at " + src_.describe());
      DTS_RETURN_IF_ERROR(diffRowsWhere(keys, true));
      ++result_->chunks;
    }
    return Status::OK();
  }

 private:
  bool stopped() const { return stop_.load() || (halt_ != nullptr && halt_->load()); }

  // Waits for `d` in short steps (kAborted when stopped meanwhile), counted as a load pause.
  Status pause(std::chrono::milliseconds d) {
    ++result_->load_pauses;
    result_->paused_seconds += std::chrono::duration<double>(d).count();
    auto until = SteadyClock::now() + d;
    while (SteadyClock::now() < until) {
      if (stopped()) return Status::Aborted("verification stopped at " + src_.describe());
      std::this_thread::sleep_for(std::min<SteadyClock::duration>(until - SteadyClock::now(),
                                                                  std::chrono::milliseconds(100)));
    }
    return Status::OK();
  }

  void shrink(uint64_t* rows) const { *rows = std::max(options_.min_chunk_rows, *rows / 2); }

  // Before a chunk: waits while the source runs more than options_.load.max_threads_running
  // threads besides verification's own.
  Status yieldToLoad(uint64_t* rows) {
    if (options_.load.max_threads_running == 0) return Status::OK();
    while (true) {
      DTS_ASSIGN_OR_RETURN(auto v, src_.conn->query("SHOW GLOBAL STATUS LIKE 'Threads_running'"));
      uint64_t running = 0;
      if (!v.rows.empty() && v.rows[0].size() == 2)
        running = std::strtoull(v.rows[0][1].value_or("0").c_str(), nullptr, 10);
      uint64_t own = static_cast<uint64_t>(std::max(1, options_.parallelism));
      auto d = backoff_.onThreadsRunning(running > own ? running - own : 0);
      if (d.pause.count() == 0) return Status::OK();
      if (d.shrink) shrink(rows);
      spdlog::info("verify {}: the source runs {} threads, pausing {} ms", src_.describe(), running,
                   d.pause.count());
      DTS_RETURN_IF_ERROR(pause(d.pause));
    }
  }

  std::string keyColumns() const {
    std::string out;
    for (const auto& k : cat_.chunk_key)
      out += (out.empty() ? "" : ", ") + mysql::quoteIdentifier(k);
    return out;
  }

  std::string range(Side& side, const std::optional<std::vector<std::string>>& lower,
                    const std::optional<std::vector<std::string>>& upper) {
    std::string p = chunkPredicate(cat_, lower ? &*lower : nullptr, upper ? &*upper : nullptr,
                                   [&](std::string_view s) { return side.conn->quoteString(s); });
    return p == "1" ? "" : p;
  }

  Result<Checksum> checksum(Side& side, const std::string& where) {
    auto start = SteadyClock::now();
    DTS_ASSIGN_OR_RETURN(
        auto r, side.conn->query(chunkChecksumSql(side.qualified, side.columns, side.flavor, where,
                                                  options_.hash)));
    if (r.rows.empty() || r.rows[0].size() != 2)
      return Status::Internal("checksum of " + side.describe() + " returned no row");
    Checksum c;
    c.count = std::stoull(r.rows[0][0].value_or("0"));
    c.sum = r.rows[0][1].value_or("0");
    c.seconds = secondsSince(start);
    return c;
  }

  // Both sides' checksums of one key range, computed at the same time.
  Status checksumBoth(const std::optional<std::vector<std::string>>& lower,
                      const std::optional<std::vector<std::string>>& upper, Checksum* s,
                      Checksum* d) {
    std::string src_where = andWhere(range(src_, lower, upper), src_.where);
    std::string dst_where = andWhere(range(dst_, lower, upper), dst_.where);
    auto dst_future = std::async(std::launch::async, [&] { return checksum(dst_, dst_where); });
    auto src_sum = checksum(src_, src_where);
    auto dst_sum = dst_future.get();
    if (!src_sum.ok()) return src_sum.status();
    if (!dst_sum.ok()) return dst_sum.status();
    *s = *src_sum;
    *d = *dst_sum;
    ++result_->chunks;
    return Status::OK();
  }

  // While a sync runs, a chunk that differs may only be lagging: wait until the destination has
  // applied the source position read after the source's checksum, then checksum again.
  Status recheck(const std::optional<std::vector<std::string>>& lower,
                 const std::optional<std::vector<std::string>>& upper, Checksum* s, Checksum* d) {
    for (int i = 0; i < options_.rechecks && options_.wait_applied && !(*s == *d); ++i) {
      // In order: the source's checksum, the position after it, the destination once it has
      // applied that position.
      std::string src_where = andWhere(range(src_, lower, upper), src_.where);
      std::string dst_where = andWhere(range(dst_, lower, upper), dst_.where);
      DTS_ASSIGN_OR_RETURN(*s, checksum(src_, src_where));
      DTS_RETURN_IF_ERROR(waitApplied());
      DTS_ASSIGN_OR_RETURN(*d, checksum(dst_, dst_where));
      ++result_->rechecks;
      ++result_->chunks;
    }
    return Status::OK();
  }

  // Waits until the destination has applied the source's current position (online only).
  Status waitApplied() {
    if (!options_.wait_applied) return Status::OK();
    DTS_ASSIGN_OR_RETURN(
        auto pos, src_.conn->queryValue(src_.conn->isMariaDB() ? "SELECT @@GLOBAL.gtid_binlog_pos"
                                                               : "SELECT @@GLOBAL.gtid_executed"));
    return options_.wait_applied(pos.value_or(""));
  }

  // The key `offset` rows into side's rows of (lower, upper] in key order; nullopt past the end.
  Result<std::optional<std::vector<std::string>>> keyAt(
      Side& side, const std::optional<std::vector<std::string>>& lower,
      const std::optional<std::vector<std::string>>& upper, uint64_t offset) {
    std::string where = andWhere(range(side, lower, upper), side.where);
    DTS_ASSIGN_OR_RETURN(
        auto r, side.conn->query("SELECT " + exactKeySelectList(cat_) + " FROM " + side.qualified +
                                 (where.empty() ? "" : " WHERE " + where) + " ORDER BY " +
                                 keyColumns() + " LIMIT " + std::to_string(offset) + ", 1"));
    if (r.rows.empty()) return std::optional<std::vector<std::string>>();
    std::vector<std::string> key;
    for (const auto& v : r.rows[0]) {
      if (!v) return Status::Corruption(side.describe() + " has a NULL in its key");
      key.push_back(*v);
    }
    return std::optional<std::vector<std::string>>(std::move(key));
  }

  Status compareByKey() {
    std::optional<std::vector<std::string>> lower = resume_after_;
    uint64_t rows = options_.initial_chunk_rows;
    while (true) {
      if (stopped()) return Status::Aborted("verification stopped at " + src_.describe());
      DTS_RETURN_IF_ERROR(yieldToLoad(&rows));
      // The upper bound comes from an index walk at the source without the WHERE filter (a
      // range is only a split point; the filter applies to what is hashed).
      Side unfiltered = src_;
      unfiltered.where.clear();
      DTS_ASSIGN_OR_RETURN(auto upper, keyAt(unfiltered, lower, std::nullopt, rows - 1));
      if (!throttle_->acquire(rows, 0, stop_))
        return Status::Aborted("verification stopped at " + src_.describe());
      Checksum s, d;
      DTS_RETURN_IF_ERROR(checksumBoth(lower, upper, &s, &d));
      DTS_RETURN_IF_ERROR(recheck(lower, upper, &s, &d));
      result_->source_rows += s.count;
      result_->destination_rows += d.count;
      if (!(s == d)) DTS_RETURN_IF_ERROR(bisect(lower, upper, s.count, d.count));
      // Resize toward the time target, at most doubling or halving per chunk.
      double took = std::max(s.seconds, d.seconds);
      double factor = took <= 0 ? 2.0 : std::clamp(options_.chunk_seconds / took, 0.5, 2.0);
      rows = std::clamp<uint64_t>(static_cast<uint64_t>(static_cast<double>(rows) * factor),
                                  options_.min_chunk_rows, options_.max_chunk_rows);
      if (!upper) return Status::OK();
      if (progress_ != nullptr) {
        VerifyProgress::Table saved{*result_, false, upper};
        saved.result.seconds += secondsSince(started_);
        DTS_RETURN_IF_ERROR(progress_->save(saved));
      }
      auto load = backoff_.afterChunk(s.count, s.seconds);
      if (load.shrink) shrink(&rows);
      if (load.pause.count() > 0) {
        spdlog::info("verify {}: a chunk took {:.2f} s, {:.1f}x the idle rate, pausing {} ms",
                     src_.describe(), s.seconds,
                     s.seconds / (backoff_.baselineSecondsPerRow() * static_cast<double>(s.count)),
                     load.pause.count());
        DTS_RETURN_IF_ERROR(pause(load.pause));
      }
      lower = std::move(upper);
    }
  }

  Status bisect(const std::optional<std::vector<std::string>>& lower,
                const std::optional<std::vector<std::string>>& upper, uint64_t src_count,
                uint64_t dst_count) {
    if (stopped()) return Status::Aborted("verification stopped at " + src_.describe());
    if (std::max(src_count, dst_count) <= options_.bisect_rows) return diffRows(lower, upper);
    Side& side = src_count >= dst_count ? src_ : dst_;
    uint64_t count = std::max(src_count, dst_count);
    DTS_ASSIGN_OR_RETURN(auto mid, keyAt(side, lower, upper, count / 2 - 1));
    if (!mid) return diffRows(lower, upper);  // the side changed under us: compare rows
    std::optional<std::vector<std::string>> halves[2][2] = {{lower, mid}, {mid, upper}};
    for (auto& h : halves) {
      if (!throttle_->acquire(count / 2, 0, stop_))
        return Status::Aborted("verification stopped at " + src_.describe());
      Checksum s, d;
      DTS_RETURN_IF_ERROR(checksumBoth(h[0], h[1], &s, &d));
      if (!(s == d)) DTS_RETURN_IF_ERROR(bisect(h[0], h[1], s.count, d.count));
    }
    return Status::OK();
  }

  std::string selectValues(const Side& side) const {
    std::string sql = "SELECT ";
    for (size_t i = 0; i < side.columns.size(); ++i)
      sql += (i == 0 ? "" : ", ") + canonicalExpr(side.columns[i], side.flavor);
    for (const auto& c : side.columns) sql += ", " + displayExpr(c);
    return sql + " FROM " + side.qualified;
  }

  // Streams side's rows matching `where` into on_row.
  static Status readRows(Side& side, const std::string& select, const std::string& where,
                         const std::function<void(RowValues)>& on_row) {
    size_t n = side.columns.size();
    Status st = side.conn->queryStream(
        select + (where.empty() ? "" : " WHERE " + where),
        [&](const char* const* f, const unsigned long* len, unsigned fields) {
          if (fields != 2 * n) return false;
          RowValues r;
          for (size_t i = 0; i < 2 * n; ++i) {
            std::optional<std::string> v;
            if (f[i] != nullptr) v.emplace(f[i], len[i]);
            (i < n ? r.canonical : r.shown).push_back(std::move(v));
          }
          on_row(std::move(r));
          return true;
        });
    if (!st.ok()) return st;
    return Status::OK();
  }

  std::string keyOf(const RowValues& r) const {
    std::string out;
    for (size_t i : key_index_) {
      const auto& v = r.canonical[i];
      out += v ? std::to_string(v->size()) + ":" + *v : "N";
    }
    return out;
  }

  void record(RowDifference diff) {
    ++result_->row_differences;
    if (result_->rows.size() < options_.max_reported_rows) result_->rows.push_back(std::move(diff));
  }

  std::string replaceSql(const RowValues& src_row) const {
    std::string cols, vals;
    std::vector<std::string> notes;
    for (size_t i = 0; i < src_.columns.size(); ++i) {
      cols += (i == 0 ? "" : ", ") + mysql::quoteIdentifier(src_.columns[i].name);
      vals += (i == 0 ? "" : ", ") +
              storedLiteral(src_.columns[i], src_row.shown[i], dst_.flavor, &notes);
    }
    return withNotes(notes,
                     "REPLACE INTO " + dst_.qualified + " (" + cols + ") VALUES (" + vals + ");");
  }

  std::vector<std::pair<std::string, std::optional<std::string>>> shownKey(
      const Side& side, const RowValues& r) const {
    std::vector<std::pair<std::string, std::optional<std::string>>> key;
    for (size_t i : key_index_)
      key.emplace_back(side.columns[i].name, shownValue(side.columns[i], r.shown[i]));
    return key;
  }

  // Reads (lower, upper] from both sides and reports each row that differs. While a sync runs,
  // the differing rows are read again (by key, the source first, the destination once it has
  // applied the source's position) up to `rechecks` times, and only those that still differ
  // are reported.
  Status diffRows(const std::optional<std::vector<std::string>>& lower,
                  const std::optional<std::vector<std::string>>& upper) {
    return diffRowsWhere(range(src_, lower, upper), false);
  }

  // diffRows over the rows `where` selects (the same predicate on both sides); ordered: even the
  // first read waits for the destination to apply the source's position.
  Status diffRowsWhere(const std::string& where, bool ordered) {
    std::vector<RowDifference> diffs;
    std::string keys;
    DTS_RETURN_IF_ERROR(compareRows(andWhere(where, src_.where), andWhere(where, dst_.where),
                                    ordered, &diffs, &keys));
    for (int i = 0; i < options_.rechecks && options_.wait_applied && !diffs.empty(); ++i) {
      std::string again = keys;
      diffs.clear();
      keys.clear();
      DTS_RETURN_IF_ERROR(compareRows(andWhere(again, src_.where), andWhere(again, dst_.where),
                                      true, &diffs, &keys));
      ++result_->rechecks;
    }
    for (auto& d : diffs) record(std::move(d));
    return Status::OK();
  }

  // The predicate selecting the row whose key side's row r has.
  std::string keyPredicate(const Side& side, const RowValues& r) const {
    std::string where;
    for (size_t i : key_index_) {
      where += (where.empty() ? "" : " AND ") + mysql::quoteIdentifier(side.columns[i].name) +
               " = " + literal(side.columns[i], r.shown[i]);
    }
    return where;
  }

  // Compares the rows matching src_where at the source with those matching dst_where at the
  // destination; ordered: the destination is read once it has applied the source's position.
  // Appends the differences, and their keys to `keys` as a predicate ("" when none).
  Status compareRows(const std::string& src_where, const std::string& dst_where, bool ordered,
                     std::vector<RowDifference>* diffs, std::string* keys) {
    auto note = [&](const Side& side, const RowValues& r) {
      *keys += (keys->empty() ? "(" : " OR (") + keyPredicate(side, r) + ")";
    };
    std::map<std::string, RowValues> source_rows;
    DTS_RETURN_IF_ERROR(readRows(src_, selectValues(src_), src_where, [&](RowValues r) {
      std::string k = keyOf(r);
      source_rows.emplace(std::move(k), std::move(r));
    }));
    if (ordered) DTS_RETURN_IF_ERROR(waitApplied());
    std::map<std::string, RowValues> dest_rows;
    DTS_RETURN_IF_ERROR(readRows(dst_, selectValues(dst_), dst_where, [&](RowValues r) {
      std::string k = keyOf(r);
      dest_rows.emplace(std::move(k), std::move(r));
    }));
    for (const auto& [k, s] : source_rows) {
      auto it = dest_rows.find(k);
      RowDifference diff;
      diff.key = shownKey(src_, s);
      if (it == dest_rows.end()) {
        diff.kind = RowDifference::Kind::kMissing;
        diff.fix_sql = replaceSql(s);
        note(src_, s);
        diffs->push_back(std::move(diff));
        continue;
      }
      const RowValues& d = it->second;
      if (s.canonical == d.canonical) continue;
      diff.kind = RowDifference::Kind::kChanged;
      for (size_t i = 0; i < src_.columns.size(); ++i) {
        if (s.canonical[i] == d.canonical[i]) continue;
        diff.columns.push_back({src_.columns[i].name, shownValue(src_.columns[i], s.shown[i]),
                                shownValue(dst_.columns[i], d.shown[i])});
      }
      diff.fix_sql = replaceSql(s);
      note(src_, s);
      diffs->push_back(std::move(diff));
    }
    for (const auto& [k, d] : dest_rows) {
      if (source_rows.count(k) != 0) continue;
      RowDifference diff;
      diff.kind = RowDifference::Kind::kExtra;
      diff.key = shownKey(dst_, d);
      diff.fix_sql = "DELETE FROM " + dst_.qualified + " WHERE " + keyPredicate(dst_, d) + ";";
      note(dst_, d);
      diffs->push_back(std::move(diff));
    }
    return Status::OK();
  }

  // Row hash -> copies, for one side of a keyless table.
  static Status hashCounts(Side& side, std::map<std::string, uint64_t>* out) {
    std::string h = rowHashExpr(side.columns, side.flavor);
    return side.conn->queryStream(
        "SELECT " + h + " AS h, COUNT(*) FROM " + side.qualified +
            (side.where.empty() ? "" : " WHERE " + side.where) + " GROUP BY h",
        [&](const char* const* f, const unsigned long* len, unsigned n) {
          if (n != 2 || f[0] == nullptr || f[1] == nullptr) return false;
          (*out)[std::string(f[0], len[0])] += std::stoull(std::string(f[1], len[1]));
          return true;
        });
  }

  Status compareKeyless() {
    result_->keyless = true;
    if (!throttle_->acquire(cat_.estimated_rows, 0, stop_))
      return Status::Aborted("verification stopped at " + src_.describe());
    Checksum s, d;
    DTS_RETURN_IF_ERROR(checksumBoth(std::nullopt, std::nullopt, &s, &d));
    DTS_RETURN_IF_ERROR(recheck(std::nullopt, std::nullopt, &s, &d));
    result_->source_rows = s.count;
    result_->destination_rows = d.count;
    if (s == d) return Status::OK();
    std::map<std::string, uint64_t> src_counts, dst_counts;
    auto dst_future = std::async(std::launch::async, [&] { return hashCounts(dst_, &dst_counts); });
    Status src_st = hashCounts(src_, &src_counts);
    Status dst_st = dst_future.get();
    DTS_RETURN_IF_ERROR(src_st);
    DTS_RETURN_IF_ERROR(dst_st);
    auto report = [&](Side& side, const std::string& hash, uint64_t copies,
                      RowDifference::Kind kind) -> Status {
      RowValues row;
      std::string where =
          andWhere(side.where, rowHashExpr(side.columns, side.flavor) + " = '" + hash + "'");
      DTS_RETURN_IF_ERROR(readRows(side, selectValues(side), where + " LIMIT 1",
                                   [&](RowValues r) { row = std::move(r); }));
      if (row.shown.empty())
        return Status::Aborted(side.describe() + " changed while it was verified");
      RowDifference diff;
      diff.kind = kind;
      diff.count = copies;
      for (size_t i = 0; i < side.columns.size(); ++i)
        diff.key.emplace_back(side.columns[i].name, shownValue(side.columns[i], row.shown[i]));
      if (kind == RowDifference::Kind::kMissing) {
        std::string cols, vals;
        std::vector<std::string> notes;
        for (size_t i = 0; i < src_.columns.size(); ++i) {
          cols += (i == 0 ? "" : ", ") + mysql::quoteIdentifier(src_.columns[i].name);
          vals += (i == 0 ? "" : ", ") +
                  storedLiteral(src_.columns[i], row.shown[i], dst_.flavor, &notes);
        }
        for (uint64_t c = 0; c < copies; ++c) {
          diff.fix_sql += (c == 0 ? "" : "\n") + ("INSERT INTO " + dst_.qualified + " (" + cols +
                                                  ") VALUES (" + vals + ");");
        }
        diff.fix_sql = withNotes(notes, diff.fix_sql);
      } else {
        // The row is identified by its hash: exact whatever its values' types are.
        diff.fix_sql = "DELETE FROM " + dst_.qualified + " WHERE " +
                       rowHashExpr(dst_.columns, dst_.flavor) + " = '" + hash + "' LIMIT " +
                       std::to_string(copies) + ";";
      }
      result_->row_differences += copies - 1;
      record(std::move(diff));
      return Status::OK();
    };
    for (const auto& [hash, n] : src_counts) {
      auto it = dst_counts.find(hash);
      uint64_t there = it == dst_counts.end() ? 0 : it->second;
      if (n > there)
        DTS_RETURN_IF_ERROR(report(src_, hash, n - there, RowDifference::Kind::kMissing));
    }
    for (const auto& [hash, n] : dst_counts) {
      auto it = src_counts.find(hash);
      uint64_t there = it == src_counts.end() ? 0 : it->second;
      if (n > there)
        DTS_RETURN_IF_ERROR(report(dst_, hash, n - there, RowDifference::Kind::kExtra));
    }
    return Status::OK();
  }

  const VerifyOptions& options_;
  Throttle* throttle_;
  const std::atomic<bool>& stop_;
  CatalogTable cat_;
  Side src_, dst_;
  TableVerifyResult* result_;
  std::vector<size_t> key_index_;  // positions of the chunk key's columns in columns
  LoadBackoff backoff_;
  std::optional<std::vector<std::string>> resume_after_;
  VerifyProgress* progress_ = nullptr;
  const std::atomic<bool>* halt_ = nullptr;
  SteadyClock::time_point started_ = SteadyClock::now();
};

// Schema differences of one table over the kept columns (by name) and the unique keys.
Status compareSchema(mysql::Connection& src, mysql::Connection& dst, const CatalogTable& cat,
                     const std::vector<VerifyColumn>& src_cols,
                     const std::vector<VerifyColumn>& dst_cols, TableVerifyResult* result) {
  const auto& route = cat.route;
  auto find = [](const std::vector<VerifyColumn>& cols, const std::string& name) {
    auto it = std::find_if(cols.begin(), cols.end(), [&](const auto& c) { return c.name == name; });
    return it == cols.end() ? nullptr : &*it;
  };
  for (const auto& name : cat.copy_columns) {
    const VerifyColumn* s = find(src_cols, name);
    const VerifyColumn* d = find(dst_cols, name);
    std::string object = "column " + mysql::quoteIdentifier(name);
    if (s == nullptr) continue;  // dropped since the catalog was read
    if (d == nullptr) {
      result->schema.push_back({object, "missing at destination", s->column_type, ""});
      continue;
    }
    if (comparableType(*s) != comparableType(*d))
      result->schema.push_back({object, "type", s->column_type, d->column_type});
    if (s->charset != d->charset)
      result->schema.push_back({object, "character set", s->charset, d->charset});
    else if (s->collation != d->collation)
      result->schema.push_back({object, "collation", s->collation, d->collation});
    if (s->nullable != d->nullable)
      result->schema.push_back(
          {object, "nullable", s->nullable ? "YES" : "NO", d->nullable ? "YES" : "NO"});
    if (s->kind() == VerifyColumn::Kind::kJson || d->kind() == VerifyColumn::Kind::kJson) {
      if ((s->kind() == VerifyColumn::Kind::kJson) != (d->kind() == VerifyColumn::Kind::kJson))
        result->schema.push_back({object, "JSON",
                                  s->kind() == VerifyColumn::Kind::kJson ? "json" : "not json",
                                  d->kind() == VerifyColumn::Kind::kJson ? "json" : "not json"});
    }
  }
  for (const auto& d : dst_cols) {
    if (std::find(cat.copy_columns.begin(), cat.copy_columns.end(), d.name) ==
        cat.copy_columns.end()) {
      const VerifyColumn* s = find(src_cols, d.name);
      // A generated column is recreated at the destination by the schema copy, not moved.
      bool generated = std::any_of(cat.columns.begin(), cat.columns.end(),
                                   [&](const auto& c) { return c.name == d.name && c.generated; });
      if (!generated)
        result->schema.push_back(
            {"column " + mysql::quoteIdentifier(d.name),
             s == nullptr ? "extra at destination" : "at destination though the task drops it", "",
             d.column_type});
    }
  }
  using Names = std::vector<std::string>;
  auto keys = [&](mysql::Connection& conn, const std::string& db,
                  const std::string& table) -> Result<std::map<std::string, Names>> {
    DTS_ASSIGN_OR_RETURN(auto uks, mysql::readUniqueKeys(conn, db, table));
    std::map<std::string, Names> out;  // "PRIMARY|UNIQUE (cols)" -> index names
    for (const auto& k : uks) {
      bool kept = std::all_of(k.columns.begin(), k.columns.end(), [&](const std::string& c) {
        return std::find(cat.copy_columns.begin(), cat.copy_columns.end(), c) !=
               cat.copy_columns.end();
      });
      if (!kept) continue;
      std::string cols;
      for (const auto& c : k.columns)
        cols += (cols.empty() ? "" : ", ") + mysql::quoteIdentifier(c);
      out[std::string(k.primary() ? "PRIMARY KEY" : "UNIQUE KEY") + " (" + cols + ")"].push_back(
          k.name);
    }
    return out;
  };
  // Keys or indexes by their definition ("PRIMARY KEY (`a`)" -> names): those one side lacks, and
  // copies one side has more of (a second index over the same columns, pad and pad_2, costs every
  // write and was not seen).
  auto compareDefinitions = [&](const std::string& what, const std::map<std::string, Names>& at_src,
                                const std::map<std::string, Names>& at_dst) {
    static const Names kNone;
    auto surplus = [](const Names& more, const Names& fewer) {
      Names out;  // the names of `more` beyond fewer's count, those fewer lacks first
      for (const auto& n : more)
        if (std::find(fewer.begin(), fewer.end(), n) == fewer.end()) out.push_back(n);
      for (const auto& n : more)
        if (std::find(out.begin(), out.end(), n) == out.end()) out.push_back(n);
      out.resize(more.size() - fewer.size());
      return out;
    };
    for (const auto& [k, names] : at_src) {
      auto it = at_dst.find(k);
      const Names& there = it == at_dst.end() ? kNone : it->second;
      if (there.size() < names.size())
        for (const auto& n : surplus(names, there))
          result->schema.push_back({what + " " + k, "missing at destination", n, ""});
    }
    for (const auto& [k, names] : at_dst) {
      auto it = at_src.find(k);
      const Names& there = it == at_src.end() ? kNone : it->second;
      if (there.size() < names.size())
        for (const auto& n : surplus(names, there))
          result->schema.push_back({what + " " + k, "extra at destination", "", n});
    }
  };
  DTS_ASSIGN_OR_RETURN(auto src_keys, keys(src, route.source_database, route.source_table));
  DTS_ASSIGN_OR_RETURN(auto dst_keys, keys(dst, route.target_database, route.target_table));
  compareDefinitions("key", src_keys, dst_keys);
  // Non-unique indexes (plain, FULLTEXT, SPATIAL) over kept columns, by their columns and
  // prefix lengths: a migration that lost one is slow, not wrong, but it is not the source's.
  auto indexes = [&](mysql::Connection& conn, const std::string& db,
                     const std::string& table) -> Result<std::map<std::string, Names>> {
    DTS_ASSIGN_OR_RETURN(
        auto rows,
        conn.query("SELECT INDEX_NAME, INDEX_TYPE, COLUMN_NAME, SUB_PART FROM "
                   "information_schema.STATISTICS WHERE TABLE_SCHEMA = " +
                   conn.quoteString(db) + " AND TABLE_NAME = " + conn.quoteString(table) +
                   " AND NON_UNIQUE = 1 ORDER BY INDEX_NAME, SEQ_IN_INDEX"));
    std::map<std::string, std::pair<std::string, bool>> by_name;  // name -> (text, kept)
    for (const auto& r : rows.rows) {
      auto& [text, kept] = by_name.try_emplace(r[0].value_or(""), "", true).first->second;
      const std::string col = r[2].value_or("");
      if (std::find(cat.copy_columns.begin(), cat.copy_columns.end(), col) ==
          cat.copy_columns.end())
        kept = false;
      if (text.empty()) {
        const std::string type = r[1].value_or("BTREE");
        text = type == "FULLTEXT" || type == "SPATIAL" ? type + " INDEX (" : "INDEX (";
      } else {
        text += ", ";
      }
      text += mysql::quoteIdentifier(col);
      if (r[3]) text += "(" + *r[3] + ")";
    }
    std::map<std::string, Names> out;  // "INDEX (cols)" -> index names
    for (auto& [name, entry] : by_name)
      if (entry.second) out[entry.first + ")"].push_back(name);
    return out;
  };
  DTS_ASSIGN_OR_RETURN(auto src_ix, indexes(src, route.source_database, route.source_table));
  DTS_ASSIGN_OR_RETURN(auto dst_ix, indexes(dst, route.target_database, route.target_table));
  compareDefinitions("index", src_ix, dst_ix);
  // Column defaults and the table's comment, when both servers are of one kind (MariaDB and
  // MySQL spell defaults differently: 'x' and x, current_timestamp() and CURRENT_TIMESTAMP).
  if (src.isMariaDB() == dst.isMariaDB()) {
    auto comment = [](mysql::Connection& conn, const std::string& db,
                      const std::string& table) -> Result<std::string> {
      DTS_ASSIGN_OR_RETURN(
          auto v,
          conn.queryValue("SELECT TABLE_COMMENT FROM information_schema.TABLES WHERE "
                          "TABLE_SCHEMA = " +
                          conn.quoteString(db) + " AND TABLE_NAME = " + conn.quoteString(table)));
      return v.value_or("");
    };
    DTS_ASSIGN_OR_RETURN(auto src_comment, comment(src, route.source_database, route.source_table));
    DTS_ASSIGN_OR_RETURN(auto dst_comment, comment(dst, route.target_database, route.target_table));
    if (src_comment != dst_comment)
      result->schema.push_back({"table", "comment", src_comment, dst_comment});
    for (const auto& name : cat.copy_columns) {
      const VerifyColumn* s = find(src_cols, name);
      const VerifyColumn* d = find(dst_cols, name);
      if (s == nullptr || d == nullptr || s->column_default == d->column_default) continue;
      result->schema.push_back({"column " + mysql::quoteIdentifier(name), "default",
                                s->column_default, d->column_default});
    }
  }
  return Status::OK();
}

ServerFlavor flavorOf(mysql::Connection& conn) {
  return conn.isMariaDB() ? ServerFlavor::kMariaDB : ServerFlavor::kMySQL;
}

Side makeSide(mysql::Connection* conn, const char* name, const std::string& db,
              const std::string& table, const std::string& where) {
  Side side;
  side.conn = conn;
  side.name = name;
  side.flavor = flavorOf(*conn);
  side.db = db;
  side.table = table;
  side.qualified = mysql::quoteQualified(db, table);
  side.where = where;
  return side;
}

Result<std::unique_ptr<mysql::Connection>> openSide(const EndpointConfig& e, const char* what) {
  auto options = e.connectOptions();
  if (!options.ok()) return options.status().withContext(what);
  options->read_timeout = std::chrono::seconds(3600);
  auto conn = mysql::Connection::connect(*options);
  if (!conn.ok()) return conn.status().withContext(what);
  // TIMESTAMP values print in the session's time zone: the same on both sides.
  DTS_RETURN_IF_ERROR((*conn)->execute("SET SESSION time_zone = '+00:00'"));
  return std::move(*conn);
}

}  // namespace

namespace {

// Both connections of one worker.
struct SidePair {
  std::unique_ptr<mysql::Connection> src, dst;
};

Result<SidePair> openPair(const TaskConfig& config) {
  SidePair p;
  DTS_ASSIGN_OR_RETURN(p.src, openSide(config.source, "source"));
  DTS_ASSIGN_OR_RETURN(p.dst, openSide(config.destination, "destination"));
  return p;
}

// Fills s's and d's compared columns (the kept ones, in source order); returns why the data
// cannot be compared ("" when it can).
std::string compareColumns(const CatalogTable& cat, const std::vector<VerifyColumn>& src_cols,
                           const std::vector<VerifyColumn>& dst_cols, Side* s, Side* d) {
  std::string missing, json;
  for (const auto& c : cat.copy_columns) {
    auto sc =
        std::find_if(src_cols.begin(), src_cols.end(), [&](const auto& x) { return x.name == c; });
    auto dc =
        std::find_if(dst_cols.begin(), dst_cols.end(), [&](const auto& x) { return x.name == c; });
    if (sc == src_cols.end() || dc == dst_cols.end()) {
      missing += (missing.empty() ? "" : ", ") + mysql::quoteIdentifier(c);
      continue;
    }
    if (s->flavor != d->flavor &&
        (sc->kind() == VerifyColumn::Kind::kJson || dc->kind() == VerifyColumn::Kind::kJson))
      json += (json.empty() ? "" : ", ") + mysql::quoteIdentifier(c);
    // A column nullable on one side only is a schema difference; for the row image both sides
    // carry its NULL flag, so the data is still compared.
    VerifyColumn sv = *sc, dv = *dc;
    sv.nullable = dv.nullable = sc->nullable || dc->nullable;
    const bool text =
        (sc->kind() == VerifyColumn::Kind::kText && dc->kind() == VerifyColumn::Kind::kText) ||
        (sc->kind() == VerifyColumn::Kind::kJson && dc->kind() == VerifyColumn::Kind::kJson &&
         s->flavor == d->flavor);
    sv.exact_bytes = dv.exact_bytes = text && !sc->charset.empty() && sc->charset == dc->charset;
    s->columns.push_back(std::move(sv));
    d->columns.push_back(std::move(dv));
  }
  if (!missing.empty()) return "column(s) " + missing + " missing on one side";
  if (!json.empty())
    return "JSON column(s) " + json +
           " between a MariaDB and a MySQL server are not compared (MariaDB keeps JSON text,"
           " MySQL prints its own canonical form)";
  return "";
}

// One table: schema, then data (resumed from `saved` when an earlier run got part of it done).
Result<TableVerifyResult> verifyTable(const CatalogTable& cat, const VerifyOptions& options,
                                      Throttle* throttle, const std::atomic<bool>& stop,
                                      const std::atomic<bool>& halt, SidePair& conns,
                                      VerifyProgress* progress,
                                      const std::optional<VerifyProgress::Table>& saved) {
  const auto& route = cat.route;
  std::string name = route.source_database + "." + route.source_table;
  auto table_started = SteadyClock::now();
  mysql::Connection* src = conns.src.get();
  mysql::Connection* dst = conns.dst.get();
  TableVerifyResult result;
  double earlier_seconds = 0;
  std::optional<std::vector<std::string>> after;
  if (saved && saved->after) {
    // Part of the data was compared by an earlier run: its counts and differences stand, the
    // schema is compared again.
    result = saved->result;
    result.schema.clear();
    result.chunks_resumed = result.chunks;
    earlier_seconds = result.seconds;
    after = saved->after;
  }
  result.source_table = name;
  result.target_table = route.target_database + "." + route.target_table;
  DTS_ASSIGN_OR_RETURN(auto src_cols, readColumns(*src, route.source_database, route.source_table));
  DTS_ASSIGN_OR_RETURN(auto dst_cols, readColumns(*dst, route.target_database, route.target_table));
  if (dst_cols.empty()) {
    result = TableVerifyResult{};
    result.source_table = name;
    result.target_table = route.target_database + "." + route.target_table;
    result.schema.push_back({"table", "missing at destination", name, result.target_table});
    result.data_skipped_reason = "the destination table does not exist";
    return result;
  }
  if (options.schema)
    DTS_RETURN_IF_ERROR(compareSchema(*src, *dst, cat, src_cols, dst_cols, &result));
  Side s = makeSide(src, "source", route.source_database, route.source_table, route.where);
  Side d = makeSide(dst, "destination", route.target_database, route.target_table, "");
  result.data_skipped_reason = compareColumns(cat, src_cols, dst_cols, &s, &d);
  if (result.data_skipped_reason.empty() && options.data) {
    TableVerifier verifier(options, throttle, stop, cat, std::move(s), std::move(d), &result);
    verifier.resumeAfter(after, progress);
    verifier.haltWith(&halt);
    Status st = verifier.run();
    if (!st.ok()) return st.withContext("verifying " + name);
    result.data_compared = true;
  }
  result.seconds = earlier_seconds + secondsSince(table_started);
  spdlog::info(
      "verify {} -> {}: {} source rows, {} destination rows, {} chunks ({} resumed), {} row and {} schema differences, {:.2f} s",
      name, result.target_table, result.source_rows, result.destination_rows, result.chunks,
      result.chunks_resumed, result.row_differences, result.schema.size(), result.seconds);
  return result;
}

// The source is a secondary node: whether its replication from the primary runs (see
// VerifyReport::unproven), as the task's own watch reads it (a node promoted to primary is no
// stopped replica). Sets report->unproven or report->note.
Status checkSourceNode(const TaskConfig& config, VerifyReport* report) {
  const std::string& name = config.source.secondary_node;
  if (name.empty() || !report->unproven.empty()) return Status::OK();
  DTS_ASSIGN_OR_RETURN(source::ReplicationWatch::Options wo, sourceNodeWatchOptions(config));
  source::ReplicationWatch watch(std::move(wo), nullptr);
  watch.checkOnce();
  source::ReplicationHealth h = watch.current();
  if (h.state == source::ReplicationHealth::State::kNotWatched) {
    return Status::Unavailable("reading the replication status of source node " + name +
                               ": the node could not be reached");
  }
  using State = source::ReplicationHealth::State;
  if (h.state == State::kUnknown) {
    report->note = "the replication status of source node " + name + " could not be read (" +
                   h.reason + "): whether it still receives the primary's changes is not known";
  } else if (h.state == State::kStopped) {
    report->unproven =
        "the replication of source node " + name + " is stopped (IO thread " + h.io_running +
        ", SQL thread " + h.sql_running + (h.error.empty() ? "" : ": " + h.error) +
        "): the destination was compared with " + name +
        "'s data, which lacks the primary's changes since its replication stopped, so this run "
        "proves nothing about the primary. Repair the node's replication and verify again, or "
        "verify from the primary (a copy of the task file without secondary_node)";
  }
  return Status::OK();
}

}  // namespace

Result<VerifyReport> verifyTask(const TaskConfig& config, const VerifyOptions& options,
                                const std::atomic<bool>& stop) {
  auto started = SteadyClock::now();
  DTS_ASSIGN_OR_RETURN(auto mapping, config.mapping());
  DTS_ASSIGN_OR_RETURN(auto first, openPair(config));
  VerifyReport report;
  DTS_RETURN_IF_ERROR(checkSourceNode(config, &report));
  DTS_ASSIGN_OR_RETURN(auto catalog, loadCatalog(*first.src, mapping));
  std::set<std::string> wanted(options.tables.begin(), options.tables.end());
  for (const auto& w : wanted) {
    bool found = std::any_of(catalog.begin(), catalog.end(), [&](const auto& t) {
      return t.route.source_database + "." + t.route.source_table == w;
    });
    if (!found) return Status::NotFound("--tables: " + w + " is not a source table the task moves");
  }
  std::vector<const CatalogTable*> todo;
  for (const auto& cat : catalog) {
    if (wanted.empty() || wanted.count(cat.route.source_database + "." + cat.route.source_table))
      todo.push_back(&cat);
  }
  std::unique_ptr<VerifyProgress> progress;
  if (!options.progress_file.empty()) {
    std::string identity = taskToYaml(config) +
                           "\nhash: " + (options.hash == RowHash::kMd5 ? "md5" : "crc32") +
                           (options.schema ? " schema" : "") + (options.data ? " data" : "");
    DTS_ASSIGN_OR_RETURN(progress, VerifyProgress::open(options.progress_file, identity));
  }
  report.task = config.name;
  report.resumed = progress != nullptr && !progress->empty();
  Throttle throttle(RateLimits{options.max_rps, 0}, SystemClock::instance());

  std::vector<std::optional<TableVerifyResult>> results(todo.size());
  std::atomic<size_t> next{0};
  std::atomic<bool> halt{false};
  std::mutex mu;  // first_error, on_table
  Status first_error;
  auto fail = [&](Status st) {
    std::lock_guard<std::mutex> lock(mu);
    if (first_error.ok()) first_error = std::move(st);
    halt.store(true);
  };
  auto work = [&](SidePair conns) {
    while (!halt.load()) {
      size_t i = next.fetch_add(1);
      if (i >= todo.size()) return;
      const CatalogTable& cat = *todo[i];
      std::string name = cat.describe();
      if (stop.load()) return fail(Status::Aborted("verification stopped before " + name));
      auto saved = progress ? progress->find(name) : std::nullopt;
      if (saved && saved->done) {
        results[i] = saved->result;
        results[i]->chunks_resumed = results[i]->chunks;
      } else {
        auto r = verifyTable(cat, options, &throttle, stop, halt, conns, progress.get(), saved);
        if (!r.ok()) return fail(r.status());
        results[i] = std::move(r).value();
        if (progress) {
          Status st = progress->save({*results[i], true, std::nullopt});
          if (!st.ok()) return fail(st);
        }
      }
      std::lock_guard<std::mutex> lock(mu);
      if (options.on_table) options.on_table(*results[i]);
    }
  };
  size_t workers =
      std::min<size_t>(std::max(1, options.parallelism), std::max<size_t>(1, todo.size()));
  std::vector<std::thread> threads;
  for (size_t w = 1; w < workers; ++w) {
    threads.emplace_back([&] {
      auto conns = openPair(config);
      if (!conns.ok()) return fail(conns.status());
      work(std::move(conns).value());
    });
  }
  work(std::move(first));
  for (auto& t : threads) t.join();
  if (!first_error.ok()) return first_error;
  DTS_RETURN_IF_ERROR(checkSourceNode(config, &report));
  for (auto& r : results) report.tables.push_back(std::move(*r));
  if (progress) {
    Status st = progress->remove();
    if (!st.ok()) spdlog::warn("{}", st.message());
  }
  report.seconds = secondsSince(started);
  return report;
}

struct RowVerifier::Impl {
  TaskConfig config;
  VerifyOptions options;
  SidePair conns;
  std::map<std::string, CatalogTable> tables;  // by source db.table
  struct Sides {
    Side src, dst;
    std::string skipped;  // why rows of this table are not compared
  };
  std::map<std::string, Sides> sides;  // resolved on first use
  std::unique_ptr<Throttle> throttle;
};

RowVerifier::RowVerifier(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
RowVerifier::~RowVerifier() = default;

Result<std::unique_ptr<RowVerifier>> RowVerifier::open(const TaskConfig& config,
                                                       const VerifyOptions& options) {
  if (!options.wait_applied)
    return Status::InvalidArgument("row verification needs the destination's applied position");
  auto impl = std::make_unique<Impl>();
  impl->config = config;
  impl->options = options;
  DTS_ASSIGN_OR_RETURN(auto mapping, config.mapping());
  DTS_ASSIGN_OR_RETURN(impl->conns, openPair(config));
  DTS_ASSIGN_OR_RETURN(auto catalog, loadCatalog(*impl->conns.src, mapping));
  for (auto& cat : catalog) impl->tables.emplace(cat.describe(), std::move(cat));
  impl->throttle =
      std::make_unique<Throttle>(RateLimits{options.max_rps, 0}, SystemClock::instance());
  return std::unique_ptr<RowVerifier>(new RowVerifier(std::move(impl)));
}

Status RowVerifier::compare(const ChangedRows& rows, const std::atomic<bool>& stop,
                            TableVerifyResult* result) {
  auto it = impl_->tables.find(rows.source_table);
  if (it == impl_->tables.end() || it->second.chunk_key.empty() || rows.keys.empty())
    return Status::OK();  // not moved (any more), or no key to find rows by
  const CatalogTable& cat = it->second;
  const auto& route = cat.route;
  result->source_table = rows.source_table;
  result->target_table = route.target_database + "." + route.target_table;
  auto found = impl_->sides.find(rows.source_table);
  if (found == impl_->sides.end()) {
    Impl::Sides sides;
    sides.src = makeSide(impl_->conns.src.get(), "source", route.source_database,
                         route.source_table, route.where);
    sides.dst = makeSide(impl_->conns.dst.get(), "destination", route.target_database,
                         route.target_table, "");
    DTS_ASSIGN_OR_RETURN(auto src_cols,
                         readColumns(*impl_->conns.src, route.source_database, route.source_table));
    DTS_ASSIGN_OR_RETURN(auto dst_cols,
                         readColumns(*impl_->conns.dst, route.target_database, route.target_table));
    sides.skipped = dst_cols.empty()
                        ? "the destination table does not exist"
                        : compareColumns(cat, src_cols, dst_cols, &sides.src, &sides.dst);
    found = impl_->sides.emplace(rows.source_table, std::move(sides)).first;
  }
  if (!found->second.skipped.empty()) {
    result->data_skipped_reason = found->second.skipped;
    return Status::OK();
  }
  std::vector<std::string> predicates;
  for (const auto& key : rows.keys) {
    if (key.size() != cat.chunk_key.size()) continue;
    std::string p;
    for (size_t i = 0; i < key.size(); ++i)
      p += (i == 0 ? "" : " AND ") + mysql::quoteIdentifier(cat.chunk_key[i]) + " = " + key[i];
    predicates.push_back(std::move(p));
  }
  TableVerifier verifier(impl_->options, impl_->throttle.get(), stop, cat, found->second.src,
                         found->second.dst, result);
  Status st = verifier.compareKeys(predicates);
  result->source_rows += predicates.size();
  result->data_compared = true;
  if (!st.ok()) return st.withContext("verifying changed rows of " + rows.source_table);
  return Status::OK();
}

}  // namespace dts::task
