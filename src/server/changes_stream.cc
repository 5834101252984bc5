#include "server/changes_stream.h"

#include <charconv>
#include <nlohmann/json.hpp>

#include "task/task_config.h"

namespace dts::server {
namespace {

Status badParam(const std::string& name, const std::string& what) {
  return Status::InvalidArgument(name + ": " + what);
}

Result<int64_t> integerParam(const std::string& name, const std::string& text, int64_t lo,
                             int64_t hi) {
  int64_t v = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc() || p != text.data() + text.size() || v < lo || v > hi)
    return badParam(name, "must be an integer " + std::to_string(lo) + "-" + std::to_string(hi) +
                              ", got '" + text + "'");
  return v;
}

std::set<std::string> commaList(const std::string& text) {
  std::set<std::string> out;
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = text.find(',', start);
    if (comma == std::string::npos) comma = text.size();
    if (comma > start) out.insert(text.substr(start, comma - start));
    start = comma + 1;
  }
  return out;
}

}  // namespace

bool validGroupId(const std::string& group) {
  if (group.empty() || group.size() > 249) return false;
  for (char c : group) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

Result<ChangesQuery> parseChangesQuery(const std::map<std::string, std::string>& query) {
  ChangesQuery q;
  for (const auto& [key, value] : query) {
    if (key == "from") {
      q.from_given = true;
      if (value == "earliest") {
        q.from = ChangesQuery::From::kEarliest;
      } else if (value == "latest") {
        q.from = ChangesQuery::From::kLatest;
      } else if (value.rfind("ms:", 0) == 0) {
        q.from = ChangesQuery::From::kTime;
        DTS_ASSIGN_OR_RETURN(q.from_value,
                             integerParam("from", value.substr(3), 0, int64_t{1} << 50));
      } else if (!value.empty() && value.find_first_not_of("0123456789") == std::string::npos) {
        q.from = ChangesQuery::From::kOffset;
        DTS_ASSIGN_OR_RETURN(q.from_value, integerParam("from", value, 0, INT64_MAX));
      } else {
        auto ms = task::parseUtcTimeMs(value);
        if (!ms.ok())
          return badParam("from",
                          "must be earliest, latest, an offset, a UTC time "
                          "(2026-12-02T05:00:00Z) or ms:MILLISECONDS, got '" +
                              value + "'");
        q.from = ChangesQuery::From::kTime;
        q.from_value = *ms;
      }
    } else if (key == "tables") {
      q.tables = commaList(value);
      if (q.tables.empty())
        return badParam("tables", "must name at least one table (db.table, table or db.*)");
      for (const auto& t : q.tables) {
        if (t == "*" || t == ".*" || (t.find('*') != std::string::npos && !t.ends_with(".*")) ||
            t.front() == '.' || (t.back() == '.'))
          return badParam("tables",
                          "'" + t + "' is not db.table, table or db.* (omit tables for all)");
      }
    } else if (key == "ops") {
      q.ops = commaList(value);
      if (q.ops.empty())
        return badParam("ops",
                        "must name at least one of insert, update, delete, ddl, begin, commit");
      for (const auto& op : q.ops) {
        if (op != "insert" && op != "update" && op != "delete" && op != "ddl" && op != "begin" &&
            op != "commit")
          return badParam("ops",
                          "'" + op + "' is not one of insert, update, delete, ddl, begin, commit");
      }
      if (q.ops.size() == 6) q.ops.clear();  // all of them: no need to look into each record
    } else if (key == "limit") {
      DTS_ASSIGN_OR_RETURN(q.limit, integerParam("limit", value, 1, 1000000));
    } else if (key == "wait_ms") {
      DTS_ASSIGN_OR_RETURN(q.wait_ms, integerParam("wait_ms", value, 0, 3600000));
    } else if (key == "group") {
      if (!validGroupId(value))
        return badParam("group",
                        "must be 1-249 letters, digits, '.', '_' or '-', got '" + value + "'");
      q.group = value;
    } else if (key == "format") {
      auto format = sink::parseChangeFormat(value);
      if (!format)
        return badParam("format", "must be dts, debezium-json, canal-json or maxwell-json, got '" +
                                      value + "'");
      q.format = *format;
    } else if (key == "envelope") {
      if (value != "true" && value != "false")
        return badParam("envelope", "must be true or false, got '" + value + "'");
      q.envelope = value == "true";
    } else {
      return badParam(key,
                      "unknown parameter (allowed: from, tables, ops, limit, wait_ms, group, "
                      "format, envelope)");
    }
  }
  return q;
}

Result<std::unique_ptr<ChangesStream>> ChangesStream::open(
    std::shared_ptr<const sink::ChangeLogReader> log, ChangesQuery query) {
  int64_t from = 0;
  switch (query.from) {
    case ChangesQuery::From::kEarliest: from = log->firstOffset(); break;
    case ChangesQuery::From::kLatest: from = log->endOffset(); break;
    case ChangesQuery::From::kTime: {
      DTS_ASSIGN_OR_RETURN(from, log->offsetForTime(query.from_value));
      break;
    }
    case ChangesQuery::From::kOffset: {
      from = query.from_value;
      int64_t first = log->firstOffset(), end = log->endOffset();
      if (from < first || from > end)
        return Status::NotFound(
            "from: offset " + std::to_string(from) + " is outside the change log (first offset " +
            std::to_string(first) + ", end offset " + std::to_string(end) + ")");
      break;
    }
  }
  const bool await_time = query.from == ChangesQuery::From::kTime && from >= log->endOffset();
  const int64_t time_ms = query.from_value;
  auto stream =
      std::unique_ptr<ChangesStream>(new ChangesStream(std::move(log), std::move(query), from));
  // Nothing committed at or after the time yet: what the log appends next may still be older
  // (the source's clock, a backlog being read), so the start is found again as it grows.
  if (await_time) stream->awaited_time_ms_ = time_ms;
  return stream;
}

ChangesStream::ChangesStream(std::shared_ptr<const sink::ChangeLogReader> log, ChangesQuery query,
                             int64_t from)
    : log_(std::move(log)), query_(std::move(query)), next_(from) {
  if (query_.format == sink::ChangeFormat::kMaxwellJson)
    maxwell_ = std::make_unique<sink::MaxwellTransactions>(
        log_, [this](const sink::LogRecord& r) { return wanted(r); });
}

bool ChangesStream::wanted(const sink::LogRecord& record) const {
  if (query_.tables.empty() && query_.ops.empty()) return true;
  auto j = nlohmann::json::parse(record.value, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return true;  // never hide what cannot be read
  std::string op = j.value("op", "");
  if (!query_.ops.empty() && query_.ops.count(op) == 0) return false;
  if (query_.tables.empty() || op == "begin" || op == "commit") return true;
  auto names = [&](const nlohmann::json& o) {
    std::string db = o["db"].is_string() ? o["db"].get<std::string>() : "";
    std::string table = o["table"].is_string() ? o["table"].get<std::string>() : "";
    return !table.empty() &&
           (query_.tables.count(table) != 0 || query_.tables.count(db + "." + table) != 0 ||
            query_.tables.count(db + ".*") != 0);
  };
  if (names(j)) return true;
  if (op != "ddl") return false;
  // A DDL's db is the database the statement ran in, and its table is null when the statement
  // named its table in another one (ALTER TABLE shop.t run without a default database): the
  // tables it names are in `tables` (records logged before it: the table it defined is in
  // `definition`).
  if (auto all = j.find("tables"); all != j.end() && all->is_array())
    for (const auto& t : *all)
      if (t.is_object() && names(t)) return true;
  auto def = j.find("definition");
  return def != j.end() && def->is_object() && names(*def);
}

Result<bool> ChangesStream::next(std::string* out, size_t max_bytes,
                                 std::chrono::milliseconds poll) {
  if (query_.limit >= 0 && sent_ >= query_.limit) return false;
  if (log_->removed()) return false;  // the task was deleted: the stream ends
  // wait_ms: at the log's end, no line sent for that long (records the filter leaves out are no
  // news, or a busy log would keep a stream of DDL only open for ever).
  auto quiet_left = [&] {
    return std::chrono::milliseconds(query_.wait_ms) -
           std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                                 last_news_);
  };
  if (awaited_time_ms_ >= 0) {
    if (query_.wait_ms >= 0 && quiet_left() <= std::chrono::milliseconds(0)) return false;
    const int64_t end = log_->endOffset();
    DTS_ASSIGN_OR_RETURN(int64_t at, log_->offsetForTime(awaited_time_ms_));
    if (at >= end) {  // still none: wait for the log to grow
      auto wait = poll;
      if (query_.wait_ms >= 0) wait = std::min(wait, quiet_left());
      log_->waitBeyond(end, wait);
      next_ = end;
      return true;
    }
    next_ = at;
    awaited_time_ms_ = -1;
  }
  if (next_ >= log_->endOffset()) {
    auto wait = poll;
    if (query_.wait_ms >= 0) {
      if (quiet_left() <= std::chrono::milliseconds(0)) return false;
      wait = std::min(wait, quiet_left());
    }
    if (log_->waitBeyond(next_, wait) <= next_) return true;  // nothing yet: poll again
  }
  DTS_ASSIGN_OR_RETURN(std::vector<sink::LogRecord> records, log_->read(next_, max_bytes));
  const size_t out_before = out->size();
  struct NewsOnExit {  // a line sent resets wait_ms's count, however next() returns
    const std::string* out;
    size_t before;
    std::chrono::steady_clock::time_point* news;
    ~NewsOnExit() {
      if (out->size() > before) *news = std::chrono::steady_clock::now();
    }
  } news_on_exit{out, out_before, &last_news_};
  std::vector<sink::MaxwellTransaction> transactions;
  if (maxwell_) DTS_RETURN_IF_ERROR(maxwell_->mark(records, &transactions));
  for (size_t i = 0; i < records.size(); ++i) {
    const sink::LogRecord& r = records[i];
    next_ = r.offset + 1;
    if (!wanted(r)) continue;
    if (query_.format != sink::ChangeFormat::kDts) {
      DTS_ASSIGN_OR_RETURN(std::optional<std::string> encoded,
                           sink::encodeChange(query_.format, r.value, query_.task,
                                              maxwell_ ? &transactions[i] : nullptr));
      if (!encoded && !query_.envelope) continue;  // a marker: the format has none
      if (encoded && query_.envelope) {
        // The offset and op a client commits and filters by, around the record as the format
        // has it (unchanged, so that the client can pass it on without parsing it).
        out->append("{\"offset\":" + std::to_string(r.offset) +
                    ",\"op\":" + nlohmann::json(sink::recordOp(r.value)).dump() + ",\"record\":");
        out->append(*encoded);
        out->push_back('}');
      } else {
        out->append(encoded ? *encoded : r.value);  // envelope: markers as they are
      }
      out->push_back('\n');
      if (query_.limit >= 0 && ++sent_ >= query_.limit) return false;
      continue;
    }
    out->append(r.value);
    out->push_back('\n');
    if (query_.limit >= 0 && ++sent_ >= query_.limit) return false;
  }
  return true;
}

}  // namespace dts::server
