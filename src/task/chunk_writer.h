// Chunk writers: how the rows of one chunk travel to the destination, by one of three methods
// (options.full.method, FullWriteMethod, resolved per chunk by chunkFormat):
//   bulk       a prepared INSERT executed once per batch with arrays of parameters
//              (mysql::BulkStatement, MariaDB 10.2+); a batch too large for one bulk packet (a huge
//              row) goes by LOAD DATA in the same transaction when LOAD DATA can carry the table;
//   load_data  LOAD DATA LOCAL INFILE of an in-memory file (mysql::LocalInfileLoader);
//   insert     multi-row INSERT statements of SQL literals.
// A reader thread encodes source rows into RowBatches (BatchEncoder); the writer thread sends them
// (ChunkWriter) inside the destination transaction the caller opened. A batch is about
// statement_bytes; a single row larger than that travels alone.
//
// Raw mode (a destination table with the source's character set per column: one dts created
// from the source's definition, or an existing one whose columns were found to match), by every
// method: the source sends every value in its column's own character set
// (character_set_results = NULL) and the destination takes it as a binary string (a binary
// parameter, an X'..' literal, a LOAD DATA field of CHARACTER SET binary), stored unchanged;
// neither server converts characters. Transcoding through Unicode is not exact: Shift-JIS 0x5C
// comes back as 0x815F, cp932's NEC and IBM twins as one of them, a GBK code without a Unicode
// mapping as '?'. Otherwise (an existing table whose character sets differ) values travel as
// utf8mb4 and each server converts.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "mysql/bulk_statement.h"
#include "mysql/connection.h"
#include "mysql/load_data.h"
#include "mysql/row_decoder.h"
#include "task/catalog.h"
#include "task/task_config.h"

namespace dts::task {

// False when a copied column is BIT or spatial: LOAD DATA stores a field as a string into its
// column, and such columns would not read their text-protocol bytes back the way X'..' does.
bool loadDataCanCarry(const CatalogTable& table);

enum class ChunkMethod { kBulk, kLoadData, kInsert };

// How one chunk is written: the method and everything derived from it and the table.
struct ChunkFormat {
  ChunkMethod method = ChunkMethod::kInsert;
  // LOAD DATA may carry a batch of this chunk (the method, or bulk's fallback for a huge row).
  bool can_load_data = false;
  bool table_fits_load_data = true;  // loadDataCanCarry(table)
  bool raw = false;                  // see the header comment
  bool insert_ignore = false;        // conflicting_tables: ignore (keep the destination row)
  std::vector<CatalogColumn::Render> renders;  // per copied column, kString -> kHex in raw mode
  // Per copied column: an ENUM that may hold the ENUM error value (index 0), which the source
  // reads as '' (as "0" when by_number), and the strict destination session refuses.
  std::vector<bool> enums;
  std::vector<std::string> enum_names;  // their names, by copied column (empty for the others)
  // Per copied column: an ENUM or SET whose text is ambiguous (enumTextIsAmbiguous: a member
  // ''), read as its index or bitmask and written as that number (CAST(? AS UNSIGNED), a bare
  // integer, a LOAD DATA variable), so that the error value, '' and {''} arrive as they are.
  std::vector<bool> by_number;
  std::string columns;         // the copied columns, quoted, comma separated
  std::string select_list;     // what the source SELECTs for them (exactSelectExpr), in that order
  std::string insert_head;     // "INSERT [IGNORE] INTO `db`.`t` (cols) VALUES "
  std::string load_statement;  // the LOAD DATA LOCAL statement
  // A copied FLOAT or DOUBLE column: its -0, read as "-0" (floatTextExpr), is written as
  // `literal` (sink::negativeZeroLiteral: -1e-50 for a FLOAT at MariaDB), or, where the
  // destination cannot store it, fails the chunk with `refusal`.
  struct NegativeZero {
    size_t column = 0;  // among the copied columns
    std::string literal;
    Status refusal;
  };
  std::vector<NegativeZero> negative_zeros;
};

// The format of a chunk of `table`. requested: the task's method; load_data_accepted: the
// destination has not refused LOAD DATA LOCAL so far; bulk_everywhere: every destination
// connection takes arrays of parameters (auto picks bulk only then); destination: the server's
// flavor (what it stores of a -0).
// raw_bytes: the destination table's columns have the source's character sets (raw mode).
ChunkFormat chunkFormat(const CatalogTable& table, FullWriteMethod requested,
                        bool load_data_accepted, bool bulk_everywhere, bool insert_ignore,
                        bool raw_bytes, mysql::ServerFlavor destination);

// One batch of rows as the writer sends it: insert: `text` is the whole statement; load_data: the
// in-memory file; bulk: the values in `bulk`.
struct RowBatch {
  std::string text;
  mysql::BulkRows bulk;
  uint64_t rows = 0;
  uint64_t bytes = 0;  // source bytes of the values (for progress and rate limits)
  // Empty values of ENUM columns without a member '': the ENUM error value (sink/sql_literal.h),
  // which the strict session refuses. A batch with any is written under the lenient sql_mode and
  // allowed, on each such column, at most as many "Data truncated" warnings as it has error
  // values there (by copied column; empty while there are none): a truncated member on another
  // column, or one more on the same, still fails the batch.
  uint64_t enum_blanks = 0;
  std::vector<uint64_t> enum_blanks_by_column;
  size_t encodedBytes() const { return text.size() + bulk.dataBytes(); }
};

// Encodes streamed source rows into batches of about statement_bytes. Stateless between calls:
// usable from the reader thread while the format is not modified.
class BatchEncoder {
 public:
  BatchEncoder(const ChunkFormat& format, uint64_t statement_bytes)
      : format_(format), statement_bytes_(statement_bytes) {}

