// XaStage: an XA (two-phase) transaction's rows go on only once the source has decided them
// (pipeline::Transaction::Xa). At the source, the rows are logged with XA PREPARE, in a group
// of their own, and become visible only with a later XA COMMIT group; an XA ROLLBACK group
// discards them. A native replica keeps them prepared until then. A sink that applied or logged
// them at XA PREPARE would keep rows the source rolled back.
//
// So, from an XA transaction's first piece until its decision, the stage holds it and every
// transaction after it, in source order; at XA COMMIT the held transactions go on unchanged,
// at XA ROLLBACK the XA transaction goes on without its rows (its GTID still counts as done).
// Nothing is reordered: every sink sees the source's GTIDs in their order, so checkpoints,
// exactly-once and resumption are those of any transaction. A transaction the source committed
// meanwhile cannot have touched the prepared rows (they stay locked at the source until the
// decision), so applying the prepared rows at their own place in the order is what the source
// shows once it commits. An XA transaction committed in one phase (XA COMMIT ... ONE PHASE)
// is an ordinary transaction and is never held.
//
// Memory stays bounded: past max_held_bytes (row images, ChangeEvent::memory_bytes) of held
// transactions, add() fails with kFailedPrecondition naming the undecided XA transaction and its
// GTID; nothing held went on, so the task resumes from before it. A decision for an XA
// transaction whose rows the stage never saw (prepared before the position the task reads
// from) fails with kFailedPrecondition when it is a commit (its rows are unknown); a rollback
// changes nothing and goes on.
#pragma once

#include <cstddef>
#include <deque>
#include <set>
#include <string>
#include <vector>

#include "common/status.h"
#include "pipeline/change_event.h"

namespace dts::pipeline {

class XaStage {
 public:
  explicit XaStage(size_t max_held_bytes = size_t{64} << 20) : max_held_bytes_(max_held_bytes) {}

  // Takes the next transaction or piece, in source order. Appends to *ready what may go on now,
  // in source order (possibly several held ones, possibly none).
  Status add(Transaction piece, std::vector<Transaction>* ready);

  // Transactions (pieces) held, and their row images' bytes.
  size_t heldCount() const { return held_.size(); }
  size_t heldBytes() const { return held_bytes_; }

 private:
  static size_t bytesOf(const Transaction& t);
  bool waits(const Transaction& t) const;
  void release(std::vector<Transaction>* ready);

  size_t max_held_bytes_;
  std::deque<Transaction> held_;
  size_t held_bytes_ = 0;
  std::set<std::string> undecided_;  // xa_id of XA transactions held and not decided
};

}  // namespace dts::pipeline
