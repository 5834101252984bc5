#include "mysql/unique_keys.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>

namespace dts::mysql {

Result<std::vector<UniqueKey>> readUniqueKeys(Connection& conn, const std::string& database,
                                              const std::string& table) {
  return readUniqueKeys([&](const std::string& sql) { return conn.query(sql); },
                        [&](std::string_view text) { return conn.quoteString(text); }, database,
                        table);
}

Result<std::vector<UniqueKey>> readUniqueKeys(const QueryFn& query, const QuoteFn& quote,
                                              const std::string& database,
                                              const std::string& table) {
  auto rows = query(
      "SELECT INDEX_NAME, COLUMN_NAME, NULLABLE, SUB_PART FROM information_schema.STATISTICS"
      " WHERE TABLE_SCHEMA = " +
      quote(database) + " AND TABLE_NAME = " + quote(table) +
      " AND NON_UNIQUE = 0 ORDER BY INDEX_NAME = 'PRIMARY' DESC, INDEX_NAME, SEQ_IN_INDEX");
  if (!rows.ok()) {
    return rows.status().withContext("reading the unique keys of " +
                                     quoteQualified(database, table));
  }
  std::vector<UniqueKey> keys;
  for (const auto& r : rows->rows) {
    if (r.size() < 3) {
      return Status::Internal("reading the unique keys of " + quoteQualified(database, table) +
                              ": STATISTICS returned " + std::to_string(r.size()) + " columns");
    }
    std::string name = r[0].value_or("");
    if (keys.empty() || keys.back().name != name)
      keys.push_back(UniqueKey{std::move(name), {}, false, {}});
    keys.back().columns.push_back(r[1].value_or(""));
    keys.back().sub_parts.push_back(
        r.size() > 3 ? static_cast<uint32_t>(std::strtoul(r[3].value_or("0").c_str(), nullptr, 10))
                     : 0);
    if (r[2].value_or("") == "YES") keys.back().nullable = true;
  }
  return keys;
}

bool isGeneratedColumnExtra(std::string_view extra) {
  // Word by word: "DEFAULT_GENERATED" is one word and matches none of these.
  size_t i = 0;
  while (i < extra.size()) {
    while (i < extra.size() && std::isspace(static_cast<unsigned char>(extra[i]))) ++i;
    size_t start = i;
    while (i < extra.size() && !std::isspace(static_cast<unsigned char>(extra[i]))) ++i;
    std::string word;
    for (char c : extra.substr(start, i - start))
      word.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
    if (word == "VIRTUAL" || word == "STORED" || word == "PERSISTENT") return true;
  }
  return false;
}

Result<std::vector<std::string>> readGeneratedColumns(const QueryFn& query, const QuoteFn& quote,
                                                      const std::string& database,
                                                      const std::string& table) {
  auto rows =
      query("SELECT COLUMN_NAME, EXTRA FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = " +
            quote(database) + " AND TABLE_NAME = " + quote(table) + " ORDER BY ORDINAL_POSITION");
  if (!rows.ok()) {
    return rows.status().withContext("reading the generated columns of " +
                                     quoteQualified(database, table));
  }
  std::vector<std::string> out;
  for (const auto& r : rows->rows) {
    if (r.size() < 2) {
      return Status::Internal("reading the generated columns of " +
                              quoteQualified(database, table) + ": COLUMNS returned " +
                              std::to_string(r.size()) + " columns");
    }
    if (isGeneratedColumnExtra(r[1].value_or(""))) out.push_back(r[0].value_or(""));
  }
  return out;
}

bool foreignKeyRuleActs(std::string_view rule) {
  return rule != "RESTRICT" && rule != "NO ACTION";
}

Result<ReferencingActionsMap> readReferencingActions(const QueryFn& query) {
  auto rows = query(
      "SELECT k.TABLE_SCHEMA, k.TABLE_NAME, r.DELETE_RULE, r.UPDATE_RULE,"
      " k.REFERENCED_TABLE_SCHEMA, k.REFERENCED_TABLE_NAME, k.REFERENCED_COLUMN_NAME"
      " FROM information_schema.REFERENTIAL_CONSTRAINTS r"
      " JOIN information_schema.KEY_COLUMN_USAGE k"
      " ON k.CONSTRAINT_SCHEMA = r.CONSTRAINT_SCHEMA AND k.TABLE_NAME = r.TABLE_NAME"
      " AND k.CONSTRAINT_NAME = r.CONSTRAINT_NAME AND k.REFERENCED_TABLE_NAME IS NOT NULL"
      " WHERE r.DELETE_RULE NOT IN ('RESTRICT', 'NO ACTION')"
      " OR r.UPDATE_RULE NOT IN ('RESTRICT', 'NO ACTION')");
  if (!rows.ok()) return rows.status().withContext("reading the foreign keys' actions");
  ReferencingActionsMap out;
  for (const auto& r : rows->rows) {
    if (r.size() < 7) {
      return Status::Internal("reading the foreign keys' actions: " + std::to_string(r.size()) +
                              " columns");
    }
    ReferencingActions& a = out[{r[4].value_or(""), r[5].value_or("")}];
    std::pair<std::string, std::string> child{r[0].value_or(""), r[1].value_or("")};
    if (std::find(a.tables.begin(), a.tables.end(), child) == a.tables.end())
      a.tables.push_back(std::move(child));
    if (foreignKeyRuleActs(r[2].value_or(""))) a.on_delete = true;
    const std::string column = r[6].value_or("");
    if (foreignKeyRuleActs(r[3].value_or("")) &&
        std::find(a.on_update_columns.begin(), a.on_update_columns.end(), column) ==
            a.on_update_columns.end()) {
      a.on_update_columns.push_back(column);
    }
  }
  return out;
}

}  // namespace dts::mysql
