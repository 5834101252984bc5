#include "sink/change_formats.h"

#include <cctype>
#include <cmath>
#include <nlohmann/json.hpp>
#include <utility>
#include <vector>

namespace dts::sink {
namespace {

using Json = nlohmann::ordered_json;

// r[key], or null when r is not an object or has no such key (never inserts).
const Json& get(const Json& r, const char* key) {
  static const Json kNull;
  if (!r.is_object()) return kNull;
  auto it = r.find(key);
  return it == r.end() ? kNull : *it;
}

// The type's name without length, attributes or members: "varbinary(8)" -> "varbinary".
std::string baseType(const std::string& column_type) {
  size_t end = 0;
  while (end < column_type.size() &&
         (std::isalnum(static_cast<unsigned char>(column_type[end])) || column_type[end] == '_'))
    ++end;
  std::string out = column_type.substr(0, end);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool isBinaryType(const std::string& base) {
  static const char* const kBinary[] = {
      "binary",   "varbinary",  "tinyblob",        "blob",         "mediumblob",
      "longblob", "bit",        "geometry",        "point",        "linestring",
      "polygon",  "multipoint", "multilinestring", "multipolygon", "geometrycollection"};
  for (const char* b : kBinary) {
    if (base == b) return true;
  }
  return false;
}

int hexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// The dts encoding's lowercase hex as base64 (RFC 4648, padded); nullopt when not hex.
std::optional<std::string> hexToBase64(const std::string& hex) {
  if (hex.size() % 2 != 0) return std::nullopt;
  std::string bytes;
  bytes.reserve(hex.size() / 2);
  for (size_t i = 0; i < hex.size(); i += 2) {
    int hi = hexDigit(hex[i]), lo = hexDigit(hex[i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    bytes.push_back(static_cast<char>(hi * 16 + lo));
  }
  static const char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  for (size_t i = 0; i < bytes.size(); i += 3) {
    uint32_t n = static_cast<uint8_t>(bytes[i]) << 16;
    if (i + 1 < bytes.size()) n |= static_cast<uint8_t>(bytes[i + 1]) << 8;
    if (i + 2 < bytes.size()) n |= static_cast<uint8_t>(bytes[i + 2]);
    out.push_back(kAlphabet[(n >> 18) & 63]);
    out.push_back(kAlphabet[(n >> 12) & 63]);
    out.push_back(i + 1 < bytes.size() ? kAlphabet[(n >> 6) & 63] : '=');
    out.push_back(i + 2 < bytes.size() ? kAlphabet[n & 63] : '=');
  }
  return out;
}

// java.sql.Types of a MySQL type, as Canal's sqlType gives it.
int jdbcType(const std::string& base) {
  static const std::pair<const char*, int> kTypes[] = {
      {"bit", -7},          {"tinyint", -6},    {"smallint", 5},      {"mediumint", 4},
      {"int", 4},           {"integer", 4},     {"bigint", -5},       {"float", 7},
      {"double", 8},        {"real", 8},        {"decimal", 3},       {"numeric", 3},
      {"char", 1},          {"varchar", 12},    {"tinytext", 2005},   {"text", 2005},
      {"mediumtext", 2005}, {"longtext", 2005}, {"binary", -2},       {"varbinary", -3},
      {"tinyblob", 2004},   {"blob", 2004},     {"mediumblob", 2004}, {"longblob", 2004},
      {"date", 91},         {"time", 92},       {"datetime", 93},     {"timestamp", 93},
      {"year", 12},         {"enum", 4},        {"set", -7},          {"json", 12}};
  for (const auto& [name, code] : kTypes) {
    if (base == name) return code;
  }
  return isBinaryType(base) ? -2 : 12;
}

enum class Style { kTyped, kStrings, kEmbeddedJson };

// One value of the dts encoding as the format has it.
Json convertValue(const Json& v, const std::string& column_type, Style style) {
  if (v.is_null()) return v;
  const std::string base = baseType(column_type);
  Json out = v;
  if (v.is_string() && isBinaryType(base)) {
    if (auto b64 = hexToBase64(v.get<std::string>())) out = *b64;
  } else if (v.is_string() && base == "json" && style == Style::kEmbeddedJson) {
    Json parsed = Json::parse(v.get<std::string>(), nullptr, /*allow_exceptions=*/false);
    if (!parsed.is_discarded()) out = std::move(parsed);
  }
  if (style == Style::kStrings && !out.is_string()) return out.dump();
  return out;
}

Json convertImage(const Json& image, const Json& types, Style style) {
  if (!image.is_object()) return nullptr;
  Json out = Json::object();
  for (const auto& [name, value] : image.items()) {
    const Json& t = get(types, name.c_str());
    std::string type = t.is_string() ? t.get<std::string>() : std::string();
    out[name] = convertValue(value, type, style);
  }
  return out;
}

// Whether the update left a value as it was: JSON equality, except that -0.0 and 0 (equal numbers)
// are different values of a FLOAT or DOUBLE column.
bool sameValue(const Json& a, const Json& b) {
  if (!(a == b)) return false;
  if (!a.is_number() || !b.is_number()) return true;
  return std::signbit(a.get<double>()) == std::signbit(b.get<double>());
}

// The columns whose value the update changed, with their value before it (Canal's and
// Maxwell's "old").
Json changedBefore(const Json& before, const Json& after, const Json& types, Style style) {
  Json out = Json::object();
  if (!before.is_object() || !after.is_object()) return out;
  for (const auto& [name, value] : before.items()) {
    auto same = after.find(name);
    if (same != after.end() && sameValue(*same, value)) continue;
    const Json& t = get(types, name.c_str());
    std::string type = t.is_string() ? t.get<std::string>() : std::string();
    out[name] = convertValue(value, type, style);
  }
  return out;
}

std::string field(const Json& r, const char* key) {
  auto it = r.find(key);
  return it != r.end() && it->is_string() ? it->get<std::string>() : std::string();
}

Json stringOrNull(const Json& r, const char* key) {
  auto it = r.find(key);
  return it != r.end() && it->is_string() ? *it : Json(nullptr);
}

int64_t number(const Json& r, const char* key) {
  auto it = r.find(key);
  return it != r.end() && it->is_number_integer() ? it->get<int64_t>() : 0;
}

// The statement's leading words, upper case: "ALTER TABLE", "CREATE UNIQUE INDEX", ...
std::vector<std::string> leadingWords(const std::string& sql, size_t n) {
  std::vector<std::string> words;
  size_t i = 0;
  while (words.size() < n && i < sql.size()) {
    while (i < sql.size() && !std::isalpha(static_cast<unsigned char>(sql[i]))) {
      if (sql.compare(i, 2, "/*") == 0) {  // a comment (not an executable one: rare in DDL)
        size_t end = sql.find("*/", i + 2);
        i = end == std::string::npos ? sql.size() : end + 2;
      } else {
        ++i;
      }
    }
    std::string w;
    while (i < sql.size() && (std::isalnum(static_cast<unsigned char>(sql[i])) || sql[i] == '_'))
      w.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(sql[i++]))));
    if (!w.empty()) words.push_back(std::move(w));
  }
  return words;
}

bool has(const std::vector<std::string>& words, const char* w) {
  for (const auto& x : words) {
    if (x == w) return true;
  }
  return false;
}

// Canal's DDL event types.
std::string canalDdlType(const std::string& sql) {
  auto w = leadingWords(sql, 4);
  if (w.empty()) return "QUERY";
  const bool table = has(w, "TABLE");
  const bool index = has(w, "INDEX");
  if (w[0] == "CREATE" && index) return "CINDEX";
  if (w[0] == "DROP" && index) return "DINDEX";
  if (w[0] == "CREATE" && table) return "CREATE";
  if (w[0] == "ALTER" && table) return "ALTER";
  if (w[0] == "DROP" && table) return "ERASE";
  if (w[0] == "TRUNCATE") return "TRUNCATE";
  if (w[0] == "RENAME") return "RENAME";
  return "QUERY";
}

// Maxwell's schema change types.
std::string maxwellDdlType(const std::string& sql) {
  auto w = leadingWords(sql, 4);
  if (w.empty()) return "ddl";
  const bool database = has(w, "DATABASE") || has(w, "SCHEMA");
  if (database) {
    if (w[0] == "CREATE") return "database-create";
    if (w[0] == "ALTER") return "database-alter";
    if (w[0] == "DROP") return "database-drop";
  }
  if (w[0] == "CREATE" && has(w, "TABLE")) return "table-create";
  if (w[0] == "DROP" && has(w, "TABLE")) return "table-drop";
  return "table-alter";  // ALTER TABLE, RENAME TABLE, CREATE/DROP INDEX, TRUNCATE
}

Json debeziumSource(const Json& r, std::string_view task) {
  Json s = Json::object();
  s["version"] = "dts";
  s["connector"] = "mysql";
  s["name"] = std::string(task);
  s["ts_ms"] = number(r, "ts_ms");
  s["snapshot"] = "false";
  s["db"] = field(r, "db");
  s["table"] = stringOrNull(r, "table");
  s["server_id"] = number(r, "server_id");
  s["gtid"] = stringOrNull(r, "gtid");
  s["file"] = field(r, "file");
  s["pos"] = number(r, "pos");
  s["row"] = number(r, "row");
  s["thread"] = nullptr;
  s["query"] = nullptr;
  return s;
}

Json debezium(const Json& r, const std::string& op, std::string_view task) {
  const Json& types = get(r, "types");
  Json out = Json::object();
  if (op == "ddl") {
    out["source"] = debeziumSource(r, task);
    out["ts_ms"] = number(r, "ts_ms");
    out["databaseName"] = field(r, "db");
    out["schemaName"] = nullptr;
    out["ddl"] = field(r, "sql");
    Json changes = Json::array();
    auto def = r.find("definition");
    if (def != r.end() && def->is_object()) {
      std::string verb = canalDdlType(field(r, "sql"));
      Json change = Json::object();
      change["type"] = verb == "CREATE" ? "CREATE" : "ALTER";
      change["id"] = "\"" + field(*def, "db") + "\".\"" + field(*def, "table") + "\"";
      Json table = Json::object();
      table["defaultCharsetName"] = nullptr;
      table["primaryKeyColumnNames"] = get(*def, "pk").is_array() ? get(*def, "pk") : Json::array();
      Json columns = Json::array();
      int position = 1;
      if (get(*def, "columns").is_object()) {
        for (const auto& [name, type] : get(*def, "columns").items()) {
          Json c = Json::object();
          c["name"] = name;
          std::string base = baseType(type.is_string() ? type.get<std::string>() : "");
          for (char& ch : base)
            ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
          c["typeName"] = base;
          c["typeExpression"] = type;
          c["position"] = position++;
          columns.push_back(std::move(c));
        }
      }
      table["columns"] = std::move(columns);
      change["table"] = std::move(table);
      changes.push_back(std::move(change));
    }
    out["tableChanges"] = std::move(changes);
    return out;
  }
  out["before"] =
      op == "insert" ? Json(nullptr) : convertImage(get(r, "before"), types, Style::kTyped);
  out["after"] =
      op == "delete" ? Json(nullptr) : convertImage(get(r, "after"), types, Style::kTyped);
  out["source"] = debeziumSource(r, task);
  out["op"] = op == "insert" ? "c" : op == "update" ? "u" : "d";
  out["ts_ms"] = number(r, "ts_ms");
  Json tx = Json::object();
  const Json& t = get(r, "tx");
  tx["id"] = t.is_object() ? get(t, "id") : Json(nullptr);
  tx["total_order"] = t.is_object() ? get(t, "seq") : Json(nullptr);
  // The row's place among the transaction's rows of its table; a record logged before
  // table_seq existed has its place in the transaction.
  const Json& table_seq = get(t, "table_seq");
  tx["data_collection_order"] = table_seq.is_number_integer() ? table_seq
                                : t.is_object()               ? get(t, "seq")
                                                              : Json(nullptr);
  out["transaction"] = std::move(tx);
  return out;
}

Json canal(const Json& r, const std::string& op) {
  const Json& types = get(r, "types");
  Json out = Json::object();
  const bool ddl = op == "ddl";
  if (ddl) {
    out["data"] = nullptr;
  } else {
    Json data = Json::array();
    data.push_back(
        convertImage(op == "delete" ? get(r, "before") : get(r, "after"), types, Style::kStrings));
    out["data"] = std::move(data);
  }
  out["database"] = field(r, "db");
  out["es"] = number(r, "ts_ms");
  out["id"] = number(r, "offset");
  out["isDdl"] = ddl;
  if (ddl || !types.is_object()) {
    out["mysqlType"] = nullptr;
  } else {
    out["mysqlType"] = types;
  }
  if (op == "update") {
    Json old = Json::array();
    old.push_back(changedBefore(get(r, "before"), get(r, "after"), types, Style::kStrings));
    out["old"] = std::move(old);
  } else {
    out["old"] = nullptr;
  }
  out["pkNames"] = !ddl && get(r, "pk").is_array() ? get(r, "pk") : Json(nullptr);
  out["sql"] = ddl ? field(r, "sql") : std::string();
  if (ddl || !types.is_object()) {
    out["sqlType"] = nullptr;
  } else {
    Json sql_types = Json::object();
    for (const auto& [name, type] : types.items())
      sql_types[name] = jdbcType(baseType(type.is_string() ? type.get<std::string>() : ""));
    out["sqlType"] = std::move(sql_types);
  }
  out["table"] = ddl && !get(r, "table").is_string() ? std::string() : field(r, "table");
  out["ts"] = number(r, "ts_ms");
  out["type"] = ddl              ? canalDdlType(field(r, "sql"))
                : op == "insert" ? "INSERT"
                : op == "update" ? "UPDATE"
                                 : "DELETE";
  return out;
}

Json maxwell(const Json& r, const std::string& op, const MaxwellTransaction* transaction) {
  const Json& types = get(r, "types");
  Json out = Json::object();
  const std::string position = field(r, "file") + ":" + std::to_string(number(r, "pos"));
  if (op == "ddl") {
    out["type"] = maxwellDdlType(field(r, "sql"));
    out["database"] = field(r, "db");
    out["table"] = stringOrNull(r, "table");
    auto def = r.find("definition");
    if (def != r.end() && def->is_object()) {
      Json d = Json::object();
      d["database"] = get(*def, "db");
      d["table"] = get(*def, "table");
      Json columns = Json::array();
      if (get(*def, "columns").is_object()) {
        for (const auto& [name, type] : get(*def, "columns").items()) {
          Json c = Json::object();
          c["type"] = baseType(type.is_string() ? type.get<std::string>() : "");
          c["name"] = name;
          c["column_type"] = type;
          columns.push_back(std::move(c));
        }
      }
      d["columns"] = std::move(columns);
      d["primary-key"] = get(*def, "pk").is_array() ? get(*def, "pk") : Json::array();
      out["def"] = std::move(d);
    }
    out["ts"] = number(r, "ts_ms");  // Maxwell's schema changes carry milliseconds
    out["sql"] = field(r, "sql");
    out["position"] = position;
    out["gtid"] = stringOrNull(r, "gtid");
    return out;
  }
  out["database"] = field(r, "db");
  out["table"] = field(r, "table");
  out["type"] = op;
  out["ts"] = number(r, "ts_ms") / 1000;
  if (transaction != nullptr && transaction->xid.has_value()) out["xid"] = *transaction->xid;
  if (transaction != nullptr && transaction->commit) out["commit"] = true;
  const Json& t = get(r, "tx");
  out["xoffset"] =
      t.is_object() && get(t, "seq").is_number_integer() ? get(t, "seq").get<int64_t>() - 1 : 0;
  out["position"] = position;
  out["gtid"] = stringOrNull(r, "gtid");
  out["server_id"] = number(r, "server_id");
  out["primary_key_columns"] = get(r, "pk").is_array() ? get(r, "pk") : Json::array();
  out["data"] = convertImage(op == "delete" ? get(r, "before") : get(r, "after"), types,
                             Style::kEmbeddedJson);
  if (op == "update")
    out["old"] = changedBefore(get(r, "before"), get(r, "after"), types, Style::kEmbeddedJson);
  return out;
}

// A commit marker's "xid" (docs/change-records.md); none when it has none (a transaction the
// source ended without an XID event, or a marker logged before dts recorded XIDs).
std::optional<uint64_t> commitXid(std::string_view value) {
  Json r = Json::parse(value, nullptr, /*allow_exceptions=*/false);
  const Json& xid = get(r, "xid");
  if (xid.is_number_unsigned()) return xid.get<uint64_t>();
  return std::nullopt;
}

Result<std::optional<std::string>> encodeRecord(ChangeFormat format, std::string_view value,
                                                std::string_view task, bool rows_only,
                                                const MaxwellTransaction* transaction) {
  if (format == ChangeFormat::kDts) return std::optional<std::string>(std::string(value));
  Json r = Json::parse(value, nullptr, /*allow_exceptions=*/false);
  if (!r.is_object() || !r.contains("op") || !get(r, "op").is_string())
    return Status::Corruption("change record is not a JSON object with an \"op\": " +
                              std::string(value.substr(0, 200)));
  const std::string op = get(r, "op").get<std::string>();
  if (op == "begin" || op == "commit" || (rows_only && op == "ddl"))
    return std::optional<std::string>();
  if (op != "insert" && op != "update" && op != "delete" && op != "ddl")
    return Status::Corruption("change record with unknown op '" + op + "'");
  Json out;
  switch (format) {
    case ChangeFormat::kDebeziumJson: out = debezium(r, op, task); break;
    case ChangeFormat::kCanalJson: out = canal(r, op); break;
    case ChangeFormat::kMaxwellJson: out = maxwell(r, op, transaction); break;
    case ChangeFormat::kDts: break;
  }
  return std::optional<std::string>(out.dump(-1, ' ', false, Json::error_handler_t::replace));
}

class EncodedView final : public ChangeLogReader {
 public:
  EncodedView(std::shared_ptr<const ChangeLogReader> log, ChangeFormat format, std::string task,
              bool rows_only)
      : log_(std::move(log)), format_(format), task_(std::move(task)), rows_only_(rows_only) {}

