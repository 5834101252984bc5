#include "sink/dependency_tracker.h"

namespace dts::sink {

uint64_t hashKey(std::string_view bytes) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

DependencyTracker::DependencyTracker(int workers) : pending_(static_cast<size_t>(workers), 0) {}

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
}

void DependencyTracker::release(int worker, uint64_t seq, const std::vector<uint64_t>& keys) {
  for (uint64_t k : keys) {
    auto it = keys_.find(k);
    if (it != keys_.end() && it->second.worker == worker && it->second.seq == seq) keys_.erase(it);
  }
  --pending_[static_cast<size_t>(worker)];
}

}  // namespace dts::sink
