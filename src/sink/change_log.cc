#include "sink/change_log.h"

#include <fcntl.h>
#include <pthread.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "common/crc32.h"
#include "common/log.h"
#include "common/strings.h"
#include "sink/mysql_applier.h"

namespace dts::sink {

namespace {
// "@N": the name of column N (from 0) in a table whose TABLE_MAP carries no names. Built by
// append: GCC 12 -O2 reports a false -Wrestrict on "@" + std::to_string(...).
std::string positionalName(size_t i) {
  std::string name = "@";
  name += std::to_string(i + 1);
  return name;
}
}  // namespace

namespace fs = std::filesystem;

namespace {

constexpr uint32_t kMagic = 0x42535444;  // "DTSB" little-endian
// magic, length | crc, base, count, flags, max_ts, raw
constexpr size_t kPrefix = 8;
constexpr size_t kFixed = 4 + 8 + 4 + 1 + 8 + 4;  // after the length field, before the payload
constexpr size_t kHeader = kPrefix + kFixed;
constexpr uint8_t kFlagCommit = 1;  // the last record is a commit marker
constexpr uint8_t kFlagBegin = 2;   // the first record is a begin marker
constexpr size_t kIndexEntry = 24;
// A batch's decompressed payload is at most this: anything larger in a header is corruption.
constexpr uint64_t kMaxRaw = 1ull << 31;

void storeFixed32(char* at, uint32_t v) {
  for (int i = 0; i < 4; ++i) at[i] = static_cast<char>(v >> (8 * i));
}
void putFixed32(std::string* out, uint32_t v) {
  char b[4];
  storeFixed32(b, v);
  out->append(b, 4);
}
void putFixed64(std::string* out, uint64_t v) {
  char b[8];
  for (int i = 0; i < 8; ++i) b[i] = static_cast<char>(v >> (8 * i));
  out->append(b, 8);
}
uint32_t getFixed32(const char* p) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}
uint64_t getFixed64(const char* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}

std::string segmentName(int64_t base, const char* ext) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%020lld%s", static_cast<long long>(base), ext);
  return buf;
}

std::string errnoText(int err) {
  return std::strerror(err);
}

Status ioError(const std::string& what, const std::string& path, int err) {
  if (err == ENOSPC || err == EDQUOT) {
    return Status::FailedPrecondition("disk full: " + what + " " + path + ": " + errnoText(err) +
                                      " (the change log stops; everything already durable is "
                                      "kept; free space and resume the task)");
  }
  return Status::Internal(what + " " + path + ": " + errnoText(err));
}

Status preadAll(int fd, char* buf, size_t n, uint64_t pos, const std::string& path) {
  while (n > 0) {
    ssize_t r = ::pread(fd, buf, n, static_cast<off_t>(pos));
    if (r < 0) {
      if (errno == EINTR) continue;
      return ioError("reading", path, errno);
    }
    if (r == 0)
      return Status::Corruption("change log segment " + path + ": unexpected end of file at byte " +
                                std::to_string(pos));
    buf += r;
    n -= static_cast<size_t>(r);
    pos += static_cast<uint64_t>(r);
  }
  return Status::OK();
}

Status pwriteAll(int fd, const char* buf, size_t n, uint64_t pos, const std::string& path) {
  while (n > 0) {
    ssize_t r = ::pwrite(fd, buf, n, static_cast<off_t>(pos));
    if (r < 0) {
      if (errno == EINTR) continue;
      return ioError("writing", path, errno);
    }
    buf += r;
    n -= static_cast<size_t>(r);
    pos += static_cast<uint64_t>(r);
  }
  return Status::OK();
}

Status syncDir(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (fd < 0) return ioError("opening directory", dir, errno);
  int rc = ::fsync(fd);
  int err = errno;
  ::close(fd);
  return rc == 0 ? Status::OK() : ioError("syncing directory", dir, err);
}

int64_t commitMs(const pipeline::Transaction& t) {
  if (t.commit_us != 0) return static_cast<int64_t>(t.commit_us / 1000);
  return static_cast<int64_t>(t.timestamp) * 1000;
}

// A type name for a column whose SHOW COLUMNS type is unknown: the binlog type.
const char* binlogTypeName(mysql::ColumnType t) {
  using mysql::ColumnType;
  switch (t) {
    case ColumnType::kTiny: return "tinyint";
    case ColumnType::kShort: return "smallint";
    case ColumnType::kInt24: return "mediumint";
    case ColumnType::kLong: return "int";
    case ColumnType::kLongLong: return "bigint";
    case ColumnType::kFloat: return "float";
    case ColumnType::kDouble: return "double";
    case ColumnType::kDecimal:
    case ColumnType::kNewDecimal: return "decimal";
    case ColumnType::kTimestamp:
    case ColumnType::kTimestamp2: return "timestamp";
    case ColumnType::kDate:
    case ColumnType::kNewDate: return "date";
    case ColumnType::kTime:
    case ColumnType::kTime2: return "time";
    case ColumnType::kDateTime:
    case ColumnType::kDateTime2: return "datetime";
    case ColumnType::kYear: return "year";
    case ColumnType::kVarchar:
    case ColumnType::kVarcharCompressed:
    case ColumnType::kVarString: return "varchar";
    case ColumnType::kString: return "char";
    case ColumnType::kBit: return "bit";
    case ColumnType::kJson: return "json";
    case ColumnType::kEnum: return "enum";
    case ColumnType::kSet: return "set";
    case ColumnType::kTinyBlob:
    case ColumnType::kMediumBlob:
    case ColumnType::kLongBlob:
    case ColumnType::kBlobCompressed:
    case ColumnType::kBlob: return "blob";
    case ColumnType::kGeometry: return "geometry";
    case ColumnType::kNull:
    case ColumnType::kTypedArray: break;
  }
  return "unknown";
}

struct IndexEntry {
  int64_t offset = 0;
  uint64_t pos = 0;
  int64_t ts = 0;
};

// One batch as read back.
struct Batch {
  int64_t base = 0;
  uint32_t count = 0;
  uint8_t flags = 0;
  int64_t max_ts = 0;
  uint64_t next = 0;  // file position after the batch
  std::string raw;    // decompressed records (when asked for)
};

// Calls f(offset, ts, key, value) for each record of a decompressed batch.
template <typename F>
Status forEachRecord(const Batch& b, const std::string& path, uint64_t pos, F&& f) {
  const char* p = b.raw.data();
  const char* end = p + b.raw.size();
  auto bad = [&](const char* what) {
    return Status::Corruption("change log segment " + path + ": batch at byte " +
                              std::to_string(pos) + ": " + what);
  };
  for (uint32_t i = 0; i < b.count; ++i) {
    if (end - p < 12) return bad("record header past the payload");
    int64_t ts = static_cast<int64_t>(getFixed64(p));
    uint32_t klen = getFixed32(p + 8);
    p += 12;
    if (static_cast<uint64_t>(end - p) < klen) return bad("record key past the payload");
    std::string_view key(p, klen);
    p += klen;
    if (end - p < 4) return bad("record value length past the payload");
    uint32_t vlen = getFixed32(p);
    p += 4;
    if (static_cast<uint64_t>(end - p) < vlen) return bad("record value past the payload");
    std::string_view value(p, vlen);
    p += vlen;
    if (!f(b.base + i, ts, key, value)) return Status::OK();
  }
  if (p != end) return bad("bytes after the last record");
  return Status::OK();
}

}  // namespace

struct ChangeLog::Segment {
  int64_t base = 0;
  std::string path, index_path;
  int fd = -1;
  int index_fd = -1;
  std::atomic<uint64_t> visible_bytes{0};  // readers read below this
  int64_t max_ts = 0;                      // newest commit time in it (mu_)
  std::vector<IndexEntry> index;           // mu_
  ~Segment() {
    if (fd >= 0) ::close(fd);
    if (index_fd >= 0) ::close(index_fd);
  }
};

