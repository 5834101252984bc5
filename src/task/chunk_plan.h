// Chunk plan: how a table's rows are split into chunks for the full loader (see full_loader.h
// for why a chunk must always mean the same key range).
//
// A table with a usable key (FullLoader's chunk_key) is split by key into chunks (lower, upper],
// a missing bound meaning unbounded: chunk 0 has no lower bound, the last chunk no upper bound,
// so rows written outside the planned range later are still covered. A table without such a key
// is one chunk. Keys are stored at the destination as encodeKey text (dts_meta, full_meta.h).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "mysql/connection.h"
#include "task/catalog.h"

namespace dts::task {

// The rows of one table whose key lies in (lower, upper]; nullopt: unbounded on that side.
struct ChunkRange {
  int number = 0;
  std::optional<std::vector<std::string>> lower, upper;
  uint64_t planned_rows = 0;  // estimate when planned from the key range
};

struct ChunkPlan {
  std::vector<ChunkRange> chunks;  // numbered 0..n-1 in key order
  uint64_t total_rows = 0;         // rows counted (or estimated) when planning
};

// Rows per chunk for a table: chunk_rows when set, else chunk_bytes / the table's average row
// length (256 bytes when statistics are missing), clamped to [min_rows, max_rows].
uint64_t chunkRowsFor(const CatalogTable& table, uint64_t chunk_rows, uint64_t chunk_bytes,
                      uint64_t min_rows, uint64_t max_rows);

// Plans the chunks of `table` on the source. A dense single-column integer key (range at most
// four times the estimated row count) is split arithmetically from MIN and MAX (two index dives;
// per-chunk row counts are estimates). Any other key is streamed in key order, every chunk_rows-th
// key closing a chunk (exact counts). A table without a key is one chunk of COUNT(*) rows.
// Returns kAborted when stop became true while the key was streamed.
Result<ChunkPlan> planChunks(mysql::Connection& src, const CatalogTable& table, uint64_t chunk_rows,
                             const std::atomic<bool>& stop);

// Hex of each key value, comma separated (how keys are stored in dts_meta).
std::string encodeKey(const std::vector<std::string>& values);
// The inverse of encodeKey; kCorruption on anything but hex digit pairs and commas.
Result<std::vector<std::string>> decodeKey(std::string_view encoded);

// SQL for "key > lower AND key <= upper" over the table's chunk_key columns (each null bound is
// omitted; "1" when both are), with values rendered for their column types: numbers (and the
// numbers of BIT, ENUM and SET columns: keyOrderIsNumber) as is when they look numeric, bytes as
// X'..', anything else through quote_string.
std::string chunkPredicate(const CatalogTable& table, const std::vector<std::string>* lower,
                           const std::vector<std::string>* upper,
                           const std::function<std::string(std::string_view)>& quote_string);

}  // namespace dts::task
