#include "task/chunk_writer.h"

#include <algorithm>
#include <cstring>
#include <optional>
#include <set>

#include "sink/sql_literal.h"
#include "source/schema_tracker.h"
#include "task/sql_values.h"

namespace dts::task {

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

ChunkFormat chunkFormat(const CatalogTable& t, FullWriteMethod requested, bool load_data_accepted,
                        bool bulk_everywhere, bool insert_ignore, bool raw_bytes,
                        mysql::ServerFlavor destination) {
  ChunkFormat f;
  f.insert_ignore = insert_ignore;
  std::vector<std::string_view> types;  // of each copied column, as renders
  for (const auto& name : t.copy_columns) {
    f.columns += (f.columns.empty() ? "" : ", ") + mysql::quoteIdentifier(name);
    for (const auto& c : t.columns) {
      if (c.name != name) continue;
      const bool by_number = enumTextIsAmbiguous(c);
      f.select_list +=
          (f.select_list.empty() ? "" : ", ") +
          (by_number ? "(" + mysql::quoteIdentifier(c.name) + " + 0)" : exactSelectExpr(c));
      if (isFloating(c)) {
        auto zero = negativeZeroLiteral(c.name, c.data_type, c.column_type, destination);
        f.negative_zeros.push_back({f.renders.size(), zero.ok() ? std::string(*zero) : "",
                                    zero.ok() ? Status::OK() : zero.status()});
      }
      f.renders.push_back(by_number ? CatalogColumn::Render::kNumber : c.render);
      types.push_back(c.data_type);
      // Read as text, an ENUM with a member '' gives '' for it and for the error value alike; by
      // number the error value is "0".
      const bool error_value_possible = c.data_type == "enum";
      f.enums.push_back(error_value_possible);
      f.enum_names.push_back(error_value_possible ? c.name : std::string());
      f.by_number.push_back(by_number);
    }
  }
  // LOAD DATA stays possible under bulk_insert for a batch too large for one bulk packet.
  f.table_fits_load_data = loadDataCanCarry(t);
  f.can_load_data =
      load_data_accepted && f.table_fits_load_data &&
      (requested == FullWriteMethod::kAuto || requested == FullWriteMethod::kLoadData ||
       requested == FullWriteMethod::kBulkInsert);
  if (requested == FullWriteMethod::kBulkInsert ||
      (requested == FullWriteMethod::kAuto && bulk_everywhere)) {
    f.method = ChunkMethod::kBulk;
  } else if (f.can_load_data) {
    f.method = ChunkMethod::kLoadData;
  }
  f.raw = raw_bytes;
  if (f.raw) {
    for (size_t i = 0; i < f.renders.size(); ++i) {
      // MariaDB's UUID and INET columns stay text: the server reads any 16 (4) bytes as the
      // value's binary form and refuses other bytes, so their text must go as text; so does
      // JSON, which MySQL does not take from a binary string.
      const std::string_view type = types[i];
      if (type == "uuid" || type == "inet6" || type == "inet4" || type == "json") continue;
      if (f.renders[i] == CatalogColumn::Render::kString)
        f.renders[i] = CatalogColumn::Render::kHex;  // X'..' by INSERT
    }
  }
  // LOAD DATA stores a field as a string: a by_number column's field goes through a variable
  // and is stored as the integer it holds; in raw mode (CHARACTER SET binary) a column that
  // stays text goes through one converted to utf8mb4.
  std::string load_columns, load_set;
  for (size_t i = 0; i < t.copy_columns.size() && i < f.by_number.size(); ++i) {
    std::string q = mysql::quoteIdentifier(t.copy_columns[i]);
    const bool text = f.raw && f.renders[i] == CatalogColumn::Render::kString;
    if (!f.by_number[i] && !text) {
      load_columns += (load_columns.empty() ? "" : ", ") + q;
      continue;
    }
    std::string var = "@dts_" + std::to_string(i);
    load_columns += (load_columns.empty() ? "" : ", ") + var;
    load_set +=
        (load_set.empty() ? " SET " : ", ") + q + " = " +
        (f.by_number[i] ? "CAST(" + var + " AS UNSIGNED)" : "CONVERT(" + var + " USING utf8mb4)");
  }
  std::string target = mysql::quoteQualified(t.route.target_database, t.route.target_table);
  f.insert_head = std::string(insert_ignore ? "INSERT IGNORE INTO " : "INSERT INTO ") + target +
                  " (" + f.columns + ") VALUES ";
  f.load_statement = std::string("LOAD DATA LOCAL INFILE 'dts-chunk' ") +
                     (insert_ignore ? "IGNORE " : "") + "INTO TABLE " + target +
                     (f.raw ? " CHARACTER SET binary" : " CHARACTER SET utf8mb4") +
                     " FIELDS TERMINATED BY '\\t' ESCAPED BY '\\\\'"
                     " LINES TERMINATED BY '\\n' (" +
                     load_columns + ")" + load_set;
  return f;
}

RowBatch BatchEncoder::fresh() const {
  RowBatch b;
  if (format_.method == ChunkMethod::kBulk) {
    b.bulk = mysql::BulkRows(format_.renders.size());
    b.bulk.reserve(statement_bytes_ + (64u << 10));
  } else {
    b.text.reserve(statement_bytes_ + (64u << 10));
    if (format_.method == ChunkMethod::kInsert) b.text = format_.insert_head;
  }
  return b;
}

Status BatchEncoder::append(RowBatch& b, const char* const* fields, const unsigned long* lengths,
                            unsigned n) const {
  const char* const* f = fields;
  const unsigned long* len = lengths;
  // A -0 goes as the destination stores it: the row's fields are copied only for such a row.
  std::vector<const char*> zf;
  std::vector<unsigned long> zlen;
  for (const ChunkFormat::NegativeZero& z : format_.negative_zeros) {
    if (z.column >= n || fields[z.column] == nullptr || lengths[z.column] != 2 ||
        std::memcmp(fields[z.column], "-0", 2) != 0)
      continue;
    if (!z.refusal.ok()) return z.refusal;
    if (zf.empty()) {
      zf.assign(fields, fields + n);
      zlen.assign(lengths, lengths + n);
      f = zf.data();
      len = zlen.data();
    }
    zf[z.column] = z.literal.data();
    zlen[z.column] = z.literal.size();
  }
  switch (format_.method) {
    case ChunkMethod::kBulk:
      for (unsigned i = 0; i < n; ++i) b.bulk.appendValue(i, f[i], len[i]);
      b.bulk.endRow();
      break;
    case ChunkMethod::kLoadData: appendLoadDataRow(b.text, f, len, n); break;
    case ChunkMethod::kInsert:
      appendInsertRow(b.text, format_.renders, b.rows == 0, f, len, n);
      break;
  }
  for (unsigned i = 0; i < n; ++i) {
    b.bytes += len[i];
    if (f[i] == nullptr || i >= format_.enums.size() || !format_.enums[i]) continue;
    const bool error_value = i < format_.by_number.size() && format_.by_number[i]
                                 ? len[i] == 1 && f[i][0] == '0'
                                 : len[i] == 0;
    if (error_value) {
      if (b.enum_blanks_by_column.empty()) b.enum_blanks_by_column.resize(format_.enums.size());
      ++b.enum_blanks_by_column[i];
      ++b.enum_blanks;
    }
  }
  ++b.rows;
  return Status::OK();
}

Result<std::unique_ptr<ChunkWriter>> ChunkWriter::open(mysql::Connection& dest,
                                                       const ChunkFormat& format,
                                                       const CatalogTable& t, std::string what,
                                                       uint64_t max_packet) {
  std::string writing = "writing " + t.route.target_database + "." + t.route.target_table;
  std::unique_ptr<ChunkWriter> w(
      new ChunkWriter(dest, format, std::move(what), std::move(writing), max_packet));
  if (format.method == ChunkMethod::kBulk) {
    std::string placeholders;
    std::vector<mysql::BulkStatement::Param> params;
    for (size_t i = 0; i < format.renders.size(); ++i) {
      const CatalogColumn::Render r = format.renders[i];
      const char* placeholder =
          i < format.by_number.size() && format.by_number[i] ? "CAST(? AS UNSIGNED)" : "?";
      placeholders += (placeholders.empty() ? "" : ", ") + std::string(placeholder);
      // Bytes (and every column in raw mode) as binary strings, stored without conversion; text
      // as strings (utf8mb4, like the source sent it); numbers as strings too, converted by the
      // server as an INSERT would.
      // (In raw mode the only text left is that of UUID and INET columns, see chunkFormat.)
      params.push_back((format.raw && r != CatalogColumn::Render::kString) ||
                               r == CatalogColumn::Render::kHex
                           ? mysql::BulkStatement::Param::kBinary
                           : mysql::BulkStatement::Param::kString);
    }
    auto bulk = mysql::BulkStatement::prepare(dest, format.insert_head + "(" + placeholders + ")",
                                              std::move(params));
    if (!bulk.ok()) return bulk.status().withContext(w->writing_);
    w->bulk_ = std::move(*bulk);
  }
  if (format.can_load_data) w->infile_ = std::make_unique<mysql::LocalInfileLoader>(dest);
  return w;
}

Status ChunkWriter::loadData(const std::string& file, uint64_t expected) {
  auto loaded = infile_->load(format_.load_statement, file);
  if (!loaded.ok()) return loaded.status().withContext(writing_);
  last_inserted_ = *loaded;
  // LOAD DATA LOCAL skips a row on a key conflict (with a warning) where INSERT fails: never
  // let a row go missing silently.
  if (!format_.insert_ignore && *loaded != expected) {
    return Status::FailedPrecondition(
        writing_ + " (" + what_ + "): " + std::to_string(expected - *loaded) + " of " +
        std::to_string(expected) + " rows were not inserted (duplicate key at the destination?)");
  }
  return Status::OK();
}

Status ChunkWriter::tooLarge(uint64_t bytes) const {
  return Status::FailedPrecondition(
      writing_ + " (" + what_ + "): a row needs a " + std::to_string(bytes) +
      "-byte packet, more than the destination's max_allowed_packet (" +
      std::to_string(max_packet_) + "); raise max_allowed_packet at the destination" +
      (format_.table_fits_load_data
           ? ""
           : " (LOAD DATA cannot carry this table's BIT or spatial columns)"));
}

Status ChunkWriter::write(const RowBatch& b) {
  // Strict mode refuses the ENUM error value: a batch that may hold one is written leniently and
  // its warnings say whether anything else changed.
  const bool lenient = b.enum_blanks > 0;
  if (lenient) {
    DTS_RETURN_IF_ERROR(
        dest_.execute(sink::setSqlModeSql(sink::lenientSqlMode())).withContext(writing_));
  }
  last_inserted_ = b.rows;
  Status st = writeBatch(b);
  if (st.ok()) st = checkWarnings(b, last_inserted_);
  if (lenient) {
    Status back = dest_.execute(sink::setSqlModeSql(sink::strictSqlMode())).withContext(writing_);
    if (st.ok()) st = back;
  }
  return st;
}

Status ChunkWriter::checkWarnings(const RowBatch& b, uint64_t inserted) {
  const unsigned count = dest_.warningCount();
  if (count == 0) return Status::OK();
  auto shown = dest_.query("SHOW WARNINGS");
  if (!shown.ok()) return shown.status().withContext(writing_ + ": reading its warnings");
  // The ENUM column a "Data truncated for column 'x' at row N" warning names, if one may hold
  // error values in this batch.
  auto onEnum = [&](const std::string& message) -> std::optional<size_t> {
    for (size_t i = 0; i < b.enum_blanks_by_column.size(); ++i) {
      if (b.enum_blanks_by_column[i] == 0 || format_.enum_names[i].empty()) continue;
      if (message.find("column '" + format_.enum_names[i] + "'") != std::string::npos) return i;
    }
    return std::nullopt;
  };
  std::vector<uint64_t> truncated_enums(b.enum_blanks_by_column.size());
  uint64_t expected = 0;
  std::string changed;
  for (const mysql::Row& r : shown->rows) {
    const std::string level = r.size() > 0 ? r[0].value_or("") : "";
    const std::string code = r.size() > 1 ? r[1].value_or("") : "";
    const std::string message = r.size() > 2 ? r[2].value_or("") : "";
    if (level == "Note" && code != "1265") {  // a Note 1265 is trailing spaces cut off
      ++expected;
      continue;
    }
    if (code == "1062" && format_.insert_ignore) {  // a row the destination keeps (ignore)
      ++expected;
      continue;
    }
    if (code == "1265") {
      if (auto column = onEnum(message);
          column && ++truncated_enums[*column] <= b.enum_blanks_by_column[*column]) {
        ++expected;
        continue;
      }
    }
    if (!changed.empty()) changed += "; ";
    changed += level + " " + code + ": " + message;
  }
  // Beyond max_error_count the server counts warnings without listing them: those can only be
  // the duplicates and ENUM error values the batch may hold.
  const uint64_t unlisted = count > shown->rows.size() ? count - shown->rows.size() : 0;
  const uint64_t allowed =
      b.enum_blanks + (format_.insert_ignore && b.rows > inserted ? b.rows - inserted : 0);
  if (changed.empty() && (unlisted == 0 || expected + unlisted <= allowed)) return Status::OK();
  if (changed.empty()) {
    changed = std::to_string(unlisted) + " warnings beyond those SHOW WARNINGS lists";
  }
  return Status::FailedPrecondition(
      writing_ + " (" + what_ + "): the destination would store values other than the source's (" +
      changed + "); nothing of this chunk was committed");
}

Status ChunkWriter::writeBatch(const RowBatch& b) {
  switch (format_.method) {
    case ChunkMethod::kBulk: {
      // One bulk packet must fit the server's max_allowed_packet: a batch that would not (a
      // huge row) goes by LOAD DATA in the same transaction, or fails clearly.
      uint64_t packet = b.bulk.dataBytes() + b.rows * format_.renders.size() * 10 + 4096;
      if (packet > max_packet_) {
        if (!format_.can_load_data) return tooLarge(packet);
        std::string file;
        b.bulk.forEachRow([&](const char* const* f, const unsigned long* len, unsigned n) {
          appendLoadDataRow(file, f, len, n);
        });
        return loadData(file, b.rows);
      }
      auto inserted = bulk_->execute(b.bulk);
      if (!inserted.ok()) return inserted.status().withContext(writing_);
      last_inserted_ = *inserted;
      if (!format_.insert_ignore && *inserted != b.rows) {
        return Status::FailedPrecondition(writing_ + " (" + what_ + "): the server inserted " +
                                          std::to_string(*inserted) + " of " +
                                          std::to_string(b.rows) + " rows");
      }
      return Status::OK();
    }
    case ChunkMethod::kLoadData: return loadData(b.text, b.rows);
    case ChunkMethod::kInsert:
      // The server would drop the connection on a larger packet (and that looks retryable).
      if (b.text.size() + 1024 > max_packet_) return tooLarge(b.text.size());
      DTS_RETURN_IF_ERROR(dest_.execute(b.text).withContext(writing_));
      last_inserted_ = dest_.affectedRows();
      return Status::OK();
  }
  return Status::Internal("unknown chunk write method");
}

}  // namespace dts::task
