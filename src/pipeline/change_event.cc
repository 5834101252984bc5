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

mysql::SqlLexerOptions DdlSession::lexerOptions() const {
  mysql::SqlLexerOptions o =
      sql_mode.has_value() ? mysql::lexerOptionsForSqlMode(*sql_mode) : mysql::SqlLexerOptions{};
  o.server_version = server_version;
  o.mysql_server = flavor == mysql::ServerFlavor::kMySql;
  return o;
}

mysql::SqlLexerOptions ddlLexerOptions(const ChangeEvent& ev) {
  return ev.ddl_session != nullptr ? ev.ddl_session->lexerOptions() : mysql::SqlLexerOptions{};
}

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
