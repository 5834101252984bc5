#include "task/full_loader.h"

#include <errmsg.h>
#include <mysql.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

#include "common/log.h"
#include "common/strings.h"
#include "task/throttle.h"

namespace dts::task {

namespace {

constexpr char kHex[] = "0123456789ABCDEF";

void appendHex(std::string& out, const char* data, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    auto c = static_cast<unsigned char>(data[i]);
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 15]);
  }
}

// Appends data with each byte c for which escape(c) is not 0 written as a backslash and that
// letter; runs of bytes that need no escape are appended in one go.
template <typename Escape>
void appendEscaped(std::string& out, const char* data, size_t n, Escape escape) {
  size_t run = 0;
  for (size_t i = 0; i < n; ++i) {
    char e = escape(data[i]);
    if (e == 0) continue;
    out.append(data + run, i - run);
    out.push_back('\\');
    out.push_back(e);
    run = i + 1;
  }
  out.append(data + run, n - run);
}

bool looksNumeric(const char* data, size_t n) {
  if (n == 0) return false;
  for (size_t i = 0; i < n; ++i) {
    char c = data[i];
    if (!((c >= '0' && c <= '9') || c == '.' || c == '-' || c == '+' || c == 'e' || c == 'E'))
      return false;
  }
  return true;
}

// Appends one value as an SQL literal for a destination session whose sql_mode has no
// NO_BACKSLASH_ESCAPES (prepareDest sets it) and whose character set is utf8mb4, where no
// multi-byte character contains a byte below 0x80: escaping the ASCII specials byte by byte is
// what mysql_real_escape_string does there, without needing the connection (the reader thread
// encodes while the writer thread uses it).
}  // namespace

void appendSqlValue(std::string& out, CatalogColumn::Render render, const char* data, size_t n) {
  if (data == nullptr) {
    out += "NULL";
    return;
  }
  if (render == CatalogColumn::Render::kNumber && looksNumeric(data, n)) {
    out.append(data, n);
    return;
  }
  if (render == CatalogColumn::Render::kHex) {
    out += "X'";
    appendHex(out, data, n);
    out.push_back('\'');
    return;
  }
  out.push_back('\'');
  appendEscaped(out, data, n, [](char c) -> char {
    switch (c) {
      case '\0': return '0';
      case '\n': return 'n';
      case '\r': return 'r';
      case '\\': return '\\';
      case '\'': return '\'';
      case '"': return '"';
      case '\x1a': return 'Z';
      default: return 0;
    }
  });
  out.push_back('\'');
}

namespace {

// LOAD DATA stores a field as a string into its column; BIT and spatial columns would not read
// their text-protocol bytes back the way X'..' does, so such tables go by INSERT.
bool loadDataCanCarry(const CatalogTable& t) {
  static const std::set<std::string> kNot = {
      "bit",        "geometry",        "point",        "linestring",        "polygon",
      "multipoint", "multilinestring", "multipolygon", "geometrycollection"};
  for (const auto& name : t.copy_columns) {
    for (const auto& c : t.columns) {
      if (c.name == name && kNot.count(c.data_type) != 0) return false;
    }
  }
  return true;
}

// The in-memory "file" LOAD DATA LOCAL INFILE reads (Connector/C local infile handler): the
// server asks for the file named in the statement and the client streams this buffer instead.
struct InfileBuffer {
  const std::string* data = nullptr;
  size_t offset = 0;
};

int infileInit(void** ptr, const char* /*filename*/, void* userdata) {
  auto* b = static_cast<InfileBuffer*>(userdata);
  b->offset = 0;
  *ptr = b;
  return b->data == nullptr ? 1 : 0;
}

int infileRead(void* ptr, char* buf, unsigned int len) {
  auto* b = static_cast<InfileBuffer*>(ptr);
  size_t n = std::min<size_t>(len, b->data->size() - b->offset);
  std::memcpy(buf, b->data->data() + b->offset, n);
  b->offset += n;
  return static_cast<int>(n);
}

void infileEnd(void* /*ptr*/) {}

int infileError(void* /*ptr*/, char* msg, unsigned int len) {
  std::snprintf(msg, len, "dts: the chunk buffer is missing");
  return CR_UNKNOWN_ERROR;
}

// Server or client refusing LOAD DATA LOCAL (local_infile=OFF, capability not negotiated).
bool localInfileRefused(MYSQL* conn) {
  unsigned err = mysql_errno(conn);
  if (err == CR_UNKNOWN_ERROR) {
    // Connector/C: "Load data local infile forbidden".
    std::string msg = toLower(mysql_error(conn));
    return msg.find("local infile") != std::string::npos;
  }
  return err == 1148 /* ER_NOT_ALLOWED_COMMAND */ ||
         err == 4166 /* ER_LOAD_INFILE_CAPABILITY_DISABLED */ ||
         err == 2068 /* CR_LOAD_DATA_LOCAL_INFILE_REJECTED */;
}

// A failed write: retryable (kUnavailable) when the connection or the server went away, else
// kFailedPrecondition. The message gets the error number.
Status writeError(unsigned err, const std::string& msg) {
  std::string text = msg + " (error " + std::to_string(err) + ")";
  if (err == CR_SERVER_GONE_ERROR || err == CR_SERVER_LOST || err == CR_CONNECTION_ERROR ||
      err == CR_CONN_HOST_ERROR || err == 1053 /* ER_SERVER_SHUTDOWN */ ||
      err == 1927 /* ER_CONNECTION_KILLED */) {
    return Status::Unavailable(text);
  }
  return Status::FailedPrecondition(text);
}

// Runs one LOAD DATA on the raw handle and returns the rows it inserted (Connection::execute
// drains result sets afterwards, which loses the affected row count).
Result<uint64_t> executeLoadData(mysql::Connection& dest, const std::string& statement) {
  MYSQL* h = dest.handle();
  if (mysql_real_query(h, statement.data(), statement.size()) != 0) {
    return writeError(mysql_errno(h), "LOAD DATA LOCAL on " + dest.options().endpoint.toString() +
                                          ": " + mysql_error(h));
  }
  return static_cast<uint64_t>(mysql_affected_rows(h));
}

std::string metaKey(mysql::Connection& c, const std::string& task, const CatalogTable& t) {
  return "task = " + c.quoteString(task) + " AND db = " + c.quoteString(t.route.source_database) +
         " AND tbl = " + c.quoteString(t.route.source_table);
}

}  // namespace

// The LOAD DATA format: https://mariadb.com/kb/en/load-data-infile/ (the statement reads the
// bytes as utf8mb4 like an INSERT literal of this connection would be; binary columns take them
// unchanged).
void appendLoadDataField(std::string& out, const char* data, size_t n) {
  if (data == nullptr) {
    out += "\\N";
    return;
  }
  appendEscaped(out, data, n, [](char c) -> char {
    switch (c) {
      case '\\': return '\\';
      case '\t': return 't';
      case '\n': return 'n';
      case '\0': return '0';
      default: return 0;
    }
  });
}

