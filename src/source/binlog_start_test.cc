#include "source/binlog_start.h"

#include <gtest/gtest.h>

#include <map>

namespace dts::source {
namespace {

const std::string kNode = "source 127.0.0.1:3306";

// Files begun at the given seconds, each after `i * 10` transactions; counts the probes.
struct FakeBinlog {
  std::vector<std::string> files;
  std::map<std::string, BinlogFileStart> starts;
  int probes = 0;

  FakeBinlog(const std::vector<int64_t>& created, bool purged) {
    for (size_t i = 0; i < created.size(); ++i) {
      std::string f = "binlog." + std::to_string(i + 7);
      files.push_back(f);
      const size_t before = purged ? (i + 1) * 10 : i * 10;
      starts[f] =
          BinlogFileStart{f, created[i], before == 0 ? "" : "0-1-" + std::to_string(before)};
    }
  }
  BinlogFileProbe probe() {
    return [this](const std::string& f) -> Result<BinlogFileStart> {
      ++probes;
      return starts.at(f);
    };
  }
};

TEST(BinlogStartTest, TheStreamStartsAtTheLastFileBegunAWholeSecondBeforeTheStart) {
  const std::vector<int64_t> created = {1000, 1005, 1010, 1010, 1020, 1030, 1100};
  for (int64_t start_ms = 1001000; start_ms <= 1200000; start_ms += 250) {
    FakeBinlog log(created, true);
    auto got = binlogFileAtTime(log.files, start_ms, log.probe(), kNode);
    ASSERT_TRUE(got.ok()) << start_ms << ": " << got.status().toString();
    // Expected: the last file whose start second ends at or before the start.
    size_t want = 0;
    for (size_t i = 0; i < created.size(); ++i)
      if ((created[i] + 1) * 1000 <= start_ms) want = i;
    EXPECT_EQ(got->file, log.files[want]) << start_ms;
    EXPECT_EQ(got->gtid, log.starts[log.files[want]].gtid);
    EXPECT_LE(log.probes, 4) << "a binary search over 7 files";
  }
}

TEST(BinlogStartTest, AStartInTheOldestFilesFirstSecondMayLackAPurgedTransaction) {
  // A transaction of the purged file before may have committed in second 1000, before the
  // file began: only 1001.000 and later are covered.
  FakeBinlog log({1000, 1010}, true);
  EXPECT_TRUE(binlogFileAtTime(log.files, 1001000, log.probe(), kNode).ok());
  auto refused = binlogFileAtTime(log.files, 1000999, log.probe(), kNode);
  ASSERT_EQ(refused.status().code(), Status::Code::kFailedPrecondition);
}

TEST(BinlogStartTest, AStartBeforeTheOldestFileIsRefusedWhenOlderFilesWerePurged) {
  FakeBinlog log({1796436184, 1796436200}, true);  // 2026-12-05 02:03:04
  auto refused = binlogFileAtTime(log.files, int64_t{1796432400} * 1000, log.probe(), kNode);
  ASSERT_EQ(refused.status().code(), Status::Code::kFailedPrecondition);
  const std::string& m = refused.status().message();
  EXPECT_NE(m.find("the start time 2026-12-05 01:00:00 UTC precedes the oldest binlog file "
                   "source 127.0.0.1:3306 still has (binlog.7, begun 2026-12-05 02:03:04 UTC, "
                   "after the transactions up to 0-1-10)"),
            std::string::npos)
      << m;
  EXPECT_NE(m.find("Start at 2026-12-05 02:03:05 UTC or later"), std::string::npos) << m;
  EXPECT_NE(m.find("binlog_expire_logs_seconds"), std::string::npos) << m;
}

TEST(BinlogStartTest, AStartBeforeAFirstBinlogThatLostNothingReadsItAll) {
  FakeBinlog log({1000, 1010}, false);  // the oldest file holds the first transaction
  auto got = binlogFileAtTime(log.files, 0, log.probe(), kNode);
  ASSERT_TRUE(got.ok()) << got.status().toString();
  EXPECT_EQ(got->file, "binlog.7");
  EXPECT_EQ(got->gtid, "");
}

TEST(BinlogStartTest, NoFileOrAProbeErrorFails) {
  FakeBinlog none({}, true);
  auto empty = binlogFileAtTime(none.files, 5000, none.probe(), kNode);
  ASSERT_EQ(empty.status().code(), Status::Code::kFailedPrecondition);
  EXPECT_NE(empty.status().message().find("log_bin"), std::string::npos);
  FakeBinlog log({1000, 1010, 1020}, true);
  auto failing = [](const std::string&) -> Result<BinlogFileStart> {
    return Status::Unavailable("lost connection");
  };
  EXPECT_EQ(binlogFileAtTime(log.files, 2000000, failing, kNode).status().code(),
            Status::Code::kUnavailable);
}

}  // namespace
}  // namespace dts::source
