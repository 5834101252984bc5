#include "common/log.h"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_color_sinks.h>

#include "mysql/charset_convert.h"

namespace dts {
namespace {

void appendEscaped(unsigned char c, std::string* out) {
  static constexpr char kHex[] = "0123456789abcdef";
  if (c == '\n') {
    out->append("\\n");
  } else if (c == '\r') {
    out->append("\\r");
  } else {
    out->append("\\x");
    out->push_back(kHex[c >> 4]);
    out->push_back(kHex[c & 15]);
  }
}

// The message (%v) through logSafe.
class SafeMessage final : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm&,
              spdlog::memory_buf_t& dest) override {
    const std::string safe = logSafe(std::string_view(msg.payload.data(), msg.payload.size()));
    dest.append(safe.data(), safe.data() + safe.size());
  }
  std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<SafeMessage>();
  }
};

}  // namespace

std::string logSafe(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  mysql::forEachUtf8Run(
      text,
      [&](std::string_view run) {
        for (char ch : run) {
          const auto c = static_cast<unsigned char>(ch);
          if ((c < 0x20 && c != '\t') || c == 0x7f)
            appendEscaped(c, &out);
          else
            out.push_back(ch);
        }
      },
      [&](unsigned char byte) { appendEscaped(byte, &out); });
  return out;
}

std::unique_ptr<spdlog::formatter> logFormatter() {
  auto f = std::make_unique<spdlog::pattern_formatter>();
  f->add_flag<SafeMessage>('*').set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %*");
  return f;
}

void initLogging(std::string_view level) {
  auto logger = spdlog::stderr_color_mt("dts");
  logger->set_formatter(logFormatter());
  auto lvl = spdlog::level::from_str(std::string(level));
  if (lvl == spdlog::level::off && level != "off") lvl = spdlog::level::info;
  logger->set_level(lvl);
  spdlog::set_default_logger(logger);
}

}  // namespace dts
