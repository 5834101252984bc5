#include "server/kafka_groups.h"

#include <algorithm>
#include <tuple>

#include "common/log.h"

namespace dts::server::kafka {

namespace {
// How often a blocked Join/Sync wakes to expire sessions, check deadlines and the stop flag.
constexpr auto kWaitSlice = std::chrono::milliseconds(100);
constexpr int32_t kMinSessionTimeoutMs = 1000;
constexpr int32_t kMaxSessionTimeoutMs = 30 * 60 * 1000;

// An assignment with no partitions ("some clients fail to decode an empty assignment"):
// ConsumerProtocolAssignment v0, zero topics, empty user data.
const std::string& emptyAssignment() {
  static const std::string kEmpty("\0\0\0\0\0\0\0\0\0\0", 10);
  return kEmpty;
}
}  // namespace

GroupCoordinator::Member* GroupCoordinator::findMember(Group& g, const std::string& id) {
  for (Member& m : g.members) {
    if (m.id == id) return &m;
  }
  return nullptr;
}

void GroupCoordinator::startRebalance(Group& g, Clock::time_point now) {
  if (g.state == State::kPreparingRebalance) return;
  g.state = State::kPreparingRebalance;
  int32_t longest = 0;
  for (Member& m : g.members) {
    m.joined = false;
    longest = std::max(longest, m.rebalance_timeout_ms);
  }
  g.rebalance_deadline = now + std::chrono::milliseconds(longest);
}

void GroupCoordinator::maybeCompleteJoin(Group& g, Clock::time_point now) {
  if (g.state != State::kPreparingRebalance) return;
  bool all =
      std::all_of(g.members.begin(), g.members.end(), [](const Member& m) { return m.joined; });
  if (!all && now < g.rebalance_deadline) return;
  size_t before = g.members.size();
  std::erase_if(g.members, [](const Member& m) { return !m.joined; });
  if (g.members.size() != before) {
    spdlog::info(
        "kafka: {} member(s) of a group did not rejoin within the rebalance timeout and "
        "were removed",
        before - g.members.size());
  }
  ++g.generation;
  if (g.members.empty()) {
    g.state = State::kEmpty;
    g.leader.clear();
    g.protocol.clear();
    cv_.notify_all();
    return;
  }
  if (findMember(g, g.leader) == nullptr) g.leader = g.members.front().id;
  // The leader's most preferred protocol that every member supports (join checked one exists).
  g.protocol.clear();
  for (const auto& p : findMember(g, g.leader)->protocols) {
    bool everyone = std::all_of(g.members.begin(), g.members.end(), [&](const Member& m) {
      return std::any_of(m.protocols.begin(), m.protocols.end(),
                         [&](const auto& q) { return q.name == p.name; });
    });
    if (everyone) {
      g.protocol = p.name;
      break;
    }
  }
  for (Member& m : g.members) m.assignment.clear();
  g.state = State::kCompletingRebalance;
  cv_.notify_all();
}

void GroupCoordinator::removeMember(Group& g, const std::string& id, Clock::time_point now) {
  std::erase_if(g.members, [&](const Member& m) { return m.id == id; });
  if (g.members.empty() && g.state != State::kPreparingRebalance) {
    g.state = State::kEmpty;
    g.leader.clear();
    ++g.generation;
  } else if (g.state == State::kPreparingRebalance) {
    maybeCompleteJoin(g, now);
  } else {
    startRebalance(g, now);
  }
  cv_.notify_all();
}

void GroupCoordinator::expireLocked(Clock::time_point now) {
  for (auto it = groups_.begin(); it != groups_.end();) {
    Group& g = it->second;
    std::vector<std::string> expired;
    for (const Member& m : g.members) {
      if (now - m.last_seen > std::chrono::milliseconds(m.session_timeout_ms))
        expired.push_back(m.id);
    }
    for (const std::string& id : expired) {
      spdlog::info(
          "kafka: group '{}': member '{}' evicted (no heartbeat within its session "
          "timeout); the group rebalances",
          it->first, id);
      removeMember(g, id, now);
    }
    maybeCompleteJoin(g, now);
    // Empty groups are forgotten (their committed offsets stay in the offset store).
    if (g.state == State::kEmpty && g.members.empty()) {
      it = groups_.erase(it);
    } else {
      ++it;
    }
  }
}

void GroupCoordinator::expire() {
  std::lock_guard lock(mu_);
  expireLocked(Clock::now());
}

JoinGroupResponse GroupCoordinator::join(const JoinGroupRequest& req, int16_t version,
                                         const std::string& client_id,
                                         const std::atomic<bool>& stop) {
  JoinGroupResponse r;
  r.member_id = req.member_id;
  if (req.group_id.empty()) {
    r.error_code = kInvalidGroupId;
    return r;
  }
  if (req.session_timeout_ms < kMinSessionTimeoutMs ||
      req.session_timeout_ms > kMaxSessionTimeoutMs) {
    r.error_code = kInvalidSessionTimeout;
    return r;
  }
  if (req.protocol_type.empty() || req.protocols.empty()) {
    r.error_code = kInconsistentGroupProtocol;
    return r;
  }
  std::unique_lock lock(mu_);
  auto now = Clock::now();
  expireLocked(now);
  Group& g = groups_[req.group_id];
  if (!g.members.empty() && g.protocol_type != req.protocol_type) {
    r.error_code = kInconsistentGroupProtocol;
    return r;
  }
  // Some protocol must be supported by every other member too.
  bool compatible = std::any_of(req.protocols.begin(), req.protocols.end(), [&](const auto& p) {
    return std::all_of(g.members.begin(), g.members.end(), [&](const Member& m) {
      return m.id == req.member_id || std::any_of(m.protocols.begin(), m.protocols.end(),
                                                  [&](const auto& q) { return q.name == p.name; });
    });
  });
  if (!compatible) {
    r.error_code = kInconsistentGroupProtocol;
    return r;
  }
  std::string id = req.member_id;
  if (id.empty()) {
    id = (client_id.empty() ? std::string("consumer") : client_id) + "-" +
         std::to_string(++next_member_);
    g.members.push_back(Member{});
    g.members.back().id = id;
  } else if (findMember(g, id) == nullptr) {
    r.error_code = kUnknownMemberId;
    return r;
  }
  g.protocol_type = req.protocol_type;
  Member* m = findMember(g, id);
  m->client_id = client_id;
  m->session_timeout_ms = req.session_timeout_ms;
  m->rebalance_timeout_ms = version >= 1 && req.rebalance_timeout_ms > 0 ? req.rebalance_timeout_ms
                                                                         : req.session_timeout_ms;
  m->protocols = req.protocols;
  m->last_seen = now;
  startRebalance(g, now);
  m->joined = true;
  const int32_t generation_before = g.generation;
  maybeCompleteJoin(g, now);
  // Re-found after every wait: a group whose last member left meanwhile is erased.
  Group* group = &g;
  while (group->generation == generation_before) {
    if (stop.load()) {
      r.error_code = kCoordinatorNotAvailable;
      return r;
    }
    cv_.wait_for(lock, kWaitSlice);
    now = Clock::now();
    auto it = groups_.find(req.group_id);
    if (it == groups_.end() || findMember(it->second, id) == nullptr) break;
    findMember(it->second, id)->last_seen = now;
    expireLocked(now);
    it = groups_.find(req.group_id);
    if (it == groups_.end()) break;
    group = &it->second;
  }
  auto found = groups_.find(req.group_id);
  Member* self = found == groups_.end() ? nullptr : findMember(found->second, id);
  if (self == nullptr) {  // removed while waiting (left, or evicted by a concurrent rebalance)
    r.error_code = kUnknownMemberId;
    r.member_id.clear();
    return r;
  }
  Group& done = found->second;
  r.generation_id = done.generation;
  r.protocol_name = done.protocol;
  r.leader = done.leader;
  r.member_id = id;
  if (id == done.leader) {
    for (const Member& e : done.members) {
      std::string metadata;
      for (const auto& p : e.protocols) {
        if (p.name == done.protocol) metadata = p.metadata;
      }
      r.members.push_back({e.id, std::nullopt, metadata});
    }
  }
  return r;
}

SyncGroupResponse GroupCoordinator::sync(const SyncGroupRequest& req,
                                         const std::atomic<bool>& stop) {
  SyncGroupResponse r;
  std::unique_lock lock(mu_);
  auto now = Clock::now();
  expireLocked(now);
  auto it = groups_.find(req.group_id);
  if (it == groups_.end() || findMember(it->second, req.member_id) == nullptr) {
    r.error_code = kUnknownMemberId;
    return r;
  }
  Group& g = it->second;
  if (req.generation_id != g.generation) {
    r.error_code = kIllegalGeneration;
    return r;
  }
  if (g.state == State::kPreparingRebalance) {
    r.error_code = kRebalanceInProgress;
    return r;
  }
  findMember(g, req.member_id)->last_seen = now;
  if (g.state == State::kCompletingRebalance && req.member_id == g.leader) {
    for (const auto& a : req.assignments) {
      if (Member* m = findMember(g, a.member_id)) m->assignment = a.assignment;
    }
    g.state = State::kStable;
    cv_.notify_all();
  }
  Group* group = &g;
  while (group->state == State::kCompletingRebalance && group->generation == req.generation_id) {
    if (stop.load()) {
      r.error_code = kCoordinatorNotAvailable;
      return r;
    }
    cv_.wait_for(lock, kWaitSlice);
    now = Clock::now();
    it = groups_.find(req.group_id);
    if (it == groups_.end() || findMember(it->second, req.member_id) == nullptr) break;
    findMember(it->second, req.member_id)->last_seen = now;
    expireLocked(now);
    it = groups_.find(req.group_id);
    if (it == groups_.end()) break;
    group = &it->second;
  }
  it = groups_.find(req.group_id);
  Member* self = it == groups_.end() ? nullptr : findMember(it->second, req.member_id);
  if (self == nullptr) {
    r.error_code = kUnknownMemberId;
  } else if (it->second.generation != req.generation_id || it->second.state != State::kStable) {
    r.error_code = kRebalanceInProgress;
  } else {
    r.assignment = self->assignment.empty() ? emptyAssignment() : self->assignment;
  }
  return r;
}

int16_t GroupCoordinator::heartbeat(const HeartbeatRequest& req) {
  std::lock_guard lock(mu_);
  auto now = Clock::now();
  expireLocked(now);
  auto it = groups_.find(req.group_id);
  if (it == groups_.end()) return kUnknownMemberId;
  Member* m = findMember(it->second, req.member_id);
  if (m == nullptr) return kUnknownMemberId;
  if (req.generation_id != it->second.generation) return kIllegalGeneration;
  m->last_seen = now;
  if (it->second.state == State::kPreparingRebalance) return kRebalanceInProgress;
  return kNone;
}

int16_t GroupCoordinator::leave(const LeaveGroupRequest& req) {
  std::lock_guard lock(mu_);
  auto now = Clock::now();
  auto it = groups_.find(req.group_id);
  if (it == groups_.end() || findMember(it->second, req.member_id) == nullptr)
    return kUnknownMemberId;
  removeMember(it->second, req.member_id, now);
  expireLocked(now);
  return kNone;
}

int16_t GroupCoordinator::checkCommit(const std::string& group_id, int32_t generation_id,
                                      const std::string& member_id) {
  std::lock_guard lock(mu_);
  auto now = Clock::now();
  expireLocked(now);
  auto it = groups_.find(group_id);
  if (it == groups_.end() || it->second.members.empty())
    return generation_id < 0 ? kNone : kUnknownMemberId;
  Group& g = it->second;
  Member* m = findMember(g, member_id);
  if (m == nullptr) return kUnknownMemberId;
  if (generation_id != g.generation) return kIllegalGeneration;
  m->last_seen = now;
  if (g.state == State::kPreparingRebalance) return kRebalanceInProgress;
  return kNone;
}

size_t GroupCoordinator::memberCount(const std::string& group_id) {
  std::lock_guard lock(mu_);
  auto it = groups_.find(group_id);
  return it == groups_.end() ? 0 : it->second.members.size();
}

std::string trackingTopic(const std::string& task, sink::ChangeFormat format) {
  if (format == sink::ChangeFormat::kDts) return task;
  return task + "." + sink::changeFormatName(format);
}

std::vector<std::string> trackingTopics(const std::string& task) {
  std::vector<std::string> out;
  for (auto f : {sink::ChangeFormat::kDts, sink::ChangeFormat::kDebeziumJson,
                 sink::ChangeFormat::kCanalJson, sink::ChangeFormat::kMaxwellJson})
    out.push_back(trackingTopic(task, f));
  return out;
}

Result<std::unique_ptr<OffsetStore>> OffsetStore::open(const std::string& path) {
  DTS_ASSIGN_OR_RETURN(auto db, Sqlite::open(path));
  DTS_RETURN_IF_ERROR(db->exec(
      "PRAGMA synchronous=FULL;"
      "CREATE TABLE IF NOT EXISTS kafka_offsets ("
      "  group_id TEXT NOT NULL, topic TEXT NOT NULL, partition INTEGER NOT NULL,"
      "  committed_offset INTEGER NOT NULL, metadata TEXT, committed_at_ms INTEGER NOT NULL,"
      "  PRIMARY KEY (group_id, topic, partition))"));
  return std::unique_ptr<OffsetStore>(new OffsetStore(std::move(db)));
}

Status OffsetStore::commit(const std::string& group_id, const std::vector<Committed>& entries) {
  std::lock_guard lock(mu_);
  const std::string now = std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(
                                             std::chrono::system_clock::now().time_since_epoch())
                                             .count());
  auto where = [&](const Status& st) {
    return st.withContext("storing the committed offsets of group '" + group_id + "' in " +
                          db_->path());
  };
  Status st = db_->exec("BEGIN IMMEDIATE");
  if (!st.ok()) return where(st);
  for (const Committed& c : entries) {
    auto r = db_->query(
        "INSERT INTO kafka_offsets (group_id, topic, partition, committed_offset, metadata, "
        "committed_at_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (group_id, topic, "
        "partition) DO UPDATE SET committed_offset = excluded.committed_offset, metadata = "
        "excluded.metadata, committed_at_ms = excluded.committed_at_ms",
        {group_id, c.topic, std::to_string(c.partition), std::to_string(c.offset), c.metadata,
         now});
    if (!r.ok()) {
      (void)db_->exec("ROLLBACK");
      return where(r.status());
    }
  }
  st = db_->exec("COMMIT");
  if (!st.ok()) {
    (void)db_->exec("ROLLBACK");
    return where(st);
  }
  return Status::OK();
}

