#include "pipeline/change_event.h"

namespace dts::pipeline {

const char* opName(ChangeEvent::Op op) {
  switch (op) {
    case ChangeEvent::Op::kInsert: return "insert";
    case ChangeEvent::Op::kUpdate: return "update";
    case ChangeEvent::Op::kDelete: return "delete";
    case ChangeEvent::Op::kDdl: return "ddl";
  }
  return "unknown";
}

}  // namespace dts::pipeline
