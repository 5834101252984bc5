#include "pipeline/xa_stage.h"

namespace dts::pipeline {

size_t XaStage::bytesOf(const Transaction& t) {
  size_t bytes = 0;
  for (const ChangeEvent& e : t.events) bytes += e.memory_bytes + e.sql.size();
  return bytes;
}

bool XaStage::waits(const Transaction& t) const {
  return t.xa == Transaction::Xa::kPrepare && undecided_.count(t.xa_id) != 0;
}

void XaStage::release(std::vector<Transaction>* ready) {
  while (!held_.empty() && !waits(held_.front())) {
    held_bytes_ -= bytesOf(held_.front());
    ready->push_back(std::move(held_.front()));
    held_.pop_front();
  }
}

Status XaStage::add(Transaction piece, std::vector<Transaction>* ready) {
  using Xa = Transaction::Xa;
  // The decision for an XA transaction (a group of its own, without rows).
  if (piece.xa == Xa::kCommit || piece.xa == Xa::kRollback) {
    const bool commit = piece.xa == Xa::kCommit;
    if (undecided_.erase(piece.xa_id) == 0) {
      if (commit) {
        return Status::FailedPrecondition(
            "XA COMMIT " + piece.xa_id + " (GTID " + piece.gtid +
            ") commits an XA transaction prepared before the position this task reads from: "
            "its rows are not in the task's snapshot nor in the binlog it reads, so they would be "
            "lost. Start the task again (a new snapshot) now that it is committed");
      }
      // Rolled back: nothing of it was applied anywhere.
    } else {
      for (Transaction& t : held_) {
        if (t.xa != Xa::kPrepare || t.xa_id != piece.xa_id) continue;
        t.xa = Xa::kNone;  // decided: it goes on
        if (!commit) {
          held_bytes_ -= bytesOf(t);
          t.events.clear();  // rolled back at the source: its GTID goes on, its rows do not
        }
      }
    }
  } else if (piece.xa == Xa::kPrepare) {
    undecided_.insert(piece.xa_id);
  } else if (!held_.empty() && held_.back().xa == Xa::kPrepare && !held_.back().last_piece &&
             held_.back().gtid == piece.gtid) {
    // The last piece of an XA transaction that ended in one phase: decided with it.
    const std::string id = held_.back().xa_id;
    undecided_.erase(id);
    for (Transaction& t : held_) {
      if (t.xa == Xa::kPrepare && t.xa_id == id) t.xa = Xa::kNone;
    }
  }
  if (held_.empty() && !waits(piece)) {
    ready->push_back(std::move(piece));
    return Status::OK();
  }
  held_bytes_ += bytesOf(piece);
  held_.push_back(std::move(piece));
  release(ready);
  if (held_bytes_ > max_held_bytes_) {
    const Transaction& first = held_.front();
    return Status::FailedPrecondition(
        "XA transaction " + first.xa_id + " (GTID " + first.gtid +
        ") is still neither committed nor rolled back at the source after " +
        std::to_string(held_.size() - 1) +
        " later transactions: dts applies an XA "
        "transaction's rows when the source commits it, holding what follows meanwhile, and "
        "holds at most " +
        std::to_string(max_held_bytes_ >> 20) +
        " MiB. Commit or roll it back at the source (XA RECOVER lists it); the task then "
        "resumes from before it");
  }
  return Status::OK();
}

}  // namespace dts::pipeline
