#include "dts/consumer.h"

#include <httplib.h>

#include <algorithm>
#include <condition_variable>
#include <set>
#include <thread>

namespace dts::consumer {
namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

std::string urlEncode(const std::string& s) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || c == ',' || c == ':') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

std::string joinComma(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& s : items) {
    if (!out.empty()) out += ',';
    out += s;
  }
  return out;
}

// The server's error body {"error": {"message": ...}}, or the text itself.
std::string errorMessage(const std::string& body) {
  auto j = json::parse(body, nullptr, false);
  if (j.is_object() && j.contains("error") && j["error"].is_object() &&
      j["error"].contains("message") && j["error"]["message"].is_string())
    return j["error"]["message"].get<std::string>();
  return body.substr(0, 500);
}

// An HTTP status as a Status; 0 = no answer (connection failed). Retryable: 0, 5xx.
Status httpStatus(int status, const std::string& body, const std::string& what) {
  std::string message = what + ": " + errorMessage(body);
  switch (status) {
    case 400: return {Status::Code::kInvalidArgument, message};
    case 401:
    case 403:
      return {Status::Code::kUnauthenticated,
              what + ": the server refused the token (" + errorMessage(body) + ")"};
    case 404: return {Status::Code::kNotFound, message};
    case 405:
      return {Status::Code::kInvalidArgument,
              message + " (is the server a dts server with tracking tasks?)"};
    default:
      if (status >= 500) return {Status::Code::kUnavailable, message};
      return {Status::Code::kInternal, what + ": unexpected HTTP " + std::to_string(status)};
  }
}

// The offset and op of a native record from the start of its line ({"offset":N,"op":"OP",...}),
// without parsing the rest; false when the line does not start that way. *after: the index after
// the op's closing quote.
bool scanOffsetAndOp(const std::string& line, int64_t* offset, std::string* op,
                     size_t* after = nullptr) {
  static const std::string kOffset = "{\"offset\":", kOp = ",\"op\":\"";
  if (line.compare(0, kOffset.size(), kOffset) != 0) return false;
  size_t i = kOffset.size();
  int64_t v = 0;
  size_t digits = 0;
  while (i < line.size() && line[i] >= '0' && line[i] <= '9' && digits < 18) {
    v = v * 10 + (line[i++] - '0');
    ++digits;
  }
  if (digits == 0 || line.compare(i, kOp.size(), kOp) != 0) return false;
  i += kOp.size();
  size_t end = line.find('"', i);
  if (end == std::string::npos || end - i > 16) return false;
  *offset = v;
  *op = line.substr(i, end - i);
  if (after != nullptr) *after = end + 1;
  return true;
}

// A row or DDL record of a view format as the endpoint wraps it with envelope=true
// ({"offset":N,"op":"OP","record":LINE}, docs/api.md): *line becomes LINE, byte for byte. false
// (and *line unchanged) for anything else: a begin/commit marker (sent in the native encoding),
// an error line.
bool unwrapEnvelope(std::string* line, int64_t* offset, std::string* op) {
  static const std::string kRecord = ",\"record\":";
  size_t at = 0;
  if (!scanOffsetAndOp(*line, offset, op, &at) || *op == "begin" || *op == "commit") return false;
  if (line->compare(at, kRecord.size(), kRecord) != 0 || line->back() != '}') return false;
  line->pop_back();
  line->erase(0, at + kRecord.size());
  return true;
}

constexpr int64_t kNotConnected = -1;

int64_t nowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now().time_since_epoch())
      .count();
}

bool retryable(const Status& st) {
  return st.code() == Status::Code::kUnavailable;
}

bool validName(const std::string& s) {
  if (s.empty() || s.size() > 249) return false;
  return std::all_of(s.begin(), s.end(), [](unsigned char c) {
    return std::isalnum(c) || c == '.' || c == '_' || c == '-';
  });
}

}  // namespace

