#include "mysql/gtid.h"

#include <algorithm>
#include <charconv>
#include <initializer_list>

#include "common/byte_reader.h"
#include "common/strings.h"

namespace dts::mysql {
namespace {

// A whole decimal number below 2^64-1 (the largest value is reserved: an interval's exclusive
// end must fit in 64 bits).
bool parseNumber(std::string_view s, uint64_t* out) {
  if (s.empty()) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && p == s.data() + s.size() && *out != UINT64_MAX;
}

bool parseU32(std::string_view s, uint32_t* out) {
  uint64_t v = 0;
  if (!parseNumber(s, &v) || v > UINT32_MAX) return false;
  *out = static_cast<uint32_t>(v);
  return true;
}

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

void appendNumber(std::string* out, uint64_t v) {
  char buf[24];
  auto [p, ec] = std::to_chars(buf, buf + sizeof(buf), v);
  out->append(buf, p);
}

// Joins message parts by appending: `"literal" + std::string(...)` makes GCC 12 report a false
// -Wrestrict in Release builds (operator+ on an rvalue string inserts at its front).
std::string cat(std::initializer_list<std::string_view> parts) {
  std::string out;
  for (std::string_view p : parts) out.append(p);
  return out;
}

// Calls fn(item) for each comma-separated item of text, trimmed; stops at the first error.
template <typename Fn>
Status forEachItem(std::string_view text, Fn&& fn) {
  while (true) {
    size_t comma = text.find(',');
    DTS_RETURN_IF_ERROR(fn(trim(text.substr(0, comma))));
    if (comma == std::string_view::npos) return Status::OK();
    text.remove_prefix(comma + 1);
  }
}

}  // namespace

const char* gtidFlavorName(GtidFlavor flavor) {
  return flavor == GtidFlavor::kMariaDb ? "MariaDB" : "MySQL";
}

Result<GtidSource> GtidSource::mySqlUuid(std::string_view text) {
  GtidSource s;
  size_t j = 0;
  bool ok = text.size() == 36;
  for (size_t i = 0; ok && i < text.size();) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      ok = text[i] == '-';
      ++i;
      continue;
    }
    int hi = hexValue(text[i]);
    int lo = hexValue(text[i + 1]);
    ok = hi >= 0 && lo >= 0;
    s.uuid[j++] = static_cast<uint8_t>(hi << 4 | lo);
    i += 2;
  }
  if (!ok) return Status::InvalidArgument(cat({"'", text, "' is not a server UUID"}));
  return s;
}

std::string GtidSource::toString() const {
  if (flavor == GtidFlavor::kMariaDb) return std::to_string(domain);
  std::string out;
  appendUuid(uuid.data(), &out);
  return out;
}

Result<Gtid> Gtid::parse(std::string_view text) {
  std::string_view t = trim(text);
  Gtid g;
  size_t colon = t.find(':');
  if (colon != std::string_view::npos) {
    auto uuid = GtidSource::mySqlUuid(t.substr(0, colon));
    if (!uuid.ok() || !parseNumber(t.substr(colon + 1), &g.seq) || g.seq == 0)
      return Status::InvalidArgument(cat({"malformed MySQL GTID '", t, "'"}));
    g.source = *uuid;
    return g;
  }
  size_t d1 = t.find('-');
  size_t d2 = d1 == std::string_view::npos ? d1 : t.find('-', d1 + 1);
  g.source.flavor = GtidFlavor::kMariaDb;
  if (d2 == std::string_view::npos || !parseU32(t.substr(0, d1), &g.source.domain) ||
      !parseU32(t.substr(d1 + 1, d2 - d1 - 1), &g.server_id) ||
      !parseNumber(t.substr(d2 + 1), &g.seq)) {
    return Status::InvalidArgument(
        cat({"malformed GTID '", t, "' (expected uuid:N or domain-server-seq)"}));
  }
  return g;
}

std::string Gtid::toString() const {
  std::string out = source.toString();
  if (source.flavor == GtidFlavor::kMariaDb) {
    out.push_back('-');
    appendNumber(&out, server_id);
    out.push_back('-');
  } else {
    out.push_back(':');
  }
  appendNumber(&out, seq);
  return out;
}

// ---- GtidSet ----

