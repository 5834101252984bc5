#include "cli/binlog_tail.h"

#include <charconv>
#include <cstdlib>
#include <memory>
#include <vector>

#include "cli/commands.h"
#include "cli/ndjson_spool.h"
#include "common/secrets.h"
#include "mysql/binlog_event.h"
#include "mysql/binlog_stream.h"
#include "pipeline/ndjson.h"
#include "pipeline/transaction_builder.h"
#include "source/change_reader.h"

namespace dts::cli {
namespace {

bool percentDecode(std::string_view in, std::string* out) {
  out->clear();
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      out->push_back(in[i]);
      continue;
    }
    if (i + 2 >= in.size()) return false;
    unsigned v = 0;
    auto [p, ec] = std::from_chars(in.data() + i + 1, in.data() + i + 3, v, 16);
    if (ec != std::errc() || p != in.data() + i + 3) return false;
    out->push_back(static_cast<char>(v));
    i += 2;
  }
  return true;
}

std::string positionText(const mysql::BinlogPosition& p) {
  if (p.file.empty()) return "(start)";
  return p.file + ":" + std::to_string(p.offset);
}

}  // namespace

Result<mysql::ConnectOptions> parseMysqlUri(const std::string& uri, const char* env_password) {
  const std::string shown = redactUri(uri);
  auto bad = [&](const std::string& why) {
    return Status::InvalidArgument("source '" + shown + "': " + why +
                                   " (expected mysql://USER:PASS@HOST:PORT)");
  };
  constexpr std::string_view kScheme = "mysql://";
  std::string_view rest(uri);
  if (rest.substr(0, kScheme.size()) != kScheme) return bad("not a mysql:// URI");
  rest.remove_prefix(kScheme.size());
  size_t slash = rest.find('/');
  if (slash != std::string_view::npos) rest = rest.substr(0, slash);
  size_t at = rest.rfind('@');
  if (at == std::string_view::npos) return bad("no user");
  std::string_view userinfo = rest.substr(0, at);
  std::string_view hostport = rest.substr(at + 1);
  size_t colon = userinfo.find(':');
  mysql::ConnectOptions o;
  if (!percentDecode(userinfo.substr(0, colon), &o.user) || o.user.empty()) return bad("bad user");
  if (colon != std::string_view::npos && !percentDecode(userinfo.substr(colon + 1), &o.password)) {
    return bad("bad %-escape in the password");
  }
  if (o.password.empty() && env_password != nullptr) o.password = env_password;
  auto ep = mysql::Endpoint::parse(hostport);
  if (!ep.ok()) return bad(ep.status().message());
  o.endpoint = *ep;
  return o;
}