  int64_t firstOffset() const override { return log_->firstOffset(); }
  int64_t endOffset() const override { return log_->endOffset(); }
  Result<int64_t> offsetForTime(int64_t ms) const override { return log_->offsetForTime(ms); }
  int64_t waitBeyond(int64_t offset, std::chrono::milliseconds timeout) const override {
    return log_->waitBeyond(offset, timeout);
  }
  bool removed() const override { return log_->removed(); }

  Result<LogRecord> commitMarkerOf(int64_t offset) const override {
    return log_->commitMarkerOf(offset);
  }

  Result<std::vector<LogRecord>> read(int64_t from, size_t max_bytes) const override {
    std::vector<LogRecord> out;
    size_t bytes = 0;
    int64_t at = from;
    std::optional<LogRecord> skipped;  // the last record left out after the last one kept
    std::optional<MaxwellTransactions> maxwell;
    if (format_ == ChangeFormat::kMaxwellJson) maxwell.emplace(log_);
    std::vector<MaxwellTransaction> transactions;
    // Records left out take no budget: read on until something is kept or the end is reached.
    while (out.empty() || bytes < max_bytes) {
      if (at >= log_->endOffset()) break;
      DTS_ASSIGN_OR_RETURN(std::vector<LogRecord> records,
                           log_->read(at, out.empty() ? max_bytes : max_bytes - bytes));
      if (records.empty()) break;
      if (maxwell) DTS_RETURN_IF_ERROR(maxwell->mark(records, &transactions));
      for (size_t i = 0; i < records.size(); ++i) {
        LogRecord& r = records[i];
        at = r.offset + 1;
        DTS_ASSIGN_OR_RETURN(std::optional<std::string> value,
                             encodeRecord(format_, r.value, task_, rows_only_,
                                          maxwell ? &transactions[i] : nullptr));
        if (!value) {
          skipped = LogRecord{r.offset, r.timestamp_ms, "", "", /*placeholder=*/true};
          continue;
        }
        skipped.reset();
        r.value = std::move(*value);
        bytes += r.key.size() + r.value.size();
        out.push_back(std::move(r));
      }
    }
    if (skipped) out.push_back(std::move(*skipped));
    return out;
  }

