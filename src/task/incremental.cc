#include "task/incremental.h"

namespace dts::task {

IncrementalFactory defaultIncrementalFactory() {
  // Wired when sink/mysql_applier lands; until then the runner stops after full data with the
  // incremental start position saved.
  return nullptr;
}

}  // namespace dts::task