Status ensureMetaSchema(mysql::Connection& dest) {
  DTS_RETURN_IF_ERROR(
      dest.execute("CREATE DATABASE IF NOT EXISTS " + mysql::quoteIdentifier("dts_meta")));
  DTS_RETURN_IF_ERROR(dest.execute(
      "CREATE TABLE IF NOT EXISTS " + mysql::quoteQualified("dts_meta", "full_tables") +
      " (task VARCHAR(64) NOT NULL, db VARCHAR(64) NOT NULL, tbl VARCHAR(64) NOT NULL,"
      " key_columns TEXT NOT NULL, chunks INT NOT NULL, planned_rows BIGINT NOT NULL,"
      " PRIMARY KEY (task, db, tbl)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin"));
  DTS_RETURN_IF_ERROR(dest.execute(
      "CREATE TABLE IF NOT EXISTS " + mysql::quoteQualified("dts_meta", "pending_indexes") +
      " (db VARCHAR(64) NOT NULL, tbl VARCHAR(64) NOT NULL, name VARCHAR(64) NOT NULL, definition TEXT NOT NULL,"
      " PRIMARY KEY (db, tbl, name)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin"));
  return dest.execute(
      "CREATE TABLE IF NOT EXISTS " + mysql::quoteQualified("dts_meta", "full_chunks") +
      " (task VARCHAR(64) NOT NULL, db VARCHAR(64) NOT NULL, tbl VARCHAR(64) NOT NULL, chunk INT NOT NULL,"
      " lower_key LONGTEXT NULL, upper_key LONGTEXT NULL, planned_rows BIGINT NOT NULL,"
      " done TINYINT NOT NULL DEFAULT 0, snapshot_gtid TEXT NULL, loaded_rows BIGINT NULL,"
      " PRIMARY KEY (task, db, tbl, chunk)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin");
}

std::string encodeKey(const std::vector<std::string>& values) {
  std::string out;
  for (size_t i = 0; i < values.size(); ++i) {
    if (i > 0) out.push_back(',');
    appendHex(out, values[i].data(), values[i].size());
  }
  return out;
}

Result<std::vector<std::string>> decodeKey(std::string_view encoded) {
  std::vector<std::string> out(1);
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  for (size_t i = 0; i < encoded.size();) {
    if (encoded[i] == ',') {
      out.emplace_back();
      ++i;
      continue;
    }
    if (i + 1 >= encoded.size() || nibble(encoded[i]) < 0 || nibble(encoded[i + 1]) < 0) {
      return Status::Corruption("dts_meta chunk key is not hex at offset " + std::to_string(i));
    }
    out.back().push_back(static_cast<char>(nibble(encoded[i]) * 16 + nibble(encoded[i + 1])));
    i += 2;
  }
  return out;
}

std::string chunkPredicate(const CatalogTable& t, const std::vector<std::string>* lower,
                           const std::vector<std::string>* upper,
                           const std::function<std::string(std::string_view)>& quote_string) {
  auto render = [&](size_t k, const std::string& v) {
    const std::string& name = t.chunk_key[k];
    for (const auto& c : t.columns) {
      if (c.name != name) continue;
      if (c.render == CatalogColumn::Render::kNumber && looksNumeric(v.data(), v.size())) return v;
      if (c.render == CatalogColumn::Render::kHex) {
        std::string out = "X'";
        appendHex(out, v.data(), v.size());
        return out + "'";
      }
    }
    return quote_string(v);
  };
  // (k1, ..., kn) OP (v1, ..., vn), expanded so every server uses the key's range.
  auto compare = [&](const std::vector<std::string>& v, const char* op, bool inclusive) {
    std::string out = "(";
    for (size_t i = 0; i < t.chunk_key.size(); ++i) {
      if (i > 0) out += " OR ";
      out += "(";
      for (size_t j = 0; j < i; ++j)
        out += mysql::quoteIdentifier(t.chunk_key[j]) + " = " + render(j, v[j]) + " AND ";
      out += mysql::quoteIdentifier(t.chunk_key[i]) + " " + op + " " + render(i, v[i]) + ")";
    }
    if (inclusive) {
      out += " OR (";
      for (size_t j = 0; j < t.chunk_key.size(); ++j) {
        if (j > 0) out += " AND ";
        out += mysql::quoteIdentifier(t.chunk_key[j]) + " = " + render(j, v[j]);
      }
      out += ")";
    }
    return out + ")";
  };
  std::string out;
  if (lower != nullptr) out = compare(*lower, ">", false);
  if (upper != nullptr) out += (out.empty() ? "" : " AND ") + compare(*upper, "<", true);
  return out.empty() ? "1" : out;
}

struct FullLoader::Chunk {
  size_t table = 0;
  int number = 0;
  std::optional<std::vector<std::string>> lower, upper;
};

struct FullLoader::Shared {
  std::mutex mu;
  std::condition_variable cv;
  std::deque<Chunk> queue;
  bool planning_done = false;
  Status error;
  std::vector<int> remaining;  // chunks left per table
  std::vector<int> active;     // workers loading a chunk of each table
  std::vector<Progress::Table*> progress;
  std::mutex snapshot_mu;  // snapshot open + on_snapshot, so positions are reported in order
  std::map<std::string, std::string>
      snapshot_gtids;  // "file:pos" -> GTID position (under snapshot_mu)
  std::unique_ptr<Throttle> throttle;
  std::atomic<bool> failed{false};
  std::atomic<bool> load_data{true};  // LOAD DATA LOCAL accepted so far
  std::atomic<bool> bulk{true};       // auto: every destination connection takes bulk_insert
  std::atomic<uint64_t> max_packet{16u << 20};  // the destination's max_allowed_packet

  void fail(Status st) {
    std::lock_guard<std::mutex> lock(mu);
    if (error.ok()) error = std::move(st);
    failed = true;
    cv.notify_all();
  }
};

FullLoader::FullLoader(mysql::ConnectOptions source, mysql::ConnectOptions dest,
                       std::vector<CatalogTable> tables, FullLoadOptions options,
                       Progress* progress, const std::atomic<bool>* stop, Clock* clock)
    : source_(std::move(source)),
      dest_(std::move(dest)),
      tables_(std::move(tables)),
      options_(std::move(options)),
      progress_(progress),
      stop_(stop),
      clock_(clock) {}

