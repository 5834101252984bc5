// Differential fuzz target for mysql::GtidSet: two sets are driven by the input's bytes through
// add / addAll / minus / contains / text round trips, and after every step they must agree with a
// reference model, a std::set of (source, number) pairs. Inputs whose first byte is odd are text
// instead, parsed as Gtid, GtidSet and GtidPosition: whatever parses must print to text that
// parses back equal.
// Run: bench/fuzz.sh builds the targets; build-fuzz/fuzz/gtid_set_fuzz -max_total_time=60.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "mysql/gtid.h"

using dts::mysql::Gtid;
using dts::mysql::GtidFlavor;
using dts::mysql::GtidPosition;
using dts::mysql::GtidSet;
using dts::mysql::GtidSource;

namespace {

[[noreturn]] void fail(const std::string& what) {
  std::fprintf(stderr, "gtid_set_fuzz: %s\n", what.c_str());
  std::abort();
}

// A small universe so that operations collide: two MariaDB domains, two server UUIDs.
GtidSource sourceOf(uint8_t b) {
  switch (b % 4) {
    case 0: return GtidSource::mariaDb(0);
    case 1: return GtidSource::mariaDb(7);
    case 2: return *GtidSource::mySqlUuid("3e11fa47-71ca-11e1-9e33-c80aa9429562");
    default: return *GtidSource::mySqlUuid("4350f323-7565-4e59-8763-4b1b83a0ce0e");
  }
}

using Model = std::set<std::pair<GtidSource, uint64_t>>;

// The canonical text, computed from the model alone: sources in order, runs of consecutive
// numbers as "a-b".
std::string modelText(const Model& m) {
  std::string out;
  const GtidSource* current = nullptr;
  uint64_t first = 0, last = 0;
  auto flush = [&]() {
    out += ":" + std::to_string(first);
    if (last != first) out += "-" + std::to_string(last);
  };
  for (const auto& [source, n] : m) {
    if (current != nullptr && *current == source && n == last + 1) {
      last = n;
      continue;
    }
    if (current != nullptr) flush();
    if (current == nullptr || !(*current == source)) {
      if (!out.empty()) out += ",";
      out += source.toString();
    }
    current = &source;
    first = last = n;
  }
  if (current != nullptr) flush();
  return out;
}

struct Input {
  const uint8_t* data;
  size_t size;
  size_t pos = 0;
  bool empty() const { return pos >= size; }
  uint8_t byte() { return pos < size ? data[pos++] : 0; }
};

// A number in the source's range: small ones mostly, some near the top of 64 bits.
uint64_t numberFor(const GtidSource& s, Input& in) {
  uint8_t b = in.byte();
  uint64_t lowest = s.flavor == GtidFlavor::kMySql ? 1 : 0;
  if (b & 0x80) return UINT64_MAX - 1 - (b & 0x0f) - 16;  // room for a range of 16 above
  return lowest + (b & 0x3f);
}

void check(const GtidSet& s, const Model& m, const char* what) {
  std::string got = s.toString();
  std::string want = modelText(m);
  if (got != want) fail(std::string(what) + ": set '" + got + "' but model '" + want + "'");
  if (s.empty() != m.empty()) fail(std::string(what) + ": empty() disagrees");
  auto back = GtidSet::parse(got);
  if (!back.ok()) fail("toString() does not parse: " + got + ": " + back.status().toString());
  if (!(*back == s)) fail("parse(toString()) differs: " + got + " -> " + back->toString());
}

void fuzzText(std::string_view text) {
  auto s = GtidSet::parse(text);
  if (s.ok()) {
    auto back = GtidSet::parse(s->toString());
    if (!back.ok() || !(*back == *s))
      fail("GtidSet text round trip of '" + std::string(text) + "'");
    auto enc = s->encodeMySqlDumpSet();
    bool mysql_only = true;
    size_t want = 8;
    for (const GtidSource& src : s->sources()) {
      mysql_only = mysql_only && src.flavor == GtidFlavor::kMySql;
      want += 16 + 8 + 16 * s->intervals(src).size();
    }
    if (enc.ok() != mysql_only || (enc.ok() && enc->size() != want))
      fail("encodeMySqlDumpSet of '" + s->toString() + "'");
  }
  for (GtidFlavor f : {GtidFlavor::kMySql, GtidFlavor::kMariaDb}) {
    auto p = GtidPosition::parse(text, f);
    if (!p.ok()) continue;
    auto back = GtidPosition::parse(p->toString(), f);
    if (!back.ok() || !(*back == *p))
      fail("GtidPosition text round trip of '" + std::string(text) + "'");
  }
  auto g = Gtid::parse(text);
  if (g.ok()) {
    auto back = Gtid::parse(g->toString());
    if (!back.ok() || !(*back == *g)) fail("Gtid text round trip of '" + std::string(text) + "'");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // First byte odd: the rest is text to parse. Even: operations.
  if (size > 0 && (data[0] & 1) != 0) {
    fuzzText(std::string_view(reinterpret_cast<const char*>(data + 1), size - 1));
    return 0;
  }
  Input in{data, size, 1};
  GtidSet sets[2];
  Model models[2];
  int steps = 0;
  while (!in.empty() && steps++ < 256) {
    uint8_t op = in.byte();
    int x = (op >> 4) & 1;  // which set the step works on
    GtidSet& a = sets[x];
    Model& ma = models[x];
    const GtidSet& b = sets[1 - x];
    const Model& mb = models[1 - x];
    switch (op % 8) {
      case 0: {  // one transaction
        GtidSource s = sourceOf(in.byte());
        uint64_t n = numberFor(s, in);
        a.add(Gtid{s, 1, n});
        ma.emplace(s, n);
        break;
      }
      case 1: {  // a range
        GtidSource s = sourceOf(in.byte());
        uint64_t first = numberFor(s, in);
        uint64_t last = first + (in.byte() & 0x0f);
        a.add(s, first, last);
        for (uint64_t n = first; n <= last; ++n) ma.emplace(s, n);
        break;
      }
      case 2:
        a.addAll(b);
        ma.insert(mb.begin(), mb.end());
        break;
      case 3: {
        a = a.minus(b);
        Model left;
        for (const auto& e : ma) {
          if (!mb.count(e)) left.insert(e);
        }
        ma = std::move(left);
        break;
      }
      case 4: {  // membership, by value and by text
        GtidSource s = sourceOf(in.byte());
        uint64_t n = numberFor(s, in);
        Gtid g{s, in.byte(), n};
        bool want = ma.count({s, n}) > 0;
        if (a.contains(g) != want || a.contains(g.toString()) != want)
          fail("contains(" + g.toString() + ") on '" + a.toString() + "'");
        break;
      }
      case 5: {  // a MariaDB position item stands for 1..seq of its domain
        GtidSource s = sourceOf(in.byte() & 1);
        uint64_t n = in.byte() & 0x3f;
        auto p = GtidPosition::parse(std::to_string(s.domain) + "-1-" + std::to_string(n),
                                     GtidFlavor::kMariaDb);
        if (!p.ok()) fail("position parse: " + p.status().toString());
        a.addAll(p->toSet());
        for (uint64_t k = 1; k <= n; ++k) ma.emplace(s, k);
        break;
      }
      case 6: {  // parse the text back
        auto back = GtidSet::parse(a.toString());
        if (!back.ok()) fail("round trip: " + back.status().toString());
        a = std::move(*back);
        break;
      }
      default:
        std::swap(sets[0], sets[1]);
        std::swap(models[0], models[1]);
        break;
    }
    check(sets[0], models[0], "set 0");
    check(sets[1], models[1], "set 1");
    size_t count = 0;
    for (const GtidSource& s : sets[0].sources()) count += sets[0].intervals(s).size();
    if (count != sets[0].intervalCount()) fail("intervalCount");
  }
  return 0;
}