Result<GtidSet> GtidSet::parse(std::string_view text) {
  GtidSet set;
  text = trim(text);
  if (text.empty()) return set;
  Status st = forEachItem(text, [&](std::string_view item) -> Status {
    auto bad = [&](const std::string& why) {
      return Status::InvalidArgument(cat({"GTID set item '", item, "': ", why}));
    };
    if (item.empty()) return Status::InvalidArgument(cat({"empty item in GTID set '", text, "'"}));
    size_t colon = item.find(':');
    if (colon == std::string_view::npos) {
      // A MariaDB position item: domain-server-seq stands for 1..seq of the domain.
      auto g = Gtid::parse(item);
      if (!g.ok()) return bad("expected uuid:intervals, domain:intervals or domain-server-seq");
      if (g->seq > 0) set.add(g->source, 1, g->seq);
      return Status::OK();
    }
    std::string_view key = trim(item.substr(0, colon));
    GtidSource source;
    if (key.size() == 36) {
      auto uuid = GtidSource::mySqlUuid(key);
      if (!uuid.ok()) return bad("not a server UUID");
      source = *uuid;
    } else if (!parseU32(key, &source.domain)) {
      return bad(cat({"'", key, "' is neither a server UUID nor a domain number"}));
    } else {
      source.flavor = GtidFlavor::kMariaDb;
    }
    // MySQL transaction numbers start at 1; MariaDB sequence numbers at 0.
    uint64_t lowest = source.flavor == GtidFlavor::kMySql ? 1 : 0;
    std::string_view rest = item.substr(colon + 1);
    while (true) {
      size_t next = rest.find(':');
      std::string_view iv = trim(rest.substr(0, next));
      size_t dash = iv.find('-');
      Interval range;
      bool ok = parseNumber(trim(iv.substr(0, dash)), &range.first);
      range.last = range.first;
      if (ok && dash != std::string_view::npos)
        ok = parseNumber(trim(iv.substr(dash + 1)), &range.last);
      if (!ok || range.first < lowest || range.last < range.first) {
        return bad(cat({"bad interval '", iv, "' (want a or a-b with ", std::to_string(lowest),
                        " <= a <= b)"}));
      }
      set.add(source, range.first, range.last);
      if (next == std::string_view::npos) break;
      rest.remove_prefix(next + 1);
    }
    return Status::OK();
  });
  if (!st.ok()) return st;
  return set;
}

const std::vector<GtidSet::Interval>* GtidSet::find(const GtidSource& source) const {
  // Sets hold a handful of sources: a scan beats a search.
  for (const Entry& e : sources_) {
    if (e.first == source) return &e.second;
  }
  return nullptr;
}

std::vector<GtidSet::Interval>& GtidSet::findOrInsert(const GtidSource& source) {
  for (Entry& e : sources_) {
    if (e.first == source) return e.second;
  }
  auto it = std::lower_bound(sources_.begin(), sources_.end(), source,
                             [](const Entry& e, const GtidSource& s) { return e.first < s; });
  return sources_.insert(it, Entry{source, {}})->second;
}

void GtidSet::add(const GtidSource& source, uint64_t first, uint64_t last) {
  std::vector<Interval>& v = findOrInsert(source);
  // Fast path: at or after the last interval, the in-order case of a stream being applied.
  if (v.empty() || first > v.back().last + 1) {
    v.push_back(Interval{first, last});
    return;
  }
  if (first >= v.back().first) {
    v.back().last = std::max(v.back().last, last);
    return;
  }
  // General case: the intervals [it, end) touch or overlap [first, last]; they become one.
  auto it = std::partition_point(v.begin(), v.end(),
                                 [&](const Interval& iv) { return iv.last + 1 < first; });
  auto end = it;
  Interval merged{first, last};
  while (end != v.end() && end->first <= last + 1) {
    merged.first = std::min(merged.first, end->first);
    merged.last = std::max(merged.last, end->last);
    ++end;
  }
  if (it == end) {
    v.insert(it, merged);
  } else {
    *it = merged;
    v.erase(it + 1, end);
  }
}

void GtidSet::addAll(const GtidSet& other) {
  for (const auto& [source, theirs] : other.sources_) {
    std::vector<Interval>& mine = findOrInsert(source);
    if (mine.empty()) {
      mine = theirs;
      continue;
    }
    if (theirs.size() <= 2) {
      for (const Interval& iv : theirs) add(source, iv.first, iv.last);
      continue;
    }
    // Both sorted: one merge pass.
    std::vector<Interval> out;
    out.reserve(mine.size() + theirs.size());
    size_t i = 0, j = 0;
    while (i < mine.size() || j < theirs.size()) {
      const Interval& next =
          j == theirs.size() || (i < mine.size() && mine[i].first < theirs[j].first) ? mine[i++]
                                                                                     : theirs[j++];
      if (!out.empty() && next.first <= out.back().last + 1) {
        out.back().last = std::max(out.back().last, next.last);
      } else {
        out.push_back(next);
      }
    }
    mine = std::move(out);
  }
}

