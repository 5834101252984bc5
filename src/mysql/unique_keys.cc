#include "mysql/unique_keys.h"

#include <algorithm>
#include <cctype>

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
      "SELECT INDEX_NAME, COLUMN_NAME, NULLABLE FROM information_schema.STATISTICS"
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
      keys.push_back(UniqueKey{std::move(name), {}, false});
    keys.back().columns.push_back(r[1].value_or(""));
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

Result<ReferencingActions> readReferencingActions(const QueryFn& query, const QuoteFn& quote,
                                                  const std::string& database,
                                                  const std::string& table) {
  auto rows = query(
      "SELECT k.TABLE_SCHEMA, k.TABLE_NAME, k.CONSTRAINT_NAME, r.DELETE_RULE, r.UPDATE_RULE,"
      " k.REFERENCED_COLUMN_NAME FROM information_schema.KEY_COLUMN_USAGE k"
      " JOIN information_schema.REFERENTIAL_CONSTRAINTS r"
      " ON r.CONSTRAINT_SCHEMA = k.CONSTRAINT_SCHEMA AND r.TABLE_NAME = k.TABLE_NAME"
      " AND r.CONSTRAINT_NAME = k.CONSTRAINT_NAME"
      " WHERE k.REFERENCED_TABLE_SCHEMA = " +
      quote(database) + " AND k.REFERENCED_TABLE_NAME = " + quote(table) +
      " ORDER BY k.TABLE_SCHEMA, k.TABLE_NAME, k.CONSTRAINT_NAME, k.ORDINAL_POSITION");
  if (!rows.ok()) {
    return rows.status().withContext("reading the foreign keys that reference " +
                                     quoteQualified(database, table));
  }
  auto acts = [](const std::string& rule) { return rule != "RESTRICT" && rule != "NO ACTION"; };
  ReferencingActions out;
  std::string last;
  for (const auto& r : rows->rows) {
    if (r.size() < 6) {
      return Status::Internal("reading the foreign keys that reference " +
                              quoteQualified(database, table) + ": " + std::to_string(r.size()) +
                              " columns");
    }
    const std::string on_delete = r[3].value_or(""), on_update = r[4].value_or("");
    if (!acts(on_delete) && !acts(on_update)) continue;
    const std::string name =
        quoteQualified(r[0].value_or(""), r[1].value_or("")) + " (" + r[2].value_or("") + ")";
    if (name != last) {
      std::string text = name;
      if (acts(on_delete)) text += " ON DELETE " + on_delete;
      if (acts(on_update)) text += " ON UPDATE " + on_update;
      out.described.push_back(std::move(text));
      last = name;
      std::pair<std::string, std::string> child{r[0].value_or(""), r[1].value_or("")};
      if (std::find(out.tables.begin(), out.tables.end(), child) == out.tables.end())
        out.tables.push_back(std::move(child));
    }
    out.on_delete = out.on_delete || acts(on_delete);
    const std::string column = r[5].value_or("");
    if (acts(on_update) && std::find(out.on_update_columns.begin(), out.on_update_columns.end(),
                                     column) == out.on_update_columns.end()) {
      out.on_update_columns.push_back(column);
    }
  }
  return out;
}

}  // namespace dts::mysql