 private:
  std::shared_ptr<const ChangeLogReader> log_;
  ChangeFormat format_;
  std::string task_;
  bool rows_only_;
};

}  // namespace

std::optional<ChangeFormat> parseChangeFormat(std::string_view name) {
  if (name == "dts") return ChangeFormat::kDts;
  if (name == "debezium-json") return ChangeFormat::kDebeziumJson;
  if (name == "canal-json") return ChangeFormat::kCanalJson;
  if (name == "maxwell-json") return ChangeFormat::kMaxwellJson;
  return std::nullopt;
}

const char* changeFormatName(ChangeFormat format) {
  switch (format) {
    case ChangeFormat::kDts: return "dts";
    case ChangeFormat::kDebeziumJson: return "debezium-json";
    case ChangeFormat::kCanalJson: return "canal-json";
    case ChangeFormat::kMaxwellJson: return "maxwell-json";
  }
  return "dts";
}

Result<std::optional<std::string>> encodeChange(ChangeFormat format, std::string_view value,
                                                std::string_view task,
                                                const MaxwellTransaction* transaction) {
  return encodeRecord(format, value, task, /*rows_only=*/false, transaction);
}

MaxwellTransactions::MaxwellTransactions(std::shared_ptr<const ChangeLogReader> log,
                                         std::function<bool(const LogRecord&)> keep)
    : log_(std::move(log)), keep_(std::move(keep)) {}

bool MaxwellTransactions::kept(const LogRecord& record, const std::string& op) const {
  if (op != "insert" && op != "update" && op != "delete") return false;
  return !keep_ || keep_(record);
}

Status MaxwellTransactions::mark(const std::vector<LogRecord>& records,
                                 std::vector<MaxwellTransaction>* out) {
  const size_t n = records.size();
  out->assign(n, MaxwellTransaction{});
  std::vector<std::string> ops(n);
  for (size_t i = 0; i < n; ++i) ops[i] = recordOp(records[i].value);
  // The records after the window's last commit marker belong to a transaction that ends beyond
  // it: when the reader gives rows of it here, what follows the window decides.
  size_t tail = n;
  while (tail > 0 && ops[tail - 1] != "commit") --tail;
  bool tail_rows = false;
  for (size_t i = tail; i < n && !tail_rows; ++i) tail_rows = kept(records[i], ops[i]);
  std::optional<uint64_t> xid;
  bool kept_row_follows = false;
  if (tail_rows) DTS_RETURN_IF_ERROR(lookAhead(records.back().offset + 1, &xid, &kept_row_follows));
  // Backwards: each row learns its transaction's xid from the commit marker after it, and is
  // the last when no kept row came between it and that marker.
  for (size_t i = n; i-- > 0;) {
    if (ops[i] == "commit") {
      xid = commitXid(records[i].value);
      kept_row_follows = false;
    } else if (ops[i] == "begin") {
      xid.reset();
      kept_row_follows = false;
    } else if (kept(records[i], ops[i])) {
      (*out)[i].xid = xid;
      (*out)[i].commit = !kept_row_follows;
      kept_row_follows = true;
    }
  }
  return Status::OK();
}

Status MaxwellTransactions::lookAhead(int64_t from, std::optional<uint64_t>* xid,
                                      bool* kept_row_follows) {
  if (!(lookup_from_ >= 0 && lookup_from_ <= from && from <= commit_offset_)) {
    DTS_ASSIGN_OR_RETURN(LogRecord marker, log_->commitMarkerOf(from));
    lookup_from_ = from;
    commit_offset_ = marker.offset;
    commit_xid_ = commitXid(marker.value);
    scan_from_ = -1;
    kept_at_ = -1;
  }
  *xid = commit_xid_;
  // What an earlier scan of this transaction found still answers: no kept row from scan_from_
  // to the marker, or one at kept_at_, at or after `from`.
  if (scan_from_ >= 0 && scan_from_ <= from && (kept_at_ < 0 || from <= kept_at_)) {
    *kept_row_follows = kept_at_ >= 0;
    return Status::OK();
  }
  scan_from_ = from;
  kept_at_ = -1;
  int64_t at = from;
  // The first record alone (a reader that gives every row needs no more), then chunks.
  size_t chunk = 1;
  while (at < commit_offset_ && kept_at_ < 0) {
    DTS_ASSIGN_OR_RETURN(std::vector<LogRecord> records, log_->read(at, chunk));
    chunk = ChangeLogReader::kLookAheadBytes;
    if (records.empty())
      return Status::NotFound("change log: offset " + std::to_string(at) +
                              " is gone before the commit marker at offset " +
                              std::to_string(commit_offset_));
    for (const LogRecord& r : records) {
      if (r.offset >= commit_offset_) break;
      if (kept(r, recordOp(r.value))) {
        kept_at_ = r.offset;
        break;
      }
      at = r.offset + 1;
    }
  }
  *kept_row_follows = kept_at_ >= 0;
  return Status::OK();
}

std::shared_ptr<const ChangeLogReader> encodedView(std::shared_ptr<const ChangeLogReader> log,
                                                   ChangeFormat format, std::string task,
                                                   bool rows_only) {
  return std::make_shared<EncodedView>(std::move(log), format, std::move(task), rows_only);
}

}  // namespace dts::sink