namespace {

// unique_checks stays 1 on purpose. With unique_checks = 0 AND foreign_key_checks = 0, the first
// transaction inserting into an empty InnoDB table (MariaDB >= 10.7, MDEV-24621 bulk insert)
// takes an exclusive table lock until it commits: every other worker loading a chunk of that
// table waits (measured: the second writer blocks for the whole first chunk), and a throttled
// or slow first chunk makes them fail on innodb_lock_wait_timeout. Its gain here was small
// (about 7% less destination CPU on that one chunk), and unique_checks = 0 would also let a
// unique-key conflict in silently instead of failing the chunk.
// foreign_key_checks = 0: chunks of child tables may land before their parents' rows.
Status prepareDest(mysql::Connection& dest) {
  return dest.execute(
      "SET SESSION time_zone = '+00:00', SESSION foreign_key_checks = 0,"
      " SESSION sql_mode = 'NO_AUTO_VALUE_ON_ZERO,NO_ENGINE_SUBSTITUTION'");
}

Result<std::unique_ptr<mysql::Connection>> connectLong(mysql::ConnectOptions o) {
  o.read_timeout = std::chrono::seconds(3600);
  o.write_timeout = std::chrono::seconds(3600);
  return mysql::Connection::connect(o);
}

// Opens a consistent snapshot on src and returns its exact GTID position.
// cache: GTID positions already computed, by "file:pos". BINLOG_GTID_POS reads the binlog file
// from its start up to pos (up to max_binlog_size per call); snapshots opened at the same
// position (an idle source) compute it once. REQUIRES: callers serialized (snapshot_mu).
Result<std::string> openSnapshot(mysql::Connection& src,
                                 std::map<std::string, std::string>* cache) {
  DTS_RETURN_IF_ERROR(
      src.execute("SET SESSION time_zone = '+00:00', SESSION net_write_timeout = 3600"));
  DTS_RETURN_IF_ERROR(src.execute("SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ"));
  if (!src.isMariaDB()) {
    // MySQL has no snapshot position: hold the global read lock only while the snapshot opens.
    DTS_RETURN_IF_ERROR(src.execute("FLUSH TABLES WITH READ LOCK"));
    Status st = src.execute("START TRANSACTION WITH CONSISTENT SNAPSHOT");
    auto gtid = st.ok() ? src.queryValue("SELECT @@GLOBAL.gtid_executed")
                        : Result<std::optional<std::string>>(st);
    Status unlock = src.execute("UNLOCK TABLES");
    if (!gtid.ok()) return gtid.status();
    DTS_RETURN_IF_ERROR(unlock);
    return gtid->value_or("");
  }
  DTS_RETURN_IF_ERROR(src.execute("START TRANSACTION WITH CONSISTENT SNAPSHOT"));
  DTS_ASSIGN_OR_RETURN(auto status, src.query("SHOW STATUS LIKE 'binlog_snapshot_%'"));
  std::optional<std::string> file, pos, gtid;
  for (const auto& r : status.rows) {
    std::string name = toLower(r[0].value_or(""));
    if (name == "binlog_snapshot_file") file = r[1];
    if (name == "binlog_snapshot_position") pos = r[1];
    if (name == "binlog_snapshot_gtid_pos") gtid = r[1];
  }
  if (gtid.has_value()) return *gtid;
  if (!file.has_value() || !pos.has_value() || file->empty()) {
    return Status::FailedPrecondition("source " + src.options().endpoint.toString() +
                                      " reports no binlog snapshot position (is log_bin ON?)");
  }
  std::string at = *file + ":" + *pos;
  if (auto hit = cache->find(at); hit != cache->end()) return hit->second;
  DTS_ASSIGN_OR_RETURN(auto g, src.queryValue("SELECT BINLOG_GTID_POS(" + src.quoteString(*file) +
                                              ", " + src.quoteString(*pos) + ")"));
  if (!g.has_value()) {
    return Status::FailedPrecondition("source " + src.options().endpoint.toString() +
                                      ": BINLOG_GTID_POS(" + *file + ", " + *pos + ") is NULL");
  }
  (*cache)[at] = *g;
  return *g;
}

// A dense single-column integer key is split arithmetically from MIN and MAX (two index dives)
// instead of reading every key: chunk i covers (bounds[i-1], bounds[i]], the first and the last
// open-ended, so rows outside [MIN, MAX] written later are still covered. Dense: the key range
// is at most four times the estimated row count (else a sparse key would put most rows into few
// chunks, and the exact scan is used). Row counts per chunk are then estimates.
Result<bool> planByRange(mysql::Connection& src, const CatalogTable& t, uint64_t chunk_rows,
                         std::vector<std::vector<std::string>>* bounds,
                         std::vector<uint64_t>* counts, uint64_t* total) {
  static const std::set<std::string> kIntegers = {"tinyint", "smallint", "mediumint",
                                                  "int",     "integer",  "bigint"};
  if (t.chunk_key.size() != 1 || t.estimated_rows < 2 * chunk_rows) return false;
  const CatalogColumn* key = nullptr;
  for (const auto& c : t.columns) {
    if (c.name == t.chunk_key[0]) key = &c;
  }
  if (key == nullptr || kIntegers.count(key->data_type) == 0) return false;
  std::string k = mysql::quoteIdentifier(key->name);
  DTS_ASSIGN_OR_RETURN(
      auto mm, src.query("SELECT MIN(" + k + "), MAX(" + k + ") FROM " +
                         mysql::quoteQualified(t.route.source_database, t.route.source_table)));
  if (mm.rows.empty() || !mm.rows[0][0].has_value() || !mm.rows[0][1].has_value()) return false;
  auto parse = [](const std::string& v) -> std::optional<__int128> {
    if (v.empty()) return std::nullopt;
    __int128 out = 0;
    size_t i = v[0] == '-' ? 1 : 0;
    if (i == v.size()) return std::nullopt;
    for (; i < v.size(); ++i) {
      if (v[i] < '0' || v[i] > '9') return std::nullopt;
      out = out * 10 + (v[i] - '0');
    }
    return v[0] == '-' ? -out : out;
  };
  auto lo = parse(*mm.rows[0][0]), hi = parse(*mm.rows[0][1]);
  if (!lo || !hi || *hi < *lo) return false;
  __int128 span = *hi - *lo + 1;
  auto rows = static_cast<__int128>(t.estimated_rows);
  if (span > 4 * rows) return false;
  __int128 chunks = std::max<__int128>(1, (rows + chunk_rows - 1) / chunk_rows);
  chunks = std::min(chunks, span);
  __int128 step = (span + chunks - 1) / chunks;
  auto text = [](__int128 v) {
    bool neg = v < 0;
    unsigned __int128 u =
        neg ? static_cast<unsigned __int128>(-v) : static_cast<unsigned __int128>(v);
    std::string out;
    do {
      out.insert(out.begin(), static_cast<char>('0' + static_cast<int>(u % 10)));
      u /= 10;
    } while (u != 0);
    return neg ? "-" + out : out;
  };
  for (__int128 b = *lo - 1 + step; b < *hi; b += step) bounds->push_back({text(b)});
  uint64_t per = t.estimated_rows / (bounds->size() + 1);
  counts->assign(bounds->size() + 1, per);
  counts->back() += t.estimated_rows - per * (bounds->size() + 1);
  *total = t.estimated_rows;
  return true;
}

}  // namespace

