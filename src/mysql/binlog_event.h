// Binlog events: the typed bodies dts needs, and BinlogDecoder, which turns raw events (from a
// file or a replication stream, see binlog_source.h) into decoded events. The common header,
// FORMAT_DESCRIPTION and ROTATE are event_header.h's, shared with the stream and the file reader.
//
// Protocol pages implemented here (each parser cites its own):
//   MariaDB KB "Query Event", "Xid Event", "Table_map_log_event", "Rows_event", "Gtid_log_event",
//   "Gtid_list_event", "Binlog Checkpoint Event", "Annotate_rows_log_event", "Compressed binlog
//   events"; MySQL
//   https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_replication_binlog_event.html
//   and the class docs of Gtid_event, Previous_gtids_event, Transaction_payload_event,
//   Table_map_event (optional metadata), Rows_event, XA_prepare_event.
//
// Lifetimes: a BinlogEvent holds views into the raw event bytes passed to BinlogDecoder::decode()
// and into buffers owned by the decoder (decompressed payloads). Both stay valid until the next
// decode() call. Owned strings (query text, names) are copies.
// Thread-safety: a BinlogDecoder is used by one thread at a time.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <variant>
#include <vector>

#include "common/status.h"
#include "mysql/binlog_source.h"
#include "mysql/event_header.h"
#include "mysql/row_decoder.h"
#include "mysql/table_info.h"