struct Consumer::Impl {
  std::mutex mu;  // guards stream (stop() reaches it from another thread)
  std::unique_ptr<httplib::Client> stream;
  std::mutex control_mu;  // guards control: the caller's thread and run()'s committer use it
  std::unique_ptr<httplib::Client> control;  // commits and lookups
  // With auto_commit_interval: the commit put off by the interval is made by a committer thread
  // once the interval has passed, also when nothing more arrives (an idle stream). Guarded by
  // commit_mu: last_auto_commit_, committable, committer_stop, committer_waiting, commit_error.
  std::mutex commit_mu;
  std::condition_variable commit_cv;
  int64_t committable = -1;  // the position after the last whole transaction
  bool committer_stop = false;
  bool committer_waiting = false;  // waiting for a commit to be put off
  Status commit_error;             // the committer's failure, returned by run()
};

Consumer::Consumer(Options options) : options_(std::move(options)), impl_(new Impl) {
  while (!options_.server.empty() && options_.server.back() == '/') options_.server.pop_back();
}

Consumer::~Consumer() = default;

void Consumer::stop() {
  stop_.store(true);
  std::lock_guard lock(impl_->mu);
  if (impl_->stream) impl_->stream->stop();
}

namespace {

std::unique_ptr<httplib::Client> makeClient(const Options& o) {
  auto c = std::make_unique<httplib::Client>(o.server);
#ifdef CPPHTTPLIB_OPENSSL_SUPPORT
  if (!o.ca_cert.empty()) c->set_ca_cert_path(o.ca_cert.c_str());
#endif
  auto secs = [](std::chrono::milliseconds ms) {
    return std::chrono::duration_cast<std::chrono::seconds>(ms).count();
  };
  c->set_connection_timeout(std::max<int64_t>(1, secs(o.connect_timeout)), 0);
  c->set_read_timeout(std::max<int64_t>(5, secs(o.idle_reopen) + 30), 0);
  c->set_write_timeout(30, 0);
  c->set_default_headers({{"Authorization", "Bearer " + o.token}});
  return c;
}

Status checkOptions(const Options& o) {
  if (o.server.rfind("http://", 0) != 0 && o.server.rfind("https://", 0) != 0)
    return {Status::Code::kInvalidArgument,
            "server: must be http://HOST:PORT or https://HOST:PORT, got '" + o.server + "'"};
  if (!validName(o.task))
    return {Status::Code::kInvalidArgument, "task: a task name is required, got '" + o.task + "'"};
  if (!o.group.empty() && !validName(o.group))
    return {Status::Code::kInvalidArgument,
            "group: must be 1-249 letters, digits, '.', '_' or '-', got '" + o.group + "'"};
  if (o.auto_commit && o.group.empty())
    return {Status::Code::kInvalidArgument, "auto_commit needs a group"};
  if (o.retry_min.count() <= 0 || o.retry_max < o.retry_min)
    return {Status::Code::kInvalidArgument, "retry_min must be > 0 and <= retry_max"};
  return Status::OK();
}

// Sleeps `delay` unless `stop` becomes true first.
void sleepUnlessStopped(std::chrono::milliseconds delay, const std::atomic<bool>& stop) {
  auto until = Clock::now() + delay;
  while (!stop.load() && Clock::now() < until)
    std::this_thread::sleep_for(
        std::min<Clock::duration>(std::chrono::milliseconds(50), until - Clock::now()));
}

}  // namespace

std::string Consumer::formatQuery() const {
  if (options_.format.empty() || options_.format == "dts") return "";
  return "?format=" + urlEncode(options_.format);
}

Status Consumer::commit() {
  int64_t p = position_.load();
  if (p < 0) return {Status::Code::kInvalidArgument, "commit: nothing was read yet"};
  return commit(p);
}

Status Consumer::commit(int64_t offset) {
  std::lock_guard control_lock(impl_->control_mu);
  return commitLocked(offset);
}