int runBinlogTail(const TailOptions& options, std::FILE* out, std::FILE* err) {
  const std::string shown = redactUri(options.uri);
  auto conn = parseMysqlUri(options.uri, std::getenv("DTS_PASSWORD"));
  if (!conn.ok()) {
    std::fprintf(err, "dts: %s\n", conn.status().message().c_str());
    return 1;
  }
  const std::string& password = conn->password;
  // Everything printed goes through this: a server message could echo what we sent.
  auto say = [&](const std::string& text) {
    std::string line = redactSecret(text, password);
    std::fprintf(err, "dts: %s\n", line.c_str());
  };
  if (options.format != "ndjson" && options.format != "count") {
    say("--format must be ndjson or count, not '" + options.format + "'");
    return 1;
  }
  auto filter = std::make_shared<pipeline::TableFilter>();
  if (!options.tables.empty()) {
    auto f = pipeline::TableFilter::parse(options.tables);
    if (!f.ok()) {
      say("--tables: " + f.status().message());
      return 1;
    }
    *filter = *f;
  }

  mysql::BinlogStreamOptions so;
  so.connection = *conn;
  so.server_id = options.server_id;
  so.stop_at_end = options.stop_at_end;
  so.heartbeat_period = std::chrono::milliseconds(options.heartbeat_ms);
  so.read_timeout = std::chrono::seconds(options.read_timeout_s);
  if (so.read_timeout <= so.heartbeat_period) {
    say("--read-timeout (" + std::to_string(options.read_timeout_s) +
        " s) must be longer than --heartbeat-ms (" + std::to_string(options.heartbeat_ms) +
        " ms): the server sends a heartbeat that often while it has nothing new");
    return 1;
  }
  int starts = (options.from_gtid.has_value() ? 1 : 0) + (options.from_file.empty() ? 0 : 1) +
               (options.from_now ? 1 : 0);
  if (starts > 1) {
    say("give one of --from-gtid, --from-file/--from-pos, --from-now");
    return 1;
  }
  if (options.from_pos.has_value() && options.from_file.empty()) {
    say("--from-pos needs --from-file");
    return 1;
  }
  if (options.from_gtid.has_value()) {
    so.start = mysql::BinlogStreamOptions::Start::kGtid;
    auto from = mysql::GtidPosition::parseStored(*options.from_gtid);
    if (!from.ok()) {
      say("--from-gtid: " + from.status().message());
      return 1;
    }
    if (from->has_value()) {
      so.from_gtid = (*from)->toString();
      so.from_flavor = (*from)->flavor();
    }
  } else if (!options.from_file.empty()) {
    so.start = mysql::BinlogStreamOptions::Start::kFilePosition;
    so.from_position = mysql::BinlogPosition{options.from_file, options.from_pos.value_or(4)};
  } else {
    so.start = mysql::BinlogStreamOptions::Start::kCurrent;
  }
  const std::string where = "binlog tail from " + shown;

  source::ChangeReaderOptions ro;
  if (!filter->empty()) ro.tables = filter;
  auto reader_r = source::openServerReader(so, std::move(ro));
  if (!reader_r.ok()) {
    say(where + ": " + reader_r.status().toString());
    return 1;
  }
  source::ChangeReader& reader = **reader_r;
  // Large transactions arrive in pieces; their lines wait for the commit time in the spool.
  NdjsonSpool spool{pipeline::NdjsonWriter()};
  const bool count_only = options.format == "count";

  std::vector<pipeline::Transaction> done;
  uint64_t lines = 0;

  auto fail = [&](const Status& s, const mysql::BinlogPosition& at) {
    std::fflush(out);
    say(where + " at " + positionText(at) + ": " + s.toString());
    return 1;
  };
  auto finish = [&]() {
    if (count_only) std::fprintf(out, "%llu\n", static_cast<unsigned long long>(lines));
    std::fflush(out);
    return 0;
  };
  auto limitReached = [&] { return options.limit != 0 && lines >= options.limit; };

  while (true) {
    auto more = reader.nextEvents();
    if (!more.ok()) return fail(more.status(), reader.failure().at);
    if (!*more) return finish();  // only with --stop-at-end: everything the server has was read
    for (const mysql::BinlogEvent& ev : reader.events()) {
      if (count_only) {
        auto n = reader.countChanges(ev, source::ChangeReader::RowCheck::kDecode,
                                     options.limit == 0 ? 0 : options.limit - lines);
        if (!n.ok()) return fail(n.status(), reader.failure().at);
        lines += *n;
        if (limitReached()) return finish();
        continue;
      }
      done.clear();
      Status bs = reader.group(ev, &done);
      if (!bs.ok()) return fail(bs, reader.failure().at);
      for (const pipeline::Transaction& piece : done) {
        mysql::BinlogPosition at = reader.position();
        auto go_on = spool.add(
            piece,
            [&](std::string_view line) {
              std::fwrite(line.data(), 1, line.size(), out);
              std::fflush(out);
              ++lines;
              return !limitReached();
            },
            &at);
        if (!go_on.ok()) return fail(go_on.status(), at);
        if (!*go_on) return finish();
      }
    }
  }
}

void registerBinlogTail(CLI::App& app) {
  auto existing = app.get_subcommands([](CLI::App* a) { return a->get_name() == "binlog"; });
  CLI::App* binlog = existing.empty()
                         ? app.add_subcommand("binlog", "read MySQL/MariaDB binary logs")
                         : existing[0];
  binlog->require_subcommand(1);
  auto o = std::make_shared<TailOptions>();
  auto* tail = binlog->add_subcommand(
      "tail",
      "stream a server's binlog as a replica and print NDJSON, one line per row change or DDL.\n"
      "The password may be given in DTS_PASSWORD instead of the URI. Column names come from\n"
      "information_schema (or from the TABLE_MAP with binlog_row_metadata=FULL).");
  tail->add_option("source", o->uri, "mysql://USER:PASS@HOST:PORT")->required();
  auto* gtid =
      tail->add_option("--from-gtid", o->from_gtid,
                       "start after this GTID set (MariaDB 0-1-100,... or MySQL uuid:1-100,...)");
  auto* file = tail->add_option("--from-file", o->from_file, "start in this binlog file");
  tail->add_option("--from-pos", o->from_pos, "offset in --from-file (default 4)")->needs(file);
  auto* now = tail->add_flag("--from-now", o->from_now,
                             "start at the end of the server's binlog (default)");
  gtid->excludes(file)->excludes(now);
  file->excludes(now);
  tail->add_option("--limit", o->limit, "exit 0 after N output lines (0 = never)");
  tail->add_option(
      "--tables", o->tables,
      "only these tables: db.t,db2.* (a name holding . , or a space in backticks: `we.ird`.*; DDL kept when its default db matches)");
  tail->add_option("--format", o->format,
                   "ndjson (default) or count (print only the number of lines)")
      ->check(CLI::IsMember({"ndjson", "count"}));
  tail->add_option("--server-id", o->server_id,
                   "replica server_id to use (default: random, high range)");
  tail->add_flag("--stop-at-end", o->stop_at_end, "exit 0 once everything the server has was read");
  tail->add_option("--heartbeat-ms", o->heartbeat_ms, "server heartbeat period when idle")
      ->capture_default_str();
  tail->add_option("--read-timeout", o->read_timeout_s,
                   "seconds without any packet before giving up")
      ->capture_default_str();
  tail->callback([o] { setExitCode(runBinlogTail(*o, stdout, stderr)); });
}

}  // namespace dts::cli