namespace dts::mysql {

struct QueryEvent {
  uint32_t thread_id = 0;
  uint32_t exec_time = 0;
  uint16_t error_code = 0;
  std::string database;
  // The statement as UTF-8 (utf8mb4) text: the server logs it in the character set of the client
  // that ran it (client_collation); text in another set is converted (mysql/charset_convert.h).
  // Left as logged, with sql_is_utf8 false, when it cannot be converted exactly: bytes invalid in
  // that set, a set without an exact converter, or a statement holding a character set
  // introducer (`_binary'...'`, `_latin1'...'`) next to non-ASCII bytes, whose literal bytes are
  // in another set than the text around them.
  std::string sql;
  uint16_t client_collation = 0;  // the status variable Q_CHARSET_CODE; 0 when absent
  // Also from Q_CHARSET_CODE: the session's collation_server (what CREATE DATABASE without a
  // character set gets); 0 when absent.
  uint16_t server_collation = 0;
  bool sql_is_utf8 = true;
  // The session's time zone when the statement used one (Q_TIME_ZONE_CODE: "SYSTEM", a name,
  // "+08:00"); empty when absent. The microseconds of the statement's start (MariaDB Q_HRNOW,
  // MySQL Q_MICROSECONDS; the seconds are the header's timestamp); 0 when absent.
  std::string time_zone;
  uint32_t start_usec = 0;
  // The session's sql_mode (Q_SQL_MODE_CODE, bits as mysql/sql_mode.h reads them) and
  // explicit_defaults_for_timestamp (MySQL: Q_EXPLICIT_DEFAULTS_FOR_TIMESTAMP; MariaDB: bit 24 of
  // Q_FLAGS2_CODE, which it writes with every statement); none when the event does not say.
  std::optional<uint64_t> sql_mode;
  std::optional<bool> explicit_defaults_for_timestamp;
  ServerFlavor flavor = ServerFlavor::kUnknown;  // of the server that wrote the event
  // Its version (FormatDescriptionEvent::version_number): which executable comments it ran
  // (mysql/sql_lexer.h); 0 when unknown.
  uint32_t server_version = 0;
};

struct XidEvent {
  uint64_t xid = 0;
};

struct TableMapEvent {
  std::shared_ptr<const TableInfo> table;       // as the TABLE_MAP describes it
  std::shared_ptr<const TableDecoder> decoder;  // after SchemaProvider completion
};

struct RowsEvent {
  EventType type = EventType::kUnknown;
  RowsEventData data;  // views + resolved decoder
};

// MariaDB GTID (162). https://mariadb.com/kb/en/gtid_event/
struct MariaGtidEvent {
  uint64_t seq_no = 0;
  uint32_t domain_id = 0;
  uint32_t server_id = 0;  // from the header
  uint8_t flags = 0;
  uint64_t commit_id = 0;  // when flags & kFlGroupCommitId
  uint32_t xa_format_id = 0;
  std::string xa_gtrid, xa_bqual;
  static constexpr uint8_t kFlStandalone = 1, kFlGroupCommitId = 2, kFlTransactional = 4,
                           kFlAllowParallel = 8, kFlWaited = 16, kFlDdl = 32, kFlPreparedXa = 64,
                           kFlCompletedXa = 128;
  std::string gtid() const;  // "domain-server-seq"
};

struct MariaGtidListEvent {
  struct Entry {
    uint32_t domain_id, server_id;
    uint64_t seq_no;
  };
  std::vector<Entry> gtids;
  uint8_t flags = 0;
};

struct BinlogCheckpointEvent {
  std::string file;
};

struct AnnotateRowsEvent {  // MariaDB ANNOTATE_ROWS and MySQL ROWS_QUERY: the statement text
  std::string sql;
};

// MySQL GTID (33) / ANONYMOUS_GTID (34).
struct MySqlGtidEvent {
  uint8_t flags = 0;
  uint8_t sid[16] = {};
  uint64_t gno = 0;
  bool has_logical_clock = false;
  int64_t last_committed = 0, sequence_number = 0;
  uint64_t immediate_commit_us = 0, original_commit_us = 0;  // 0 when absent
  uint64_t transaction_length = 0;
  uint32_t immediate_server_version = 0, original_server_version = 0;
  bool anonymous = false;
  std::string uuid() const;  // "3e11fa47-71ca-11e1-9e33-c80aa9429562"
  std::string gtid() const;  // "uuid:gno", empty when anonymous
};

struct PreviousGtidsEvent {
  struct Interval {
    uint64_t start, end;  // [start, end)
  };
  struct Sid {
    std::string uuid;
    std::vector<Interval> intervals;
  };
  std::vector<Sid> sids;
  std::string toString() const;  // "uuid:1-10:12,uuid2:1-5"
};

struct XaPrepareEvent {
  bool one_phase = false;
  uint32_t format_id = 0;
  std::string gtrid, bqual;
};

struct HeartbeatEvent {
  std::string log_file;
};

struct TransactionPayloadEvent {
  uint64_t compression = 0;  // 0 = zstd, 255 = none
  uint64_t payload_size = 0, uncompressed_size = 0;
  size_t inner_events = 0;
};

struct SkippedEvent {};  // known but irrelevant types, and unknown ones (skipped by length)

struct BinlogEvent {
  EventHeader header;
  BinlogPosition position;  // where the event starts; for events inside a TRANSACTION_PAYLOAD,
                            // where the payload event starts
  uint64_t end_offset = 0;  // offset right after the event (after the enclosing payload event)
  bool in_payload = false;
  std::variant<SkippedEvent, FormatDescriptionEvent, RotateEvent, QueryEvent, XidEvent,
               TableMapEvent, RowsEvent, MariaGtidEvent, MariaGtidListEvent, BinlogCheckpointEvent,
               AnnotateRowsEvent, MySqlGtidEvent, PreviousGtidsEvent, XaPrepareEvent,
               HeartbeatEvent, TransactionPayloadEvent>
      body;

  template <typename T>
  const T* as() const {
    return std::get_if<T>(&body);
  }
};

// Completes the TableInfo a TABLE_MAP gives (types and, with binlog_row_metadata=FULL, names)
// with what a schema tracker knows: names, collations, ENUM/SET members, keys. The BinlogDecoder
// calls it once per distinct TABLE_MAP (cached by table id and bytes).
class SchemaProvider {
 public:
  virtual ~SchemaProvider() = default;
  // Returns the completed table. REQUIRES the result has the same column count and types as
  // `from_table_map`; kFailedPrecondition when the tracked schema does not match it.
  virtual Result<std::shared_ptr<const TableInfo>> complete(const TableInfo& from_table_map) = 0;
};

// Decodes raw events one at a time, keeping the state events depend on: the FORMAT_DESCRIPTION
// (checksums, post-header lengths, server flavour) and the TABLE_MAPs by table id.
class BinlogDecoder {
 public:
  struct Options {
    bool verify_checksums = true;
    SchemaProvider* schema = nullptr;  // not owned; may be null; must outlive the decoder
    // Largest decompressed TRANSACTION_PAYLOAD / MariaDB compressed event accepted; larger
    // announced sizes are kCorruption (never a blind multi-GiB allocation).
    uint64_t max_uncompressed_bytes = uint64_t{4} << 30;
  };
  BinlogDecoder();
  explicit BinlogDecoder(Options options);

