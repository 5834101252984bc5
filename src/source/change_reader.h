// ChangeReader: the one path from a binlog to transactions (../shared/DESIGN.md, data flow), used
// by the incremental engine (task/incremental.h), `dts binlog tail` and `dts binlog decode`:
//
//   BinlogInput           a live server's replication stream (mysql/binlog_stream.h) or binlog
//                         files read in order (mysql/binlog_file.h)
//   mysql::BinlogDecoder  raw event -> decoded events
//   SchemaTracker         completes the TABLE_MAPs of the selected tables (names, keys,
//                         collations) from the schema history it keeps by following the DDL of
//                         the stream (source/schema_history.h), or from the live definition
//   TransactionBuilder    decoded events -> transactions of the selected tables (pieces: see
//                         pipeline::Transaction::first_piece), row images decoded here
//
// Two levels, one loop: nextEvents() reads and decodes one binlog event (for callers that look at
// events: counting, warnings), group() hands one of its events to the transaction builder, and
// next() does both. Tables the selector rejects are neither completed nor decoded: a definition
// the tracker cannot match for a table nobody asked for never stops a reader.
//
// Errors come back as the input, decoder or builder returned them (they name the bytes, table
// and position); failure() says which step failed and at which position, so each caller words its
// message its own way.
//
// Thread-safety: one thread reads; interrupt() may be called from any thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "mysql/binlog_event.h"
#include "mysql/binlog_stream.h"
#include "pipeline/table_selector.h"
#include "pipeline/transaction_builder.h"
#include "source/schema_tracker.h"

namespace dts::source {

// The binlog as a ChangeReader reads it: whole raw events in order.
class BinlogInput {
 public:
  virtual ~BinlogInput() = default;
  // The next whole event (header + body + checksum), a view valid until the next call. At the end
  // of a finite input (every file read; a stream with stop_at_end) an error with ended() true;
  // kAborted after interrupt(); otherwise the error of the stream or file (a file that cannot be
  // opened, bytes that cannot be an event, a lost connection).
  virtual Result<std::string_view> nextEvent() = 0;
  // True once nextEvent() has reported the end of the input.
  virtual bool ended() const = 0;
  // Where the event last returned starts. The reference stays valid until the next nextEvent().
  virtual const mysql::BinlogPosition& position() const = 0;
  // Where the next event would start: where a failed read failed.
  virtual mysql::BinlogPosition nextPosition() const = 0;
  // For messages: "127.0.0.1:3306 at binlog.000002:1234", "binlog file /x/binlog.000002 at 1234".
  virtual std::string describe() const = 0;
  // Makes a blocked or later nextEvent() return kAborted. Any thread.
  virtual void interrupt() = 0;
  // True while the server has nothing more to send: every event it had was returned
  // (BinlogStream::caughtUp). Files: false. Any thread.
  virtual bool caughtUp() const { return false; }
};

// A server's replication stream. REQUIRES: stream != nullptr.
std::unique_ptr<BinlogInput> streamInput(std::unique_ptr<mysql::BinlogStream> stream);

// Binlog files read one after the other from their start, each opened when the previous one is
// read (an error opening one is reported at {path, 0} once the ones before it are read). A torn
// last event in a file (the server was writing it) ends that file cleanly: `on_torn_tail`, when
// set, is told the reason, and reading goes on with the next file.
std::unique_ptr<BinlogInput> fileInput(std::vector<std::string> paths,
                                       std::function<void(const std::string&)> on_torn_tail = {});

struct ChangeReaderOptions {
  // The tables whose rows are decoded and whose definitions are completed; null: every table.
  std::shared_ptr<const pipeline::TableSelector> tables;
  // Keep every DDL whatever its default database (a sink mapping qualified names decides);
  // otherwise only DDL whose default database `tables` selects.
  bool keep_all_ddl = false;
  // pipeline::TransactionBuilder::Options::refuse_statement_dml.
  bool refuse_statement_dml = false;
  // pipeline::TransactionBuilder::Options::skip_gtids.
  std::set<std::string> skip_gtids{};
  // pipeline::TransactionBuilder::Options::writes_through (called on the reading thread).
  std::function<Result<std::string>(const std::string& db, const std::string& table)>
      writes_through = nullptr;
  bool verify_checksums = true;
  // Set: every transaction piece is stamped with clock->now() when the reader completes it
  // (Transaction::received). Not owned; must outlive the reader.
  Clock* clock = nullptr;
};

class ChangeReader {
 public:
  // TABLE_MAPs are completed through a SchemaTracker: from the schema history the reader builds
  // from the DDL it reads (tables created in the stream, or seeded through schema()), else from
  // `schema`, the live definition; with neither, TABLE_MAPs are used as they are (column names
  // only with binlog_row_metadata=FULL, else @1, @2, ...). A DDL on a selected table that the
  // history cannot read fails nextEvents() (Step::kDecode) naming the statement and position.
  // REQUIRES: input != null.
  ChangeReader(std::unique_ptr<BinlogInput> input, std::unique_ptr<SchemaLoader> schema,
               ChangeReaderOptions options);
  ChangeReader(const ChangeReader&) = delete;
  ChangeReader& operator=(const ChangeReader&) = delete;

