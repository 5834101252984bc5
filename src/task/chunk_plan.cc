#include "task/chunk_plan.h"

#include <algorithm>
#include <set>

#include "common/log.h"
#include "task/sql_values.h"

namespace dts::task {

namespace {

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

uint64_t chunkRowsFor(const CatalogTable& t, uint64_t chunk_rows, uint64_t chunk_bytes,
                      uint64_t min_rows, uint64_t max_rows) {
  if (chunk_rows != 0) return chunk_rows;
  // Statistics may be missing (fresh table): assume a modest row.
  uint64_t avg = t.avg_row_length > 0 ? t.avg_row_length : 256;
  return std::clamp<uint64_t>(chunk_bytes / avg, min_rows, max_rows);
}

Result<ChunkPlan> planChunks(mysql::Connection& src, const CatalogTable& t, uint64_t chunk_rows,
                             const std::atomic<bool>& stop) {
  std::vector<std::vector<std::string>> bounds;
  std::vector<uint64_t> counts;
  ChunkPlan plan;
  if (!t.chunk_key.empty()) {
    std::string cols;
    for (const auto& k : t.chunk_key)
      cols += (cols.empty() ? "" : ", ") + mysql::quoteIdentifier(k);
    DTS_ASSIGN_OR_RETURN(bool by_range,
                         planByRange(src, t, chunk_rows, &bounds, &counts, &plan.total_rows));
    if (by_range) {
      spdlog::info("{}: {} chunks planned from the key range (about {} rows each)", t.describe(),
                   counts.size(), counts.front());
    }
    uint64_t in_chunk = 0;
    if (!by_range)
      DTS_RETURN_IF_ERROR(
          src.queryStream("SELECT " + exactKeySelectList(t) + " FROM " +
                              mysql::quoteQualified(t.route.source_database, t.route.source_table) +
                              " ORDER BY " + cols,
                          [&](const char* const* f, const unsigned long* len, unsigned n) {
                            ++plan.total_rows;
                            if (++in_chunk == chunk_rows) {
                              std::vector<std::string> key;
                              for (unsigned i = 0; i < n; ++i)
                                key.emplace_back(f[i] == nullptr ? "" : std::string(f[i], len[i]));
                              bounds.push_back(std::move(key));
                              counts.push_back(in_chunk);
                              in_chunk = 0;
                            }
                            return !stop.load();
                          }));
    if (stop.load()) return Status::Aborted("stopped while planning " + t.describe());
    if (!by_range) counts.push_back(in_chunk);
  } else {
    DTS_ASSIGN_OR_RETURN(auto n, src.queryValue("SELECT COUNT(*) FROM " +
                                                mysql::quoteQualified(t.route.source_database,
                                                                      t.route.source_table)));
    plan.total_rows = std::stoull(n.value_or("0"));
    counts.push_back(plan.total_rows);
  }
  // Chunk i covers (bounds[i-1], bounds[i]]; the last one is open-ended.
  for (size_t i = 0; i <= bounds.size(); ++i) {
    ChunkRange c;
    c.number = static_cast<int>(i);
    if (i > 0) c.lower = bounds[i - 1];
    if (i < bounds.size()) c.upper = bounds[i];
    c.planned_rows = counts[i];
    plan.chunks.push_back(std::move(c));
  }
  return plan;
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
      // A BIT, ENUM or SET bound is its number (exactKeySelectList); compared so, it follows
      // the order the server sorts the column in.
      if ((c.render == CatalogColumn::Render::kNumber || keyOrderIsNumber(c)) &&
          looksNumeric(v.data(), v.size()))
        return v;
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

}  // namespace dts::task