Status Consumer::commitLocked(int64_t offset) {
  if (options_.group.empty())
    return {Status::Code::kInvalidArgument, "commit: the consumer has no group"};
  if (offset < 0) return {Status::Code::kInvalidArgument, "commit: offset must be >= 0"};
  if (!impl_->control) impl_->control = makeClient(options_);
  // A group's offsets are per topic: a view format commits its own (docs/api.md).
  const std::string path =
      "/api/v1/tasks/" + options_.task + "/groups/" + options_.group + "/commit" + formatQuery();
  const std::string body = json{{"offset", offset}}.dump();
  // A commit outlives stop(): Ctrl-C commits what was delivered. Bounded by the retry window
  // (30 s when reading retries forever).
  auto window =
      options_.retry_window.count() > 0 ? options_.retry_window : std::chrono::milliseconds(30000);
  auto deadline = Clock::now() + window;
  auto delay = options_.retry_min;
  for (;;) {
    auto res = impl_->control->Post(path, body, "application/json");
    Status st;
    if (!res) {
      st = {Status::Code::kUnavailable, "commit of group '" + options_.group + "' at " +
                                            options_.server + ": " +
                                            httplib::to_string(res.error())};
    } else if (res->status == 200) {
      int64_t prev = last_committed_.load();
      while (offset > prev && !last_committed_.compare_exchange_weak(prev, offset)) {
      }
      if (offset < prev) last_committed_.store(offset);
      return Status::OK();
    } else {
      st = httpStatus(res->status, res->body, "commit of group '" + options_.group + "'");
    }
    if (!retryable(st) || Clock::now() + delay > deadline) return st;
    if (options_.on_retry) options_.on_retry(st, delay);
    std::this_thread::sleep_for(delay);
    delay = std::min(options_.retry_max, delay * 2);
  }
}

Status Consumer::committed(int64_t* offset) {
  if (options_.group.empty())
    return {Status::Code::kInvalidArgument, "committed: the consumer has no group"};
  std::lock_guard control_lock(impl_->control_mu);
  if (!impl_->control) impl_->control = makeClient(options_);
  auto res = impl_->control->Get("/api/v1/tasks/" + options_.task + "/groups/" + options_.group +
                                 formatQuery());
  if (!res)
    return {Status::Code::kUnavailable,
            "reading group '" + options_.group + "': " + httplib::to_string(res.error())};
  if (res->status != 200)
    return httpStatus(res->status, res->body, "reading group '" + options_.group + "'");
  auto j = json::parse(res->body, nullptr, false);
  if (!j.is_object() || !j.contains("offset"))
    return {Status::Code::kInternal, "reading group '" + options_.group + "': a malformed answer"};
  *offset = j["offset"].is_number_integer() ? j["offset"].get<int64_t>() : -1;
  return Status::OK();
}

Status Consumer::maybeAutoCommit() {
  if (!options_.auto_commit) return Status::OK();
  const int64_t p = position_.load();
  {
    std::lock_guard lock(impl_->commit_mu);
    if (!impl_->commit_error.ok()) return impl_->commit_error;
    if (p <= last_committed_.load()) return Status::OK();
    impl_->committable = p;
    auto now = Clock::now();
    if (options_.auto_commit_interval.count() > 0 &&
        now - last_auto_commit_ < options_.auto_commit_interval) {
      // Put off: the committer makes it once the interval has passed.
      if (impl_->committer_waiting) impl_->commit_cv.notify_one();
      return Status::OK();
    }
    last_auto_commit_ = now;
  }
  return commit(p);
}