bool GtidSet::contains(const Gtid& gtid) const {
  const std::vector<Interval>* v = find(gtid.source);
  if (v == nullptr) return false;
  auto it = std::upper_bound(v->begin(), v->end(), gtid.seq,
                             [](uint64_t seq, const Interval& iv) { return seq < iv.first; });
  return it != v->begin() && gtid.seq <= (it - 1)->last;
}

bool GtidSet::contains(std::string_view gtid) const {
  auto g = Gtid::parse(gtid);
  return g.ok() && contains(*g);
}

GtidSet GtidSet::minus(const GtidSet& other) const {
  GtidSet out;
  for (const auto& [source, mine] : sources_) {
    const std::vector<Interval>* theirs = other.find(source);
    if (theirs == nullptr) {
      out.sources_.emplace_back(source, mine);
      continue;
    }
    std::vector<Interval> left;
    size_t j = 0;
    for (const Interval& iv : mine) {
      uint64_t a = iv.first;
      bool gone = false;
      while (j < theirs->size() && (*theirs)[j].last < a) ++j;
      // Intervals of `theirs` that end inside [a, iv.last] cannot touch the next interval of
      // ours; the one that reaches past it may, so j stays on it.
      for (; j < theirs->size() && (*theirs)[j].first <= iv.last; ++j) {
        const Interval& cut = (*theirs)[j];
        if (cut.first > a) left.push_back(Interval{a, cut.first - 1});
        if (cut.last >= iv.last) {
          gone = true;
          break;
        }
        a = cut.last + 1;
      }
      if (!gone) left.push_back(Interval{a, iv.last});
    }
    if (!left.empty()) out.sources_.emplace_back(source, std::move(left));
  }
  return out;
}

size_t GtidSet::intervalCount() const {
  size_t n = 0;
  for (const auto& e : sources_) n += e.second.size();
  return n;
}

const std::vector<GtidSet::Interval>& GtidSet::intervals(const GtidSource& source) const {
  static const std::vector<Interval> kNone;
  const std::vector<Interval>* v = find(source);
  return v == nullptr ? kNone : *v;
}

std::optional<GtidFlavor> GtidSet::flavor() const {
  if (sources_.empty()) return std::nullopt;
  // Sorted MariaDB domains first: the first and last sources tell whether both flavours occur.
  const GtidFlavor first = sources_.front().first.flavor;
  if (sources_.back().first.flavor != first) return std::nullopt;
  return first;
}

std::vector<GtidSource> GtidSet::sources() const {
  std::vector<GtidSource> out;
  out.reserve(sources_.size());
  for (const auto& e : sources_) out.push_back(e.first);
  return out;
}

std::string GtidSet::toString() const {
  std::string out;
  for (const auto& [source, ivs] : sources_) {
    if (!out.empty()) out.push_back(',');
    out += source.toString();
    for (const Interval& iv : ivs) {
      out.push_back(':');
      appendNumber(&out, iv.first);
      if (iv.last != iv.first) {
        out.push_back('-');
        appendNumber(&out, iv.last);
      }
    }
  }
  return out;
}

Result<std::string> GtidSet::encodeMySqlDumpSet() const {
  std::string out;
  putUint(&out, sources_.size(), 8);
  for (const auto& [source, ivs] : sources_) {
    if (source.flavor != GtidFlavor::kMySql) {
      return Status::InvalidArgument(
          cat({"GTID set '", toString(), "' holds MariaDB domain ", std::to_string(source.domain),
               ": COM_BINLOG_DUMP_GTID takes MySQL sets only"}));
    }
    out.append(reinterpret_cast<const char*>(source.uuid.data()), source.uuid.size());
    putUint(&out, ivs.size(), 8);
    for (const Interval& iv : ivs) {
      putUint(&out, iv.first, 8);
      putUint(&out, iv.last + 1, 8);  // the wire format's end is exclusive
    }
  }
  return out;
}

// ---- GtidPosition ----

