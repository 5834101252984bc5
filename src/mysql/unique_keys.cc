#include "mysql/unique_keys.h"

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

}  // namespace dts::mysql