Result<std::vector<OffsetStore::Committed>> OffsetStore::fetch(const std::string& group_id,
                                                               const std::string& topic) {
  std::lock_guard lock(mu_);
  auto rows = topic.empty() ? db_->query(
                                  "SELECT topic, partition, committed_offset, metadata FROM "
                                  "kafka_offsets WHERE group_id = ?1 ORDER BY topic, partition",
                                  {group_id})
                            : db_->query(
                                  "SELECT topic, partition, committed_offset, metadata FROM "
                                  "kafka_offsets WHERE group_id = ?1 AND topic = ?2 ORDER BY "
                                  "partition",
                                  {group_id, topic});
  if (!rows.ok()) {
    return rows.status().withContext("reading the committed offsets of group '" + group_id +
                                     "' from " + db_->path());
  }
  std::vector<Committed> out;
  for (const auto& row : *rows) {
    Committed c;
    c.topic = row[0].value_or("");
    c.partition = static_cast<int32_t>(std::stol(row[1].value_or("0")));
    c.offset = std::stoll(row[2].value_or("-1"));
    c.metadata = row[3];
    out.push_back(std::move(c));
  }
  return out;
}

Result<std::vector<OffsetStore::GroupOffset>> OffsetStore::groupsOf(
    const std::vector<std::string>& topics) {
  std::lock_guard lock(mu_);
  std::vector<GroupOffset> out;
  for (const std::string& topic : topics) {
    auto rows = db_->query(
        "SELECT group_id, committed_offset, committed_at_ms FROM kafka_offsets WHERE topic = ?1 "
        "AND partition = 0 ORDER BY group_id",
        {topic});
    if (!rows.ok())
      return rows.status().withContext("reading the groups of topic '" + topic + "' from " +
                                       db_->path());
    for (const auto& row : *rows) {
      GroupOffset g;
      g.group_id = row[0].value_or("");
      g.topic = topic;
      g.offset = std::stoll(row[1].value_or("-1"));
      g.committed_at_ms = std::stoll(row[2].value_or("0"));
      out.push_back(std::move(g));
    }
  }
  std::sort(out.begin(), out.end(), [](const GroupOffset& a, const GroupOffset& b) {
    return std::tie(a.group_id, a.topic) < std::tie(b.group_id, b.topic);
  });
  return out;
}

Status OffsetStore::forgetTopics(const std::vector<std::string>& topics) {
  std::lock_guard lock(mu_);
  for (const std::string& topic : topics) {
    auto r = db_->query("DELETE FROM kafka_offsets WHERE topic = ?1", {topic});
    if (!r.ok())
      return r.status().withContext("forgetting the committed offsets of topic '" + topic +
                                    "' in " + db_->path());
  }
  return Status::OK();
}

}  // namespace dts::server::kafka