  // Reads and decodes the next binlog event into events(): one event, or for a TRANSACTION_PAYLOAD
  // the payload event followed by every event inside it. DDL among them is already told to the
  // schema tracker. false at the end of a finite input (events() is then empty).
  Result<bool> nextEvents();
  // What the last nextEvents() decoded; valid until the next call.
  const std::vector<mysql::BinlogEvent>& events() const { return events_; }

  // Hands one event of events() to the transaction builder, appending every piece it completes to
  // *done (stamped as ChangeReaderOptions::clock says). Row images are decoded here.
  Status group(const mysql::BinlogEvent& event, std::vector<pipeline::Transaction>* done);

  // nextEvents() then group() of each event: *done (cleared first) holds the pieces the event
  // completed, often none. false at the end of a finite input.
  Result<bool> next(std::vector<pipeline::Transaction>* done);

  // How checkRows() reads row images.
  enum class RowCheck : uint8_t {
    kSkip,    // RowsReader::skip: every check of decoding, without building values
    kDecode,  // RowsReader::next: values decoded as group() would
  };
  // What group() would turn `event` into, counted without building it: one per row of a selected
  // table, one for DDL that grouping keeps. Every row counted is read (so a bad row fails here as
  // it would in group()); with max != 0 reading stops after max rows.
  Result<uint64_t> countChanges(const mysql::BinlogEvent& event, RowCheck check, uint64_t max);

  enum class Step : uint8_t {
    kRead,    // the input: a file, the connection
    kDecode,  // the event's bytes
    kGroup,   // grouping, counting: row images, transaction boundaries
  };
  struct Failure {
    Step step = Step::kRead;
    mysql::BinlogPosition at;  // kRead: where the next event would start; else the event's start
  };
  // Where the last failed call failed.
  const Failure& failure() const { return failure_; }

  // The input's description for messages (see BinlogInput::describe).
  std::string describe() const { return input_->describe(); }
  // Where the event last read starts.
  const mysql::BinlogPosition& position() const { return input_->position(); }
  // Makes a blocked or later nextEvents() return kAborted. Any thread.
  void interrupt() { input_->interrupt(); }
  // True while the source has nothing more to send and every event it sent was read: the
  // transactions next() returned are all the source has (BinlogInput::caughtUp). Any thread.
  bool caughtUp() const { return input_->caughtUp(); }
  // The transaction grouping has begun and not finished (e.g. at the end of files).
  bool inTransaction() const { return builder_.inTransaction(); }
  const pipeline::Transaction& pendingTransaction() const { return builder_.pending(); }

  // The tracker and its schema history: seeded or restored by the owner before reading, saved
  // with a checkpoint (SchemaHistory::save at a marker()).
  SchemaTracker& schema() { return *tracker_; }
  // A counter of the events read (one per nextEvents() that returned true): the schema history's
  // version marker of the event last read.
  uint64_t marker() const { return marker_; }
  // How many DDL statements changed the schema history so far, and the GTID of the last one
  // ("" when it had none): an owner persisting the history saves a version when this moves.
  uint64_t schemaChanges() const { return schema_changes_; }
  const std::string& schemaChangeGtid() const { return schema_change_gtid_; }

 private:
  Status fail(Step step, mysql::BinlogPosition at, Status status);

  std::unique_ptr<BinlogInput> input_;
  ChangeReaderOptions options_;
  std::unique_ptr<SchemaTracker> tracker_;
  std::unique_ptr<mysql::SchemaProvider> completion_;  // the tracker, for selected tables only
  mysql::BinlogDecoder decoder_;
  pipeline::TransactionBuilder builder_;
  std::vector<mysql::BinlogEvent> events_;
  // The DDL events of events_ that created or changed one table, with its new definition.
  std::vector<std::pair<const mysql::BinlogEvent*, std::shared_ptr<const mysql::TableInfo>>>
      ddl_definitions_;
  mysql::RowImage before_, after_;  // countChanges(kDecode)
  Failure failure_;
  uint64_t marker_ = 0;
  uint64_t schema_changes_ = 0;
  std::string schema_change_gtid_;
};

// Opens a reader on a server: the replication stream as `stream` says, and a second connection
// (stream.connection) for information_schema. Errors say which of the two failed ("opening the
// binlog stream: ...", "schema connection: ..."); they name the endpoint, never the password.
Result<std::unique_ptr<ChangeReader>> openServerReader(const mysql::BinlogStreamOptions& stream,
                                                       ChangeReaderOptions options);

// Makes the reader of one incremental run, starting after the GTID position `from` (none for the
// beginning of what the input holds). The seam through which a test feeds binlog files.
using ChangeReaderFactory = std::function<Result<std::unique_ptr<ChangeReader>>(
    const std::optional<mysql::GtidPosition>& from, ChangeReaderOptions options)>;

// A server's binlog: openServerReader with `stream` started at the GTID position. A position of
// the other flavour than the server's is kInvalidArgument (from the stream, naming both).
ChangeReaderFactory serverReaderFactory(mysql::BinlogStreamOptions stream);

// Binlog files (fileInput), read from their start, with definitions completed through the loader
// `schema` makes (null function, or null loader: TABLE_MAPs as they are). A non-empty `from` is
// kInvalidArgument: files are not positioned by GTID.
ChangeReaderFactory fileReaderFactory(std::vector<std::string> paths,
                                      std::function<std::unique_ptr<SchemaLoader>()> schema = {});

}  // namespace dts::source
