// TaskManager: the tasks of one data dir run as a service. Each task runs the same engine as
// `dts run` (task::TaskRunner over the data dir's SQLite state store) in its own thread, so one
// task's failure never stops another. What the server adds is kept beside the engine's state:
//
//   DATA_DIR/dts.db, task_events       each task's recent events (server/task_events.h)
//   DATA_DIR/server/tasks/NAME.json   {"yaml": <the task as submitted>, "desired": <state>}
//                                     mode 0600 (it may hold an inline password), written
//                                     atomically (temporary file + rename)
//
// `desired` is what the operator asked for (created | running | paused | stopped); a restarted
// server (also after kill -9) starts again every task whose desired state is running and whose
// engine phase is neither completed nor failed. The engine's own phase, progress and checkpoint
// stay in the state store (dts.db), and the data's exactly-once bookkeeping in the destination's
// dts_meta, as with `dts run`: pause/stop set the runner's stop flag, the runner ends at a
// checkpoint (phase paused), and the next start resumes exactly from it.
//
// Tasks a `dts run` left in the state store without a server record are adopted as stopped (never
// started on their own: a `dts run` may still be running them).
//
// Thread-safety: every public method may be called from any thread (HTTP handlers). Control
// calls on one task are serialised; pause/stop/delete block until the task's thread has ended.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/status.h"
#include "server/group_tokens.h"
#include "server/kafka_groups.h"
#include "server/task_events.h"
#include "sink/change_log_reader.h"
#include "task/precheck.h"
#include "task/runner.h"
#include "task/state_store.h"
#include "task/task_config.h"

namespace dts::server {

// A consumer group of a tracking task, as the durable group store (server/kafka_groups.h) has
// it, whichever protocol committed.
struct TrackingGroup {
  std::string name;
  std::string topic;              // TASK, or a view TASK.FORMAT (docs/kafka.md)
  int64_t committed_offset = -1;  // the next offset the group reads
  int64_t lag = 0;                // log end offset - committed offset (records), >= 0
  int64_t updated_at_ms = 0;      // when it last committed
};

// A tracking task's change log and its consumers.
struct TrackingView {
  int64_t log_start_offset = 0;
  int64_t log_end_offset = 0;
  std::vector<TrackingGroup> groups;  // by name
};

// Everything the API and the metrics show of one task, copied under the manager's locks.
struct TaskView {
  std::string name;
  std::string kind;
  // created | running | paused | stopped | completed | failed: the engine's phase combined with
  // what the operator asked (a paused engine is "stopped" after a stop call).
  std::string state;
  bool running = false;
  task::TaskState engine;   // the last state the engine saved (phase, tables, rates, checkpoint)
  std::string config_yaml;  // the task as taskToYaml prints it (never a password)
  bool source_password_inline = false;
  bool destination_password_inline = false;
  uint64_t rows_moved = 0;   // since the server started (all runs)
  uint64_t bytes_moved = 0;  // since the server started (all runs)
  task::Progress::SinkGauges sink;
  double latency_ms = -1;  // live, from the running engine (< 0: unknown)
  // Errors by kind since the server started: connection, precheck, other.
  std::map<std::string, uint64_t> errors;
  std::optional<int64_t> retry_deadline_ms;  // while retrying: when the task gives up
  std::vector<TaskEvent> events;             // oldest first (only with withEvents)
  std::optional<TrackingView> tracking;      // tracking tasks (get and list)
};

// The hint the API attaches to an error message (by what the message says); "" when none.
std::string errorHint(const std::string& message);
// The fix hint for a precheck item (by its name), for failed and warned items.
std::string precheckHint(const std::string& item);
// "retrying since T, gives up at 2026-11-23T22:00:00Z (attempt 3): ..." -> ms since the epoch.
std::optional<int64_t> parseRetryDeadline(const std::string& retrying);
// Task text as submitted (YAML, or its JSON form) -> the validated config. Errors are
// kInvalidArgument naming the field (the task file's messages).
Result<task::TaskConfig> parseTaskText(const std::string& text);
// A YAML document as JSON (scalars that read as numbers, booleans or null become those).
nlohmann::json yamlTextToJson(const std::string& yaml);

// The task states (TaskView::state) in which each control call is accepted; any other state is
// kFailedPrecondition "task 'T' is STATE; CALL needs ...". docs/api.md has the same table.
//   start      created, stopped, failed   (a paused task is resumed; a completed one is done)
//   resume     paused
//   pause      running
//   stop       running, paused
//   delete     created, paused, stopped, completed, failed   (not running)
//   options    created, paused, stopped, failed   (options are read when the task starts: a
//              running task is paused first; a completed task never runs again)
//   precheck   created, paused, stopped, failed   (not while it runs: it would judge the tables
//              the task itself is writing; a completed task is done)
struct AllowedStates {
  const char* call;
  std::vector<std::string> states;
  const char* why;  // appended to the refusal, "" when nothing to add
};
const std::vector<AllowedStates>& allowedStates();

class TaskManager {
 public:
  struct Options {
    std::string data_dir;
    task::IncrementalFactory incremental;  // null: task::defaultIncrementalFactory()
    // Events kept per task, newest win: in memory and in dts.db's task_events (server/
    // task_events.h), so a restarted server shows them too.
    size_t max_events = 200;
  };

  // Opens the data dir (state store, server records); starts nothing.
  static Result<std::unique_ptr<TaskManager>> open(Options options);
  ~TaskManager();  // shutdown()

  // Starts every task whose desired state is running (see the file comment).
  void resumeAll();
  // Stops every running task at a checkpoint (their desired state stays running, so the next
  // server start resumes them) and waits for their threads.
  void shutdown();

