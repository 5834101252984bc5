#include "source/change_reader.h"

#include <utility>

#include "mysql/binlog_file.h"
#include "mysql/row_decoder.h"
#include "mysql/sql_mode.h"
#include "source/schema_history.h"

namespace dts::source {
namespace {

class StreamInput final : public BinlogInput {
 public:
  explicit StreamInput(std::unique_ptr<mysql::BinlogStream> stream) : stream_(std::move(stream)) {}

  Result<std::string_view> nextEvent() override {
    auto raw = stream_->nextEvent();
    if (raw.ok()) {
      position_ = stream_->position();
      return *raw;  // a new Result: copying one would copy its Status too
    }
    if (raw.status().code() == Status::Code::kNotFound) {
      ended_ = true;  // the stream returns kNotFound only at the end (stop_at_end)
    }
    return raw.status();
  }
  bool ended() const override { return ended_; }
  const mysql::BinlogPosition& position() const override { return position_; }
  mysql::BinlogPosition nextPosition() const override { return stream_->nextPosition(); }
  std::string describe() const override { return stream_->describe(); }
  void interrupt() override { stream_->interrupt(); }
  bool caughtUp() const override { return stream_->caughtUp(); }

 private:
  std::unique_ptr<mysql::BinlogStream> stream_;
  mysql::BinlogPosition position_;
  bool ended_ = false;
};

class FileInput final : public BinlogInput {
 public:
  FileInput(std::vector<std::string> paths, std::function<void(const std::string&)> on_torn_tail)
      : paths_(std::move(paths)), on_torn_tail_(std::move(on_torn_tail)) {}

  Result<std::string_view> nextEvent() override {
    while (true) {
      if (interrupted_.load()) {
        return Status::Aborted("reading binlog files: interrupted at " + describe());
      }
      if (file_ == nullptr) {
        if (next_file_ >= paths_.size()) {
          ended_ = true;
          return Status::NotFound("end of the binlog files, after " + describe());
        }
        const std::string& path = paths_[next_file_++];
        auto opened = mysql::BinlogFileSource::open(path);
        if (!opened.ok()) {
          failed_open_ = mysql::BinlogPosition{path, 0};
          return opened.status();
        }
        file_ = std::move(opened).value();
        path_ = path;
        position_ = mysql::BinlogPosition{file_->name(), 0};  // the name copied once per file
      }
      auto raw = file_->nextEvent();
      if (raw.ok()) {
        position_.offset = file_->currentOffset();
        return *raw;  // a new Result: copying one would copy its Status too
      }
      if (raw.status().code() != Status::Code::kNotFound) return raw.status();
      if (file_->tornTailBytes() > 0 && on_torn_tail_) on_torn_tail_(raw.status().message());
      file_.reset();
    }
  }
  bool ended() const override { return ended_; }
  const mysql::BinlogPosition& position() const override { return position_; }
  mysql::BinlogPosition nextPosition() const override {
    if (file_ == nullptr) return failed_open_.file.empty() ? position_ : failed_open_;
    return mysql::BinlogPosition{file_->name(), file_->nextOffset()};
  }
  std::string describe() const override {
    if (path_.empty()) {
      std::string all;
      for (const std::string& p : paths_) all += (all.empty() ? "" : ", ") + p;
      return "binlog files " + all + " (none read yet)";
    }
    return "binlog file " + path_ + " at " + std::to_string(position_.offset);
  }
  void interrupt() override { interrupted_.store(true); }

 private:
  std::vector<std::string> paths_;
  std::function<void(const std::string&)> on_torn_tail_;
  size_t next_file_ = 0;
  std::unique_ptr<mysql::BinlogFileSource> file_;
  std::string path_;  // of the file last opened
  mysql::BinlogPosition position_;
  mysql::BinlogPosition failed_open_;
  bool ended_ = false;
  std::atomic<bool> interrupted_{false};
};

// Completes (names, keys, collations) only the selected tables; the others keep what their
// TABLE_MAP says: never decoded, so their names are not needed, and a definition the tracker
// cannot match for a table nobody asked for must not stop the reader.
class SelectedSchema final : public mysql::SchemaProvider {
 public:
  SelectedSchema(SchemaTracker* tracker, const pipeline::TableSelector* tables)
      : tracker_(tracker), tables_(tables) {}
  Result<std::shared_ptr<const mysql::TableInfo>> complete(const mysql::TableInfo& map) override {
    if (tables_ != nullptr && !tables_->selectsTable(map.database, map.table))
      return std::make_shared<const mysql::TableInfo>(map);
    return tracker_->complete(map);
  }

