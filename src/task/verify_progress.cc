#include "task/verify_progress.h"

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "task/chunk_plan.h"

namespace dts::task {

namespace {

using nlohmann::json;

json optionalJson(const std::optional<std::string>& v) {
  return v ? json(*v) : json(nullptr);
}
std::optional<std::string> optionalFrom(const json& j) {
  if (j.is_null()) return std::nullopt;
  return j.get<std::string>();
}

json resultJson(const TableVerifyResult& t) {
  json rows = json::array();
  for (const auto& r : t.rows) {
    json key = json::array();
    for (const auto& [col, v] : r.key) key.push_back({col, optionalJson(v)});
    json cols = json::array();
    for (const auto& c : r.columns)
      cols.push_back({c.column, optionalJson(c.source), optionalJson(c.destination)});
    rows.push_back({{"kind", static_cast<int>(r.kind)},
                    {"key", key},
                    {"columns", cols},
                    {"count", r.count},
                    {"fix_sql", r.fix_sql}});
  }
  json schema = json::array();
  for (const auto& s : t.schema) schema.push_back({s.object, s.what, s.source, s.destination});
  return {{"source_table", t.source_table},
          {"target_table", t.target_table},
          {"keyless", t.keyless},
          {"data_compared", t.data_compared},
          {"data_skipped_reason", t.data_skipped_reason},
          {"source_rows", t.source_rows},
          {"destination_rows", t.destination_rows},
          {"chunks", t.chunks},
          {"rechecks", t.rechecks},
          {"row_differences", t.row_differences},
          {"load_pauses", t.load_pauses},
          {"paused_seconds", t.paused_seconds},
          {"rows", rows},
          {"schema", schema},
          {"seconds", t.seconds}};
}

TableVerifyResult resultFrom(const json& j) {
  TableVerifyResult t;
  t.source_table = j.at("source_table").get<std::string>();
  t.target_table = j.at("target_table").get<std::string>();
  t.keyless = j.at("keyless").get<bool>();
  t.data_compared = j.at("data_compared").get<bool>();
  t.data_skipped_reason = j.at("data_skipped_reason").get<std::string>();
  t.source_rows = j.at("source_rows").get<uint64_t>();
  t.destination_rows = j.at("destination_rows").get<uint64_t>();
  t.chunks = j.at("chunks").get<uint64_t>();
  t.rechecks = j.at("rechecks").get<uint64_t>();
  t.row_differences = j.at("row_differences").get<uint64_t>();
  t.load_pauses = j.at("load_pauses").get<uint64_t>();
  t.paused_seconds = j.at("paused_seconds").get<double>();
  t.seconds = j.at("seconds").get<double>();
  for (const auto& r : j.at("rows")) {
    RowDifference d;
    d.kind = static_cast<RowDifference::Kind>(r.at("kind").get<int>());
    for (const auto& k : r.at("key"))
      d.key.emplace_back(k.at(0).get<std::string>(), optionalFrom(k.at(1)));
    for (const auto& c : r.at("columns"))
      d.columns.push_back(
          {c.at(0).get<std::string>(), optionalFrom(c.at(1)), optionalFrom(c.at(2))});
    d.count = r.at("count").get<uint64_t>();
    d.fix_sql = r.at("fix_sql").get<std::string>();
    t.rows.push_back(std::move(d));
  }
  for (const auto& s : j.at("schema"))
    t.schema.push_back({s.at(0).get<std::string>(), s.at(1).get<std::string>(),
                        s.at(2).get<std::string>(), s.at(3).get<std::string>()});
  return t;
}

}  // namespace

std::string tableResultToJson(const TableVerifyResult& t) {
  return resultJson(t).dump();
}

Result<TableVerifyResult> tableResultFromJson(const std::string& text) {
  try {
    return resultFrom(json::parse(text));
  } catch (const json::exception& e) {
    return Status::Corruption(std::string("verification result: ") + e.what());
  }
}

Result<std::unique_ptr<VerifyProgress>> VerifyProgress::open(std::string path,
                                                             std::string identity) {
  std::unique_ptr<VerifyProgress> p(new VerifyProgress(std::move(path), std::move(identity)));
  std::error_code ec;
  if (!std::filesystem::exists(p->path_, ec)) return p;
  std::ifstream in(p->path_, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  if (!in && !in.eof())
    return Status::Unavailable("cannot read the verification progress " + p->path_);
  try {
    json j = json::parse(ss.str());
    if (j.at("identity").get<std::string>() != p->identity_) return p;  // another task or hash
    for (const auto& t : j.at("tables")) {
      Table table;
      table.result = resultFrom(t.at("result"));
      table.done = t.at("done").get<bool>();
      // The key as hex (encodeKey): a key's bytes need not be UTF-8, which JSON holds only. A
      // file of an earlier version has it as strings.
      if (t.contains("after_hex")) {
        if (!t.at("after_hex").is_null()) {
          auto key = decodeKey(t.at("after_hex").get<std::string>());
          if (!key.ok()) return key.status().withContext("verification progress " + p->path_);
          table.after = std::move(*key);
        }
      } else if (!t.at("after").is_null()) {
        table.after = t.at("after").get<std::vector<std::string>>();
      }
      p->tables_.push_back(std::move(table));
    }
  } catch (const json::exception& e) {
    return Status::Corruption("verification progress " + p->path_ + " is damaged (" + e.what() +
                              "); remove it or run with --restart");
  }
  return p;
}

std::optional<VerifyProgress::Table> VerifyProgress::find(const std::string& table) const {
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& t : tables_) {
    if (t.result.source_table == table) return t;
  }
  return std::nullopt;
}

bool VerifyProgress::empty() const {
  std::lock_guard<std::mutex> lock(mu_);
  return tables_.empty();
}

Status VerifyProgress::save(const Table& table) {
  std::lock_guard<std::mutex> lock(mu_);
  bool found = false;
  for (auto& t : tables_) {
    if (t.result.source_table == table.result.source_table) {
      t = table;
      found = true;
    }
  }
  if (!found) tables_.push_back(table);
  return writeLocked();
}

Status VerifyProgress::writeLocked() {
  json tables = json::array();
  for (const auto& t : tables_)
    tables.push_back({{"result", resultJson(t.result)},
                      {"done", t.done},
                      {"after_hex", t.after ? json(encodeKey(*t.after)) : json(nullptr)}});
  json j = {{"identity", identity_}, {"tables", tables}};
  std::error_code ec;
  std::filesystem::path path(path_);
  if (path.has_parent_path()) std::filesystem::create_directories(path.parent_path(), ec);
  std::string tmp = path_ + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << j.dump();
    out.close();
    if (!out) return Status::Unavailable("cannot write the verification progress " + tmp);
  }
  std::filesystem::rename(tmp, path_, ec);
  if (ec)
    return Status::Unavailable("cannot write the verification progress " + path_ + ": " +
                               ec.message());
  return Status::OK();
}

Status VerifyProgress::remove() {
  std::lock_guard<std::mutex> lock(mu_);
  tables_.clear();
  std::error_code ec;
  std::filesystem::remove(path_, ec);
  if (ec)
    return Status::Unavailable("cannot remove the verification progress " + path_ + ": " +
                               ec.message());
  return Status::OK();
}

}  // namespace dts::task
