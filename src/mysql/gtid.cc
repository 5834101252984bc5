#include "mysql/gtid.h"

#include <algorithm>
#include <charconv>

#include "common/strings.h"

namespace dts::mysql {
namespace {

template <typename T>
bool parseNumber(std::string_view s, T* out) {
  if (s.empty()) return false;
  auto res = std::from_chars(s.data(), s.data() + s.size(), *out);
  return res.ec == std::errc() && res.ptr == s.data() + s.size();
}

bool normalizeUuid(std::string_view s, std::string* out) {
  s = trim(s);
  if (s.size() != 36) return false;
  out->clear();
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (c != '-') return false;
      out->push_back('-');
      continue;
    }
    if (c >= 'A' && c <= 'F') c = static_cast<char>(c - 'A' + 'a');
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
    out->push_back(c);
  }
  return true;
}

}  // namespace

bool parseMySqlGtid(std::string_view gtid, std::string* uuid, uint64_t* gno) {
  gtid = trim(gtid);
  size_t colon = gtid.rfind(':');
  if (colon == std::string_view::npos) return false;
  return normalizeUuid(gtid.substr(0, colon), uuid) &&
         parseNumber(trim(gtid.substr(colon + 1)), gno) && *gno > 0;
}

bool parseMariaGtid(std::string_view gtid, uint32_t* domain, uint32_t* server, uint64_t* seq) {
  auto parts = split(trim(gtid), '-');
  return parts.size() == 3 && parseNumber(parts[0], domain) && parseNumber(parts[1], server) &&
         parseNumber(parts[2], seq);
}

Result<GtidSet> GtidSet::parse(std::string_view text) {
  return parse(text, text.find(':') != std::string_view::npos || trim(text).empty()
                         ? Flavor::kMySql
                         : Flavor::kMariaDb);
}

Result<GtidSet> GtidSet::parse(std::string_view text, Flavor flavor) {
  GtidSet set(flavor);
  text = trim(text);
  if (text.empty()) return set;
  for (std::string_view item : split(text, ',')) {
    item = trim(item);
    if (item.empty())
      return Status::InvalidArgument("empty element in GTID set '" + std::string(text) + "'");
    if (flavor == Flavor::kMariaDb) {
      uint32_t d, s;
      uint64_t q;
      if (!parseMariaGtid(item, &d, &s, &q))
        return Status::InvalidArgument("'" + std::string(item) +
                                       "' is not a MariaDB GTID (domain-server-seq)");
      if (set.maria_.count(d))
        return Status::InvalidArgument("GTID position names domain " + std::to_string(d) +
                                       " twice");
      set.maria_[d] = MariaPos{s, q};
      continue;
    }
    auto parts = split(item, ':');
    std::string uuid;
    if (parts.size() < 2 || !normalizeUuid(parts[0], &uuid))
      return Status::InvalidArgument("'" + std::string(item) +
                                     "' is not a MySQL GTID set element (uuid:interval)");
    for (size_t i = 1; i < parts.size(); ++i) {
      std::string_view iv = trim(parts[i]);
      size_t dash = iv.find('-');
      uint64_t first, last;
      bool ok = dash == std::string_view::npos ? parseNumber(iv, &first) && (last = first, true)
                                               : parseNumber(trim(iv.substr(0, dash)), &first) &&
                                                     parseNumber(trim(iv.substr(dash + 1)), &last);
      if (!ok || first == 0 || last < first)
        return Status::InvalidArgument("bad interval '" + std::string(iv) +
                                       "' in GTID set element '" + std::string(item) + "'");
      set.addInterval(uuid, first, last);
    }
  }
  return set;
}

void GtidSet::addInterval(const std::string& uuid, uint64_t first, uint64_t last) {
  auto& ivs = mysql_[uuid];
  // Insert, then merge overlapping or adjacent intervals.
  auto it = std::lower_bound(ivs.begin(), ivs.end(), first,
                             [](const Interval& a, uint64_t v) { return a.first < v; });
  ivs.insert(it, Interval{first, last});
  std::vector<Interval> merged;
  merged.reserve(ivs.size());
  for (const auto& iv : ivs) {
    if (!merged.empty() &&
        (merged.back().last == UINT64_MAX || iv.first <= merged.back().last + 1)) {
      merged.back().last = std::max(merged.back().last, iv.last);
    } else {
      merged.push_back(iv);
    }
  }
  ivs = std::move(merged);
}

Status GtidSet::add(std::string_view gtid) {
  if (flavor_ == Flavor::kMariaDb) {
    uint32_t d, s;
    uint64_t q;
    if (!parseMariaGtid(gtid, &d, &s, &q))
      return Status::InvalidArgument("'" + std::string(gtid) +
                                     "' is not a MariaDB GTID (domain-server-seq)");
    auto it = maria_.find(d);
    if (it == maria_.end() || q > it->second.seq_no) maria_[d] = MariaPos{s, q};
    return Status::OK();
  }
  std::string uuid;
  uint64_t gno;
  if (!parseMySqlGtid(gtid, &uuid, &gno))
    return Status::InvalidArgument("'" + std::string(gtid) + "' is not a MySQL GTID (uuid:number)");
  auto& ivs = mysql_[uuid];
  // Fast path: extending the last interval by one, the common case while streaming.
  if (!ivs.empty() && ivs.back().last + 1 == gno) {
    ivs.back().last = gno;
    return Status::OK();
  }
  addInterval(uuid, gno, gno);
  return Status::OK();
}

Status GtidSet::merge(const GtidSet& other) {
  if (other.flavor_ != flavor_)
    return Status::InvalidArgument("cannot merge GTID sets of different flavours");
  for (const auto& [uuid, ivs] : other.mysql_)
    for (const auto& iv : ivs) addInterval(uuid, iv.first, iv.last);
  for (const auto& [d, pos] : other.maria_) {
    auto it = maria_.find(d);
    if (it == maria_.end() || pos.seq_no > it->second.seq_no) maria_[d] = pos;
  }
  return Status::OK();
}

bool GtidSet::contains(std::string_view gtid) const {
  if (flavor_ == Flavor::kMariaDb) {
    uint32_t d, s;
    uint64_t q;
    if (!parseMariaGtid(gtid, &d, &s, &q)) return false;
    auto it = maria_.find(d);
    return it != maria_.end() && q <= it->second.seq_no;
  }
  std::string uuid;
  uint64_t gno;
  if (!parseMySqlGtid(gtid, &uuid, &gno)) return false;
  auto it = mysql_.find(uuid);
  if (it == mysql_.end()) return false;
  const auto& ivs = it->second;
  auto iv = std::upper_bound(ivs.begin(), ivs.end(), gno,
                             [](uint64_t v, const Interval& a) { return v < a.first; });
  if (iv == ivs.begin()) return false;
  --iv;
  return gno >= iv->first && gno <= iv->last;
}

std::string GtidSet::toString() const {
  std::string out;
  if (flavor_ == Flavor::kMariaDb) {
    for (const auto& [d, pos] : maria_) {
      if (!out.empty()) out.push_back(',');
      out += std::to_string(d) + "-" + std::to_string(pos.server_id) + "-" +
             std::to_string(pos.seq_no);
    }
    return out;
  }
  for (const auto& [uuid, ivs] : mysql_) {
    if (ivs.empty()) continue;
    if (!out.empty()) out.push_back(',');
    out += uuid;
    for (const auto& iv : ivs) {
      out += ":" + std::to_string(iv.first);
      if (iv.last != iv.first) out += "-" + std::to_string(iv.last);
    }
  }
  return out;
}

}  // namespace dts::mysql
