#include "common/status.h"

#include <cstdio>
#include <cstdlib>

namespace dts {

const char* Status::codeName(Code code) {
  switch (code) {
    case Code::kOk: return "ok";
    case Code::kInvalidArgument: return "invalid argument";
    case Code::kNotFound: return "not found";
    case Code::kCorruption: return "corruption";
    case Code::kUnavailable: return "unavailable";
    case Code::kUnsupported: return "unsupported";
    case Code::kFailedPrecondition: return "failed precondition";
    case Code::kAborted: return "aborted";
    case Code::kInternal: return "internal error";
  }
  return "unknown";
}

std::string Status::toString() const {
  if (ok()) return "ok";
  return std::string(codeName(code_)) + ": " + message_;
}

namespace internal {

void dieOnErrorValue(const Status& status) {
  std::fprintf(stderr, "dts: internal error: value of an error Result: %s\n",
               status.toString().c_str());
  std::fflush(stderr);
  std::abort();
}

}  // namespace internal

}  // namespace dts