  // Decodes one whole raw event (header + body + checksum) that starts at `position`. Replaces
  // *out with the decoded events: one, or for a TRANSACTION_PAYLOAD the payload event followed
  // by every event inside it. Errors are kCorruption (bytes that do not decode; the message names
  // file:offset), kUnsupported (e.g. an unknown compression) or kFailedPrecondition (a rows event
  // for a table id without TABLE_MAP). A rows event's row images are decoded later with
  // RowsReader (row_decoder.h) over event.data.
  Status decode(std::string_view raw, const BinlogPosition& position,
                std::vector<BinlogEvent>* out);

  const FormatDescriptionEvent& format() const { return format_.format(); }
  ServerFlavor flavor() const { return format_.format().flavor; }
  // The table a TABLE_MAP mapped to `table_id`, or null.
  std::shared_ptr<const TableDecoder> table(uint64_t table_id) const;
  // Forgets the table maps (a new binlog file or a reconnect).
  void resetTables() { tables_.clear(); }

 private:
  Status decodeOne(std::string_view raw, const BinlogPosition& position, uint64_t end_offset,
                   bool in_payload, std::vector<BinlogEvent>* out);
  // One function per event type that needs state (the others are free functions in the .cc).
  Status decodeBody(const EventHeader& h, std::string_view body, BinlogEvent* ev, bool in_payload,
                    std::vector<BinlogEvent>* out);
  Status decodeTableMap(std::string_view body, TableMapEvent* out);
  Status decodeRows(const EventHeader& h, std::string_view body, RowsEvent* out);
  Status decodePayload(std::string_view body, const BinlogEvent& outer,
                       std::vector<BinlogEvent>* out);
  // The next event of this decode() call: a slot of *out left by the previous call when there
  // is one (reused, so steady-state decoding does not allocate), else a new one.
  BinlogEvent& nextSlot(std::vector<BinlogEvent>* out, const EventHeader& h,
                        const BinlogPosition& position, uint64_t end_offset, bool in_payload);

  struct CachedTable {
    std::string map_bytes;  // the TABLE_MAP body it was built from
    std::shared_ptr<const TableInfo> table;
    std::shared_ptr<const TableDecoder> decoder;
  };

  Options options_;
  BinlogFormat format_;  // FORMAT_DESCRIPTION and ROTATE followed, checksums checked
  std::unordered_map<uint64_t, CachedTable> tables_;
  // Decompressed bytes that events of the current decode() call point into.
  std::vector<std::unique_ptr<std::string>> scratch_;
  size_t used_ = 0;  // slots of *out filled by the current decode() call
};

// Parses a TABLE_MAP body (after the 19-byte header, without checksum) into a TableInfo.
// https://dev.mysql.com/doc/dev/mysql-server/latest/classmysql_1_1binlog_1_1event_1_1Table__map__event.html
// `post_header_len` is 8 (6-byte table id) or 6 (4-byte table id); `flavor`, the server's, says
// which columns the charset metadata lists.
Result<TableInfo> parseTableMap(std::string_view body, uint8_t post_header_len,
                                ServerFlavor flavor = ServerFlavor::kUnknown);

// The MariaDB compressed-event format: a header byte (0x80 | algorithm << 4 | length bytes),
// the uncompressed length big-endian in 1-4 bytes, then a zlib stream. Replaces *out.
// https://mariadb.com/kb/en/compressed-binary-log/
Status mariaDbUncompress(std::string_view in, std::string* out,
                         uint64_t max_bytes = uint64_t{1} << 32);

}  // namespace dts::mysql
