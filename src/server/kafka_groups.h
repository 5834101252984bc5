// Consumer groups of the Kafka listener: classic group membership (JoinGroup, SyncGroup,
// Heartbeat, LeaveGroup; the client-side assignor's bytes are passed through untouched) and the
// groups' committed offsets, kept durably in SQLite.
// Protocol: https://cwiki.apache.org/confluence/display/KAFKA/Kafka+Client-side+Assignment+Proposal
// and the research note (../shared/research/kafka-protocol.md, "Classic group").
//
// Membership (GroupCoordinator), per group id, independent of every other group:
//   - A JoinGroup starts a rebalance (unless one is under way) and blocks until every current
//     member has joined again or the largest rebalance timeout passed (members that did not
//     rejoin are removed); then the generation goes up, the protocol is the leader's first one
//     that every member supports, and the leader (the oldest member still present) gets the
//     member list. A JoinGroup with an empty member id gets a new id; an unknown id gets
//     UNKNOWN_MEMBER_ID.
//   - SyncGroup: the leader's assignments are stored and every member's SyncGroup returns its own
//     (an encoded empty assignment when the leader gave it none). Followers block until then.
//   - Members that neither heartbeat, commit nor wait in a Join/Sync within their session timeout
//     are evicted and the group rebalances; Heartbeat answers REBALANCE_IN_PROGRESS while one is
//     under way so that members rejoin.
//   - Blocking calls return early (COORDINATOR_NOT_AVAILABLE) when `stop` becomes true.
// Thread-safety: every method may be called from any thread (one mutex for all groups; the
// blocking calls wait on a condition variable, not holding it).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/sqlite.h"
#include "common/status.h"
#include "server/kafka_protocol.h"
#include "sink/change_formats.h"

namespace dts::server::kafka {

class GroupCoordinator {
 public:
  using Clock = std::chrono::steady_clock;

  // REQUIRES: the request decoded at `version` (JoinGroup v0 has no rebalance timeout).
  JoinGroupResponse join(const JoinGroupRequest& request, int16_t version,
                         const std::string& client_id, const std::atomic<bool>& stop);
  SyncGroupResponse sync(const SyncGroupRequest& request, const std::atomic<bool>& stop);
  int16_t heartbeat(const HeartbeatRequest& request);
  int16_t leave(const LeaveGroupRequest& request);
  // Whether a commit by (member, generation) is accepted: a group without members accepts
  // generation -1 (a consumer that assigns partitions itself); otherwise the member must be in
  // the current generation and no rebalance under way. 0 (NONE) or the error code.
  int16_t checkCommit(const std::string& group_id, int32_t generation_id,
                      const std::string& member_id);

  // Evicts members past their session timeout (called by every operation and by waiters).
  void expire();

  // Number of members of a group (tests).
  size_t memberCount(const std::string& group_id);

 private:
  struct Member {
    std::string id;
    std::string client_id;
    int32_t session_timeout_ms = 0;
    int32_t rebalance_timeout_ms = 0;
    std::vector<JoinGroupRequest::Protocol> protocols;
    Clock::time_point last_seen;
    bool joined = false;  // joined in the rebalance under way
    std::string assignment;
  };
  enum class State { kEmpty, kPreparingRebalance, kCompletingRebalance, kStable };
  struct Group {
    State state = State::kEmpty;
    int32_t generation = 0;
    std::string protocol_type;
    std::string protocol;
    std::string leader;
    std::vector<Member> members;  // in join order: the first is the oldest
    Clock::time_point rebalance_deadline;
  };

  Member* findMember(Group& g, const std::string& id);
  void startRebalance(Group& g, Clock::time_point now);
  void maybeCompleteJoin(Group& g, Clock::time_point now);
  void removeMember(Group& g, const std::string& id, Clock::time_point now);
  void expireLocked(Clock::time_point now);

  std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, Group> groups_;
  uint64_t next_member_ = 0;
};

// The topic of a tracking task's change log in `format`: the task's name for the dts encoding,
// TASK.FORMAT for a view (TASK.canal-json, ...; docs/kafka.md). A group's committed offsets are
// per topic, as in Kafka: a group that reads a view and the task's own topic keeps a position
// on each, and the HTTP API reads and commits the topic of its `format=` (docs/api.md).
std::string trackingTopic(const std::string& task, sink::ChangeFormat format);
// Every topic of a tracking task: its own, then its views.
std::vector<std::string> trackingTopics(const std::string& task);

// Committed offsets: DATA_DIR/kafka-offsets.db (SQLite, synchronous=FULL: a commit that was
// acknowledged survives a crash or power loss). Thread-safety: any thread (one mutex).
class OffsetStore {
 public:
  struct Committed {
    std::string topic;
    int32_t partition = 0;
    int64_t offset = -1;
    std::optional<std::string> metadata;
  };

  static Result<std::unique_ptr<OffsetStore>> open(const std::string& path);

  // Stores every entry in one transaction (all or none). Errors name the database file.
  Status commit(const std::string& group_id, const std::vector<Committed>& entries);
  // The committed offsets of a group: all of them when topic is empty, else that topic's.
  Result<std::vector<Committed>> fetch(const std::string& group_id, const std::string& topic);

  struct GroupOffset {
    std::string group_id;
    std::string topic;
    int64_t offset = -1;          // partition 0's committed offset (the next offset to read)
    int64_t committed_at_ms = 0;  // when it was committed (wall clock)
  };
  // Every group with a committed offset of partition 0 of one of `topics`, by group id then topic.
  Result<std::vector<GroupOffset>> groupsOf(const std::vector<std::string>& topics);
  // Forgets every committed offset of `topics` (their task was deleted).
  Status forgetTopics(const std::vector<std::string>& topics);

 private:
  explicit OffsetStore(std::unique_ptr<Sqlite> db) : db_(std::move(db)) {}
  std::mutex mu_;
  std::unique_ptr<Sqlite> db_;
};

}  // namespace dts::server::kafka
