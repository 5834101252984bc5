#include "server/task_events.h"

#include <cstdlib>

namespace dts::server {

Result<std::unique_ptr<TaskEventStore>> TaskEventStore::open(const std::string& data_dir,
                                                             size_t max_per_task) {
  if (max_per_task == 0) return Status::InvalidArgument("max_per_task: must be at least 1");
  DTS_ASSIGN_OR_RETURN(auto db, Sqlite::open(data_dir + "/dts.db"));
  // seq grows per task: the newest events are the highest, whatever the clock did.
  DTS_RETURN_IF_ERROR(db->exec(
      "CREATE TABLE IF NOT EXISTS task_events ("
      "  task TEXT NOT NULL, seq INTEGER NOT NULL, at_ms INTEGER NOT NULL, type TEXT NOT NULL,"
      "  message TEXT NOT NULL, hint TEXT NOT NULL, PRIMARY KEY (task, seq))"));
  return std::unique_ptr<TaskEventStore>(new TaskEventStore(std::move(db), max_per_task));
}

Status TaskEventStore::append(const std::string& task, const TaskEvent& e) {
  std::lock_guard<std::mutex> lock(mu_);
  DTS_RETURN_IF_ERROR(db_->exec("BEGIN IMMEDIATE"));
  auto body = [&]() -> Status {
    DTS_RETURN_IF_ERROR(
        db_->query("INSERT INTO task_events (task, seq, at_ms, type, message, hint)"
                   " SELECT ?1, COALESCE(MAX(seq), 0) + 1, ?2, ?3, ?4, ?5 FROM task_events"
                   " WHERE task = ?1",
                   {task, std::to_string(e.at_ms), e.type, e.message, e.hint})
            .status());
    return db_
        ->query(
            "DELETE FROM task_events WHERE task = ?1 AND seq <= (SELECT MAX(seq) FROM"
            " task_events WHERE task = ?1) - ?2",
            {task, std::to_string(max_)})
        .status();
  };
  Status st = body();
  if (!st.ok()) {
    (void)db_->exec("ROLLBACK");
    return st.withContext("saving an event of task " + task);
  }
  return db_->exec("COMMIT");
}

Result<std::deque<TaskEvent>> TaskEventStore::load(const std::string& task) {
  std::lock_guard<std::mutex> lock(mu_);
  DTS_ASSIGN_OR_RETURN(auto rows, db_->query("SELECT at_ms, type, message, hint FROM task_events"
                                             " WHERE task = ?1 ORDER BY seq DESC LIMIT ?2",
                                             {task, std::to_string(max_)}));
  std::deque<TaskEvent> out;
  for (const auto& r : rows) {
    TaskEvent e;
    e.at_ms = std::strtoll(r[0].value_or("0").c_str(), nullptr, 10);
    e.type = r[1].value_or("");
    e.message = r[2].value_or("");
    e.hint = r[3].value_or("");
    out.push_front(std::move(e));
  }
  return out;
}

Status TaskEventStore::forget(const std::string& task) {
  std::lock_guard<std::mutex> lock(mu_);
  return db_->query("DELETE FROM task_events WHERE task = ?1", {task})
      .status()
      .withContext("deleting the events of task " + task);
}

}  // namespace dts::server