Status FullLoader::planTable(mysql::Connection& src, mysql::Connection& dest, size_t ti,
                             Shared& shared) {
  const CatalogTable& t = tables_[ti];
  Progress::Table* prog = shared.progress[ti];
  std::string where = metaKey(dest, options_.task, t);
  DTS_ASSIGN_OR_RETURN(auto planned, dest.query("SELECT planned_rows FROM " +
                                                mysql::quoteQualified("dts_meta", "full_tables") +
                                                " WHERE " + where));
  std::vector<Chunk> pending;
  if (!planned.rows.empty()) {
    DTS_ASSIGN_OR_RETURN(
        auto rows,
        dest.query("SELECT chunk, lower_key, upper_key, done, planned_rows, loaded_rows FROM " +
                   mysql::quoteQualified("dts_meta", "full_chunks") + " WHERE " + where +
                   " ORDER BY chunk"));
    uint64_t est = 0, done_rows = 0;
    for (const auto& r : rows.rows) {
      est += std::stoull(r[4].value_or("0"));
      if (r[3].value_or("0") == "1") {
        done_rows += std::stoull(r[5].value_or("0"));
        continue;
      }
      Chunk c;
      c.table = ti;
      c.number = std::stoi(r[0].value_or("0"));
      if (r[1].has_value()) {
        DTS_ASSIGN_OR_RETURN(auto k, decodeKey(*r[1]));
        c.lower = std::move(k);
      }
      if (r[2].has_value()) {
        DTS_ASSIGN_OR_RETURN(auto k, decodeKey(*r[2]));
        c.upper = std::move(k);
      }
      pending.push_back(std::move(c));
    }
    prog->rows_estimated = est;
    prog->rows_done = done_rows;
  } else {
    // Split by key: every chunk_rows-th key closes a chunk. Streams the key only.
    std::vector<std::vector<std::string>> bounds;
    std::vector<uint64_t> counts;
    uint64_t total = 0;
    if (!t.chunk_key.empty()) {
      // Statistics may be missing (fresh table): assume a modest row.
      uint64_t avg = t.avg_row_length > 0 ? t.avg_row_length : 256;
      uint64_t chunk_rows =
          options_.chunk_rows != 0
              ? options_.chunk_rows
              : std::clamp<uint64_t>(options_.chunk_bytes / avg, options_.min_chunk_rows,
                                     options_.max_chunk_rows);
      std::string cols;
      for (const auto& k : t.chunk_key)
        cols += (cols.empty() ? "" : ", ") + mysql::quoteIdentifier(k);
      DTS_ASSIGN_OR_RETURN(bool by_range,
                           planByRange(src, t, chunk_rows, &bounds, &counts, &total));
      if (by_range) {
        spdlog::info("{}: {} chunks planned from the key range (about {} rows each)", t.describe(),
                     counts.size(), counts.front());
      }
      uint64_t in_chunk = 0;
      if (!by_range)
        DTS_RETURN_IF_ERROR(src.queryStream(
            "SELECT " + cols + " FROM " +
                mysql::quoteQualified(t.route.source_database, t.route.source_table) +
                " ORDER BY " + cols,
            [&](const char* const* f, const unsigned long* len, unsigned n) {
              ++total;
              if (++in_chunk == chunk_rows) {
                std::vector<std::string> key;
                for (unsigned i = 0; i < n; ++i)
                  key.emplace_back(f[i] == nullptr ? "" : std::string(f[i], len[i]));
                bounds.push_back(std::move(key));
                counts.push_back(in_chunk);
                in_chunk = 0;
              }
              return !stop_->load();
            }));
      if (stop_->load()) return Status::Aborted("stopped while planning " + t.describe());
      if (!by_range) counts.push_back(in_chunk);
    } else {
      DTS_ASSIGN_OR_RETURN(auto n, src.queryValue("SELECT COUNT(*) FROM " +
                                                  mysql::quoteQualified(t.route.source_database,
                                                                        t.route.source_table)));
      total = std::stoull(n.value_or("0"));
      counts.push_back(total);
    }
    // Chunk i covers (bounds[i-1], bounds[i]]; the last one is open-ended.
    for (size_t i = 0; i <= bounds.size(); ++i) {
      Chunk c;
      c.table = ti;
      c.number = static_cast<int>(i);
      if (i > 0) c.lower = bounds[i - 1];
      if (i < bounds.size()) c.upper = bounds[i];
      pending.push_back(std::move(c));
    }
    std::string key_columns;
    for (const auto& k : t.chunk_key) key_columns += (key_columns.empty() ? "" : ",") + k;
    DTS_RETURN_IF_ERROR(dest.execute("START TRANSACTION"));
    auto persist = [&]() -> Status {
      std::string head = "INSERT INTO " + mysql::quoteQualified("dts_meta", "full_chunks") +
                         " (task, db, tbl, chunk, lower_key, upper_key, planned_rows) VALUES ";
      std::string sql;
      std::string ids = dest.quoteString(options_.task) + ", " +
                        dest.quoteString(t.route.source_database) + ", " +
                        dest.quoteString(t.route.source_table);
      for (size_t i = 0; i < pending.size(); ++i) {
        const Chunk& c = pending[i];
        sql += (sql.empty() ? head : ", ");
        sql += "(" + ids + ", " + std::to_string(c.number) + ", " +
               (c.lower ? dest.quoteString(encodeKey(*c.lower)) : "NULL") + ", " +
               (c.upper ? dest.quoteString(encodeKey(*c.upper)) : "NULL") + ", " +
               std::to_string(counts[i]) + ")";
        if (sql.size() > options_.statement_bytes) {
          DTS_RETURN_IF_ERROR(dest.execute(sql));
          sql.clear();
        }
      }
      if (!sql.empty()) {
        DTS_RETURN_IF_ERROR(dest.execute(sql));
      }
      DTS_RETURN_IF_ERROR(
          dest.execute("INSERT INTO " + mysql::quoteQualified("dts_meta", "full_tables") +
                       " (task, db, tbl, key_columns, chunks, planned_rows) VALUES (" + ids + ", " +
                       dest.quoteString(key_columns) + ", " + std::to_string(pending.size()) +
                       ", " + std::to_string(total) + ")"));
      return dest.execute("COMMIT");
    };
    Status st = persist();
    if (!st.ok()) {
      (void)dest.execute("ROLLBACK");
      return st.withContext("recording the chunk plan of " + t.describe());
    }
    prog->rows_estimated = total;
    prog->rows_done = 0;
  }
  std::lock_guard<std::mutex> lock(shared.mu);
  shared.remaining[ti] = static_cast<int>(pending.size());
  for (auto& c : pending) shared.queue.push_back(std::move(c));
  shared.cv.notify_all();
  return Status::OK();
}

