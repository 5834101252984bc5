// Binlog event framing, shared by every reader of binlog bytes: the v4 common header, the
// FORMAT_DESCRIPTION and ROTATE events that say how the events after them are read, the CRC32
// check, and BinlogFormat, which follows those events along a sequence. The replication stream
// (binlog_stream.h), the file reader (binlog_file.h) and the decoder (binlog_event.h) all read
// events through these, so they agree on version rules, checksums and header lengths.
//
// Protocol pages implemented here:
//   https://mariadb.com/kb/en/2-binlog-event-header/
//   https://mariadb.com/kb/en/format_description_event/
//   https://mariadb.com/kb/en/rotate_event/
//   https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_replication_binlog_event.html
//
// Every function takes untrusted bytes: malformed input is a kCorruption (or kUnsupported) Status
// naming what is wrong, never a crash.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "mysql/row_decoder.h"

namespace dts::mysql {

enum class EventType : uint8_t {
  kUnknown = 0,
  kStartV3 = 1,
  kQuery = 2,
  kStop = 3,
  kRotate = 4,
  kIntvar = 5,
  kAppendBlock = 9,  // LOAD DATA's file, logged as statement: read by nobody here
  kRand = 13,
  kUserVar = 14,
  kFormatDescription = 15,
  kXid = 16,
  kBeginLoadQuery = 17,    // LOAD DATA's file, logged as statement: its first block
  kExecuteLoadQuery = 18,  // LOAD DATA logged as statement: a QUERY with a longer post-header
  kTableMap = 19,
  kWriteRowsV1 = 23,
  kUpdateRowsV1 = 24,
  kDeleteRowsV1 = 25,
  kIncident = 26,
  kHeartbeat = 27,
  kIgnorable = 28,
  kRowsQuery = 29,
  kWriteRowsV2 = 30,
  kUpdateRowsV2 = 31,
  kDeleteRowsV2 = 32,
  kGtid = 33,
  kAnonymousGtid = 34,
  kPreviousGtids = 35,
  kTransactionContext = 36,
  kViewChange = 37,
  kXaPrepare = 38,
  kPartialUpdateRows = 39,
  kTransactionPayload = 40,
  kHeartbeatV2 = 41,
  kMariaAnnotateRows = 160,
  kMariaBinlogCheckpoint = 161,
  kMariaGtid = 162,
  kMariaGtidList = 163,
  kMariaStartEncryption = 164,
  kMariaQueryCompressed = 165,
  kMariaWriteRowsCompressedV1 = 166,
  kMariaUpdateRowsCompressedV1 = 167,
  kMariaDeleteRowsCompressedV1 = 168,
  kMariaWriteRowsCompressed = 169,
  kMariaUpdateRowsCompressed = 170,
  kMariaDeleteRowsCompressed = 171,
};

// "WRITE_ROWS_V1", "GTID", ... or "UNKNOWN(200)".
std::string eventTypeName(EventType type);

constexpr size_t kEventHeaderSize = 19;
constexpr size_t kChecksumSize = 4;
constexpr std::string_view kBinlogMagic{
    "\xfe"
    "bin",
    4};
// Header flags. LOG_EVENT_BINLOG_IN_USE_F: set in a file's FORMAT_DESCRIPTION while the server
// writes the file, cleared when it closes it; still set in the active file and in a file left by a
// crash. LOG_EVENT_ARTIFICIAL_F: an event the server made up for a replica (the ROTATE a dump
// starts with), in no file.
constexpr uint16_t kBinlogInUseFlag = 0x0001;
constexpr uint16_t kArtificialFlag = 0x0020;

// https://mariadb.com/kb/en/2-binlog-event-header/ : the 19-byte v4 common header.
struct EventHeader {
  uint32_t timestamp = 0;
  EventType type = EventType::kUnknown;
  uint32_t server_id = 0;
  uint32_t event_size = 0;  // header + body + checksum
  uint32_t log_pos = 0;     // end of this event in the source's binlog (0 inside payloads)
  uint16_t flags = 0;
};
// The header at the start of `bytes`, which may hold more than the one event (a file, a
// payload). kCorruption when fewer than 19 bytes or event_size < 19.
Result<EventHeader> parseEventHeader(std::string_view bytes);
// The header of `event`, one whole event: also kCorruption when event_size is not event.size().
Result<EventHeader> parseWholeEventHeader(std::string_view event);

// BINLOG_CHECKSUM_ALG_*: kUndefined is a FORMAT_DESCRIPTION of a server older than checksums
// (MariaDB < 5.3, MySQL < 5.6.1), whose events carry none.
enum class ChecksumAlg : uint8_t { kOff = 0, kCrc32 = 1, kUndefined = 255 };

// True when `event` (a whole event) ends with the CRC32 of the bytes before it, computed as the
// server does: a FORMAT_DESCRIPTION's checksum is that of the event with kBinlogInUseFlag
// cleared (the server writes the flag after the checksum, and clears it without rewriting the
// checksum: Log_event::write_header and event_checksum_test in the server's log_event.cc).
bool eventChecksumMatches(std::string_view event);

// A server's version string as one number, major * 10000 + minor * 100 + patch, as the servers
// compare versions themselves (executable comments, the checksum byte, SHOW REPLICA STATUS):
// "10.11.19-MariaDB-log" -> 101119 (also after the handshake's "5.5.5-"), "8.0.36" -> 80036,
// "10.1" -> 100100; 0 when it does not start with major.minor.
uint32_t serverVersionNumber(std::string_view version);

// https://mariadb.com/kb/en/format_description_event/
struct FormatDescriptionEvent {
  uint16_t binlog_version = 4;
  std::string server_version;
  uint32_t version_number = 0;  // server_version as mysql::serverVersionNumber reads it
  uint32_t create_timestamp = 0;
  uint8_t header_length = 19;
  std::vector<uint8_t> post_header_lengths;  // index = event type - 1
  ChecksumAlg checksum = ChecksumAlg::kOff;
  ServerFlavor flavor = ServerFlavor::kUnknown;
  // Post-header length of `type` from the array, or `fallback` when the array is too short.
  uint8_t postHeaderLength(EventType type, uint8_t fallback) const;
};

// Parses a whole FORMAT_DESCRIPTION event (header to checksum). A checksum-aware server (MariaDB
// 5.3+, MySQL 5.6.1+) always ends it with the algorithm byte and 4 checksum bytes, whatever
// binlog_checksum is; with `verify_checksum` and CRC32 announced, the checksum is checked as
// eventChecksumMatches() does. kUnsupported for a binlog version other than 4 or an unknown
// algorithm, kCorruption for the rest.
Result<FormatDescriptionEvent> parseFormatDescription(std::string_view event, bool verify_checksum);

// https://mariadb.com/kb/en/rotate_event/
struct RotateEvent {
  uint64_t position = 0;
  std::string next_file;
};
// Parses a ROTATE body (after the header, without the checksum); `post_header_len` from the
// format (8). kCorruption for a short body or a name that cannot be a file (empty, over 512
// bytes, with a NUL).
Result<RotateEvent> parseRotate(std::string_view body, uint8_t post_header_len = 8);

// BinlogFormat: follows FORMAT_DESCRIPTION and ROTATE events along one sequence of events (a
// stream, a file, files read in order) and reads every event of it in their light: the header
// checked against the event's size, the checksum stripped (and verified, when asked), the format
// in force (checksum algorithm, post-header lengths, server flavour) and the file the last ROTATE
// named. Thread-safety: one thread at a time.
class BinlogFormat {
 public:
  struct Options {
    // How to read events before the first FORMAT_DESCRIPTION: kCrc32 or kOff when known (a
    // replication connection negotiated it); kUndefined: a trailing CRC32 that matches is one.
    ChecksumAlg before_format = ChecksumAlg::kUndefined;
    // Check each event's CRC32 (kCorruption when it differs); off, checksums are only stripped.
    bool verify_checksums = true;
  };
  // One event read: its header and its body (after the header, without the checksum; for a
  // FORMAT_DESCRIPTION, without the algorithm byte either). The body views the event's bytes.
  struct Event {
    EventHeader header;
    std::string_view body;
  };

  BinlogFormat() : BinlogFormat(Options()) {}
  explicit BinlogFormat(Options options) : options_(options) {}

  // Reads the next whole event of the sequence. A FORMAT_DESCRIPTION replaces format(), a ROTATE
  // replaces lastRotate(). kCorruption names what is wrong (the caller adds where); on any error
  // the state is unchanged.
  Result<Event> next(std::string_view event) { return read(event, true); }
  // An event inside a TRANSACTION_PAYLOAD: it has no checksum of its own.
  Result<Event> nextInPayload(std::string_view event) { return read(event, false); }

  bool haveFormat() const { return have_format_; }
  // The last FORMAT_DESCRIPTION read (a default one, flavour unknown, before any).
  const FormatDescriptionEvent& format() const { return format_; }
  // Whether events read now end with a CRC32.
  bool checksum() const;
  // The last ROTATE read (empty before any): where the next events come from.
  const RotateEvent& lastRotate() const { return rotate_; }

 private:
  Result<Event> read(std::string_view event, bool top_level);

  Options options_;
  FormatDescriptionEvent format_;
  bool have_format_ = false;
  RotateEvent rotate_;
};

}  // namespace dts::mysql