  // Errors: kInvalidArgument (naming the field), kFailedPrecondition "already exists". Nothing
  // is written unless everything validated.
  Result<TaskView> create(const std::string& text);
  Result<std::vector<TaskView>> list();
  Result<TaskView> get(const std::string& name, bool with_events = false);
  // Control. kNotFound for an unknown task; kFailedPrecondition, naming the task's state and the
  // states the call needs, when the state does not allow it (kAllowedStates below).
  Result<TaskView> start(const std::string& name);
  Result<TaskView> resume(const std::string& name);
  Result<TaskView> pause(const std::string& name);
  Result<TaskView> stop(const std::string& name);
  Status remove(const std::string& name);
  // Merges options_yaml (a YAML/JSON mapping of task options) into the task's options; the
  // result is validated like a task file (errors name "options.KEY").
  Result<TaskView> updateOptions(const std::string& name, const std::string& options_yaml);
  // Changes which node of its instance the task reads: source_yaml is a YAML/JSON mapping whose
  // only key is secondary_node (a node name, or null to read the instance's read/write
  // endpoint). The task keeps its checkpoint and resumes from it when started: a position of its
  // instance's binlog, which every node of it has (the precheck checks the node when the task
  // starts). kInvalidArgument for any other key, a task whose source is an endpoint, or a node
  // the instance does not have; kFailedPrecondition while the task runs (as options).
  Result<TaskView> updateSource(const std::string& name, const std::string& source_yaml);
  // Runs the task's precheck now (the same checks as a run). kFailedPrecondition for a running
  // task (it would check the destination tables the task is writing) or a completed one.
  Result<task::PrecheckReport> precheck(const std::string& name);

  // Deletes a registered instance (source::InstanceRegistry::remove) unless a task of the data
  // dir uses it as its source (source.instance, with or without a secondary node): then
  // kFailedPrecondition naming those tasks, which are also put in *users (sorted). Tasks are
  // created under the same lock, so none can start using the instance meanwhile. kNotFound for
  // an unknown instance.
  Status removeInstance(const std::string& instance, std::vector<std::string>* users);
  // The tasks that read `node` of `instance` (source.secondary_node), sorted. Both also count the
  // data dir's tasks this manager does not hold (a `dts run` of the same data dir).
  std::vector<std::string> tasksReadingNode(const std::string& instance, const std::string& node);

  // A tracking task's change log, for its readers (the HTTP changes endpoint, the Kafka
  // listener): the one ChangeLog the task's engine writes while it runs (sink::sharedChangeLog),
  // opened and recovered here when it does not. Kept for the task's lifetime in this server.
  // kNotFound for an unknown task, kInvalidArgument for a task that is not a tracking task.
  Result<std::shared_ptr<const sink::ChangeLogReader>> changeLog(const std::string& name);
  const std::string& dataDir() const { return options_.data_dir; }

  // A tracking task's log offsets and consumer groups with their lag. A log that was never
  // written is not created for this: its offsets are 0. Errors as changeLog().
  Result<TrackingView> tracking(const std::string& name);
  // A new read-only token for one group of a tracking task (server/group_tokens.h), replacing
  // the group's previous one; shown once, only its hash is kept. Errors as changeLog(), and
  // kInvalidArgument for a bad group id.
  Result<std::string> issueGroupToken(const std::string& name, const std::string& group);
  // Revokes it; kNotFound when the group has none.
  Status revokeGroupToken(const std::string& name, const std::string& group);
  // What a group token allows; nullopt when `token` is not one.
  Result<std::optional<GroupTokenScope>> groupTokenScope(const std::string& token);

 private:
  // The data dir's tasks (held or only in the state store) whose task file `match`es, sorted.
  // REQUIRES: mu_ held.
  std::vector<std::string> tasksWhoseSourceIs(
      const std::function<bool(const task::TaskConfig&)>& match);

  struct Slot;
  class ObservedStore;

  explicit TaskManager(Options options);
  Status load();
  Result<std::shared_ptr<Slot>> find(const std::string& name);
  Status writeRecord(const Slot& slot);
  // The task file of a slot, and its replacement: written to its record first (the slot keeps
  // its file if that fails), then an action event `event`. Callers hold slot.op_mu.
  std::string taskYaml(Slot& slot);
  Status replaceTaskYaml(Slot& slot, std::string yaml, const std::string& event);
  Status launch(const std::shared_ptr<Slot>& slot, const std::string& why);
  // Sets the stop flag and joins the task's thread; REQUIRES: slot->op_mu held.
  void halt(Slot& slot);
  TaskView view(const Slot& slot, bool with_events);
  void onSaved(const task::TaskState& state);
  void addEvent(Slot& slot, TaskEvent event);  // REQUIRES: slot->data_mu held

  Options options_;
  std::unique_ptr<task::StateStore> inner_store_;
  std::unique_ptr<ObservedStore> store_;
  std::unique_ptr<TaskEventStore> events_;
  std::mutex mu_;  // guards slots_ (the map; each Slot has its own locks)
  std::map<std::string, std::shared_ptr<Slot>> slots_;
  // The consumers' stores, opened at first use: DATA_DIR/kafka-offsets.db (the groups' committed
  // offsets, shared with the Kafka listener's connection to the same file) and
  // DATA_DIR/group-tokens.db.
  Result<kafka::OffsetStore*> offsetStore();
  Result<GroupTokenStore*> tokenStore();
  std::mutex consumers_mu_;
  std::unique_ptr<kafka::OffsetStore> offsets_;
  std::unique_ptr<GroupTokenStore> tokens_;
};

}  // namespace dts::server