void Consumer::commitPutOff() {
  std::unique_lock lock(impl_->commit_mu);
  while (!impl_->committer_stop) {
    const int64_t c = impl_->committable;
    if (c <= last_committed_.load()) {
      impl_->committer_waiting = true;
      impl_->commit_cv.wait(lock);
      impl_->committer_waiting = false;
      continue;
    }
    const auto due = last_auto_commit_ + options_.auto_commit_interval;
    if (Clock::now() < due) {
      impl_->commit_cv.wait_until(lock, due);
      continue;
    }
    last_auto_commit_ = Clock::now();
    lock.unlock();
    Status st;
    {
      // Never behind a commit the caller's thread made meanwhile.
      std::lock_guard control_lock(impl_->control_mu);
      if (c > last_committed_.load()) st = commitLocked(c);
    }
    lock.lock();
    if (!st.ok()) {
      if (impl_->commit_error.ok()) impl_->commit_error = st;
      return;
    }
  }
}

std::chrono::milliseconds Consumer::idleFor() const {
  int64_t since = idle_since_ms_.load();
  if (since == kNotConnected || busy_.load()) return std::chrono::milliseconds(0);
  return std::chrono::milliseconds(std::max<int64_t>(0, nowMs() - since));
}

Status Consumer::runRecords(const RecordHandler& handler) {
  return run(&handler, nullptr);
}

Status Consumer::runTransactions(const TransactionHandler& handler) {
  return run(nullptr, &handler);
}