namespace {

using Segment = ChangeLog::Segment;

// Begin and commit markers among a batch's records: no key, and a value that starts with
// {"offset":N,"op":"begin" or "commit" (encodeMarker writes them so).
enum class Marker : uint8_t { kNone, kBegin, kCommit };
Marker markerOf(std::string_view key, std::string_view value) {
  constexpr std::string_view kOffset = "{\"offset\":", kOp = ",\"op\":\"";
  if (!key.empty() || value.substr(0, kOffset.size()) != kOffset) return Marker::kNone;
  size_t i = kOffset.size();
  while (i < value.size() && value[i] >= '0' && value[i] <= '9') ++i;
  if (value.substr(i, kOp.size()) != kOp) return Marker::kNone;
  std::string_view op = value.substr(i + kOp.size());
  if (op.starts_with("begin\"")) return Marker::kBegin;
  if (op.starts_with("commit\"")) return Marker::kCommit;
  return Marker::kNone;
}

// Reads the batch at `pos` of `seg`, which must end at or before `limit`. Checks the CRC; the
// payload is decompressed when `decompress`. Corruption names the file and the byte offset.
Result<Batch> readBatch(const Segment& seg, uint64_t pos, uint64_t limit, bool decompress) {
  auto bad = [&](const std::string& what) {
    return Status::Corruption("change log segment " + seg.path + ": batch at byte " +
                              std::to_string(pos) + ": " + what);
  };
  if (pos + kHeader > limit) return bad("header past the end of the log");
  char h[kHeader];
  DTS_RETURN_IF_ERROR(preadAll(seg.fd, h, kHeader, pos, seg.path));
  if (getFixed32(h) != kMagic) return bad("bad magic number");
  uint32_t length = getFixed32(h + 4);
  if (length < kFixed || pos + kPrefix + length > limit)
    return bad("length " + std::to_string(length) + " past the end of the log");
  std::string body(length, '\0');
  DTS_RETURN_IF_ERROR(preadAll(seg.fd, body.data(), length, pos + kPrefix, seg.path));
  uint32_t crc = getFixed32(body.data());
  if (dts::crc32(std::string_view(body).substr(4)) != crc) return bad("CRC mismatch");
  Batch b;
  b.base = static_cast<int64_t>(getFixed64(body.data() + 4));
  b.count = getFixed32(body.data() + 12);
  b.flags = static_cast<uint8_t>(body[16]);
  b.max_ts = static_cast<int64_t>(getFixed64(body.data() + 17));
  uint32_t raw = getFixed32(body.data() + 25);
  b.next = pos + kPrefix + length;
  if (b.count == 0) return bad("no records");
  if (decompress) {
    if (raw > kMaxRaw) return bad("payload size " + std::to_string(raw) + " too large");
    b.raw.resize(raw);
    size_t n = ZSTD_decompress(b.raw.data(), raw, body.data() + kFixed, length - kFixed);
    if (ZSTD_isError(n) || n != raw)
      return bad(std::string("payload does not decompress: ") +
                 (ZSTD_isError(n) ? ZSTD_getErrorName(n) : "size differs"));
  }
  return b;
}

// Header of the batch at pos without checking its CRC (max_ts and offsets of sealed segments).
Result<Batch> peekBatch(const Segment& seg, uint64_t pos, uint64_t limit) {
  char h[kHeader];
  if (pos + kHeader > limit)
    return Status::Corruption("change log segment " + seg.path + ": batch at byte " +
                              std::to_string(pos) + ": header past the end of the file");
  DTS_RETURN_IF_ERROR(preadAll(seg.fd, h, kHeader, pos, seg.path));
  uint32_t length = getFixed32(h + 4);
  if (getFixed32(h) != kMagic || length < kFixed || pos + kPrefix + length > limit)
    return Status::Corruption("change log segment " + seg.path + ": batch at byte " +
                              std::to_string(pos) + ": bad header");
  Batch b;
  b.base = static_cast<int64_t>(getFixed64(h + 12));
  b.count = getFixed32(h + 20);
  b.flags = static_cast<uint8_t>(h[24]);
  b.max_ts = static_cast<int64_t>(getFixed64(h + 25));
  b.next = pos + kPrefix + length;
  return b;
}

bool allZero(int fd, uint64_t from, uint64_t to) {
  char buf[4096];
  while (from < to) {
    size_t n = static_cast<size_t>(std::min<uint64_t>(sizeof buf, to - from));
    ssize_t r = ::pread(fd, buf, n, static_cast<off_t>(from));
    if (r <= 0) return false;
    for (ssize_t i = 0; i < r; ++i)
      if (buf[i] != 0) return false;
    from += static_cast<uint64_t>(r);
  }
  return true;
}

std::mutex& registryMutex() {
  static std::mutex mu;
  return mu;
}
std::map<std::string, std::weak_ptr<ChangeLog>>& registry() {
  static std::map<std::string, std::weak_ptr<ChangeLog>> r;
  return r;
}

}  // namespace

ChangeLog::ChangeLog(ChangeLogOptions options) : options_(std::move(options)) {}

ChangeLog::~ChangeLog() {
  if (writing_) {
    Status st = close();
    if (!st.ok()) spdlog::warn("closing change log {}: {}", options_.dir, st.toString());
  }
  stopAppender();
  stopSyncer();
  if (lock_fd_ >= 0) ::close(lock_fd_);
}

Result<std::shared_ptr<ChangeLog>> ChangeLog::open(ChangeLogOptions options) {
  if (options.dir.empty()) return Status::InvalidArgument("change log: no directory given");
  if (options.retention_hours < 1)
    return Status::InvalidArgument("options.retention_hours: must be at least 1, got " +
                                   std::to_string(options.retention_hours));
  if (options.batch_bytes == 0) options.batch_bytes = 1;
  std::shared_ptr<ChangeLog> log(new ChangeLog(std::move(options)));
  DTS_RETURN_IF_ERROR(log->recover());
  DTS_RETURN_IF_ERROR(log->startSyncer());
  log->writing_ = true;
  log->startAppender();
  return log;
}

Status ChangeLog::recover() {
  const std::string& dir = options_.dir;
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return Status::Internal("creating change log directory " + dir + ": " + ec.message());
  std::string lock_path = dir + "/LOCK";
  lock_fd_ = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (lock_fd_ < 0) return ioError("opening", lock_path, errno);
  if (::flock(lock_fd_, LOCK_EX | LOCK_NB) != 0)
    return Status::FailedPrecondition("change log " + dir + " is in use by another dts process (" +
                                      lock_path + " is locked)");

  std::vector<int64_t> bases;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    std::string name = e.path().filename().string();
    if (name.size() != 24 || name.substr(20) != ".log") continue;
    if (name.find_first_not_of("0123456789") != 20) continue;
    bases.push_back(std::stoll(name.substr(0, 20)));
  }
  if (ec) return Status::Internal("listing change log directory " + dir + ": " + ec.message());
  std::sort(bases.begin(), bases.end());
  if (bases.empty()) bases.push_back(0);

  for (int64_t base : bases) {
    auto seg = std::make_shared<Segment>();
    seg->base = base;
    seg->path = dir + "/" + segmentName(base, ".log");
    seg->index_path = dir + "/" + segmentName(base, ".idx");
    seg->fd = ::open(seg->path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (seg->fd < 0) return ioError("opening", seg->path, errno);
    struct stat st {};
    if (::fstat(seg->fd, &st) != 0) return ioError("reading the size of", seg->path, errno);
    seg->visible_bytes = static_cast<uint64_t>(st.st_size);
    // The index: entries that point inside the file, in order; the rest is dropped.
    int ifd = ::open(seg->index_path.c_str(), O_RDONLY | O_CLOEXEC);
    if (ifd >= 0) {
      struct stat ist {};
      if (::fstat(ifd, &ist) == 0) {
        std::string bytes(static_cast<size_t>(ist.st_size) / kIndexEntry * kIndexEntry, '\0');
        if (preadAll(ifd, bytes.data(), bytes.size(), 0, seg->index_path).ok()) {
          for (size_t i = 0; i < bytes.size(); i += kIndexEntry) {
            IndexEntry e{static_cast<int64_t>(getFixed64(bytes.data() + i)),
                         getFixed64(bytes.data() + i + 8),
                         static_cast<int64_t>(getFixed64(bytes.data() + i + 16))};
            bool ordered = seg->index.empty() ||
                           (e.offset > seg->index.back().offset && e.pos > seg->index.back().pos);
            if (e.offset < base || e.pos >= seg->visible_bytes || !ordered) break;
            seg->index.push_back(e);
          }
        }
      }
      ::close(ifd);
    }
    segments_.push_back(std::move(seg));
  }
  DTS_RETURN_IF_ERROR(syncDir(dir));

  // The last segment: checked batch by batch, its torn tail and its incomplete transaction cut.
  // When that leaves it empty and an older segment exists, the older one becomes the last.
  for (;;) {
    Segment& seg = *segments_.back();
    const uint64_t size = seg.visible_bytes;
    uint64_t pos = 0, commit_end = 0, commit_pos = 0;
    int64_t expected = seg.base, commit_next = seg.base, commit_ts = 0;
    bool have_commit = false;
    std::vector<IndexEntry> index;
    int64_t begin_offset = -1;
    uint64_t begin_pos = 0;
    const char* torn = nullptr;
    while (pos < size) {
      char h[kPrefix];
      if (size - pos < kPrefix) {
        torn = "a batch header cut short";
        break;
      }
      DTS_RETURN_IF_ERROR(preadAll(seg.fd, h, kPrefix, pos, seg.path));
      uint32_t magic = getFixed32(h), length = getFixed32(h + 4);
      if (magic != kMagic) {
        if (allZero(seg.fd, pos, size)) {
          torn = "zeroes where a batch should start";
          break;
        }
        return Status::Corruption("change log segment " + seg.path + ": batch at byte " +
                                  std::to_string(pos) + ": bad magic number");
      }
      if (pos + kPrefix + length > size) {
        torn = "a batch cut short";
        break;
      }
      auto b = readBatch(seg, pos, size, /*decompress=*/false);
      if (!b.ok()) {
        if (pos + kPrefix + length == size) {
          torn = "a last batch that fails its checks";
          break;
        }
        return b.status();
      }
      if (b->base != expected)
        return Status::Corruption("change log segment " + seg.path + ": batch at byte " +
                                  std::to_string(pos) + " starts at offset " +
                                  std::to_string(b->base) + ", expected " +
                                  std::to_string(expected));
      expected += b->count;
      if (b->flags & kFlagBegin) {
        begin_offset = b->base;
        begin_pos = pos;
      }
      if (b->flags & kFlagCommit) {
        have_commit = true;
        commit_pos = pos;
        commit_end = b->next;
        commit_next = expected;
        commit_ts = b->max_ts;
        if (begin_offset >= 0 &&
            (index.empty() || begin_pos - index.back().pos >= options_.index_interval))
          index.push_back(IndexEntry{begin_offset, begin_pos, b->max_ts});
        begin_offset = -1;
      }
      pos = b->next;
    }
    if (torn != nullptr)
      spdlog::warn("change log segment {}: torn tail at byte {} ({}): cut", seg.path, pos, torn);
    if (commit_end < size) {
      if (torn == nullptr || commit_end < pos)
        spdlog::warn(
            "change log segment {}: {} bytes after the last commit marker (byte {}) "
            "cut: a transaction without its commit",
            seg.path, size - commit_end, commit_end);
      if (::ftruncate(seg.fd, static_cast<off_t>(commit_end)) != 0 || ::fsync(seg.fd) != 0)
        return ioError("truncating", seg.path, errno);
      seg.visible_bytes = commit_end;
    }
    seg.index = std::move(index);
    if (commit_end == 0 && segments_.size() > 1) {
      std::string path = seg.path, index_path = seg.index_path;
      segments_.pop_back();
      ::unlink(path.c_str());
      ::unlink(index_path.c_str());
      DTS_RETURN_IF_ERROR(syncDir(dir));
      continue;
    }
    next_offset_ = commit_next;
    seg.max_ts = commit_ts;
    last_commit_ts_ = commit_ts;
    if (have_commit) {
      DTS_ASSIGN_OR_RETURN(Batch b, readBatch(seg, commit_pos, commit_end, true));
      std::string last_value;
      DTS_RETURN_IF_ERROR(forEachRecord(
          b, seg.path, commit_pos, [&](int64_t, int64_t, std::string_view, std::string_view v) {
            last_value.assign(v);
            return true;
          }));
      auto j = nlohmann::json::parse(last_value, nullptr, /*allow_exceptions=*/false);
      if (j.is_discarded() || !j.is_object() || j.value("op", "") != "commit")
        return Status::Corruption("change log segment " + seg.path + ": batch at byte " +
                                  std::to_string(commit_pos) +
                                  ": its last record is not a commit marker");
      auto p = j.find("position");
      if (p != j.end() && p->is_string()) durable_position_ = p->get<std::string>();
    }
    break;
  }
  // Sealed segments: their newest commit time, from their batch headers.
  for (size_t i = 0; i + 1 < segments_.size(); ++i) {
    Segment& seg = *segments_[i];
    uint64_t pos = seg.index.empty() ? 0 : seg.index.back().pos;
    while (pos < seg.visible_bytes) {
      auto b = peekBatch(seg, pos, seg.visible_bytes);
      if (!b.ok()) break;  // a damaged sealed segment is reported when it is read
      seg.max_ts = std::max(seg.max_ts, b->max_ts);
      pos = b->next;
    }
  }
  active_ = segments_.back();
  active_size_ = active_->visible_bytes;
  visible_end_ = written_end_ = next_offset_;
  written_bytes_ = active_size_;
  // Transactions skipped after the last batch: their position, when the log ends where it did
  // then (a batch cut as torn since, or written after, makes it stale).
  if (std::ifstream in(dir + "/skipped-position"); in) {
    std::stringstream text;
    text << in.rdbuf();
    auto j = nlohmann::json::parse(text.str(), nullptr, /*allow_exceptions=*/false);
    if (j.is_object() && j.value("end", int64_t{-1}) == next_offset_ &&
        j.value("position", std::string()) != "") {
      durable_position_ = j.value("position", std::string());
      skipped_saved_ = durable_position_;
    }
  }
  written_position_ = durable_position_;
  written_segment_ = active_;
  DTS_RETURN_IF_ERROR(resetPosition());
  return rewriteActiveIndex();
}