 private:
  SchemaTracker* tracker_;
  const pipeline::TableSelector* tables_;
};

std::unique_ptr<SchemaTracker> makeTracker(std::unique_ptr<SchemaLoader> loader,
                                           std::shared_ptr<const pipeline::TableSelector> tables) {
  SchemaTracker::Options o;
  if (tables != nullptr) {
    o.cares = [tables](const std::string& db, const std::string& table) {
      return tables->selectsTable(db, table);
    };
  }
  return std::make_unique<SchemaTracker>(std::move(loader), std::move(o));
}

}  // namespace

std::unique_ptr<BinlogInput> streamInput(std::unique_ptr<mysql::BinlogStream> stream) {
  return std::make_unique<StreamInput>(std::move(stream));
}

std::unique_ptr<BinlogInput> fileInput(std::vector<std::string> paths,
                                       std::function<void(const std::string&)> on_torn_tail) {
  return std::make_unique<FileInput>(std::move(paths), std::move(on_torn_tail));
}

namespace {

pipeline::TransactionBuilder::Options builderOptions(const ChangeReaderOptions& o) {
  return pipeline::TransactionBuilder::Options{.tables = o.tables,
                                               .keep_all_ddl = o.keep_all_ddl,
                                               .refuse_statement_dml = o.refuse_statement_dml,
                                               .writes_through = o.writes_through,
                                               .skip_gtids = o.skip_gtids};
}

}  // namespace

ChangeReader::ChangeReader(std::unique_ptr<BinlogInput> input, std::unique_ptr<SchemaLoader> schema,
                           ChangeReaderOptions options)
    : input_(std::move(input)),
      options_(std::move(options)),
      tracker_(makeTracker(std::move(schema), options_.tables)),
      completion_(std::make_unique<SelectedSchema>(tracker_.get(), options_.tables.get())),
      decoder_(mysql::BinlogDecoder::Options{.verify_checksums = options_.verify_checksums,
                                             .schema = completion_.get()}),
      builder_(builderOptions(options_)) {}

Status ChangeReader::fail(Step step, mysql::BinlogPosition at, Status status) {
  failure_.step = step;
  failure_.at = std::move(at);
  return status;
}

Result<bool> ChangeReader::nextEvents() {
  auto raw = input_->nextEvent();
  if (!raw.ok()) {
    events_.clear();
    if (input_->ended()) return false;
    return fail(Step::kRead, input_->nextPosition(), raw.status());
  }
  const mysql::BinlogPosition& pos = input_->position();
  Status s = decoder_.decode(*raw, pos, &events_);
  if (!s.ok()) return fail(Step::kDecode, pos, std::move(s));
  ++marker_;
  ddl_definitions_.clear();
  for (const mysql::BinlogEvent& ev : events_) {
    const auto* q = ev.as<mysql::QueryEvent>();
    if (q == nullptr) continue;
    bool changed = false;
    std::vector<std::pair<std::string, std::string>> defined;
    Status st = tracker_->onQuery(q->database, q->sql, marker_, &changed, &defined,
                                  {q->sql_mode.value_or(0), q->server_collation, q->server_version,
                                   q->flavor == mysql::ServerFlavor::kMySql});
    if (!st.ok()) {
      return fail(
          Step::kDecode, pos,
          st.withContext("following DDL at " + pos.file + ":" + std::to_string(pos.offset)));
    }
    // The next TABLE_MAP of a changed table must be completed anew even if its bytes and table
    // id are the same as before the DDL (two same-typed columns renamed into each other).
    if (defined.size() == 1) {
      // The change record of the DDL carries the table's new definition (change-records.md).
      auto def = tracker_->history().find(defined[0].first, defined[0].second);
      if (def != nullptr) ddl_definitions_.emplace_back(&ev, tableInfoOf(def->shape));
    }
    if (changed) {
      decoder_.resetTables();
      ++schema_changes_;
      // The DDL's transaction was opened by its GTID event, grouped before this event.
      schema_change_gtid_ = builder_.inTransaction() ? builder_.pending().gtid : std::string();
    }
  }
  return true;
}

Status ChangeReader::group(const mysql::BinlogEvent& event,
                           std::vector<pipeline::Transaction>* done) {
  const size_t before = done->size();
  if (event.as<mysql::QueryEvent>() != nullptr) {
    for (auto& [ev, def] : ddl_definitions_) {
      if (ev == &event) builder_.defineNextDdl(def);
    }
  }
  Status s = builder_.add(event, done);
  if (!s.ok()) return fail(Step::kGroup, event.position, std::move(s));
  if (options_.clock != nullptr && done->size() > before) {
    const auto received = options_.clock->now();
    for (size_t i = before; i < done->size(); ++i) (*done)[i].received = received;
  }
  return Status::OK();
}

Result<bool> ChangeReader::next(std::vector<pipeline::Transaction>* done) {
  done->clear();
  DTS_ASSIGN_OR_RETURN(bool more, nextEvents());
  if (!more) return false;
  for (const mysql::BinlogEvent& ev : events_) DTS_RETURN_IF_ERROR(group(ev, done));
  return true;
}

Result<uint64_t> ChangeReader::countChanges(const mysql::BinlogEvent& event, RowCheck check,
                                            uint64_t max) {
  if (const auto* rows = event.as<mysql::RowsEvent>()) {
    const mysql::TableInfo& t = rows->data.decoder->table();
    if (options_.tables != nullptr && !options_.tables->selectsTable(t.database, t.table)) return 0;
    mysql::RowsReader reader(rows->data, event.position);
    uint64_t n = 0;
    while (!reader.done() && (max == 0 || n < max)) {
      Status s = check == RowCheck::kSkip ? reader.skip() : reader.next(&before_, &after_);
      if (!s.ok()) return fail(Step::kGroup, event.position, std::move(s));
      ++n;
    }
    return n;
  }
  if (const auto* q = event.as<mysql::QueryEvent>()) {
    const bool kept = options_.keep_all_ddl || options_.tables == nullptr ||
                      options_.tables->selectsDatabase(q->database);
    return kept && pipeline::classifyQuery(q->sql) == pipeline::QueryKind::kOther ? 1 : 0;
  }
  return 0;
}

Result<std::unique_ptr<ChangeReader>> openServerReader(const mysql::BinlogStreamOptions& stream,
                                                       ChangeReaderOptions options) {
  auto opened = mysql::BinlogStream::open(stream);
  if (!opened.ok()) return opened.status().withContext("opening the binlog stream");
  auto loader = InformationSchemaLoader::connect(stream.connection);
  if (!loader.ok()) return loader.status().withContext("schema connection");
  return std::make_unique<ChangeReader>(streamInput(std::move(opened).value()),
                                        std::move(loader).value(), std::move(options));
}

ChangeReaderFactory serverReaderFactory(mysql::BinlogStreamOptions stream) {
  return [stream = std::move(stream)](
             const std::optional<mysql::GtidPosition>& from,
             ChangeReaderOptions options) -> Result<std::unique_ptr<ChangeReader>> {
    mysql::BinlogStreamOptions so = stream;
    so.start = mysql::BinlogStreamOptions::Start::kGtid;
    so.from_gtid = from.has_value() ? from->toString() : "";
    so.from_flavor = from.has_value() ? std::optional(from->flavor()) : std::nullopt;
    return openServerReader(so, std::move(options));
  };
}

ChangeReaderFactory fileReaderFactory(std::vector<std::string> paths,
                                      std::function<std::unique_ptr<SchemaLoader>()> schema) {
  return [paths = std::move(paths), schema = std::move(schema)](
             const std::optional<mysql::GtidPosition>& from,
             ChangeReaderOptions options) -> Result<std::unique_ptr<ChangeReader>> {
    if (from.has_value() && !from->empty()) {
      return Status::InvalidArgument(
          "binlog files are read from their start: they cannot start after GTID position '" +
          from->toString() + "'");
    }
    return std::make_unique<ChangeReader>(fileInput(paths), schema ? schema() : nullptr,
                                          std::move(options));
  };
}

}  // namespace dts::source
