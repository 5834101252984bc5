#include "common/log.h"

#include <spdlog/sinks/stdout_color_sinks.h>

namespace dts {

void initLogging(std::string_view level) {
  auto logger = spdlog::stderr_color_mt("dts");
  logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v");
  auto lvl = spdlog::level::from_str(std::string(level));
  if (lvl == spdlog::level::off && level != "off") lvl = spdlog::level::info;
  logger->set_level(lvl);
  spdlog::set_default_logger(logger);
}

}  // namespace dts