namespace {

// One batch of rows as the writer sends it. insert: `data` is the whole statement; load_data: the
// in-memory file; bulk_insert: the values back to back, with per column each row's offset in
// `data`, length and indicator (NULL or not).
struct Batch {
  std::string data;
  uint64_t rows = 0, bytes = 0;
  std::vector<std::vector<size_t>> offsets;
  std::vector<std::vector<unsigned long>> lengths;
  std::vector<std::vector<char>> indicators;
};

void appendLoadDataRow(std::string& out, const char* const* f, const unsigned long* len,
                       unsigned n) {
  for (unsigned i = 0; i < n; ++i) {
    if (i > 0) out.push_back('\t');
    appendLoadDataField(out, f[i], len[i]);
  }
  out.push_back('\n');
}

void appendInsertRow(std::string& out, const std::vector<CatalogColumn::Render>& renders,
                     bool first, const char* const* f, const unsigned long* len, unsigned n) {
  if (!first) out.push_back(',');
  out.push_back('(');
  for (unsigned i = 0; i < n; ++i) {
    if (i > 0) out.push_back(',');
    appendSqlValue(out, renders[i], f[i], len[i]);
  }
  out.push_back(')');
}

// Calls fn(fields, lengths, n) for each row of a bulk_insert batch.
template <typename Fn>
void forEachBulkRow(const Batch& b, Fn&& fn) {
  const auto n = static_cast<unsigned>(b.lengths.size());
  std::vector<const char*> f(n);
  std::vector<unsigned long> len(n);
  for (uint64_t r = 0; r < b.rows; ++r) {
    for (unsigned c = 0; c < n; ++c) {
      bool null = b.indicators[c][r] == STMT_INDICATOR_NULL;
      f[c] = null ? nullptr : b.data.data() + b.offsets[c][r];
      len[c] = null ? 0 : b.lengths[c][r];
    }
    fn(f.data(), len.data(), n);
  }
}

// bulk_insert needs the server to take arrays of parameters (MariaDB 10.2+; not MySQL).
bool bulkSupported(MYSQL* h) {
  unsigned long caps = 0, extended = 0;
  if (mariadb_get_infov(h, MARIADB_CONNECTION_SERVER_CAPABILITIES, &caps) != 0 ||
      mariadb_get_infov(h, MARIADB_CONNECTION_EXTENDED_SERVER_CAPABILITIES, &extended) != 0) {
    return false;
  }
  return (caps & CLIENT_MYSQL) == 0 &&
         (extended & (MARIADB_CLIENT_STMT_BULK_OPERATIONS >> 32)) != 0;
}

// A prepared INSERT executed once per batch with arrays of parameters: MariaDB's
// COM_STMT_BULK_EXECUTE (https://mariadb.com/kb/en/com_stmt_bulk_execute/). Values travel
// column by column in binary form; the server parses neither SQL nor text per row.
class BulkInsert {
 public:
  BulkInsert() = default;
  BulkInsert(const BulkInsert&) = delete;
  BulkInsert& operator=(const BulkInsert&) = delete;
  ~BulkInsert() {
    if (stmt_ != nullptr) mysql_stmt_close(stmt_);
  }

  // all_binary: every parameter is a binary string (raw mode, see loadChunk).
  Status prepare(mysql::Connection& dest, const std::string& sql,
                 const std::vector<CatalogColumn::Render>& renders, bool all_binary) {
    dest_ = &dest;
    renders_ = renders;
    all_binary_ = all_binary;
    stmt_ = mysql_stmt_init(dest.handle());
    if (stmt_ == nullptr) return Status::Internal("mysql_stmt_init: out of memory");
    if (mysql_stmt_prepare(stmt_, sql.data(), sql.size()) != 0)
      return error("preparing the bulk INSERT");
    return Status::OK();
  }

  // Inserts the batch and returns the rows the server inserted.
  Result<uint64_t> execute(const Batch& b) {
    const size_t n = renders_.size();
    pointers_.resize(n);
    std::vector<MYSQL_BIND> binds(n);
    for (size_t c = 0; c < n; ++c) {
      pointers_[c].resize(b.rows);
      for (uint64_t r = 0; r < b.rows; ++r)
        pointers_[c][r] = const_cast<char*>(b.data.data()) + b.offsets[c][r];
      MYSQL_BIND& bind = binds[c];
      std::memset(&bind, 0, sizeof bind);
      // kHex (bytes, and every column in raw mode) as BLOB: the server takes those parameters
      // as binary strings, stored without conversion; text as STRING (utf8mb4, like the source
      // sent it); numbers as STRING too, converted by the server as an INSERT would.
      bind.buffer_type = all_binary_ || renders_[c] == CatalogColumn::Render::kHex
                             ? MYSQL_TYPE_BLOB
                             : MYSQL_TYPE_STRING;
      bind.buffer = pointers_[c].data();
      bind.length = const_cast<unsigned long*>(b.lengths[c].data());
      bind.u.indicator = const_cast<char*>(b.indicators[c].data());
    }
    auto rows = static_cast<unsigned int>(b.rows);
    if (mysql_stmt_attr_set(stmt_, STMT_ATTR_ARRAY_SIZE, &rows) != 0 ||
        mysql_stmt_bind_param(stmt_, binds.data()) != 0) {
      return error("binding the bulk INSERT");
    }
    if (mysql_stmt_execute(stmt_) != 0) return error("bulk INSERT");
    return static_cast<uint64_t>(mysql_stmt_affected_rows(stmt_));
  }

 private:
  Status error(const std::string& what) {
    return writeError(
        mysql_stmt_errno(stmt_),
        what + " on " + dest_->options().endpoint.toString() + ": " + mysql_stmt_error(stmt_));
  }

  mysql::Connection* dest_ = nullptr;
  MYSQL_STMT* stmt_ = nullptr;
  std::vector<CatalogColumn::Render> renders_;
  bool all_binary_ = false;
  std::vector<std::vector<char*>> pointers_;
};

}  // namespace