Status ChangeLog::resetPosition() {
  position_.reset();
  if (durable_position_.empty()) return Status::OK();
  auto p = mysql::GtidPosition::parseStored(durable_position_);
  if (!p.ok())
    return Status::Corruption("change log " + options_.dir +
                              ": the last commit marker's position '" + durable_position_ +
                              "' does not parse: " + p.status().message());
  position_ = std::move(p).value();
  return Status::OK();
}

Status ChangeLog::rewriteActiveIndex() {
  Segment& seg = *active_;
  if (seg.index_fd >= 0) ::close(seg.index_fd);
  seg.index_fd = ::open(seg.index_path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (seg.index_fd < 0) return ioError("opening", seg.index_path, errno);
  std::string bytes;
  std::vector<IndexEntry> entries;
  {
    std::lock_guard<std::mutex> lock(mu_);
    entries = seg.index;
  }
  for (const IndexEntry& e : entries) {
    putFixed64(&bytes, static_cast<uint64_t>(e.offset));
    putFixed64(&bytes, e.pos);
    putFixed64(&bytes, static_cast<uint64_t>(e.ts));
  }
  DTS_RETURN_IF_ERROR(pwriteAll(seg.index_fd, bytes.data(), bytes.size(), 0, seg.index_path));
  index_size_ = bytes.size();
  last_index_pos_ = entries.empty() ? 0 : entries.back().pos;
  active_indexed_ = !entries.empty();
  return Status::OK();
}

Status ChangeLog::startSyncer() {
  std::lock_guard<std::mutex> lock(mu_);
  syncer_stop_ = false;
  syncer_ = std::thread([this] { syncerLoop(); });
  return Status::OK();
}

void ChangeLog::stopSyncer() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    syncer_stop_ = true;
  }
  sync_cv_.notify_all();
  if (syncer_.joinable()) syncer_.join();
}

void ChangeLog::publishLocked(const std::shared_ptr<Segment>& seg, int64_t end, uint64_t bytes,
                              const std::string& position) {
  if (end <= visible_end_) return;
  if (bytes > seg->visible_bytes) seg->visible_bytes = bytes;
  visible_end_ = end;
  durable_position_ = position;
  grew_.notify_all();
  sync_cv_.notify_all();
}

void ChangeLog::syncerLoop() {
  pthread_setname_np(pthread_self(), "dts-log-sync");
  std::unique_lock<std::mutex> lock(mu_);
  auto next_retention = std::chrono::steady_clock::now();
  for (;;) {
    sync_cv_.wait_for(lock, options_.retention_check,
                      [&] { return syncer_stop_ || (written_end_ > visible_end_ && error_.ok()); });
    if (written_end_ > visible_end_ && error_.ok()) {
      std::shared_ptr<Segment> seg = written_segment_;
      int64_t end = written_end_;
      uint64_t bytes = written_bytes_;
      std::string position = written_position_;
      lock.unlock();
      int rc = ::fdatasync(seg->fd);
      int err = errno;
      lock.lock();
      if (rc != 0) {
        if (error_.ok()) error_ = ioError("syncing", seg->path, err);
        failed_ = true;
        sync_cv_.notify_all();
        continue;
      }
      publishLocked(seg, end, bytes, position);
      continue;
    }
    if (syncer_stop_) return;
    if (std::chrono::steady_clock::now() >= next_retention) {
      next_retention = std::chrono::steady_clock::now() + options_.retention_check;
      lock.unlock();
      enforceRetention();
      lock.lock();
    }
  }
}

void ChangeLog::enforceRetention() {
  std::vector<std::shared_ptr<Segment>> expired;
  {
    std::lock_guard<std::mutex> lock(mu_);
    const int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                               options_.clock->now().time_since_epoch())
                               .count();
    const int64_t horizon = now_ms - int64_t{options_.retention_hours} * 3600 * 1000;
    uint64_t total = 0;
    for (const auto& s : segments_) total += s->visible_bytes;
    while (segments_.size() > 1) {
      const auto& front = segments_.front();
      bool too_old = front->max_ts < horizon;
      bool too_big = options_.retention_bytes > 0 && total > options_.retention_bytes;
      if (!too_old && !too_big) break;
      total -= front->visible_bytes;
      expired.push_back(front);
      segments_.erase(segments_.begin());
    }
  }
  for (const auto& s : expired) {
    spdlog::info(
        "change log {}: segment {} expired (offsets from {}, newest commit {} ms): removed",
        options_.dir, s->path, s->base, s->max_ts);
    ::unlink(s->path.c_str());
    ::unlink(s->index_path.c_str());
  }
  if (!expired.empty()) {
    Status st = syncDir(options_.dir);
    if (!st.ok()) spdlog::warn("change log retention: {}", st.toString());
  }
}

Status ChangeLog::fail(Status st) {
  std::lock_guard<std::mutex> lock(mu_);
  if (error_.ok()) error_ = st;
  failed_ = true;
  sync_cv_.notify_all();
  return error_;
}

