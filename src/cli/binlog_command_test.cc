#include "cli/binlog_command.h"

#include <gtest/gtest.h>
#include <unistd.h>  // truncate

#include <algorithm>
#include <cstdio>

#include "source/binlog_fixture_for_tests.h"

namespace dts::cli {
namespace {

namespace fx = source::testing;

struct Decoded {
  int rc = 0;
  std::string out, err;
};

std::string slurp(std::FILE* f) {
  std::string s;
  std::rewind(f);
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) s.append(buf, n);
  std::fclose(f);
  return s;
}

Decoded decode(const DecodeOptions& o) {
  std::FILE* out = std::tmpfile();
  std::FILE* err = std::tmpfile();
  Decoded r;
  r.rc = runBinlogDecode(o, out, err);
  r.out = slurp(out);
  r.err = slurp(err);
  return r;
}

DecodeOptions options(std::vector<std::string> files, std::string tables = "",
                      std::string format = "ndjson", uint64_t limit = 0) {
  DecodeOptions o;
  o.files = std::move(files);
  o.tables = std::move(tables);
  o.format = std::move(format);
  o.limit = limit;
  return o;
}

class BinlogDecodeCommandTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(dir_.path().empty());
    ASSERT_TRUE(fx::writeBinlogFile(path_, fixture_.events).ok());
  }
  fx::ScratchDir dir_{"dts-decode-command"};
  const fx::ShopFixture fixture_ = fx::shopFixture();
  const std::string path_ = dir_.path() + "/binlog.000001";
};

TEST_F(BinlogDecodeCommandTest, TablesTheStreamNeverCreatedHavePositionalNamesSaidOnce) {
  // The file without the CREATE TABLE of shop.t (its first transaction).
  std::vector<std::string> events = {fixture_.events[0]};
  for (size_t i = fixture_.transaction_starts[1]; i < fixture_.events.size(); ++i)
    events.push_back(fixture_.events[i]);
  const std::string path = dir_.path() + "/binlog.000002";
  ASSERT_TRUE(fx::writeBinlogFile(path, events).ok());
  Decoded nd = decode(options({path}, "shop"));
  ASSERT_EQ(nd.rc, 0) << nd.err;
  // MINIMAL TABLE_MAPs: positional names, said once per table.
  EXPECT_NE(nd.err.find("`shop`.`t` has no column metadata"), std::string::npos) << nd.err;
}

TEST_F(BinlogDecodeCommandTest, NdjsonLinesAndCountAgree) {
  Decoded nd = decode(options({path_}, "shop"));
  ASSERT_EQ(nd.rc, 0) << nd.err;
  // DDL of shop, 2 inserts, an update, a delete; other.x and the DDL run in `other` left out.
  EXPECT_EQ(std::count(nd.out.begin(), nd.out.end(), '\n'), 5) << nd.out;
  EXPECT_NE(nd.out.find("\"gtid\":\"0-1-2\""), std::string::npos) << nd.out;
  // MINIMAL TABLE_MAPs, but the stream creates shop.t: the schema history names its columns.
  EXPECT_EQ(nd.err.find("`shop`.`t` has no column metadata"), std::string::npos) << nd.err;
  EXPECT_NE(nd.out.find("\"name\":\"b\""), std::string::npos) << nd.out;
  Decoded count = decode(options({path_}, "shop", "count"));
  ASSERT_EQ(count.rc, 0) << count.err;
  EXPECT_EQ(count.out, "5\n");
  Decoded all = decode(options({path_}, "", "count"));
  EXPECT_EQ(all.out, "7\n");  // + other.x's row and the DDL run in `other`
  Decoded limited = decode(options({path_}, "", "count", 2));
  EXPECT_EQ(limited.out, "2\n");
  limited = decode(options({path_}, "", "ndjson", 2));
  EXPECT_EQ(std::count(limited.out.begin(), limited.out.end(), '\n'), 2);
}

TEST_F(BinlogDecodeCommandTest, AMissingFileIsAnErrorNamingItAndTheLastGoodEvent) {
  const std::string missing = dir_.path() + "/binlog.000002";
  Decoded r = decode(options({path_, missing}));
  EXPECT_EQ(r.rc, 1);
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 7);  // the first file was printed
  EXPECT_NE(r.err.find("dts: error at " + missing + ":0: not found"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("last good event: QUERY at binlog.000001:" +
                       std::to_string(fixture_.offsets.back())),
            std::string::npos)
      << r.err;
}

TEST_F(BinlogDecodeCommandTest, ATornLastTransactionIsAWarningNotAnError) {
  ASSERT_EQ(truncate(path_.c_str(), static_cast<off_t>(fixture_.offsets.back() + 30)), 0);
  Decoded r = decode(options({path_}));
  EXPECT_EQ(r.rc, 0) << r.err;
  EXPECT_NE(r.err.find("dts: warning: end of binlog.000001: torn last event"), std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("the last transaction (begun at binlog.000001:" +
                       std::to_string(fixture_.offsets[fixture_.transaction_starts.back()]) +
                       ") has no commit in these files"),
            std::string::npos)
      << r.err;
}

}  // namespace
}  // namespace dts::cli