Status FullLoader::loadChunk(mysql::Connection& src, mysql::Connection& dest,
                             const std::string& snapshot_gtid, const Chunk& chunk, Shared& shared,
                             bool* table_done) {
  const CatalogTable& t = tables_[chunk.table];
  Progress::Table* prog = shared.progress[chunk.table];
  std::vector<CatalogColumn::Render> renders;
  std::string cols;
  std::string placeholders;
  for (const auto& name : t.copy_columns) {
    cols += (cols.empty() ? "" : ", ") + mysql::quoteIdentifier(name);
    placeholders += placeholders.empty() ? "?" : ", ?";
    for (const auto& c : t.columns) {
      if (c.name == name) renders.push_back(c.render);
    }
  }
  auto quote = [&](std::string_view s) { return src.quoteString(s); };
  std::string where = chunkPredicate(t, chunk.lower ? &*chunk.lower : nullptr,
                                     chunk.upper ? &*chunk.upper : nullptr, quote);
  if (t.route.filter != nullptr) where = "(" + where + ") AND " + t.route.filter->toSql(quote);
  std::string select = "SELECT " + cols + " FROM " +
                       mysql::quoteQualified(t.route.source_database, t.route.source_table) +
                       " WHERE " + where;
  std::string target = mysql::quoteQualified(t.route.target_database, t.route.target_table);
  const std::string what = t.describe() + " chunk " + std::to_string(chunk.number);
  const std::string writing = "writing " + t.route.target_database + "." + t.route.target_table;

  // The method for this chunk (FullWriteMethod). LOAD DATA stays possible under bulk_insert for
  // a batch too large for one bulk packet (a single huge row).
  const bool can_load_data =
      shared.load_data.load() && loadDataCanCarry(t) &&
      (options_.method == FullWriteMethod::kAuto || options_.method == FullWriteMethod::kLoadData ||
       options_.method == FullWriteMethod::kBulkInsert);
  enum class Write { kBulk, kLoadData, kInsert } method = Write::kInsert;
  if (options_.method == FullWriteMethod::kBulkInsert ||
      (options_.method == FullWriteMethod::kAuto && shared.bulk.load())) {
    method = Write::kBulk;
  } else if (can_load_data) {
    method = Write::kLoadData;
  }
  // Raw bytes (bulk_insert into a table dts created from the source's definition, so with the
  // same character set per column): the source sends every value in its column's own character
  // set (character_set_results = NULL) and the destination takes it as a binary string, stored
  // unchanged. Neither server converts or inspects characters, and the bytes are exactly the
  // source's. Otherwise (an existing table kept by conflicting_tables: ignore may differ) values
  // travel as utf8mb4 and each server converts.
  const bool raw = method == Write::kBulk && !options_.insert_ignore;
  DTS_RETURN_IF_ERROR(src.execute(raw ? "SET SESSION character_set_results = NULL"
                                      : "SET SESSION character_set_results = utf8mb4"));
  if (raw) {
    for (auto& r : renders) {
      if (r == CatalogColumn::Render::kString)
        r = CatalogColumn::Render::kHex;  // X'..' in the INSERT fallback
    }
  }
  const std::string insert_head =
      std::string(options_.insert_ignore ? "INSERT IGNORE INTO " : "INSERT INTO ") + target + " (" +
      cols + ") VALUES ";
  const std::string load_statement = std::string("LOAD DATA LOCAL INFILE 'dts-chunk' ") +
                                     (options_.insert_ignore ? "IGNORE " : "") + "INTO TABLE " +
                                     target +
                                     (raw ? " CHARACTER SET binary" : " CHARACTER SET utf8mb4") +
                                     " FIELDS TERMINATED BY '\\t' ESCAPED BY '\\\\'"
                                     " LINES TERMINATED BY '\\n' (" +
                                     cols + ")";
  BulkInsert bulk;
  if (method == Write::kBulk) {
    DTS_RETURN_IF_ERROR(bulk.prepare(dest, insert_head + "(" + placeholders + ")", renders, raw)
                            .withContext(writing));
  }
  const size_t ncols = renders.size();

  // Pipelined: a reader thread streams the chunk from the source snapshot and encodes batches of
  // about statement_bytes; this thread writes them, so reading the next batch overlaps writing
  // the previous one. At most kQueued batches wait (memory: a few statement_bytes per worker).
  constexpr size_t kQueued = 2;
  std::mutex mu;
  std::condition_variable cv;
  std::deque<Batch> queue;
  bool reader_done = false;
  bool cancel = false;  // the writer gave up: the reader stops (and drains the source result)
  Status read;
  auto fresh = [&] {
    Batch b;
    b.data.reserve(options_.statement_bytes + (64u << 10));
    if (method == Write::kInsert) b.data = insert_head;
    if (method == Write::kBulk) {
      b.offsets.resize(ncols);
      b.lengths.resize(ncols);
      b.indicators.resize(ncols);
    }
    return b;
  };
  std::thread reader([&] {
    Batch cur = fresh();
    auto push = [&]() -> bool {
      std::unique_lock<std::mutex> lock(mu);
      cv.wait(lock, [&] { return queue.size() < kQueued || cancel; });
      if (cancel) return false;
      queue.push_back(std::move(cur));
      cv.notify_all();
      lock.unlock();
      cur = fresh();
      return true;
    };
    Status st =
        src.queryStream(select, [&](const char* const* f, const unsigned long* len, unsigned n) {
          // A row that would take the batch past statement_bytes starts a new one, so a huge row
          // travels alone (bounded by the destination's max_allowed_packet, checked when writing).
          if (cur.rows > 0) {
            uint64_t row = 0;
            for (unsigned i = 0; i < n; ++i) row += 2 * len[i] + 8;  // hex digits at worst
            if (cur.data.size() + row > options_.statement_bytes && !push()) return false;
          }
          std::string& data = cur.data;
          switch (method) {
            case Write::kBulk:
              for (unsigned i = 0; i < n; ++i) {
                if (f[i] == nullptr) {
                  cur.offsets[i].push_back(0);
                  cur.lengths[i].push_back(0);
                  cur.indicators[i].push_back(STMT_INDICATOR_NULL);
                } else {
                  cur.offsets[i].push_back(data.size());
                  cur.lengths[i].push_back(len[i]);
                  cur.indicators[i].push_back(STMT_INDICATOR_NONE);
                  data.append(f[i], len[i]);
                }
              }
              break;
            case Write::kLoadData: appendLoadDataRow(data, f, len, n); break;
            case Write::kInsert: appendInsertRow(data, renders, cur.rows == 0, f, len, n); break;
          }
          for (unsigned i = 0; i < n; ++i) cur.bytes += len[i];
          ++cur.rows;
          if (data.size() >= options_.statement_bytes && !push()) return false;
          return !stop_->load() && !shared.failed.load();
        });
    if (st.ok() && cur.rows > 0 && !stop_->load() && !shared.failed.load()) push();
    std::lock_guard<std::mutex> lock(mu);
    read = st;
    reader_done = true;
    cv.notify_all();
  });
  auto stopReader = [&] {
    {
      std::lock_guard<std::mutex> lock(mu);
      cancel = true;
      cv.notify_all();
    }
    reader.join();
  };

  InfileBuffer infile{nullptr, 0};
  bool refused = false;
  uint64_t rows = 0;
  auto loadData = [&](const std::string& file, uint64_t expected) -> Status {
    infile.data = &file;
    auto loaded = executeLoadData(dest, load_statement);
    infile.data = nullptr;
    if (!loaded.ok()) {
      refused = localInfileRefused(dest.handle());
      return loaded.status().withContext(writing);
    }
    // LOAD DATA LOCAL skips a row on a key conflict (with a warning) where INSERT fails: never
    // let a row go missing silently.
    if (!options_.insert_ignore && *loaded != expected) {
      return Status::FailedPrecondition(
          writing + " (" + what + "): " + std::to_string(expected - *loaded) + " of " +
          std::to_string(expected) + " rows were not inserted (duplicate key at the destination?)");
    }
    return Status::OK();
  };
  auto tooLarge = [&](uint64_t bytes) {
    return Status::FailedPrecondition(
        writing + " (" + what + "): a row needs a " + std::to_string(bytes) +
        "-byte packet, more than the destination's max_allowed_packet (" +
        std::to_string(shared.max_packet.load()) +
        "); raise max_allowed_packet at the destination" +
        (loadDataCanCarry(t) ? ""
                             : " (LOAD DATA cannot carry this table's BIT or spatial columns)"));
  };
  auto write = [&](const Batch& b) -> Status {
    switch (method) {
      case Write::kBulk: {
        // One bulk packet must fit the server's max_allowed_packet: a batch that would not (a
        // huge row) goes by LOAD DATA in the same transaction, or fails clearly.
        uint64_t packet = b.data.size() + b.rows * ncols * 10 + 4096;
        if (packet > shared.max_packet) {
          if (!can_load_data) return tooLarge(packet);
          std::string file;
          forEachBulkRow(b, [&](const char* const* f, const unsigned long* len, unsigned n) {
            appendLoadDataRow(file, f, len, n);
          });
          DTS_RETURN_IF_ERROR(loadData(file, b.rows));
          break;
        }
        auto inserted_or = bulk.execute(b);
        if (!inserted_or.ok()) return inserted_or.status().withContext(writing);
        uint64_t inserted = *inserted_or;
        if (!options_.insert_ignore && inserted != b.rows) {
          return Status::FailedPrecondition(writing + " (" + what + "): the server inserted " +
                                            std::to_string(inserted) + " of " +
                                            std::to_string(b.rows) + " rows");
        }
        break;
      }
      case Write::kLoadData: DTS_RETURN_IF_ERROR(loadData(b.data, b.rows)); break;
      case Write::kInsert:
        // The server would drop the connection on a larger packet (and that looks retryable).
        if (b.data.size() + 1024 > shared.max_packet) return tooLarge(b.data.size());
        DTS_RETURN_IF_ERROR(dest.execute(b.data).withContext(writing));
        break;
    }
    rows += b.rows;
    prog->rows_done += b.rows;
    prog->bytes_done += b.bytes;
    progress_->addMoved(b.rows, b.bytes);
    if (!shared.throttle->acquire(b.rows, b.bytes, *stop_)) return Status::Aborted("stopped");
    return Status::OK();
  };
  auto rollback = [&](Status st) {
    (void)dest.execute("ROLLBACK");
    mysql_set_local_infile_default(dest.handle());
    return st;
  };

  Status write_error = dest.execute("START TRANSACTION");
  if (write_error.ok() && can_load_data) {
    mysql_set_local_infile_handler(dest.handle(), infileInit, infileRead, infileEnd, infileError,
                                   &infile);
  }
  while (write_error.ok()) {
    Batch b;
    {
      std::unique_lock<std::mutex> lock(mu);
      cv.wait(lock, [&] { return !queue.empty() || reader_done; });
      if (queue.empty()) break;  // reader_done and everything written
      b = std::move(queue.front());
      queue.pop_front();
      cv.notify_all();
    }
    write_error = write(b);
  }
  stopReader();
  if (refused && options_.method != FullWriteMethod::kLoadData) {
    // LOAD DATA LOCAL refused (the server or client does not allow it): this chunk again, and
    // every later one, without it.
    (void)rollback(write_error);
    if (shared.load_data.exchange(false)) {
      spdlog::warn("destination refuses LOAD DATA LOCAL INFILE ({}); full data goes on without it",
                   write_error.toString());
    }
    return loadChunk(src, dest, snapshot_gtid, chunk, shared, table_done);
  }
  if (!write_error.ok()) return rollback(write_error);
  if (!read.ok()) return rollback(read.withContext("reading " + what));
  if (stop_->load()) return rollback(Status::Aborted("stopped"));
  if (shared.failed.load()) return rollback(Status::Aborted("another worker failed"));
  Status st = dest.execute("UPDATE " + mysql::quoteQualified("dts_meta", "full_chunks") +
                           " SET done = 1, snapshot_gtid = " + dest.quoteString(snapshot_gtid) +
                           ", loaded_rows = " + std::to_string(rows) + " WHERE " +
                           metaKey(dest, options_.task, t) +
                           " AND chunk = " + std::to_string(chunk.number));
  if (!st.ok()) return rollback(st);
  st = dest.execute("COMMIT").withContext("committing " + what);
  mysql_set_local_infile_default(dest.handle());
  DTS_RETURN_IF_ERROR(st);
  std::lock_guard<std::mutex> lock(shared.mu);
  *table_done = --shared.remaining[chunk.table] == 0;
  return Status::OK();
}

