#include "sink/gtid_ranges.h"

#include <algorithm>
#include <charconv>

#include "common/strings.h"

namespace dts::sink {

namespace {

bool parseU64(std::string_view s, uint64_t* out) {
  if (s.empty()) return false;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && ptr == s.data() + s.size();
}

bool isUuid(std::string_view s) {
  if (s.size() != 36) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (c != '-') return false;
    } else if (!isxdigit(static_cast<unsigned char>(c))) {
      return false;
    }
  }
  return true;
}

}  // namespace

Result<GtidId> parseGtid(std::string_view gtid) {
  gtid = trim(gtid);
  size_t colon = gtid.find(':');
  GtidId id;
  if (colon != std::string_view::npos) {
    std::string_view uuid = gtid.substr(0, colon);
    if (!isUuid(uuid) || !parseU64(gtid.substr(colon + 1), &id.seq) || id.seq == 0) {
      return Status::InvalidArgument("malformed MySQL GTID '" + std::string(gtid) + "'");
    }
    id.key = toLower(uuid);
    return id;
  }
  size_t d1 = gtid.find('-');
  size_t d2 = d1 == std::string_view::npos ? d1 : gtid.find('-', d1 + 1);
  uint64_t domain = 0, server = 0;
  if (d2 == std::string_view::npos || !parseU64(gtid.substr(0, d1), &domain) ||
      !parseU64(gtid.substr(d1 + 1, d2 - d1 - 1), &server) ||
      !parseU64(gtid.substr(d2 + 1), &id.seq) || domain > UINT32_MAX || server > UINT32_MAX) {
    return Status::InvalidArgument("malformed GTID '" + std::string(gtid) +
                                   "' (expected uuid:N or domain-server-seq)");
  }
  id.key = std::to_string(domain);
  id.mariadb = true;
  id.server_id = static_cast<uint32_t>(server);
  return id;
}

Result<GtidRanges> GtidRanges::parse(std::string_view text) {
  GtidRanges out;
  text = trim(text);
  while (!text.empty()) {
    size_t comma = text.find(',');
    std::string_view item = trim(text.substr(0, comma));
    text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
    if (item.empty()) continue;
    size_t colon = item.find(':');
    if (colon == std::string_view::npos) {
      // A MariaDB position item: domain-server-seq means 1..seq of the domain.
      DTS_ASSIGN_OR_RETURN(GtidId id, parseGtid(item));
      if (!id.mariadb)
        return Status::InvalidArgument("malformed GTID set item '" + std::string(item) + "'");
      if (id.seq > 0) out.add(id.key, 1, id.seq);
      continue;
    }
    std::string_view key = item.substr(0, colon);
    uint64_t domain = 0;
    std::string k;
    if (isUuid(key)) {
      k = toLower(key);
    } else if (parseU64(key, &domain) && domain <= UINT32_MAX) {
      k = std::to_string(domain);
    } else {
      return Status::InvalidArgument("malformed GTID set item '" + std::string(item) + "'");
    }
    std::string_view rest = item.substr(colon + 1);
    while (true) {
      size_t next = rest.find(':');
      std::string_view iv = rest.substr(0, next);
      size_t dash = iv.find('-');
      uint64_t a = 0, b = 0;
      bool ok = dash == std::string_view::npos
                    ? parseU64(iv, &a) && (b = a, true)
                    : parseU64(iv.substr(0, dash), &a) && parseU64(iv.substr(dash + 1), &b);
      if (!ok || a == 0 || b < a) {
        return Status::InvalidArgument("malformed GTID interval '" + std::string(iv) + "' in '" +
                                       std::string(item) + "'");
      }
      out.add(k, a, b);
      if (next == std::string_view::npos) break;
      rest = rest.substr(next + 1);
    }
  }
  return out;
}

void GtidRanges::add(const std::string& key, uint64_t first, uint64_t last) {
  auto& v = sets_[key];
  // Fast path: appending right after the last interval (the common, in-order case).
  if (!v.empty() && first >= v.back().first) {
    auto& back = v.back();
    if (first <= back.second + 1) {
      back.second = std::max(back.second, last);
      return;
    }
    v.emplace_back(first, last);
    return;
  }
  v.emplace_back(first, last);
  std::sort(v.begin(), v.end());
  std::vector<std::pair<uint64_t, uint64_t>> merged;
  for (const auto& iv : v) {
    if (!merged.empty() && iv.first <= merged.back().second + 1) {
      merged.back().second = std::max(merged.back().second, iv.second);
    } else {
      merged.push_back(iv);
    }
  }
  v = std::move(merged);
}

void GtidRanges::addAll(const GtidRanges& other) {
  for (const auto& [k, ivs] : other.sets_) {
    for (const auto& iv : ivs) add(k, iv.first, iv.second);
  }
}

bool GtidRanges::contains(const GtidId& id) const {
  auto it = sets_.find(id.key);
  if (it == sets_.end()) return false;
  const auto& v = it->second;
  auto pos = std::upper_bound(v.begin(), v.end(), std::make_pair(id.seq, UINT64_MAX));
  if (pos == v.begin()) return false;
  --pos;
  return id.seq >= pos->first && id.seq <= pos->second;
}

GtidRanges GtidRanges::minus(const GtidRanges& other) const {
  GtidRanges out;
  for (const auto& [k, ivs] : sets_) {
    auto it = other.sets_.find(k);
    for (auto [a, b] : ivs) {
      if (it != other.sets_.end()) {
        for (const auto& [c, d] : it->second) {
          if (d < a || c > b) continue;
          if (c > a) out.add(k, a, c - 1);
          if (d >= b) {
            a = 1;
            b = 0;
            break;
          }
          a = d + 1;
        }
      }
      if (a <= b) out.add(k, a, b);
    }
  }
  return out;
}

size_t GtidRanges::intervalCount() const {
  size_t n = 0;
  for (const auto& [k, v] : sets_) n += v.size();
  return n;
}

std::string GtidRanges::toString() const {
  std::string out;
  for (const auto& [k, ivs] : sets_) {
    if (ivs.empty()) continue;
    if (!out.empty()) out.push_back(',');
    out += k;
    for (const auto& [a, b] : ivs) {
      out.push_back(':');
      out += std::to_string(a);
      if (b != a) out += "-" + std::to_string(b);
    }
  }
  return out;
}

}  // namespace dts::sink
