#include "pipeline/change_event.h"

namespace dts::pipeline {

namespace {
void sizes(const ChangeEvent& event, size_t* memory_out, size_t* payload_out) {
  size_t memory = sizeof(ChangeEvent), payload = 0;
  for (const mysql::RowImage* img : {&event.before, &event.after}) {
    memory += img->values.size() * sizeof(mysql::Value) + img->present.size() / 8;
    for (const mysql::Value& v : img->values) {
      const size_t n = v.s.size();
      // A string within the small-string buffer holds no memory of its own.
      if (n >= sizeof(std::string)) memory += v.s.capacity();
      payload += n == 0 ? 8 : n;
    }
  }
  *memory_out = memory;
  *payload_out = payload;
}
}  // namespace

void measureRow(ChangeEvent* event) {
  sizes(*event, &event->memory_bytes, &event->payload_bytes);
}

size_t rowImageBytes(const ChangeEvent& event) {
  size_t memory = 0, payload = 0;
  sizes(event, &memory, &payload);
  return memory;
}

const char* opName(ChangeEvent::Op op) {
  switch (op) {
    case ChangeEvent::Op::kInsert: return "insert";
    case ChangeEvent::Op::kUpdate: return "update";
    case ChangeEvent::Op::kDelete: return "delete";
    case ChangeEvent::Op::kDdl: return "ddl";
    case ChangeEvent::Op::kRows: return "rows";
  }
  return "unknown";
}

ChangeEvent::Op rowsOp(mysql::RowsKind kind) {
  switch (kind) {
    case mysql::RowsKind::kInsert: return ChangeEvent::Op::kInsert;
    case mysql::RowsKind::kUpdate: return ChangeEvent::Op::kUpdate;
    case mysql::RowsKind::kDelete: return ChangeEvent::Op::kDelete;
  }
  return ChangeEvent::Op::kInsert;
}

mysql::RowsEventData RawRows::data() const {
  mysql::RowsEventData d;
  d.kind = kind;
  d.partial_json = partial_json;
  d.flags = flags;
  d.column_count = column_count;
  std::string_view all(bytes);
  d.columns_before = all.substr(0, before_bitmap);
  d.columns_after = all.substr(before_bitmap, after_bitmap);
  d.rows = all.substr(static_cast<size_t>(before_bitmap) + after_bitmap);
  d.decoder = decoder;
  return d;
}

Status expandRows(const ChangeEvent& ev, std::vector<ChangeEvent>* out) {
  if (ev.op != ChangeEvent::Op::kRows || ev.raw == nullptr || ev.raw->decoder == nullptr)
    return Status::Internal("expandRows given an event that holds no raw rows");
  const mysql::RowsEventData data = ev.raw->data();
  mysql::RowsReader reader(data, ev.position);
  const ChangeEvent::Op op = rowsOp(data.kind);
  while (!reader.done()) {
    ChangeEvent& ce = out->emplace_back();
    ce.op = op;
    ce.database = ev.database;
    ce.table = ev.table;
    ce.table_info = ev.table_info;
    ce.position = ev.position;
    Status s = reader.next(&ce.before, &ce.after);
    if (!s.ok()) {
      out->pop_back();
      return s;
    }
    measureRow(&ce);
  }
  return Status::OK();
}

}  // namespace dts::pipeline