Status FullLoader::addPendingKeys(mysql::Connection& dest, size_t ti, Shared& shared) {
  if (stop_->load()) return Status::OK();  // the keys stay pending; the next run adds them
  const CatalogTable& t = tables_[ti];
  std::string where = "db = " + dest.quoteString(t.route.target_database) +
                      " AND tbl = " + dest.quoteString(t.route.target_table);
  DTS_ASSIGN_OR_RETURN(auto pending,
                       dest.query("SELECT name, definition FROM " +
                                  mysql::quoteQualified("dts_meta", "pending_indexes") + " WHERE " +
                                  where + " ORDER BY name"));
  if (!pending.rows.empty()) {
    // Some keys may exist already: a crash after the ALTER and before the DELETE, or an ALTER of
    // a killed run that the server finished on its own (then ours fails with a duplicate key
    // name and the keys are looked up again).
    for (int attempt = 0;; ++attempt) {
      DTS_ASSIGN_OR_RETURN(
          auto existing, dest.query("SELECT DISTINCT INDEX_NAME FROM information_schema.STATISTICS"
                                    " WHERE TABLE_SCHEMA = " +
                                    dest.quoteString(t.route.target_database) +
                                    " AND TABLE_NAME = " + dest.quoteString(t.route.target_table)));
      std::set<std::string> have;
      for (const auto& r : existing.rows) have.insert(r[0].value_or(""));
      std::string alter;
      for (const auto& r : pending.rows) {
        if (have.count(r[0].value_or("")) != 0) continue;
        alter += (alter.empty()
                      ? "ALTER TABLE " +
                            mysql::quoteQualified(t.route.target_database, t.route.target_table) +
                            " ADD "
                      : ", ADD ") +
                 r[1].value_or("");
      }
      if (alter.empty()) break;
      auto started = std::chrono::steady_clock::now();
      Status st = dest.execute(alter);
      if (!st.ok() && mysql_errno(dest.handle()) == 1061 /* ER_DUP_KEYNAME */ && attempt < 3)
        continue;
      DTS_RETURN_IF_ERROR(st.withContext("adding the secondary keys of " + t.route.target_database +
                                         "." + t.route.target_table));
      spdlog::info(
          "{}.{}: secondary keys built after the load in {:.1f} s", t.route.target_database,
          t.route.target_table,
          std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
    }
    DTS_RETURN_IF_ERROR(dest.execute(
        "DELETE FROM " + mysql::quoteQualified("dts_meta", "pending_indexes") + " WHERE " + where));
  }
  std::lock_guard<std::mutex> lock(shared.mu);
  shared.progress[ti]->done = true;
  return Status::OK();
}

std::optional<size_t> pickChunk(const std::vector<size_t>& queued_tables,
                                const std::vector<int>& active, bool planning_done, bool may_wait) {
  if (queued_tables.empty()) return std::nullopt;
  size_t pick = 0;
  for (size_t i = 1; i < queued_tables.size(); ++i) {
    if (active[queued_tables[i]] < active[queued_tables[pick]]) pick = i;
  }
  if (active[queued_tables[pick]] > 0 && !planning_done && may_wait) return std::nullopt;
  return pick;
}

Status FullLoader::worker(Shared& shared,
                          const std::function<void(const std::string&)>& on_snapshot) {
  DTS_ASSIGN_OR_RETURN(auto dest, connectLong(dest_));
  if (options_.method != FullWriteMethod::kInsert) {
    // Needed before any LOAD DATA LOCAL; a client built without it makes the server refuse,
    // which loadChunk turns into another method (unless load_data was asked for).
    unsigned int on = 1;
    mysql_optionsv(dest->handle(), MYSQL_OPT_LOCAL_INFILE, &on);
  }
  const bool bulk = bulkSupported(dest->handle());
  if (options_.method == FullWriteMethod::kBulkInsert && !bulk) {
    return Status::FailedPrecondition(
        "options.full.method bulk_insert: the destination " + dest_.endpoint.toString() +
        " does not take arrays of parameters (MariaDB 10.2 or later does); use auto");
  }
  if (!bulk) shared.bulk = false;
  DTS_ASSIGN_OR_RETURN(shared.max_packet, dest->maxAllowedPacket());
  DTS_RETURN_IF_ERROR(prepareDest(*dest));
  std::unique_ptr<mysql::Connection> src;
  std::string gtid;
  while (true) {
    Chunk chunk;
    {
      std::unique_lock<std::mutex> lock(shared.mu);
      // While tables are still being planned, a worker that would join a table already being
      // loaded waits a little for the next table's chunks: at the start, every worker used to take
      // a chunk of the first table planned (measured: 1.4x longer for 4 x 250k rows).
      const auto patience = std::chrono::steady_clock::now() + std::chrono::milliseconds(500);
      std::deque<Chunk>::iterator pick;
      std::vector<size_t> queued_tables;
      while (true) {
        shared.cv.wait(lock, [&] {
          return !shared.queue.empty() || shared.planning_done || shared.failed || stop_->load();
        });
        if (shared.failed || stop_->load()) return Status::OK();
        if (shared.queue.empty()) return Status::OK();
        queued_tables.clear();
        for (const auto& c : shared.queue) queued_tables.push_back(c.table);
        auto i = pickChunk(queued_tables, shared.active, shared.planning_done,
                           std::chrono::steady_clock::now() < patience);
        if (i.has_value()) {
          pick = shared.queue.begin() + static_cast<std::ptrdiff_t>(*i);
          break;
        }
        shared.cv.wait_until(lock, patience);
      }
      chunk = std::move(*pick);
      shared.queue.erase(pick);
      ++shared.active[chunk.table];
      spdlog::debug("{} chunk {}: taken ({} workers on the table, {} chunks queued)",
                    tables_[chunk.table].describe(), chunk.number, shared.active[chunk.table],
                    shared.queue.size());
    }
    if (src == nullptr) {
      // The snapshot opens when the worker first has work, and its position is reported before
      // any of its rows can commit.
      std::lock_guard<std::mutex> lock(shared.snapshot_mu);
      DTS_ASSIGN_OR_RETURN(src, connectLong(source_));
      auto snap = openSnapshot(*src, &shared.snapshot_gtids);
      if (!snap.ok()) return snap.status().withContext("opening a consistent snapshot");
      gtid = *snap;
      on_snapshot(gtid);
    }
    bool table_done = false;
    Status loaded = loadChunk(*src, *dest, gtid, chunk, shared, &table_done);
    {
      std::lock_guard<std::mutex> lock(shared.mu);
      --shared.active[chunk.table];
    }
    DTS_RETURN_IF_ERROR(loaded);
    // The worker that loads a table's last chunk builds its deferred keys while the others go
    // on with other tables.
    if (table_done) DTS_RETURN_IF_ERROR(addPendingKeys(*dest, chunk.table, shared));
  }
}

Status FullLoader::run(const std::function<void(const std::string& gtid)>& on_snapshot) {
  Shared shared;
  shared.remaining.assign(tables_.size(), 0);
  shared.active.assign(tables_.size(), 0);
  shared.throttle = std::make_unique<Throttle>(options_.limits, clock_);
  for (const auto& t : tables_) {
    auto* p = progress_->findTable(t.route.source_database, t.route.source_table);
    if (p == nullptr) {
      p = progress_->addTable(t.route.source_database, t.route.source_table,
                              t.route.target_database, t.route.target_table);
    }
    shared.progress.push_back(p);
  }
  {
    DTS_ASSIGN_OR_RETURN(auto dest, mysql::Connection::connect(dest_));
    DTS_RETURN_IF_ERROR(ensureMetaSchema(*dest));
  }
  std::vector<std::thread> threads;
  std::vector<Status> results(static_cast<size_t>(options_.parallelism));
  for (int i = 0; i < options_.parallelism; ++i) {
    threads.emplace_back([&, i] {
      Status st = worker(shared, on_snapshot);
      if (!st.ok() && st.code() != Status::Code::kAborted) shared.fail(st);
      results[static_cast<size_t>(i)] = st;
    });
  }
  // Plan on this thread, feeding the workers table by table (largest first balances better).
  std::vector<size_t> order(tables_.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return tables_[a].estimated_rows * std::max<uint64_t>(tables_[a].avg_row_length, 1) >
           tables_[b].estimated_rows * std::max<uint64_t>(tables_[b].avg_row_length, 1);
  });
  Status plan_status = [&]() -> Status {
    DTS_ASSIGN_OR_RETURN(auto src, connectLong(source_));
    DTS_ASSIGN_OR_RETURN(auto dest, mysql::Connection::connect(dest_));
    for (size_t ti : order) {
      if (stop_->load() || shared.failed.load()) break;
      DTS_RETURN_IF_ERROR(planTable(*src, *dest, ti, shared));
    }
    return Status::OK();
  }();
  if (!plan_status.ok() && plan_status.code() != Status::Code::kAborted) shared.fail(plan_status);
  {
    std::lock_guard<std::mutex> lock(shared.mu);
    shared.planning_done = true;
    shared.cv.notify_all();
  }
  for (auto& th : threads) th.join();
  if (!shared.error.ok()) return shared.error;
  if (stop_->load())
    return Status::Aborted("full data stopped on request; whole chunks loaded so far are kept");
  // Keys still pending: tables whose chunks were all done by an earlier run. Every key exists
  // before run() returns, so the incremental phase never starts without them.
  DTS_ASSIGN_OR_RETURN(auto dest, connectLong(dest_));
  for (size_t ti = 0; ti < tables_.size(); ++ti)
    DTS_RETURN_IF_ERROR(addPendingKeys(*dest, ti, shared));
  return Status::OK();
}

}  // namespace dts::task