Result<std::optional<GtidPosition>> GtidPosition::parseStored(std::string_view text) {
  text = trim(text);
  if (text.empty()) return std::optional<GtidPosition>();
  const std::string_view first = text.substr(0, text.find(','));
  const GtidFlavor flavor =
      first.find(':') != std::string_view::npos ? GtidFlavor::kMySql : GtidFlavor::kMariaDb;
  DTS_ASSIGN_OR_RETURN(GtidPosition pos, parse(text, flavor));
  return std::optional<GtidPosition>(std::move(pos));
}

GtidPosition GtidPosition::mySql(GtidSet set) {
  GtidPosition pos(GtidFlavor::kMySql);
  pos.set_ = std::move(set);
  return pos;
}

Result<GtidPosition> GtidPosition::parse(std::string_view text, GtidFlavor flavor) {
  GtidPosition pos(flavor);
  text = trim(text);
  if (text.empty()) return pos;
  if (flavor == GtidFlavor::kMySql) {
    auto set = GtidSet::parse(text);
    if (!set.ok()) return set.status().withContext("MySQL GTID position");
    for (const GtidSource& s : set->sources()) {
      if (s.flavor != GtidFlavor::kMySql) {
        return Status::InvalidArgument(cat(
            {"MySQL GTID position '", text, "' names MariaDB domain ", std::to_string(s.domain)}));
      }
    }
    pos.set_ = std::move(*set);
    return pos;
  }
  Status st = forEachItem(text, [&](std::string_view item) -> Status {
    auto g = Gtid::parse(item);
    if (!g.ok() || g->flavor() != GtidFlavor::kMariaDb) {
      return Status::InvalidArgument(
          cat({"MariaDB GTID position '", text, "': '", item, "' is not domain-server-seq"}));
    }
    auto it =
        std::lower_bound(pos.last_.begin(), pos.last_.end(), g->source.domain,
                         [](const Gtid& a, uint32_t domain) { return a.source.domain < domain; });
    if (it != pos.last_.end() && it->source.domain == g->source.domain) {
      return Status::InvalidArgument(cat({"MariaDB GTID position '", text, "' names domain ",
                                          std::to_string(g->source.domain), " twice"}));
    }
    pos.last_.insert(it, *g);
    return Status::OK();
  });
  if (!st.ok()) return st;
  return pos;
}

bool GtidPosition::contains(const Gtid& gtid) const {
  if (flavor_ == GtidFlavor::kMySql) return set_.contains(gtid);
  if (gtid.flavor() != GtidFlavor::kMariaDb) return false;
  for (const Gtid& last : last_) {
    if (last.source.domain == gtid.source.domain) return gtid.seq <= last.seq;
  }
  return false;
}

Status GtidPosition::add(const Gtid& gtid) {
  if (gtid.flavor() != flavor_) {
    return Status::InvalidArgument(
        cat({"'", gtid.toString(), "' is not a ", gtidFlavorName(flavor_), " GTID"}));
  }
  if (flavor_ == GtidFlavor::kMySql) {
    set_.add(gtid);
    return Status::OK();
  }
  auto it =
      std::lower_bound(last_.begin(), last_.end(), gtid.source.domain,
                       [](const Gtid& a, uint32_t domain) { return a.source.domain < domain; });
  if (it == last_.end() || it->source.domain != gtid.source.domain) {
    last_.insert(it, gtid);
  } else if (gtid.seq > it->seq) {
    *it = gtid;
  }
  return Status::OK();
}

Status GtidPosition::merge(const GtidPosition& other) {
  if (other.flavor_ != flavor_) {
    return Status::InvalidArgument(
        cat({"cannot merge a ", gtidFlavorName(other.flavor_), " GTID position into a ",
             gtidFlavorName(flavor_), " one"}));
  }
  set_.addAll(other.set_);
  for (const Gtid& g : other.last_) DTS_RETURN_IF_ERROR(add(g));
  return Status::OK();
}

GtidSet GtidPosition::toSet() const {
  GtidSet out = set_;
  for (const Gtid& g : last_) {
    if (g.seq > 0) out.add(g.source, 1, g.seq);
  }
  return out;
}

std::string GtidPosition::toString() const {
  if (flavor_ == GtidFlavor::kMySql) return set_.toString();
  std::string out;
  for (const Gtid& g : last_) {
    if (!out.empty()) out.push_back(',');
    out += g.toString();
  }
  return out;
}

Result<std::string> GtidPosition::encodeMySqlDumpSet() const {
  if (flavor_ != GtidFlavor::kMySql)
    return Status::InvalidArgument("a MariaDB GTID position has no COM_BINLOG_DUMP_GTID form");
  return set_.encodeMySqlDumpSet();
}

}  // namespace dts::mysql