Status Consumer::run(const RecordHandler* on_record, const TransactionHandler* on_transaction) {
  if (Status st = checkOptions(options_); !st.ok()) return st;
  const bool native = options_.format.empty() || options_.format == "dts";
  const std::set<std::string> wanted_ops(options_.ops.begin(), options_.ops.end());
  // Markers are always read: they delimit transactions (commits happen after one), and a view
  // format's records get their offsets from the envelope, its transactions from the markers.
  std::vector<std::string> server_ops = options_.ops;
  if (!server_ops.empty()) {
    for (const char* marker : {"begin", "commit"}) {
      if (wanted_ops.count(marker) == 0) server_ops.push_back(marker);
    }
  }
  // Records mode: everything when ops is empty; transactions hold the markers only when listed,
  // and so do view formats (they have none of their own).
  auto wants = [&](const std::string& op) {
    if ((on_transaction != nullptr || !native) && (op == "begin" || op == "commit"))
      return wanted_ops.count(op) != 0;
    return wanted_ops.empty() || op.empty() || wanted_ops.count(op) != 0;
  };

  Transaction tx;  // transaction mode: the records since the last delivery
  size_t tx_bytes = 0;
  bool handler_done = false;
  Status fatal;
  auto deliver = [&](Transaction& t) -> bool {
    bool more = (*on_transaction)(t);
    position_.store(t.end_offset);
    t.records.clear();
    tx_bytes = 0;
    return more;
  };
  // One line of the stream; false stops reading (handler done, stop, or a fatal error).
  auto onLine = [&](std::string line) -> bool {
    Record r;
    // The offset and op known without parsing the line: a view's envelope, or a native row
    // passed on unparsed (markers are parsed for their transaction fields).
    bool known = native ? !options_.parse_values && scanOffsetAndOp(line, &r.offset, &r.op) &&
                              r.op != "begin" && r.op != "commit"
                        : unwrapEnvelope(&line, &r.offset, &r.op);
    if (known) {
      if (options_.parse_values) {
        r.value = json::parse(line, nullptr, false);
        if (r.value.is_discarded()) r.value = nullptr;
      }
    } else {
      r.offset = -1;
      r.op.clear();
      r.value = json::parse(line, nullptr, false);
      if (r.value.is_discarded()) r.value = nullptr;
    }
    if (!known && r.value.is_object()) {
      if (r.value.size() == 1 && r.value.contains("error") && r.value["error"].is_object()) {
        // The server's last line after a failure in the middle of the stream.
        fatal = {Status::Code::kInternal,
                 "reading the change log of task '" + options_.task + "': " + errorMessage(line)};
        return false;
      }
      if (auto it = r.value.find("offset"); it != r.value.end() && it->is_number_integer())
        r.offset = it->get<int64_t>();
      if (auto it = r.value.find("op"); it != r.value.end() && it->is_string())
        r.op = it->get<std::string>();
    }
    r.line = std::move(line);
    if (on_record != nullptr) {
      bool more = true;
      if (wants(r.op)) more = (*on_record)(r);
      if (r.offset >= 0) position_.store(r.offset + 1);
      if (r.op == "commit") {
        if (Status st = maybeAutoCommit(); !st.ok()) {
          fatal = st;
          return false;
        }
      }
      if (!more) handler_done = true;
      return more && !stop_.load();
    }
    if (r.offset < 0 || r.op.empty()) {
      fatal = {Status::Code::kInternal,
               "reading the change log of task '" + options_.task +
                   "': a line without an offset and an op (is the server a dts server?): " +
                   r.line.substr(0, 200)};
      return false;
    }
    if (r.op == "begin" || (tx.records.empty() && tx.id.empty())) {
      tx = Transaction{};
      tx_bytes = 0;
      if (r.value.contains("tx") && r.value["tx"].is_object() && r.value["tx"]["id"].is_string())
        tx.id = r.value["tx"]["id"].get<std::string>();
      if (r.value.contains("gtid") && r.value["gtid"].is_string())
        tx.gtid = r.value["gtid"].get<std::string>();
    }
    if ((native || r.op == "begin" || r.op == "commit") && r.value.contains("ts_ms") &&
        r.value["ts_ms"].is_number_integer())
      tx.ts_ms = r.value["ts_ms"].get<int64_t>();
    bool more = true;
    if (r.op == "commit") {
      tx.end_offset = r.offset + 1;
      tx.complete = true;
      if (r.value.contains("event_count") && r.value["event_count"].is_number_integer())
        tx.event_count = r.value["event_count"].get<int64_t>();
      if (wants(r.op)) tx.records.push_back(std::move(r));
      // Transactions the filters left empty are not delivered, only passed.
      bool empty = std::none_of(tx.records.begin(), tx.records.end(), [](const Record& x) {
        return x.op != "begin" && x.op != "commit";
      });
      if (empty && !(wanted_ops.count("begin") || wanted_ops.count("commit"))) {
        position_.store(tx.end_offset);
      } else {
        more = deliver(tx);
      }
      tx = Transaction{};
      if (Status st = maybeAutoCommit(); !st.ok()) {
        fatal = st;
        return false;
      }
    } else {
      int64_t offset = r.offset;
      tx_bytes += r.line.size();
      if (wants(r.op)) tx.records.push_back(std::move(r));
      if (tx_bytes >= options_.max_transaction_bytes) {
        tx.end_offset = offset + 1;
        tx.complete = false;
        more = deliver(tx);
      }
    }
    if (!more) handler_done = true;
    return more && !stop_.load();
  };

  // The committer of commits put off by auto_commit_interval (commitPutOff), stopped and joined
  // however run() returns.
  std::thread committer;
  if (options_.auto_commit && !options_.group.empty() &&
      options_.auto_commit_interval.count() > 0) {
    {
      std::lock_guard lock(impl_->commit_mu);
      impl_->committer_stop = false;
      impl_->commit_error = Status();
      impl_->committable = -1;
    }
    committer = std::thread([this] { commitPutOff(); });
  }
  struct StopCommitter {
    Impl* impl;
    std::thread* thread;
    ~StopCommitter() {
      if (!thread->joinable()) return;
      {
        std::lock_guard lock(impl->commit_mu);
        impl->committer_stop = true;
      }
      impl->commit_cv.notify_all();
      thread->join();
    }
  } stop_committer{impl_.get(), &committer};
  auto commitFailed = [this]() -> Status {
    std::lock_guard lock(impl_->commit_mu);
    return impl_->commit_error;
  };

  auto retry_deadline = Clock::time_point::max();
  auto delay = options_.retry_min;
  while (!stop_.load()) {
    std::string path = "/api/v1/tasks/" + options_.task +
                       "/changes?wait_ms=" + std::to_string(options_.idle_reopen.count());
    int64_t pos = position_.load();
    if (pos >= 0) {
      path += "&from=" + std::to_string(pos);
    } else if (!options_.from.empty()) {
      path += "&from=" + urlEncode(options_.from);
    }
    if (!options_.group.empty()) path += "&group=" + urlEncode(options_.group);
    if (!options_.tables.empty()) path += "&tables=" + urlEncode(joinComma(options_.tables));
    if (!server_ops.empty()) path += "&ops=" + urlEncode(joinComma(server_ops));
    if (!options_.format.empty()) path += "&format=" + urlEncode(options_.format);
    if (!native) path += "&envelope=true";

    {
      std::lock_guard lock(impl_->mu);
      impl_->stream = makeClient(options_);
    }
    if (stop_.load()) break;
    int status = 0;
    std::string error_body, pending;
    size_t scanned = 0;  // pending's bytes known to hold no newline
    bool got_data = false;
    tx = Transaction{};
    tx_bytes = 0;
    auto res = impl_->stream->Get(
        path,
        [&](const httplib::Response& resp) {
          status = resp.status;
          // Connected: the idle clock runs from here, unless it already ran (a long poll that
          // ended with nothing new is opened again: still idle since then).
          int64_t none = kNotConnected;
          if (status == 200) idle_since_ms_.compare_exchange_strong(none, nowMs());
          return true;
        },
        [&](const char* data, size_t len) {
          if (status != 200) {
            if (error_body.size() < 65536) error_body.append(data, len);
            return true;
          }
          // Bytes arrived: not idle, also while a long line is still incomplete or the handler
          // takes its time.
          busy_.store(true);
          got_data = true;
          pending.append(data, len);
          size_t start = 0;
          bool more = true;
          for (;;) {
            // Only the new bytes are searched: a line of many chunks costs O(its length).
            size_t nl = pending.find('\n', std::max(start, scanned));
            if (nl == std::string::npos) break;
            if (!onLine(pending.substr(start, nl - start))) {
              more = false;
              break;
            }
            start = nl + 1;
          }
          pending.erase(0, start);
          scanned = pending.size();
          idle_since_ms_.store(nowMs());
          busy_.store(false);
          return more && !stop_.load();
        });
    if (!(res && status == 200)) idle_since_ms_.store(kNotConnected);
    if (handler_done || stop_.load()) break;
    if (!fatal.ok()) return fatal;
    if (Status st = commitFailed(); !st.ok()) return st;
    Status st;
    if (status == 200) {
      if (res) {  // the long poll ended with nothing new (wait_ms): open it again
        delay = options_.retry_min;
        retry_deadline = Clock::time_point::max();
        continue;
      }
      st = {Status::Code::kUnavailable, "the change stream of task '" + options_.task +
                                            "' broke: " + httplib::to_string(res.error())};
    } else if (status != 0) {
      st = httpStatus(status, error_body, "reading the change log of task '" + options_.task + "'");
    } else {
      st = {Status::Code::kUnavailable,
            "cannot reach " + options_.server + ": " + httplib::to_string(res.error())};
    }
    if (!retryable(st)) return st;
    if (got_data) {  // it was working: a fresh window
      delay = options_.retry_min;
      retry_deadline = Clock::time_point::max();
    }
    if (retry_deadline == Clock::time_point::max() && options_.retry_window.count() > 0)
      retry_deadline = Clock::now() + options_.retry_window;
    if (Clock::now() + delay > retry_deadline) return st;
    if (options_.on_retry) options_.on_retry(st, delay);
    sleepUnlessStopped(delay, stop_);
    delay = std::min(options_.retry_max, delay * 2);
  }
  {
    std::lock_guard lock(impl_->mu);
    impl_->stream.reset();
  }
  idle_since_ms_.store(kNotConnected);
  if (options_.auto_commit && position_.load() > last_committed_.load()) return commit();
  return Status::OK();
}

}  // namespace dts::consumer