Status ChangeLog::rollIfNeeded() {
  if (active_size_ < options_.segment_bytes) return Status::OK();
  // Everything in the old segment becomes durable (and visible) before the new one gets data.
  if (::fdatasync(active_->fd) != 0) return fail(ioError("syncing", active_->path, errno));
  if (active_->index_fd >= 0 && ::fdatasync(active_->index_fd) != 0)
    return fail(ioError("syncing", active_->index_path, errno));
  auto seg = std::make_shared<Segment>();
  seg->base = next_offset_;
  seg->path = options_.dir + "/" + segmentName(seg->base, ".log");
  seg->index_path = options_.dir + "/" + segmentName(seg->base, ".idx");
  seg->fd = ::open(seg->path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (seg->fd < 0) return fail(ioError("creating", seg->path, errno));
  seg->index_fd = ::open(seg->index_path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (seg->index_fd < 0) return fail(ioError("creating", seg->index_path, errno));
  Status st = syncDir(options_.dir);
  if (!st.ok()) return fail(st);
  {
    std::lock_guard<std::mutex> lock(mu_);
    publishLocked(active_, written_end_, written_bytes_, written_position_);
    seg->max_ts = last_commit_ts_;
    segments_.push_back(seg);
    written_segment_ = seg;
    written_bytes_ = 0;
  }
  if (active_->index_fd >= 0) {
    ::close(active_->index_fd);
    active_->index_fd = -1;
  }
  active_ = seg;
  active_size_ = 0;
  index_size_ = 0;
  last_index_pos_ = 0;
  active_indexed_ = false;
  enforceRetention();
  return Status::OK();
}

Status ChangeLog::writeBatch(bool commit) {
  if (batch_count_ == 0) return Status::OK();
  if (!cctx_) {
    ZSTD_CCtx* c = ZSTD_createCCtx();
    cctx_.reset(c, [](void* p) { ZSTD_freeCCtx(static_cast<ZSTD_CCtx*>(p)); });
    // Level 1 gets a smaller match table and longer minimum matches (see the header): faster,
    // and on these records no larger.
    const bool tuned = options_.compression_level == 1;
    for (auto [param, value] :
         {std::pair{ZSTD_c_compressionLevel, options_.compression_level},
          std::pair{ZSTD_c_hashLog, tuned ? 12 : 0}, std::pair{ZSTD_c_minMatch, tuned ? 7 : 0}}) {
      size_t rc = ZSTD_CCtx_setParameter(c, param, value);  // 0: the level's own value
      if (ZSTD_isError(rc))
        return fail(
            Status::Internal(std::string("change log: setting up zstd: ") + ZSTD_getErrorName(rc)));
    }
  }
  if (batch_.size() > kMaxRaw)
    return fail(Status::Unsupported("change log: one batch of " + std::to_string(batch_.size()) +
                                    " bytes (a single row larger than 2 GiB) at offset " +
                                    std::to_string(batch_base_)));
  frame_.resize(kHeader + ZSTD_compressBound(batch_.size()));
  size_t n = ZSTD_compress2(static_cast<ZSTD_CCtx*>(cctx_.get()), frame_.data() + kHeader,
                            frame_.size() - kHeader, batch_.data(), batch_.size());
  if (ZSTD_isError(n))
    return fail(
        Status::Internal(std::string("change log: compressing a batch: ") + ZSTD_getErrorName(n)));
  frame_.resize(kHeader + n);
  std::string head;
  putFixed32(&head, kMagic);
  putFixed32(&head, static_cast<uint32_t>(kFixed + n));
  putFixed32(&head, 0);  // crc, below
  putFixed64(&head, static_cast<uint64_t>(batch_base_));
  putFixed32(&head, batch_count_);
  head.push_back(static_cast<char>((commit ? kFlagCommit : 0) | (batch_begins_ ? kFlagBegin : 0)));
  putFixed64(&head, static_cast<uint64_t>(batch_max_ts_));
  putFixed32(&head, static_cast<uint32_t>(batch_.size()));
  std::memcpy(frame_.data(), head.data(), kHeader);
  storeFixed32(frame_.data() + kPrefix, dts::crc32(std::string_view(frame_).substr(kPrefix + 4)));
  Status st = pwriteAll(active_->fd, frame_.data(), frame_.size(), active_size_, active_->path);
  if (!st.ok())
    return fail(st.withContext("change log batch at offset " + std::to_string(batch_base_)));
  active_size_ += frame_.size();
  batches_.fetch_add(1, std::memory_order_relaxed);
  batch_.clear();
  batch_count_ = 0;
  batch_begins_ = false;
  batch_max_ts_ = 0;
  batch_commits_ = 0;
  return Status::OK();
}

Status ChangeLog::commitBatch() {
  if (batch_count_ == 0) return Status::OK();
  const int64_t end = batch_base_ + batch_count_;
  const int64_t max_ts = batch_max_ts_;
  DTS_RETURN_IF_ERROR(writeBatch(/*commit=*/true));
  {
    std::lock_guard<std::mutex> lock(mu_);
    active_->max_ts = std::max(active_->max_ts, max_ts);
    written_end_ = end;
    written_bytes_ = active_size_;
    written_position_ = position_.has_value() ? position_->toString() : "";
    written_segment_ = active_;
  }
  sync_cv_.notify_all();
  return Status::OK();
}

Status ChangeLog::writeCommitted() {
  if (batch_commits_ == 0) return Status::OK();
  if (!in_txn_) return commitBatch();
  // The open transaction's records stay for its next piece: a new batch that begins with it.
  std::string rest = batch_.substr(txn_batch_pos_);
  const uint32_t rest_count = batch_count_ - txn_batch_count_;
  batch_.resize(txn_batch_pos_);
  batch_count_ = txn_batch_count_;
  batch_max_ts_ = txn_prefix_max_ts_;
  DTS_RETURN_IF_ERROR(commitBatch());
  batch_ = std::move(rest);
  batch_count_ = rest_count;
  batch_base_ = txn_begin_offset_;
  batch_begins_ = true;
  batch_max_ts_ = txn_max_ts_;
  txn_batch_pos_ = 0;
  txn_batch_count_ = 0;
  txn_prefix_max_ts_ = 0;
  txn_starts_batch_ = true;
  txn_begin_pos_ = active_size_;
  return Status::OK();
}

size_t ChangeLog::beginRecord(int64_t ts, std::string_view key) {
  if (batch_count_ == 0) batch_base_ = next_offset_;
  putFixed64(&batch_, static_cast<uint64_t>(ts));
  putFixed32(&batch_, static_cast<uint32_t>(key.size()));
  batch_.append(key);
  putFixed32(&batch_, 0);  // the value's length, set by endRecord
  return batch_.size();
}

Status ChangeLog::endRecord(int64_t ts, size_t value_start, bool commit) {
  storeFixed32(batch_.data() + value_start - 4, static_cast<uint32_t>(batch_.size() - value_start));
  ++batch_count_;
  batch_max_ts_ = std::max(batch_max_ts_, ts);
  if (in_txn_) txn_max_ts_ = std::max(txn_max_ts_, ts);
  ++next_offset_;
  if (commit) {
    ++batch_commits_;
    return Status::OK();
  }
  if (batch_.size() < options_.batch_bytes) return Status::OK();
  // A batch that holds a commit marker ends with one (see the header): the transactions
  // before the open one go first.
  if (batch_commits_ > 0) {
    DTS_RETURN_IF_ERROR(writeCommitted());
    if (batch_.size() < options_.batch_bytes) return Status::OK();
  }
  return writeBatch(false);
}

namespace {

std::string txId(const pipeline::Transaction& piece) {
  if (!piece.gtid.empty()) return piece.gtid;
  return piece.begin.file + ":" + std::to_string(piece.begin.offset);
}

void appendString(std::string_view s, std::string* out) {
  mysql::Value v;
  v.kind = mysql::Value::Kind::kString;
  v.s = std::string(s);
  pipeline::NdjsonWriter::appendValue(v, nullptr, out);
}

}  // namespace

// The fields every record of a piece repeats, encoded once per piece: `,"gtid":G` and the
// transaction id; the source file is re-encoded only when it changes.
void ChangeLog::beginPieceText(const pipeline::Transaction& piece) {
  piece_gtid_json_.assign(",\"gtid\":");
  if (piece.gtid.empty())
    piece_gtid_json_.append("null");
  else
    pipeline::appendJsonString(piece.gtid, &piece_gtid_json_);
  piece_tx_json_.clear();
  pipeline::appendJsonString(txId(piece), &piece_tx_json_);
}

void ChangeLog::appendTxFields(uint64_t seq, int64_t ts, const mysql::BinlogPosition& at,
                               std::string* out, uint64_t table_seq) {
  out->append(piece_gtid_json_);
  if (at.file != file_) {
    file_ = at.file;
    file_json_.clear();
    pipeline::appendJsonString(file_, &file_json_);
  }
  out->append(",\"file\":");
  out->append(file_json_);
  out->append(",\"pos\":");
  appendInt(static_cast<int64_t>(at.offset), out);
  out->append(",\"ts_ms\":");
  appendInt(ts, out);
  out->append(",\"tx\":{\"id\":");
  out->append(piece_tx_json_);
  out->append(",\"seq\":");
  appendInt(static_cast<int64_t>(seq), out);
  if (table_seq > 0) {
    out->append(",\"table_seq\":");
    appendInt(static_cast<int64_t>(table_seq), out);
  }
  out->push_back('}');
}

const ChangeLog::TableText& ChangeLog::tableText(const pipeline::ChangeEvent& ev) {
  const mysql::TableInfo* table = ev.table_info.get();
  auto it = table_text_.find(table);
  if (it != table_text_.end() && it->second.database == ev.database && it->second.table == ev.table)
    return it->second;
  // Bounded: a long-running task that sees many table versions starts over.
  if (table_text_.size() >= 4096) table_text_.clear();
  TableText& t = table_text_[table];
  t.info = ev.table_info;  // keeps the address from being reused by another definition
  t.database = ev.database;
  t.table = ev.table;
  t.names.assign(",\"db\":");
  pipeline::appendJsonString(ev.database, &t.names);
  t.names.append(",\"table\":");
  if (ev.table.empty())
    t.names.append("null");
  else
    pipeline::appendJsonString(ev.table, &t.names);
  t.keys = pipeline::NdjsonWriter::imageKeys(table);
  t.key_columns.clear();
  if (table != nullptr)
    for (size_t i : table->primary_key)
      if (i < table->columns.size()) t.key_columns.push_back(i);
  std::sort(t.key_columns.begin(), t.key_columns.end());
  t.columns.clear();
  if (table != nullptr) {
    t.columns.append(",\"pk\":");
    appendPrimaryKeyNames(*table, &t.columns);
    t.columns.append(",\"types\":");
    appendTypes(*table, &t.columns);
  }
  return t;
}

Status ChangeLog::encodeMarker(bool begin, const pipeline::Transaction& piece, int64_t ts) {
  if (begin) {
    // Where the transaction starts in the batch being filled: writeCommitted() cuts there.
    txn_batch_pos_ = batch_.size();
    txn_batch_count_ = batch_count_;
    txn_prefix_max_ts_ = batch_max_ts_;
    txn_max_ts_ = ts;
    txn_starts_batch_ = batch_count_ == 0;
    if (txn_starts_batch_) batch_begins_ = true;
  }
  // The record is encoded in place, at the end of the batch.
  std::string& v = batch_;
  const size_t start = beginRecord(ts, "");
  v.append("{\"offset\":");
  appendInt(next_offset_, &v);
  v.append(begin ? ",\"op\":\"begin\"" : ",\"op\":\"commit\"");
  appendTxFields(txn_seq_++, ts, begin ? piece.begin : piece.end, &v);
  if (!begin) {
    v.append(",\"event_count\":");
    appendInt(static_cast<int64_t>(txn_seq_ - 2), &v);
    v.append(",\"position\":");
    pipeline::appendJsonString(position_.has_value() ? position_->toString() : "", &v);
    if (piece.xid.has_value()) {
      v.append(",\"xid\":");
      appendUInt(*piece.xid, &v);
    }
  }
  v.push_back('}');
  return endRecord(ts, start, /*commit=*/!begin);
}

Status ChangeLog::encodeEvent(const pipeline::ChangeEvent& ev, int64_t ts) {
  using Op = pipeline::ChangeEvent::Op;
  const mysql::TableInfo* table = ev.table_info.get();
  // The key first (it precedes the value in a record), then the value in place at the end of
  // the batch; an error takes the record out again.
  key_.clear();
  const TableText* text = nullptr;
  if (ev.op != Op::kDdl) {
    text = &tableText(ev);
    // {db, table, pk} with the key's values from the image that holds the row now.
    key_.push_back('{');
    key_.append(text->names, 1);  // without the leading ','
    key_.append(",\"pk\":");
    if (table == nullptr || table->primary_key.empty()) {
      key_.append("null");
    } else {
      // As appendImage would write the image's key columns, in column order. A partial after
      // image (a session's binlog_row_image=MINIMAL or NOBLOB) lacks a key column it did not
      // change: its value is the before image's, which such an image always logs.
      const mysql::RowImage& image = ev.op == Op::kDelete ? ev.before : ev.after;
      key_.push_back('{');
      bool first = true;
      for (size_t i : text->key_columns) {
        const mysql::RowImage* from = &image;
        if (i >= from->values.size() || !from->has(i)) from = &ev.before;
        if (i >= from->values.size() || !from->has(i)) continue;
        if (!first) key_.push_back(',');
        first = false;
        key_.append(text->keys[i]);
        pipeline::NdjsonWriter::appendValue(from->values[i], &table->columns[i], &key_);
      }
      key_.push_back('}');
    }
    key_.push_back('}');
  }
  const size_t record_start = batch_.size();
  std::string& v = batch_;
  const size_t start = beginRecord(ts, key_);
  auto undo = [&](Status st) {
    batch_.resize(record_start);
    return st;
  };
  v.append("{\"offset\":");
  appendInt(next_offset_, &v);
  v.append(",\"op\":\"");
  v.append(pipeline::opName(ev.op));
  v.push_back('"');
  if (ev.op == Op::kDdl) {
    v.append(",\"db\":");
    pipeline::appendJsonString(ev.database, &v);
    v.append(",\"table\":");
    if (!ev.table.empty())
      pipeline::appendJsonString(ev.table, &v);
    else if (table != nullptr && table->database == ev.database)
      pipeline::appendJsonString(table->table, &v);  // the one table the DDL defined
    else
      v.append("null");
    // Every selected table it names (a statement run from another database has table null).
    v.append(",\"tables\":[");
    for (size_t i = 0; i < ev.ddl_tables.size(); ++i) {
      v.append(i == 0 ? "{\"db\":" : ",{\"db\":");
      pipeline::appendJsonString(ev.ddl_tables[i].first, &v);
      v.append(",\"table\":");
      pipeline::appendJsonString(ev.ddl_tables[i].second, &v);
      v.push_back('}');
    }
    v.push_back(']');
    v.append(",\"sql\":");
    appendString(ev.sql, &v);
    if (ev.ddl_session != nullptr && ev.ddl_session->sql_mode.has_value()) {
      // How the text reads and what it means (ANSI_QUOTES, PIPES_AS_CONCAT, ...), for a
      // consumer that runs it again.
      v.append(",\"sql_mode\":");
      appendString(mysql::sqlModeNames(*ev.ddl_session->sql_mode, ev.ddl_session->flavor), &v);
    }
    if (table != nullptr) {
      // The table's definition after the statement, from the task's schema history: a consumer
      // that starts late reads the following rows with it, without asking the source.
      v.append(",\"definition\":");
      appendDefinition(*table, &v);
    }
  } else {
    v.append(text->names);
    v.append(text->columns);
    v.append(",\"before\":");
    if (ev.op == Op::kUpdate || ev.op == Op::kDelete) {
      Status st = ndjson_.appendImage(ev.before, table, text->keys, &v);
      if (!st.ok()) return undo(st);
    } else {
      v.append("null");
    }
    v.append(",\"after\":");
    if (ev.op == Op::kUpdate || ev.op == Op::kInsert) {
      Status st = ndjson_.appendImage(ev.after, table, text->keys, &v);
      if (!st.ok()) return undo(st);
    } else {
      v.append("null");
    }
  }
  // A row's place among the transaction's rows of its table (Debezium's data_collection_order).
  const uint64_t table_seq = ev.op == Op::kDdl ? 0 : ++txn_table_rows_[{ev.database, ev.table}];
  appendTxFields(txn_seq_++, ts, ev.position, &v, table_seq);
  if (ev.op != Op::kDdl) {
    v.append(",\"row\":");
    appendInt(ev.row_in_event, &v);
  }
  v.append(",\"server_id\":");
  appendInt(ev.server_id, &v);
  v.push_back('}');
  return endRecord(ts, start, false);
}

void ChangeLog::appendPrimaryKeyNames(const mysql::TableInfo& table, std::string* out) {
  if (table.primary_key.empty()) {
    out->append("null");
    return;
  }
  out->push_back('[');
  for (size_t k = 0; k < table.primary_key.size(); ++k) {
    if (k > 0) out->push_back(',');
    size_t i = table.primary_key[k];
    if (i < table.columns.size() && !table.columns[i].name.empty())
      pipeline::appendJsonString(table.columns[i].name, out);
    else
      pipeline::appendJsonString(positionalName(i), out);
  }
  out->push_back(']');
}

void ChangeLog::appendTypes(const mysql::TableInfo& table, std::string* out) {
  out->push_back('{');
  for (size_t i = 0; i < table.columns.size(); ++i) {
    const mysql::ColumnInfo& c = table.columns[i];
    if (i > 0) out->push_back(',');
    pipeline::appendJsonString(c.name.empty() ? positionalName(i) : c.name, out);
    out->push_back(':');
    if (!c.column_type.empty()) {
      pipeline::appendJsonString(c.column_type, out);
    } else {
      std::string t = binlogTypeName(c.type);
      if (c.is_unsigned) t += " unsigned";
      pipeline::appendJsonString(t, out);
    }
  }
  out->push_back('}');
}

void ChangeLog::appendDefinition(const mysql::TableInfo& table, std::string* out) {
  out->append("{\"db\":");
  pipeline::appendJsonString(table.database, out);
  out->append(",\"table\":");
  pipeline::appendJsonString(table.table, out);
  out->append(",\"columns\":");
  appendTypes(table, out);
  out->append(",\"pk\":");
  appendPrimaryKeyNames(table, out);
  out->push_back('}');
}

Status ChangeLog::apply(pipeline::Transaction piece) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!error_.ok()) return error_;
  }
  if (!writing_)
    return Status::FailedPrecondition("change log " + options_.dir +
                                      ": closed (restartWriting() to write again)");
  size_t bytes = sizeof(piece) + piece.gtid.size();
  for (const pipeline::ChangeEvent& ev : piece.events)
    bytes += sizeof(ev) + ev.memory_bytes + ev.sql.size();
  // Wake-ups are what a hand-off costs (measured: one per small transaction took more CPU than
  // encoding it), so the appender is woken only when it sleeps, and a full queue lets apply() go
  // on only once it is half empty.
  bool wake = false;
  std::vector<pipeline::Transaction> garbage;  // freed below, outside the lock
  {
    std::unique_lock<std::mutex> lock(queue_mu_);
    garbage.swap(garbage_);
    garbage_bytes_ = 0;
    if (queued_bytes_ > 0 && queued_bytes_ + bytes > options_.queue_bytes && !failed_) {
      ++room_waiters_;
      queue_room_.wait(lock, [&] {
        return queued_bytes_ == 0 || queued_bytes_ <= options_.queue_bytes / 2 || failed_;
      });
      --room_waiters_;
    }
    if (!failed_) {
      queue_.emplace_back(std::move(piece), bytes);
      queued_bytes_ += bytes;
      wake = appender_idle_;
    }
  }
  if (wake) queue_work_.notify_one();
  garbage.clear();
  std::lock_guard<std::mutex> lock(mu_);
  return error_;
}