  // An empty batch (for insert: the statement head).
  RowBatch fresh() const;
  // True when batch b holds rows and one more row of these lengths could take it past
  // statement_bytes: the caller sends b first, so a huge row travels alone.
  bool wouldOverflow(const RowBatch& b, const unsigned long* lengths, unsigned n) const {
    if (b.rows == 0) return false;
    uint64_t row = 0;
    for (unsigned i = 0; i < n; ++i) row += 2 * lengths[i] + 8;  // hex digits at worst
    return b.encodedBytes() + row > statement_bytes_;
  }
  // Appends one row (fields as Connection::queryStream streams them). Fails (the format's
  // NegativeZero::refusal, b unchanged) on a -0 the destination cannot store.
  Status append(RowBatch& b, const char* const* fields, const unsigned long* lengths,
                unsigned n) const;
  // True when b reached statement_bytes and should be sent.
  bool full(const RowBatch& b) const { return b.encodedBytes() >= statement_bytes_; }

 private:
  const ChunkFormat& format_;
  uint64_t statement_bytes_;
};

// Writes the batches of one chunk to the destination, inside the caller's transaction.
// Not thread-safe: the thread that owns the destination connection.
class ChunkWriter {
 public:
  // Prepares the writes of a chunk: the bulk statement, the LOAD DATA handler (installed on dest
  // until the writer is destroyed). what: "db.t chunk 3"; max_packet: the destination's
  // max_allowed_packet. REQUIRES: format and dest outlive the writer.
  static Result<std::unique_ptr<ChunkWriter>> open(mysql::Connection& dest,
                                                   const ChunkFormat& format,
                                                   const CatalogTable& table, std::string what,
                                                   uint64_t max_packet);

  // Writes the batch. Fails (kFailedPrecondition) when the server inserted fewer rows than the
  // batch holds without insert_ignore (a duplicate key at the destination must never make a row
  // go missing silently), when a batch needs a packet larger than max_packet, and when the
  // destination changed a value: the session is strict (an INSERT fails by itself), and the
  // warnings of what only warns (LOAD DATA LOCAL, a batch under the lenient sql_mode) are read
  // with SHOW WARNINGS: any other than an expected duplicate key (insert_ignore) or ENUM error
  // value (RowBatch::enum_blanks) fails the batch, naming the warnings.
  Status write(const RowBatch& b);

  // The last write failed because the destination refuses LOAD DATA LOCAL.
  bool loadDataRefused() const { return infile_ != nullptr && infile_->refused(); }

 private:
  ChunkWriter(mysql::Connection& dest, const ChunkFormat& format, std::string what,
              std::string writing, uint64_t max_packet)
      : dest_(dest),
        format_(format),
        what_(std::move(what)),
        writing_(std::move(writing)),
        max_packet_(max_packet) {}
  Status writeBatch(const RowBatch& b);
  Status loadData(const std::string& file, uint64_t expected);
  // Fails unless every warning of the last write is expected (see write()).
  Status checkWarnings(const RowBatch& b, uint64_t inserted);
  Status tooLarge(uint64_t bytes) const;

  mysql::Connection& dest_;
  const ChunkFormat& format_;
  std::string what_;     // "db.t chunk 3"
  std::string writing_;  // "writing target_db.target_table"
  uint64_t max_packet_;
  std::unique_ptr<mysql::BulkStatement> bulk_;
  std::unique_ptr<mysql::LocalInfileLoader> infile_;
  uint64_t last_inserted_ = 0;  // rows the last write inserted
};

}  // namespace dts::task
