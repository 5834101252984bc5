#include "cli/binlog_command.h"

#include <unistd.h>

#include <memory>
#include <set>

#include "cli/commands.h"
#include "cli/ndjson_spool.h"
#include "mysql/binlog_event.h"
#include "pipeline/ndjson.h"
#include "pipeline/transaction_builder.h"
#include "source/change_reader.h"

namespace dts::cli {
namespace {

constexpr size_t kFlushBytes = 1 << 20;

struct LastGood {
  mysql::EventType type = mysql::EventType::kUnknown;
  mysql::BinlogPosition position;
  bool any = false;
  std::string describe() const {
    if (!any) return "none";
    return mysql::eventTypeName(type) + " at " + position.file + ":" +
           std::to_string(position.offset);
  }
};

class Output {
 public:
  Output(std::FILE* f) : f_(f), interactive_(isatty(fileno(f)) != 0) {
    buf_.reserve(kFlushBytes + 65536);
  }
  ~Output() { flush(); }
  std::string* buffer() { return &buf_; }
  void maybeFlush() {
    if (interactive_ || buf_.size() >= kFlushBytes) flush();
  }
  void flush() {
    if (!buf_.empty()) std::fwrite(buf_.data(), 1, buf_.size(), f_);
    buf_.clear();
    std::fflush(f_);
  }

 private:
  std::FILE* f_;
  bool interactive_;
  std::string buf_;
};

}  // namespace

int runBinlogDecode(const DecodeOptions& options, std::FILE* out, std::FILE* err) {
  if (options.format != "ndjson" && options.format != "count") {
    std::fprintf(err, "dts: --format must be ndjson or count, not '%s'\n", options.format.c_str());
    return 1;
  }
  auto filter = std::make_shared<pipeline::TableFilter>();
  if (!options.tables.empty()) {
    auto f = pipeline::TableFilter::parse(options.tables);
    if (!f.ok()) {
      std::fprintf(err, "dts: --tables: %s\n", f.status().message().c_str());
      return 1;
    }
    *filter = *f;
  }
  const bool count_only = options.format == "count";
  source::ChangeReaderOptions ro;
  if (!filter->empty()) ro.tables = filter;
  source::ChangeReader reader(
      source::fileInput(
          options.files,
          [&](const std::string& why) { std::fprintf(err, "dts: warning: %s\n", why.c_str()); }),
      /*schema=*/nullptr, std::move(ro));
  // Large transactions arrive in pieces; their lines wait for the commit time in the spool.
  NdjsonSpool spool{pipeline::NdjsonWriter(pipeline::NdjsonOptions{.positional_names = true})};
  Output output(out);
  std::vector<pipeline::Transaction> done;
  std::set<std::string> warned;
  LastGood last;
  uint64_t lines = 0;
  bool stop = false;

  auto fail = [&](const Status& s, const mysql::BinlogPosition& at) {
    output.flush();
    std::fprintf(err, "dts: error at %s:%llu: %s\ndts: last good event: %s\n", at.file.c_str(),
                 static_cast<unsigned long long>(at.offset), s.toString().c_str(),
                 last.describe().c_str());
    return 1;
  };
  auto warnNames = [&](const mysql::TableInfo& t) {
    for (const auto& c : t.columns) {
      if (!c.name.empty()) continue;
      std::string key = t.database + "." + t.table;
      if (warned.insert(key).second)
        std::fprintf(
            err,
            "dts: warning: `%s`.`%s` has no column metadata in its TABLE_MAP (binlog_row_metadata is "
            "not FULL): columns are named @1, @2, ...; integers without SIGNEDNESS are read as signed\n",
            t.database.c_str(), t.table.c_str());
      return;
    }
  };

  while (!stop) {
    auto more = reader.nextEvents();
    if (!more.ok()) return fail(more.status(), reader.failure().at);
    if (!*more) break;  // every file read
    const std::vector<mysql::BinlogEvent>& events = reader.events();
    for (const mysql::BinlogEvent& ev : events) {
      if (count_only) {
        // Fast path: check every row as decoding would (so bad rows are still caught) without
        // building values, ChangeEvents or NDJSON.
        auto n = reader.countChanges(ev, source::ChangeReader::RowCheck::kSkip, 0);
        if (!n.ok()) return fail(n.status(), reader.failure().at);
        lines += *n;
        if (options.limit != 0 && lines >= options.limit) {
          lines = options.limit;
          stop = true;
          break;
        }
        continue;
      }
      if (const auto* tm = ev.as<mysql::TableMapEvent>()) {
        if (filter->selectsTable(tm->table->database, tm->table->table))
          warnNames(tm->decoder->table());
      }
      done.clear();
      Status bs = reader.group(ev, &done);
      if (!bs.ok()) return fail(bs, reader.failure().at);
      for (const pipeline::Transaction& piece : done) {
        mysql::BinlogPosition at = reader.position();
        auto go_on = spool.add(
            piece,
            [&](std::string_view line) {
              output.buffer()->append(line);
              output.maybeFlush();  // a large transaction's lines come out all at once
              ++lines;
              return options.limit == 0 || lines < options.limit;
            },
            &at);
        if (!go_on.ok()) return fail(go_on.status(), at);
        if (!*go_on) {
          stop = true;
          break;
        }
      }
      output.maybeFlush();
      if (stop) break;
    }
    const mysql::BinlogPosition& pos = reader.position();
    last.any = true;
    last.type = events.empty() ? mysql::EventType::kUnknown : events.front().header.type;
    last.position.offset = pos.offset;
    if (last.position.file != pos.file) last.position.file = pos.file;
  }
  if (!stop && !count_only && reader.inTransaction()) {
    const auto& p = reader.pendingTransaction();
    std::fprintf(
        err,
        "dts: warning: the last transaction (begun at %s:%llu) has no commit in these files; "
        "its %llu changes were not printed\n",
        p.begin.file.c_str(), static_cast<unsigned long long>(p.begin.offset),
        static_cast<unsigned long long>(spool.pendingLines() + p.events.size()));
  }
  if (count_only) {
    std::fprintf(out, "%llu\n", static_cast<unsigned long long>(lines));
  }
  output.flush();
  return 0;
}

void registerBinlogCommands(CLI::App& app) {
  auto* binlog = app.get_subcommands([](CLI::App* a) { return a->get_name() == "binlog"; }).empty()
                     ? app.add_subcommand("binlog", "read MySQL/MariaDB binary logs")
                     : app.get_subcommand("binlog");
  binlog->require_subcommand(1);
  auto options = std::make_shared<DecodeOptions>();
  auto* decode = binlog->add_subcommand(
      "decode",
      "decode binlog files offline into NDJSON, one line per row change or DDL.\n"
      "Column names come from the TABLE_MAP optional metadata (server binlog_row_metadata=FULL); "
      "without it columns are named @1, @2, ... and integers are read as signed (a warning says so).");
  decode->add_option("files", options->files, "binlog files, decoded in the order given")
      ->required();
  decode->add_option("--limit", options->limit, "stop after N output lines (0 = all)");
  decode->add_option(
      "--tables", options->tables,
      "only these tables: db.t,db2.* (a name holding . , or a space in backticks: `we.ird`.*; DDL kept when its default db matches)");
  decode
      ->add_option("--format", options->format,
                   "ndjson (default) or count (print only the number of lines)")
      ->check(CLI::IsMember({"ndjson", "count"}));
  decode->callback([options] { setExitCode(runBinlogDecode(*options, stdout, stderr)); });
}

}  // namespace dts::cli
