#include "mysql/binlog_file.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

#include "mysql/event_builder_for_tests.h"

namespace dts::mysql {
namespace {

std::string writeTemp(const std::string& name, const std::string& bytes) {
  std::string path = ::testing::TempDir() + name;
  std::ofstream(path, std::ios::binary)
      .write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  return path;
}

std::string sampleFile(size_t* last_event_size) {
  testing::EventBuilder b;
  std::string f(kBinlogMagic);
  f += b.formatDescription();
  f += b.query("db", "BEGIN");
  std::string x = b.xid(1);
  *last_event_size = x.size();
  f += x;
  return f;
}

TEST(BinlogFileTest, ReadsEventsAndEndsCleanly) {
  size_t n;
  std::string path = writeTemp("ok.000001", sampleFile(&n));
  auto src = BinlogFileSource::open(path);
  ASSERT_TRUE(src.ok()) << src.status().toString();
  int events = 0;
  uint64_t last_offset = 0;
  while (true) {
    auto e = (*src)->nextEvent();
    if (!e.ok()) {
      EXPECT_EQ(e.status().code(), Status::Code::kNotFound);
      break;
    }
    ++events;
    last_offset = (*src)->position().offset;
  }
  EXPECT_EQ(events, 3);
  EXPECT_EQ((*src)->position().file, "ok.000001");
  EXPECT_EQ(last_offset + n, (*src)->size());
  EXPECT_EQ((*src)->tornTailBytes(), 0u);
}

TEST(BinlogFileTest, TornTailIsEndOfFileNotCorruption) {
  size_t n;
  std::string bytes = sampleFile(&n);
  std::string path = writeTemp("torn.000001", bytes.substr(0, bytes.size() - 3));
  auto src = BinlogFileSource::open(path);
  ASSERT_TRUE(src.ok());
  ASSERT_TRUE((*src)->nextEvent().ok());
  ASSERT_TRUE((*src)->nextEvent().ok());
  auto e = (*src)->nextEvent();
  EXPECT_EQ(e.status().code(), Status::Code::kNotFound);
  EXPECT_EQ((*src)->tornTailBytes(), n - 3);
}

// A size byte damaged so that the event runs past the end is not a torn tail: the header's next
// position says where the event really ends. Read as torn, the file ended there, exit 0, and the
// transactions after it were dropped (the next file read on).
TEST(BinlogFileTest, ADamagedSizeIsCorruptionNotATornTail) {
  size_t n;
  std::string bytes = sampleFile(&n);
  testing::EventBuilder b;
  const size_t fde = b.formatDescription().size();
  bytes[4 + fde + 10] = static_cast<char>(bytes[4 + fde + 10] ^ 0xff);  // size's second byte
  auto src = BinlogFileSource::open(writeTemp("damaged.000001", bytes));
  ASSERT_TRUE(src.ok());
  ASSERT_TRUE((*src)->nextEvent().ok());
  auto e = (*src)->nextEvent();
  EXPECT_EQ(e.status().code(), Status::Code::kCorruption) << e.status().toString();
  EXPECT_NE(e.status().message().find("damaged.000001:" + std::to_string(4 + fde)),
            std::string::npos)
      << e.status().message();
  EXPECT_EQ((*src)->tornTailBytes(), 0u);
}

TEST(BinlogFileTest, ImpossibleSizeInTheMiddleIsCorruption) {
  size_t n;
  std::string bytes = sampleFile(&n);
  // Event 2 starts after magic + FDE; set its size field to 5.
  testing::EventBuilder b;
  size_t fde = b.formatDescription().size();
  bytes[4 + fde + 9] = 5;
  bytes[4 + fde + 10] = bytes[4 + fde + 11] = bytes[4 + fde + 12] = 0;
  auto src = BinlogFileSource::open(writeTemp("bad.000001", bytes));
  ASSERT_TRUE(src.ok());
  ASSERT_TRUE((*src)->nextEvent().ok());
  auto e = (*src)->nextEvent();
  EXPECT_EQ(e.status().code(), Status::Code::kCorruption);
  EXPECT_NE(e.status().message().find("bad.000001:" + std::to_string(4 + fde)), std::string::npos);
}

TEST(BinlogFileTest, RejectsNonBinlogAndMissingFiles) {
  EXPECT_EQ(BinlogFileSource::open(writeTemp("text.txt", "hello")).status().code(),
            Status::Code::kCorruption);
  EXPECT_EQ(BinlogFileSource::open("/nonexistent/binlog.000001").status().code(),
            Status::Code::kNotFound);
}

}  // namespace
}  // namespace dts::mysql
