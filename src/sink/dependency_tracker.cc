#include "sink/dependency_tracker.h"

#include <algorithm>
#include <charconv>
#include <cstring>

#include "sink/sql_literal.h"

namespace dts::sink {

namespace {

// How a string of a key column enters the key hash, so that values the destination's unique key
// holds equal always hash equal (a missed conflict could reorder two transactions on one row;
// an extra one only costs parallelism):
//   binary strings and *_nopad_bin: the bytes;
//   other *_bin (PAD SPACE): the bytes without trailing spaces;
//   any other collation (case-, accent-insensitive, expansions such as 'ß' = 'ss'): nothing —
//   every value of the key conflicts with every other, so changes to that key of the table are
//   applied in source order by one worker.
// 64-bit FNV-1a, fed piece by piece (the same value as hashKey() of the concatenation).
struct Fnv {
  uint64_t h = 1469598103934665603ull;
  void add(std::string_view bytes) {
    for (unsigned char c : bytes) {
      h ^= c;
      h *= 1099511628211ull;
    }
  }
  void add(char c) { add(std::string_view(&c, 1)); }
};

void appendKeyString(Fnv* h, const mysql::ColumnInfo& c, std::string_view s) {
  if (c.collation == mysql::kBinaryCollation) {
    h->add(s);
    return;
  }
  std::string_view name = collationName(c.collation);
  if (name.ends_with("_nopad_bin")) {
    h->add(s);
  } else if (name.ends_with("_bin")) {
    size_t n = s.size();
    while (n > 0 && s[n - 1] == ' ') --n;
    h->add(s.substr(0, n));
  } else {
    h->add('*');
  }
}

}  // namespace

uint64_t hashKey(std::string_view bytes) {
  Fnv f;
  f.add(bytes);
  return f.h;
}

DependencyTracker::DependencyTracker(int workers, size_t stick)
    : pending_(static_cast<size_t>(workers), 0), stick_(std::max<size_t>(stick, 1)) {}

std::optional<int> DependencyTracker::chooseWorker(const std::vector<uint64_t>& keys) const {
  int found = -1;
  for (uint64_t k : keys) {
    auto it = keys_.find(k);
    if (it == keys_.end()) continue;
    if (found == -1) {
      found = it->second.worker;
    } else if (found != it->second.worker) {
      return std::nullopt;
    }
  }
  if (found != -1) return found;
  // Stay on the last worker until it holds a full batch: neighbouring transactions, which touch
  // the same hot rows most often, then share a worker instead of blocking on two.
  if (last_ >= 0 && pending_[static_cast<size_t>(last_)] < stick_) return last_;
  size_t n = pending_.size();
  size_t best = next_ % n;
  for (size_t i = 1; i < n; ++i) {
    size_t w = (next_ + i) % n;
    if (pending_[w] < pending_[best]) best = w;
  }
  next_ = best + 1;
  return static_cast<int>(best);
}

void DependencyTracker::assign(int worker, uint64_t seq, const std::vector<uint64_t>& keys) {
  for (uint64_t k : keys) keys_[k] = Owner{worker, seq};
  ++pending_[static_cast<size_t>(worker)];
  last_ = worker;
}

void DependencyTracker::release(int worker, uint64_t seq, const std::vector<uint64_t>& keys) {
  for (uint64_t k : keys) {
    auto it = keys_.find(k);
    if (it != keys_.end() && it->second.worker == worker && it->second.seq == seq) keys_.erase(it);
  }
  --pending_[static_cast<size_t>(worker)];
}

void addKeyHashes(const pipeline::ChangeEvent& ev, const TableKeys& keys,
                  std::vector<uint64_t>* out) {
  const mysql::TableInfo& info = *ev.table_info;
  // Hashed: database \0 table \0 key-number { \0 kind value }..., or database \0 table \0 *.
  Fnv base;
  base.add(ev.database);
  base.add('\0');
  base.add(ev.table);
  base.add('\0');
  bool table_wide = keys.unique.empty();
  for (const mysql::RowImage* img : {&ev.before, &ev.after}) {
    if (img->values.empty()) continue;
    for (size_t k = 0; k < keys.unique.size() && !table_wide; ++k) {
      const auto& cols = keys.unique[k];
      if (cols.empty()) {
        table_wide = true;
        break;
      }
      Fnv h = base;
      char num[24];
      h.add(std::string_view(
          num, static_cast<size_t>(std::to_chars(num, num + sizeof num, k).ptr - num)));
      bool has_null = false;
      for (size_t i : cols) {
        if (!img->has(i)) {
          table_wide = true;
          break;
        }
        const mysql::Value& v = img->values[i];
        if (v.isNull()) {
          has_null = true;  // NULLs never conflict in a unique key
          break;
        }
        h.add('\0');
        h.add(static_cast<char>(v.kind));
        if (v.kind == mysql::Value::Kind::kString || v.kind == mysql::Value::Kind::kJson) {
          appendKeyString(&h, info.columns[i], v.s);
        } else if (v.kind == mysql::Value::Kind::kBytes || v.kind == mysql::Value::Kind::kDecimal ||
                   v.kind == mysql::Value::Kind::kTemporal) {
          h.add(v.s);  // bytes, and DECIMAL / temporal text (one canonical form per value)
        } else {
          // Integers, BIT, ENUM/SET (by index/bitmask, which is what they compare by) and
          // FLOAT/DOUBLE (by bits, -0.0 folded into 0.0, which the key holds equal).
          char buf[3 * sizeof(uint64_t)];
          double d = v.d == 0.0 ? 0.0 : v.d;
          std::memcpy(buf, &v.i, sizeof v.i);
          std::memcpy(buf + 8, &v.u, sizeof v.u);
          std::memcpy(buf + 16, &d, sizeof d);
          h.add(std::string_view(buf, sizeof buf));
        }
      }
      if (!table_wide && !has_null) out->push_back(h.h);
    }
  }
  if (table_wide) {
    base.add('*');
    out->push_back(base.h);
  }
}

}  // namespace dts::sink
