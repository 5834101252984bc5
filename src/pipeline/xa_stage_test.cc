#include "pipeline/xa_stage.h"

#include <gtest/gtest.h>

namespace dts::pipeline {
namespace {

using Xa = Transaction::Xa;

Transaction txn(uint64_t seq, size_t rows, Xa xa = Xa::kNone, std::string id = "") {
  Transaction t;
  t.gtid = "0-1-" + std::to_string(seq);
  t.xa = xa;
  t.xa_id = std::move(id);
  for (size_t i = 0; i < rows; ++i) {
    ChangeEvent& e = t.events.emplace_back();
    e.database = "d";
    e.table = "t";
    e.memory_bytes = 100;
  }
  return t;
}

std::vector<std::string> gtids(const std::vector<Transaction>& ts) {
  std::vector<std::string> out;
  for (const auto& t : ts) out.push_back(t.gtid + ":" + std::to_string(t.events.size()));
  return out;
}

// Prepared rows wait for their decision, and so does everything after them, in order; a
// commit lets them go as they are, a rollback without their rows (the GTID still goes on).
TEST(XaStageTest, PreparedRowsGoOnOnlyOnceDecidedAndNothingIsReordered) {
  XaStage stage;
  std::vector<Transaction> ready;
  ASSERT_TRUE(stage.add(txn(1, 1), &ready).ok());
  ASSERT_TRUE(stage.add(txn(2, 2, Xa::kPrepare, "a"), &ready).ok());
  ASSERT_TRUE(stage.add(txn(3, 1), &ready).ok());
  ASSERT_TRUE(stage.add(txn(4, 3, Xa::kPrepare, "b"), &ready).ok());
  ASSERT_TRUE(stage.add(txn(5, 1), &ready).ok());
  EXPECT_EQ(gtids(ready), (std::vector<std::string>{"0-1-1:1"}));
  EXPECT_EQ(stage.heldCount(), 4u);
  EXPECT_EQ(stage.heldBytes(), 700u);
  ready.clear();
  // b is decided first: nothing goes while a, before it, waits.
  ASSERT_TRUE(stage.add(txn(6, 0, Xa::kRollback, "b"), &ready).ok());
  EXPECT_TRUE(ready.empty());
  ASSERT_TRUE(stage.add(txn(7, 0, Xa::kCommit, "a"), &ready).ok());
  EXPECT_EQ(gtids(ready), (std::vector<std::string>{"0-1-2:2", "0-1-3:1", "0-1-4:0", "0-1-5:1",
                                                    "0-1-6:0", "0-1-7:0"}));
  EXPECT_EQ(stage.heldCount(), 0u);
  EXPECT_EQ(stage.heldBytes(), 0u);
  ready.clear();
  ASSERT_TRUE(stage.add(txn(8, 1), &ready).ok());
  EXPECT_EQ(gtids(ready), (std::vector<std::string>{"0-1-8:1"}));
}

// An XA transaction in pieces waits from its first piece; one that ends in one phase (its last
// piece is an ordinary one) is decided by it.
TEST(XaStageTest, PiecesOfAnXaTransactionWaitUntilItsEnd) {
  XaStage stage;
  std::vector<Transaction> ready;
  Transaction first = txn(1, 2, Xa::kPrepare, "a");
  first.last_piece = false;
  Transaction last = txn(1, 1);
  last.first_piece = false;
  ASSERT_TRUE(stage.add(first, &ready).ok());
  EXPECT_TRUE(ready.empty());
  ASSERT_TRUE(stage.add(last, &ready).ok());
  EXPECT_EQ(gtids(ready), (std::vector<std::string>{"0-1-1:2", "0-1-1:1"}));

  ready.clear();
  Transaction prepared_last = txn(2, 1, Xa::kPrepare, "b");
  prepared_last.first_piece = false;
  Transaction prepared_first = txn(2, 1, Xa::kPrepare, "b");
  prepared_first.last_piece = false;
  ASSERT_TRUE(stage.add(prepared_first, &ready).ok());
  ASSERT_TRUE(stage.add(prepared_last, &ready).ok());
  ASSERT_TRUE(stage.add(txn(3, 1), &ready).ok());
  EXPECT_TRUE(ready.empty());
  ASSERT_TRUE(stage.add(txn(4, 0, Xa::kRollback, "b"), &ready).ok());
  EXPECT_EQ(gtids(ready), (std::vector<std::string>{"0-1-2:0", "0-1-2:0", "0-1-3:1", "0-1-4:0"}));
}

// Memory is bounded: an XA transaction left undecided fails the stage, naming it and its GTID.
// A commit of rows the stage never saw fails (they would be lost); such a rollback goes on.
TEST(XaStageTest, AnUndecidedXaTransactionOrAnUnknownCommitFailsClearly) {
  XaStage stage(1000);
  std::vector<Transaction> ready;
  ASSERT_TRUE(stage.add(txn(1, 1, Xa::kPrepare, "X'61',X'',1"), &ready).ok());
  Status st;
  uint64_t seq = 2;
  while (st.ok() && seq < 100) st = stage.add(txn(seq++, 1), &ready);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.code(), Status::Code::kFailedPrecondition);
  EXPECT_NE(st.message().find("XA transaction X'61',X'',1 (GTID 0-1-1) is still neither"),
            std::string::npos)
      << st.message();
  EXPECT_TRUE(ready.empty());

  XaStage fresh;
  ASSERT_TRUE(fresh.add(txn(5, 0, Xa::kRollback, "z"), &ready).ok());
  EXPECT_EQ(gtids(ready), (std::vector<std::string>{"0-1-5:0"}));
  Status commit = fresh.add(txn(6, 0, Xa::kCommit, "y"), &ready);
  EXPECT_EQ(commit.code(), Status::Code::kFailedPrecondition);
  EXPECT_NE(commit.message().find("XA COMMIT y (GTID 0-1-6)"), std::string::npos)
      << commit.message();
}

}  // namespace
}  // namespace dts::pipeline