void ChangeLog::startAppender() {
  std::lock_guard<std::mutex> lock(queue_mu_);
  appender_stop_ = false;
  appender_ = std::thread([this] { appenderLoop(); });
}

void ChangeLog::stopAppender() {
  {
    std::lock_guard<std::mutex> lock(queue_mu_);
    appender_stop_ = true;
  }
  queue_work_.notify_all();
  if (appender_.joinable()) appender_.join();
  std::lock_guard<std::mutex> lock(queue_mu_);
  garbage_.clear();
  garbage_bytes_ = 0;
}

void ChangeLog::appenderLoop() {
  pthread_setname_np(pthread_self(), "dts-log-append");  // top -H, perf
  // When the queue runs dry the appender first looks again after a short pause without asking
  // to be woken: during a backlog read a little slower than the log writes, that costs one
  // wake-up per pause instead of one per transaction (and the pause's pieces share a batch).
  constexpr auto kPause = std::chrono::milliseconds(1);
  bool paused = false;
  // The pieces being written: swapped with the queue, so both keep their storage from run to run.
  std::deque<std::pair<pipeline::Transaction, size_t>> work;
  std::unique_lock<std::mutex> lock(queue_mu_);
  for (;;) {
    if (queue_.empty()) {
      if (!paused && !appender_stop_) {
        paused = true;
        queue_work_.wait_for(lock, kPause, [&] { return appender_stop_ || !queue_.empty(); });
        continue;
      }
      // Everything given is encoded: the commits still in the batch go to disk now.
      if (batch_commits_ > 0 && !failed_) {
        lock.unlock();
        Status st = writeCommitted();
        if (!st.ok()) st = fail(st);  // sticky: the next apply(), flush() or close() returns it
        lock.lock();
        continue;
      }
      appender_busy_ = false;
      if (room_waiters_ > 0) queue_room_.notify_all();
      if (appender_stop_) return;
      appender_idle_ = true;
      queue_work_.wait(lock, [&] { return appender_stop_ || !queue_.empty(); });
      appender_idle_ = false;
      continue;
    }
    paused = false;
    if (options_.before_piece) {
      appender_busy_ = true;
      lock.unlock();
      options_.before_piece();
      lock.lock();
    }
    // Every piece waiting is taken at once (one piece when a test hook runs before each): two
    // lock round trips per run of pieces rather than per piece, so the reader's apply() seldom
    // finds the lock held.
    if (options_.before_piece) {
      work.push_back(std::move(queue_.front()));
      queue_.pop_front();
    } else {
      work.swap(queue_);
    }
    appender_busy_ = true;
    appender_holds_ = true;
    lock.unlock();
    size_t work_bytes = 0;
    for (auto& [piece, bytes] : work) {
      work_bytes += bytes;
      if (failed_) continue;
      Status st = applyNow(piece);
      if (!st.ok()) st = fail(st);
    }
    lock.lock();
    appender_holds_ = false;
    queued_bytes_ -= work_bytes;
    // The pieces' memory goes back to the thread that allocated it (apply() frees it): freeing
    // another thread's allocations cost the reader a third of its time in malloc.
    if (garbage_bytes_ < options_.queue_bytes) {
      for (auto& [piece, bytes] : work) garbage_.push_back(std::move(piece));
      garbage_bytes_ += work_bytes;
      work.clear();  // moved-from shells
    } else {
      lock.unlock();
      work.clear();
      lock.lock();
    }
    if (room_waiters_ > 0 && (queued_bytes_ <= options_.queue_bytes / 2 || failed_))
      queue_room_.notify_all();
  }
}

