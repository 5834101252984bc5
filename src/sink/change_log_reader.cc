#include "sink/change_log_reader.h"

#include <nlohmann/json.hpp>

namespace dts::sink {

Result<LogRecord> ChangeLogReader::commitMarkerOf(int64_t offset) const {
  int64_t at = offset;
  for (;;) {
    DTS_ASSIGN_OR_RETURN(std::vector<LogRecord> records, read(at, kLookAheadBytes));
    if (records.empty())
      return Status::NotFound("change log: no commit marker at or after offset " +
                              std::to_string(offset) + " (end offset " +
                              std::to_string(endOffset()) + ")");
    for (LogRecord& r : records) {
      if (r.key.empty() && recordOp(r.value) == "commit") return std::move(r);
      at = r.offset + 1;
    }
  }
}

std::string recordOp(std::string_view value) {
  static constexpr std::string_view kOp = ",\"op\":\"";
  size_t at = value.substr(0, 40).find(kOp);
  if (at != std::string_view::npos) {
    size_t start = at + kOp.size();
    size_t end = value.find('"', start);
    if (end != std::string_view::npos && end - start <= 16)
      return std::string(value.substr(start, end - start));
  }
  auto j = nlohmann::json::parse(value, nullptr, /*allow_exceptions=*/false);
  return j.is_object() && j["op"].is_string() ? j["op"].get<std::string>() : "";
}

}  // namespace dts::sink
