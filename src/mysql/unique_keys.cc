#include "mysql/unique_keys.h"

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

}  // namespace dts::mysql