void ChangeLog::drainQueue() {
  std::unique_lock<std::mutex> lock(queue_mu_);
  ++room_waiters_;
  queue_room_.wait(lock, [&] { return queue_.empty() && !appender_busy_; });
  --room_waiters_;
}

Status ChangeLog::applyNow(const pipeline::Transaction& piece) {
  if (piece.whole() && piece.events.empty() && !in_txn_) {
    // Nothing of the task's tables: no records, but the position moves past it. It is written
    // with the next commit marker, or to skipped-position (saveSkippedPosition).
    return skipTransaction(piece);
  }
  if (piece.first_piece) {
    if (in_txn_)
      return fail(Status::Internal("change log " + options_.dir + ": transaction " + txId(piece) +
                                   " begins before the previous one ended"));
    // A segment rolls between transactions, with nothing of the old one left in the batch.
    if (batch_count_ > 0 && active_size_ + batch_.size() >= options_.segment_bytes)
      DTS_RETURN_IF_ERROR(commitBatch());
    DTS_RETURN_IF_ERROR(rollIfNeeded());
    in_txn_ = true;
    txn_seq_ = 0;
    txn_begin_offset_ = next_offset_;
    txn_begin_pos_ = active_size_;
    txn_rows_ = 0;
    txn_bytes_ = 0;
    txn_ddl_ = 0;
    txn_table_rows_.clear();
  } else if (!in_txn_) {
    return fail(Status::Internal("change log " + options_.dir + ": a piece of transaction " +
                                 txId(piece) + " without its first piece"));
  }
  // The commit time is known with the last piece only (see the header).
  int64_t ts = piece.last_piece ? std::max(commitMs(piece), last_commit_ts_) : last_commit_ts_;
  Status st;
  beginPieceText(piece);
  if (piece.first_piece) st = encodeMarker(true, piece, ts);
  for (const pipeline::ChangeEvent& ev : piece.events) {
    if (!st.ok()) break;
    st = encodeEvent(ev, ts);
    if (ev.op == pipeline::ChangeEvent::Op::kDdl) {
      ++txn_ddl_;
    } else {
      ++txn_rows_;
      txn_bytes_ += ev.payload_bytes;  // txn_table_rows_: counted by encodeEvent
    }
  }
  if (!st.ok()) return fail(st.withContext("change log " + options_.dir));
  if (!piece.last_piece) {
    std::lock_guard<std::mutex> lock(table_mu_);
    open_txn_ = txId(piece);
    open_rows_ = txn_rows_;
    return Status::OK();
  }

  if (options_.min_commit_ms > 0 && txn_begin_offset_ == 0 &&
      commitMs(piece) < options_.min_commit_ms)
    return discardTransaction();
  DTS_RETURN_IF_ERROR(advancePosition(piece));
  DTS_RETURN_IF_ERROR(encodeMarker(false, piece, ts));
  in_txn_ = false;
  last_commit_ts_ = ts;
  // Index entries point at batches that begin with the transaction's begin marker.
  if (txn_starts_batch_ &&
      (!active_indexed_ || txn_begin_pos_ - last_index_pos_ >= options_.index_interval)) {
    IndexEntry e{txn_begin_offset_, txn_begin_pos_, ts};
    std::string bytes;
    putFixed64(&bytes, static_cast<uint64_t>(e.offset));
    putFixed64(&bytes, e.pos);
    putFixed64(&bytes, static_cast<uint64_t>(e.ts));
    // The index is advisory (rebuilt on open): a failed write only costs lookups.
    if (pwriteAll(active_->index_fd, bytes.data(), bytes.size(), index_size_, active_->index_path)
            .ok())
      index_size_ += bytes.size();
    last_index_pos_ = txn_begin_pos_;
    active_indexed_ = true;
    std::lock_guard<std::mutex> lock(mu_);
    active_->index.push_back(e);
  }
  // Group commit: the batch goes to disk once full, or once the queue is empty (appenderLoop),
  // so that a backlog of small transactions costs one write, one compression and one fsync
  // per batch rather than per transaction.
  if (batch_.size() >= options_.batch_bytes) DTS_RETURN_IF_ERROR(commitBatch());
  transactions_.fetch_add(1, std::memory_order_relaxed);
  rows_.fetch_add(txn_rows_, std::memory_order_relaxed);
  bytes_.fetch_add(txn_bytes_, std::memory_order_relaxed);
  ddl_.fetch_add(txn_ddl_, std::memory_order_relaxed);
  {
    std::lock_guard<std::mutex> lock(table_mu_);
    open_txn_.clear();
    open_rows_ = 0;
    for (const auto& [t, n] : txn_table_rows_) table_rows_[t] += n;
    double commit = sourceCommitMs(piece.timestamp, piece.commit_us, piece.received);
    double now = static_cast<double>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                         options_.clock->now().time_since_epoch())
                                         .count());
    last_latency_ms_ = std::max(0.0, now - commit);
    max_latency_ms_ = std::max(max_latency_ms_, last_latency_ms_);
    last_source_commit_ms_ = std::max(last_source_commit_ms_, commit);
  }
  return Status::OK();
}

Status ChangeLog::advancePosition(const pipeline::Transaction& piece) {
  if (piece.gtid.empty()) return Status::OK();
  auto g = mysql::Gtid::parse(piece.gtid);
  if (!g.ok()) return fail(g.status().withContext("change log: transaction GTID"));
  if (!position_.has_value()) position_.emplace(g->flavor());
  Status st = position_->add(*g);
  if (!st.ok()) return fail(st.withContext("change log: advancing the position"));
  return Status::OK();
}

Status ChangeLog::skipTransaction(const pipeline::Transaction& piece) {
  if (piece.gtid.empty()) return Status::OK();
  DTS_RETURN_IF_ERROR(advancePosition(piece));
  // Commits still in the batch: the position goes to disk with them (commitBatch).
  if (batch_commits_ > 0) return Status::OK();
  {
    // Nothing before it waits: the log is as fresh as this source commit (a source busy only
    // with tables the task does not record sends no heartbeat to say it).
    std::lock_guard<std::mutex> lock(table_mu_);
    last_source_commit_ms_ = std::max(
        last_source_commit_ms_, sourceCommitMs(piece.timestamp, piece.commit_us, piece.received));
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    written_position_ = position_->toString();
    if (written_end_ != visible_end_) return Status::OK();
    durable_position_ = written_position_;
  }
  saveSkippedPosition(false);
  return Status::OK();
}

void ChangeLog::saveSkippedPosition(bool now) {
  int64_t end = 0;
  std::string position;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (written_end_ != visible_end_) return;  // a batch is not durable yet: it carries it
    end = visible_end_;
    position = durable_position_;
  }
  const auto t = std::chrono::steady_clock::now();
  if (position == skipped_saved_ || (!now && t - skipped_saved_at_ < std::chrono::seconds(1)))
    return;
  skipped_saved_at_ = t;
  const std::string path = options_.dir + "/skipped-position", tmp = path + ".tmp";
  const std::string text = nlohmann::json{{"end", end}, {"position", position}}.dump() + "\n";
  Status st;
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) {
    st = ioError("creating", tmp, errno);
  } else {
    st = pwriteAll(fd, text.data(), text.size(), 0, tmp);
    if (st.ok() && ::fsync(fd) != 0) st = ioError("syncing", tmp, errno);
    ::close(fd);
    if (st.ok() && ::rename(tmp.c_str(), path.c_str()) != 0) st = ioError("renaming", tmp, errno);
    if (st.ok()) st = syncDir(options_.dir);
  }
  // Not saving it loses nothing: a restart reads those transactions again and skips them.
  if (!st.ok()) {
    spdlog::warn("change log {}: the position of skipped transactions stays in memory: {}",
                 options_.dir, st.toString());
    return;
  }
  skipped_saved_ = position;
}

