// Differential libFuzzer target: sink::DependencyTracker against a brute-force model that keeps
// every pending transaction with its keys and worker (dependency_tracker.h states the rule).
// Input: byte 0 = workers (1..8), byte 1 = stick (1..8), then operations:
//   0b0xxxxxxx  a transaction whose keys are the set bits of the next byte (keys 0..7) plus key
//               8 + (x & 7) when x & 8: chooseWorker must be what the model says; when it gives
//               a worker, assign() it;
//   0b1xxxxxxx  worker x % workers commits its oldest pending transaction: release().
// After each operation pending() and trackedKeys() must match the model.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <vector>

#include "sink/dependency_tracker.h"

namespace {

struct Pending {
  uint64_t seq;
  std::vector<uint64_t> keys;
};

void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "dependency tracker differs from the model: %s\n", what);
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const int workers = 1 + data[0] % 8;
  const size_t stick = 1 + data[1] % 8;
  dts::sink::DependencyTracker tracker(workers, stick);
  std::vector<std::deque<Pending>> queues(static_cast<size_t>(workers));
  std::map<uint64_t, std::pair<int, uint64_t>> last_owner;  // key -> (worker, seq), ever assigned
  uint64_t next_seq = 0;
  int last_worker = -1;
  auto isPending = [&](int worker, uint64_t seq) {
    for (const Pending& p : queues[static_cast<size_t>(worker)])
      if (p.seq == seq) return true;
    return false;
  };
  for (size_t i = 2; i < size; ++i) {
    const uint8_t op = data[i];
    if ((op & 0x80) == 0) {
      if (i + 1 >= size) break;
      const uint8_t bits = data[++i];
      std::vector<uint64_t> keys;
      for (int b = 0; b < 8; ++b)
        if (bits & (1u << b)) keys.push_back(static_cast<uint64_t>(b));
      if (op & 8) keys.push_back(8 + (op & 7u));
      // Brute force: the workers holding a pending transaction that shares a key.
      std::set<int> holders;
      for (int w = 0; w < workers; ++w) {
        for (const Pending& p : queues[static_cast<size_t>(w)]) {
          for (uint64_t k : keys)
            if (std::find(p.keys.begin(), p.keys.end(), k) != p.keys.end()) holders.insert(w);
        }
      }
      std::optional<int> got = tracker.chooseWorker(keys);
      if (holders.size() >= 2) {
        check(!got.has_value(), "a transaction conflicting with two workers was given one");
        continue;
      }
      check(got.has_value(), "a transaction with at most one conflicting worker had to wait");
      check(*got >= 0 && *got < workers, "worker out of range");
      if (holders.size() == 1) {
        check(*got == *holders.begin(), "a conflicting transaction went to another worker");
      } else if (last_worker >= 0 && queues[static_cast<size_t>(last_worker)].size() < stick) {
        check(*got == last_worker, "a free transaction left the last worker below stick");
      } else {
        size_t least = queues[0].size();
        for (const auto& q : queues) least = std::min(least, q.size());
        check(queues[static_cast<size_t>(*got)].size() == least,
              "a free transaction did not go to the least loaded worker");
      }
      const uint64_t seq = ++next_seq;
      tracker.assign(*got, seq, keys);
      queues[static_cast<size_t>(*got)].push_back(Pending{seq, keys});
      for (uint64_t k : keys) last_owner[k] = {*got, seq};
      last_worker = *got;
    } else {
      const int w = (op & 0x7f) % workers;
      auto& q = queues[static_cast<size_t>(w)];
      if (q.empty()) continue;
      Pending p = q.front();
      q.pop_front();
      tracker.release(w, p.seq, p.keys);
    }
    for (int w = 0; w < workers; ++w)
      check(tracker.pending(w) == queues[static_cast<size_t>(w)].size(), "pending count");
    size_t tracked = 0;
    for (const auto& [key, owner] : last_owner)
      if (isPending(owner.first, owner.second)) ++tracked;
    check(tracker.trackedKeys() == tracked, "tracked keys");
  }
  return 0;
}
