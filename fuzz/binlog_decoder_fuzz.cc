// libFuzzer target over the offline binlog decoder: event parsing (every event type, TABLE_MAP
// metadata, TRANSACTION_PAYLOAD, compressed MariaDB events), row images of every column type,
// binary JSON and JSON diffs, DECIMAL and temporal decoders, the transaction builder and NDJSON.
// Input: first byte picks the target; for events, the rest is a series of {u16 length, event}.
// Checksums are not verified so the fuzzer reaches the parsers behind them.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/byte_reader.h"
#include "mysql/binlog_event.h"
#include "mysql/decimal.h"
#include "mysql/json_binary.h"
#include "mysql/row_decoder.h"
#include "mysql/temporal.h"
#include "pipeline/ndjson.h"
#include "pipeline/transaction_builder.h"

using namespace dts;

namespace {

void fuzzEvents(std::string_view data, bool mariadb) {
  mysql::BinlogDecoder::Options options;
  options.verify_checksums = false;
  options.max_uncompressed_bytes = 16 << 20;
  mysql::BinlogDecoder decoder(options);
  pipeline::TransactionBuilder builder;
  pipeline::NdjsonWriter writer(pipeline::NdjsonOptions{.positional_names = true});
  // A valid FORMAT_DESCRIPTION without checksums first, so the fuzzer starts past it.
  {
    std::string fde;
    putUint(&fde, 0, 4);
    fde.push_back(15);
    putUint(&fde, 1, 4);
    std::string body;
    putUint(&body, 4, 2);
    std::string version = mariadb ? "10.11.6-MariaDB" : "8.0.36";
    version.resize(50, '\0');
    body += version;
    putUint(&body, 0, 4);
    body.push_back(19);
    std::string ph(171, '\0');
    ph[1] = 13;
    ph[3] = 8;
    ph[14] = 98;
    ph[18] = 8;
    ph[22] = 8;
    ph[23] = 8;
    ph[24] = 8;
    ph[29] = 10;
    ph[30] = 10;
    ph[31] = 10;
    ph[38] = 10;
    ph[32] = 42;
    ph[33] = 42;
    ph[164] = 13;
    body += ph;
    body.push_back(0);
    body += std::string(4, '\0');
    putUint(&fde, 19 + body.size(), 4);
    putUint(&fde, 0, 4);
    putUint(&fde, 0, 2);
    fde += body;
    std::vector<mysql::BinlogEvent> events;
    if (!decoder.decode(fde, mysql::BinlogPosition{"fuzz", 4}, &events).ok()) __builtin_trap();
  }
  ByteReader r(data);
  uint64_t offset = 4;
  std::vector<mysql::BinlogEvent> events;
  std::vector<pipeline::Transaction> done;
  std::string out;
  mysql::RowImage before, after;
  while (!r.empty()) {
    uint16_t len;
    std::string_view ev;
    if (!r.getU16(&len) || !r.getBytes(len, &ev)) break;
    std::string raw(ev);  // exact-size heap copy so ASan sees any overread
    mysql::BinlogPosition pos{"fuzz", offset};
    offset += raw.size();
    if (!decoder.decode(raw, pos, &events).ok()) continue;
    for (const auto& e : events) {
      if (const auto* rows = e.as<mysql::RowsEvent>()) {
        mysql::RowsReader reader(rows->data, e.position);
        while (!reader.done())
          if (!reader.next(&before, &after).ok()) break;
      }
      done.clear();
      if (!builder.add(e, &done).ok()) continue;
      for (const auto& txn : done)
        for (const auto& ce : txn.events) (void)writer.append(ce, txn, &out);
      if (out.size() > (1 << 20)) out.clear();
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const uint8_t mode = data[0];
  std::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);
  std::string copy(rest);
  std::string out;
  switch (mode % 6) {
    case 0: fuzzEvents(rest, false); break;
    case 1: fuzzEvents(rest, true); break;
    case 2: (void)mysql::jsonBinaryToText(copy, &out); break;
    case 3: {
      // {u16 before length, before, diffs}
      ByteReader r(rest);
      uint16_t n;
      std::string_view before;
      if (r.getU16(&n) && r.getBytes(n, &before)) {
        std::string b(before), d(r.rest());
        (void)mysql::applyJsonDiffToText(b, d, &out);
      }
      break;
    }
    case 4:
      if (copy.size() >= 2) {
        int p = static_cast<uint8_t>(copy[0]) % 70, s = static_cast<uint8_t>(copy[1]) % 35;
        (void)mysql::decodeDecimal(std::string_view(copy).substr(2), p, s, &out);
        (void)mysql::encodeDecimal(std::string_view(copy).substr(2), p, s, &out);
      }
      break;
    case 5:
      if (!copy.empty()) {
        int fsp = static_cast<uint8_t>(copy[0]) % 8;
        std::string_view b = std::string_view(copy).substr(1);
        (void)mysql::decodeTime2(b, fsp, &out);
        (void)mysql::decodeDateTime2(b, fsp, &out);
        (void)mysql::decodeTimestamp2(b, fsp, &out);
      }
      break;
  }
  return 0;
}