void ChangeLog::forgetOpenTransaction() {
  std::lock_guard<std::mutex> lock(table_mu_);
  open_txn_.clear();
  open_rows_ = 0;
}

Status ChangeLog::discardTransaction() {
  batch_.clear();
  batch_count_ = 0;
  batch_begins_ = false;
  batch_max_ts_ = 0;
  batch_commits_ = 0;
  in_txn_ = false;
  forgetOpenTransaction();
  next_offset_ = txn_begin_offset_;
  if (active_size_ != txn_begin_pos_) {
    if (::ftruncate(active_->fd, static_cast<off_t>(txn_begin_pos_)) != 0)
      return fail(ioError("truncating", active_->path, errno));
    active_size_ = txn_begin_pos_;
  }
  return Status::OK();
}

Status ChangeLog::flush() {
  drainQueue();
  std::unique_lock<std::mutex> lock(mu_);
  sync_cv_.wait(lock, [&] { return !error_.ok() || visible_end_ >= written_end_; });
  return error_;
}

Status ChangeLog::close() {
  if (!writing_) {
    std::lock_guard<std::mutex> lock(mu_);
    return error_;
  }
  Status st = flush();
  stopAppender();
  stopSyncer();
  writing_ = false;
  if (st.ok()) saveSkippedPosition(true);
  // A transaction whose last piece never came, and anything written but not durable, is cut.
  Status cut = cutToDurable();
  // Keep retention going for a log that is only read now.
  Status started = startSyncer();
  if (!st.ok()) return st;
  if (!cut.ok()) return cut;
  return started;
}

Status ChangeLog::cutToDurable() {
  uint64_t keep = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    keep = active_->visible_bytes;
    written_end_ = visible_end_;
    written_bytes_ = keep;
    written_position_ = durable_position_;
    written_segment_ = active_;
    std::erase_if(active_->index, [&](const IndexEntry& e) { return e.pos >= keep; });
  }
  batch_.clear();
  batch_count_ = 0;
  batch_begins_ = false;
  batch_max_ts_ = 0;
  batch_commits_ = 0;
  in_txn_ = false;
  forgetOpenTransaction();
  next_offset_ = visible_end_;
  if (active_size_ != keep) {
    if (::ftruncate(active_->fd, static_cast<off_t>(keep)) != 0 || ::fsync(active_->fd) != 0)
      return ioError("truncating", active_->path, errno);
    active_size_ = keep;
  }
  DTS_RETURN_IF_ERROR(resetPosition());
  return rewriteActiveIndex();
}

Status ChangeLog::restartWriting() {
  if (writing_) DTS_RETURN_IF_ERROR(close());
  stopAppender();
  stopSyncer();
  {
    std::lock_guard<std::mutex> lock(mu_);
    error_ = Status::OK();
    failed_ = false;
  }
  DTS_RETURN_IF_ERROR(cutToDurable());
  DTS_RETURN_IF_ERROR(startSyncer());
  writing_ = true;
  startAppender();
  return Status::OK();
}

std::string ChangeLog::committedPosition() const {
  std::lock_guard<std::mutex> lock(mu_);
  return durable_position_;
}

Result<std::optional<mysql::GtidPosition>> ChangeLog::resumePosition() const {
  const std::string text = committedPosition();
  auto p = mysql::GtidPosition::parseStored(text);
  if (!p.ok()) {
    return Status::Corruption("change log " + options_.dir + ": the durable position '" + text +
                              "' does not parse: " + p.status().message());
  }
  return p;
}

std::optional<mysql::GtidPosition> ChangeLog::durablePosition() const {
  // Positions this log wrote always parse; resumePosition() reports one that does not.
  auto p = resumePosition();
  return p.ok() ? *p : std::nullopt;
}

Status ChangeLog::failure() const {
  std::lock_guard<std::mutex> lock(mu_);
  return error_;
}

SinkStats ChangeLog::stats() const {
  SinkStats s;
  s.transactions_applied = transactions_.load();
  s.rows_applied = rows_.load();
  s.bytes_applied = bytes_.load();
  s.ddl_applied = ddl_.load();
  s.batches = batches_.load();
  s.log_first_offset = firstOffset();
  s.log_end_offset = endOffset();
  s.log_disk_bytes = diskBytes();
  bool busy = false;
  {
    // Transactions, not pieces: a transaction in pieces counts once, by its first piece, or as
    // the one the appender is writing (the pieces it holds count as one, as before).
    std::lock_guard<std::mutex> lock(queue_mu_);
    for (const auto& [piece, bytes] : queue_) s.queued_transactions += piece.first_piece ? 1 : 0;
    busy = appender_holds_;
  }
  std::lock_guard<std::mutex> lock(table_mu_);
  if (busy || !open_txn_.empty()) ++s.queued_transactions;
  s.last_latency_ms = last_latency_ms_;
  s.max_latency_ms = max_latency_ms_;
  // The engine's lag (task status, metrics) is measured from it, as for the MySQL applier.
  s.last_source_commit_ms = last_source_commit_ms_;
  s.open_transaction_gtid = open_txn_;
  s.open_transaction_rows = open_rows_;
  return s;
}

std::vector<TableChanges> ChangeLog::changesByTable() const {
  std::lock_guard<std::mutex> lock(table_mu_);
  std::vector<TableChanges> out;
  for (const auto& [t, n] : table_rows_) out.push_back(TableChanges{t.first, t.second, n});
  return out;
}

int64_t ChangeLog::firstOffset() const {
  std::lock_guard<std::mutex> lock(mu_);
  return segments_.empty() ? visible_end_ : std::min(segments_.front()->base, visible_end_);
}

int64_t ChangeLog::endOffset() const {
  std::lock_guard<std::mutex> lock(mu_);
  return visible_end_;
}

int64_t ChangeLog::waitBeyond(int64_t offset, std::chrono::milliseconds timeout) const {
  std::unique_lock<std::mutex> lock(mu_);
  grew_.wait_for(lock, timeout, [&] { return visible_end_ > offset || removed_.load(); });
  return visible_end_;
}

void ChangeLog::markRemoved() {
  std::lock_guard<std::mutex> lock(mu_);
  removed_.store(true);
  grew_.notify_all();
}

uint64_t ChangeLog::diskBytes() const {
  std::lock_guard<std::mutex> lock(mu_);
  uint64_t total = 0;
  for (const auto& s : segments_) total += s->visible_bytes;
  return total;
}

size_t ChangeLog::segmentCount() const {
  std::lock_guard<std::mutex> lock(mu_);
  return segments_.size();
}

namespace {

Status outsideLog(const std::string& dir, int64_t offset, int64_t first, int64_t end) {
  return Status::NotFound("change log " + dir + ": offset " + std::to_string(offset) +
                          " is outside the log (first offset " + std::to_string(first) +
                          ", end offset " + std::to_string(end) + ")");
}

// Where reading `offset` starts: the segment holding it, the file position of the last index
// entry at or before it (0: the segment's start), the offset of the batch there (when `start`)
// and the segment's visible bytes. REQUIRES: the segment list's lock; offset at or past the
// first segment's base.
void locate(const std::vector<std::shared_ptr<ChangeLog::Segment>>& segments, int64_t offset,
            std::shared_ptr<ChangeLog::Segment>* seg, uint64_t* pos, uint64_t* limit,
            int64_t* start = nullptr) {
  auto it = std::upper_bound(
      segments.begin(), segments.end(), offset,
      [](int64_t off, const std::shared_ptr<ChangeLog::Segment>& s) { return off < s->base; });
  *seg = *std::prev(it);
  auto idx = std::upper_bound((*seg)->index.begin(), (*seg)->index.end(), offset,
                              [](int64_t off, const IndexEntry& e) { return off < e.offset; });
  if (start != nullptr) *start = (*seg)->base;
  if (idx != (*seg)->index.begin()) {
    *pos = std::prev(idx)->pos;
    if (start != nullptr) *start = std::prev(idx)->offset;
  }
  *limit = (*seg)->visible_bytes;
}

}  // namespace

