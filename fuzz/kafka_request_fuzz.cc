// Fuzz target for the Kafka request decoder (server/kafka_protocol.h): the input is a request frame
// (header + body). Whatever decodes must encode to bytes that decode to the same message
// (encode(decode(encode(m))) == encode(m)); nothing may crash, read out of bounds or allocate
// more than the input can justify. Record batch decoding (the CRC path) gets the body too.
// Run: bench/fuzz.sh builds the targets; build-fuzz/fuzz/kafka_request_fuzz -max_total_time=60.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "server/kafka_protocol.h"

namespace k = dts::server::kafka;

namespace {

template <typename T>
void roundTrip(std::string_view body, int16_t version) {
  T m;
  if (!k::decode(body, version, &m).ok()) return;
  std::string once;
  k::encode(m, version, &once);
  T back;
  dts::Status st = k::decode(once, version, &back);
  if (!st.ok()) {
    std::fprintf(stderr, "re-encoded message does not decode: %s\n", st.toString().c_str());
    std::abort();
  }
  std::string twice;
  k::encode(back, version, &twice);
  if (once != twice) {
    std::fprintf(stderr, "encode/decode round trip differs at version %d\n", version);
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view frame(reinterpret_cast<const char*>(data), size);
  k::RequestHeader h;
  size_t body_at = 0;
  if (!k::decodeRequestHeader(frame, &h, &body_at).ok()) return 0;
  std::string_view body = frame.substr(body_at);
  const int16_t v = static_cast<int16_t>(h.api_version & 0x0f);  // keep to modelled versions
  switch (static_cast<uint16_t>(h.api_key) % 16) {
    case 0: roundTrip<k::ProduceRequest>(body, v % 9); break;
    case 1:
      roundTrip<k::FetchRequest>(body, static_cast<int16_t>(h.api_version & 0x0f) % 12);
      break;
    case 2: roundTrip<k::ListOffsetsRequest>(body, v % 3); break;
    case 3: roundTrip<k::MetadataRequest>(body, v % 6); break;
    case 8: roundTrip<k::OffsetCommitRequest>(body, v % 8); break;
    case 9: roundTrip<k::OffsetFetchRequest>(body, v % 6); break;
    case 10: roundTrip<k::FindCoordinatorRequest>(body, v % 3); break;
    case 11: roundTrip<k::JoinGroupRequest>(body, v % 6); break;
    case 12: roundTrip<k::HeartbeatRequest>(body, v % 4); break;
    case 13: roundTrip<k::LeaveGroupRequest>(body, v % 3); break;
    case 14: roundTrip<k::SyncGroupRequest>(body, v % 4); break;
    case 15: roundTrip<k::SaslAuthenticateRequest>(body, v % 2); break;
    case 4: roundTrip<k::ApiVersionsRequest>(body, v % 4); break;
    case 5: roundTrip<k::SaslHandshakeRequest>(body, v % 2); break;
    default: {
      auto records = k::decodeRecordBatches(body);
      if (records.ok() && !records->empty()) {
        // Re-encoding what decoded (consecutive offsets only) must decode to the same records.
        bool consecutive = true;
        for (size_t i = 1; i < records->size(); ++i)
          consecutive = consecutive && (*records)[i].offset == (*records)[i - 1].offset + 1;
        if (consecutive) {
          std::string again;
          k::encodeRecordBatch(*records, &again);
          auto back = k::decodeRecordBatches(again);
          if (!back.ok() || back->size() != records->size()) std::abort();
        }
      }
      break;
    }
  }
  return 0;
}