Result<std::vector<LogRecord>> ChangeLog::read(int64_t from, size_t max_bytes) const {
  std::shared_ptr<Segment> seg;
  uint64_t pos = 0, limit = 0;
  int64_t end = 0, expected = -1;
  {
    std::lock_guard<std::mutex> lock(mu_);
    end = visible_end_;
    int64_t first = segments_.empty() ? end : std::min(segments_.front()->base, end);
    if (from < first || from > end) return outsideLog(options_.dir, from, first, end);
    if (from == end) return std::vector<LogRecord>{};
    locate(segments_, from, &seg, &pos, &limit, &expected);
  }
  std::vector<LogRecord> out;
  size_t total = 0;
  bool full = false;
  // Batches wholly before `from` (the index points at a transaction's begin, which may be far
  // back in a large one) are passed by their headers alone, not read, checked and decompressed:
  // reading a large transaction piece by piece stays linear. The headers passed must chain from
  // the index entry to the first batch read, whose offset its CRC vouches for; a break in the
  // chain is corruption, never a skipped record.
  bool skipping = true;  // until the first batch read whole
  bool passed = false;   // a batch was passed by its header
  while (!full) {
    if (pos >= limit) {
      // The next segment, if the log goes on.
      std::lock_guard<std::mutex> lock(mu_);
      auto it = std::upper_bound(
          segments_.begin(), segments_.end(), seg->base,
          [](int64_t off, const std::shared_ptr<Segment>& s) { return off < s->base; });
      if (it == segments_.end()) break;
      seg = *it;
      pos = 0;
      limit = seg->visible_bytes;
      continue;
    }
    if (skipping) {
      // A header that cannot be read is left to readBatch, which names what is wrong.
      auto h = peekBatch(*seg, pos, limit);
      if (h.ok() && h->base == expected && h->base + h->count <= from) {
        expected = h->base + h->count;
        passed = true;
        pos = h->next;
        continue;
      }
    }
    DTS_ASSIGN_OR_RETURN(Batch b, readBatch(*seg, pos, limit, true));
    batches_decompressed_.fetch_add(1, std::memory_order_relaxed);
    if (skipping && passed && b.base != expected)
      return Status::Corruption("change log segment " + seg->path + ": batch at byte " +
                                std::to_string(pos) + " holds offset " + std::to_string(b.base) +
                                " where the batches before it end at " + std::to_string(expected));
    skipping = false;
    if (b.base >= end) break;
    if (b.base + b.count > from) {
      DTS_RETURN_IF_ERROR(
          forEachRecord(b, seg->path, pos,
                        [&](int64_t off, int64_t ts, std::string_view key, std::string_view value) {
                          if (off < from) return true;
                          if (off >= end) {
                            full = true;
                            return false;
                          }
                          size_t size = key.size() + value.size();
                          if (!out.empty() && total + size > max_bytes) {
                            full = true;
                            return false;
                          }
                          out.push_back(LogRecord{off, ts, std::string(key), std::string(value)});
                          total += size;
                          return true;
                        }));
    }
    if (b.base + b.count >= end) break;
    pos = b.next;
  }
  return out;
}

Result<LogRecord> ChangeLog::commitMarkerOf(int64_t offset) const {
  std::shared_ptr<Segment> seg;
  uint64_t pos = 0, limit = 0;
  int64_t end = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    end = visible_end_;
    int64_t first = segments_.empty() ? end : std::min(segments_.front()->base, end);
    if (offset < first || offset >= end) return outsideLog(options_.dir, offset, first, end);
    locate(segments_, offset, &seg, &pos, &limit);
  }
  {
    std::lock_guard<std::mutex> lock(commit_cache_mu_);
    if (commit_cache_from_ >= 0 && commit_cache_from_ <= offset && offset <= commit_cache_.offset)
      return commit_cache_;
  }
  // A transaction never spans segments, and a batch that holds a commit marker ends with one
  // (flag bit 0): the first such batch that reaches `offset` holds the marker.
  while (pos < limit) {
    DTS_ASSIGN_OR_RETURN(Batch head, peekBatch(*seg, pos, limit));
    if (head.base >= end) break;
    if (head.base + head.count > offset && (head.flags & kFlagCommit)) {
      DTS_ASSIGN_OR_RETURN(Batch b, readBatch(*seg, pos, limit, true));
      std::optional<LogRecord> found;
      DTS_RETURN_IF_ERROR(
          forEachRecord(b, seg->path, pos,
                        [&](int64_t off, int64_t ts, std::string_view key, std::string_view value) {
                          if (off < offset || markerOf(key, value) != Marker::kCommit) return true;
                          found = LogRecord{off, ts, std::string(key), std::string(value)};
                          return false;
                        }));
      auto bad = [&](const std::string& what) {
        return Status::Corruption("change log segment " + seg->path + ": batch at byte " +
                                  std::to_string(pos) + ": " + what);
      };
      if (!found) return bad("flagged as ending a transaction, without a commit marker");
      // Its transaction began tx.seq records before it: at or before `offset`, or a commit
      // marker was passed over (a flag that lies).
      const auto j = nlohmann::json::parse(found->value, nullptr, /*allow_exceptions=*/false);
      int64_t seq = -1;
      if (j.is_object() && j.contains("tx") && j["tx"].is_object() && j["tx"].contains("seq") &&
          j["tx"]["seq"].is_number_integer())
        seq = j["tx"]["seq"].get<int64_t>();
      if (seq < 0 || found->offset - seq > offset)
        return bad("the commit marker at offset " + std::to_string(found->offset) +
                   " does not close the transaction holding offset " + std::to_string(offset));
      std::lock_guard<std::mutex> lock(commit_cache_mu_);
      commit_cache_from_ = offset;
      commit_cache_ = *found;
      return std::move(*found);
    }
    pos = head.next;
  }
  return Status::Corruption("change log segment " + seg->path + ": no commit marker after offset " +
                            std::to_string(offset));
}

Result<int64_t> ChangeLog::offsetForTime(int64_t ms) const {
  std::vector<std::shared_ptr<Segment>> segs;
  std::vector<uint64_t> starts;
  int64_t end = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    end = visible_end_;
    for (const auto& s : segments_) {
      if (s->max_ts < ms) continue;
      uint64_t start = 0;
      for (const IndexEntry& e : s->index) {
        if (e.ts >= ms || e.offset >= end) break;
        start = e.pos;
      }
      segs.push_back(s);
      starts.push_back(start);
    }
  }
  for (size_t i = 0; i < segs.size(); ++i) {
    const Segment& seg = *segs[i];
    uint64_t limit = seg.visible_bytes;
    uint64_t pos = starts[i];
    int64_t begin = -1;
    while (pos < limit) {
      DTS_ASSIGN_OR_RETURN(Batch b, readBatch(seg, pos, limit, false));
      if (b.base >= end) break;
      if (b.flags & kFlagBegin) begin = b.base;
      if ((b.flags & kFlagCommit) && b.max_ts >= ms) {
        // The batch's transactions (one or more, the last ending the batch): the first whose
        // commit marker is at or after ms. A commit marker carries its transaction's time.
        DTS_ASSIGN_OR_RETURN(Batch whole, readBatch(seg, pos, limit, true));
        int64_t found = -1;
        DTS_RETURN_IF_ERROR(forEachRecord(
            whole, seg.path, pos,
            [&](int64_t off, int64_t ts, std::string_view key, std::string_view value) {
              if (off >= end) return false;
              const Marker m = markerOf(key, value);
              if (m == Marker::kBegin) begin = off;
              if (m == Marker::kCommit && ts >= ms && begin >= 0) {
                found = begin;
                return false;
              }
              return true;
            }));
        if (found >= 0) return found;
      }
      pos = b.next;
    }
  }
  return end;
}

Result<std::shared_ptr<ChangeLog>> sharedChangeLog(const ChangeLogOptions& options) {
  std::error_code ec;
  std::string key = fs::weakly_canonical(fs::absolute(options.dir), ec).string();
  if (ec) key = options.dir;
  std::lock_guard<std::mutex> lock(registryMutex());
  auto& r = registry();
  if (auto it = r.find(key); it != r.end()) {
    if (auto live = it->second.lock()) return live;
  }
  DTS_ASSIGN_OR_RETURN(std::shared_ptr<ChangeLog> log, ChangeLog::open(options));
  r[key] = log;
  return log;
}

void forgetSharedChangeLog(const std::string& dir) {
  std::error_code ec;
  std::string key = fs::weakly_canonical(fs::absolute(dir), ec).string();
  if (ec) key = dir;
  std::lock_guard<std::mutex> lock(registryMutex());
  auto& r = registry();
  if (auto it = r.find(key); it != r.end()) {
    if (auto live = it->second.lock()) live->markRemoved();
    r.erase(it);
  }
}

namespace {

// The task's run's sink over a log that outlives it (readers keep it open across a pause and a
// resume): its counters are this run's, as every sink's, so the engine adds each change once.
class SharedChangeLogSink final : public Sink {
 public:
  explicit SharedChangeLogSink(std::shared_ptr<ChangeLog> log)
      : log_(std::move(log)), base_(log_->stats()) {
    for (const auto& t : log_->changesByTable()) base_tables_[{t.database, t.table}] = t.rows;
  }
  ~SharedChangeLogSink() override {
    if (!closed_) {
      Status st = log_->close();
      if (!st.ok()) spdlog::warn("closing change log {}: {}", log_->dir(), st.toString());
    }
  }
  Result<std::optional<mysql::GtidPosition>> resumePosition() const override {
    return log_->resumePosition();
  }
  Status apply(pipeline::Transaction piece) override { return log_->apply(std::move(piece)); }
  Status flush() override { return log_->flush(); }
  Status close() override {
    closed_ = true;
    return log_->close();
  }
  std::optional<mysql::GtidPosition> durablePosition() const override {
    return log_->durablePosition();
  }
  SinkStats stats() const override {
    SinkStats s = log_->stats();
    s.transactions_applied -= base_.transactions_applied;
    s.rows_applied -= base_.rows_applied;
    s.bytes_applied -= base_.bytes_applied;
    s.ddl_applied -= base_.ddl_applied;
    s.batches -= base_.batches;
    return s;
  }
  Status failure() const override { return log_->failure(); }
  std::vector<TableChanges> changesByTable() const override {
    std::vector<TableChanges> out = log_->changesByTable();
    for (auto& t : out) {
      auto it = base_tables_.find({t.database, t.table});
      if (it != base_tables_.end()) t.rows -= it->second;
    }
    return out;
  }

 private:
  std::shared_ptr<ChangeLog> log_;
  const SinkStats base_;  // the log's counters when this run began
  std::map<std::pair<std::string, std::string>, uint64_t> base_tables_;
  bool closed_ = false;
};

}  // namespace

Result<std::unique_ptr<Sink>> changeLogSink(std::shared_ptr<ChangeLog> log) {
  DTS_RETURN_IF_ERROR(log->restartWriting());
  return std::unique_ptr<Sink>(new SharedChangeLogSink(std::move(log)));
}

}  // namespace dts::sink
