#include "task/task_config.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include "task/tracking.h"

namespace dts::task {
namespace {

const char* kFull = R"(
name: shop-sync
kind: sync
source:      {endpoint: 127.0.0.1:3306, user: dts, password_env: DTS_TEST_SRC_PW}
destination: {endpoint: "127.0.0.1:3307", user: dts, password: "s3cret-pw"}
objects:
  - database: shop
    rename_to: shop_copy
    tables:
      - name: orders
        rename_to: orders_v2
        columns: [id, total, status]
        where: "status <> 'test'"
        dml: [insert, update]
      - customers
  - database: logs
    exclude_tables: [seq1, "audit log"]
options:
  incremental: true
  ddl: false
  conflicting_tables: ignore
  parallelism: 8
  full: {max_rps: 1000, max_mbps: 2.5, chunk_rows: 500, method: load_data}
  incremental_limits: {max_rps: 0, max_mbps: 0}
)";

TEST(TaskConfigTest, ParsesTheDocumentedShape) {
  auto c = parseTaskYaml(kFull);
  ASSERT_TRUE(c.ok()) << c.status().toString();
  EXPECT_EQ(c->name, "shop-sync");
  EXPECT_EQ(c->kind, TaskKind::kSync);
  EXPECT_EQ(c->source.password_env, "DTS_TEST_SRC_PW");
  EXPECT_EQ(c->destination.password, "s3cret-pw");
  ASSERT_EQ(c->objects.size(), 2u);
  EXPECT_EQ(c->objects[0].rename_to, "shop_copy");
  ASSERT_EQ(c->objects[0].tables.size(), 2u);
  const auto& t = c->objects[0].tables[0];
  EXPECT_EQ(t.rename_to, "orders_v2");
  EXPECT_EQ(t.columns, (std::vector<std::string>{"id", "total", "status"}));
  EXPECT_EQ(t.where, "status <> 'test'");
  EXPECT_TRUE(t.dml.insert && t.dml.update && !t.dml.del);
  EXPECT_EQ(c->objects[0].tables[1].name, "customers");
  EXPECT_TRUE(c->objects[1].tables.empty());
  EXPECT_EQ(c->objects[1].exclude, (std::vector<std::string>{"seq1", "audit log"}));
  EXPECT_FALSE(c->options.ddl);
  EXPECT_EQ(c->options.conflicting_tables, ConflictPolicy::kIgnore);
  EXPECT_EQ(c->options.parallelism, 8);
  EXPECT_EQ(c->options.full.max_rps, 1000u);
  EXPECT_DOUBLE_EQ(c->options.full.max_mbps, 2.5);
  EXPECT_EQ(c->options.full_chunk_rows, 500u);
  EXPECT_EQ(c->options.full_method, FullWriteMethod::kLoadData);
  EXPECT_TRUE(c->incremental());
  EXPECT_TRUE(c->mapping().ok());
}

// A key written twice would silently mean one of its values: refused, at any depth, in YAML and
// in JSON (which the API's bodies are), with where it was written.
TEST(TaskConfigTest, AKeyWrittenTwiceIsRefused) {
  const std::string base =
      "name: t\nkind: sync\nsource: {endpoint: 127.0.0.1:1, user: u, password: p}\n"
      "destination: {endpoint: 127.0.0.1:2, user: u, password: p}\n";
  auto top = parseTaskYaml(base + "objects: [{database: a}]\nobjects: [{database: b}]\n");
  ASSERT_FALSE(top.ok());
  EXPECT_EQ(top.status().message(),
            "task file: duplicate key 'objects' at line 6 (first at line 5)");
  auto deep = parseTaskYaml(base +
                            "objects: [{database: a, tables: [{name: t, where: 'x = 1', "
                            "where: 'x = 2'}]}]\n");
  ASSERT_FALSE(deep.ok());
  EXPECT_NE(deep.status().message().find("duplicate key 'where'"), std::string::npos)
      << deep.status().message();
  auto json = parseTaskYaml(
      R"({"name": "dup1", "name": "dup2", "kind": "sync", "source": {"endpoint": "127.0.0.1:1",)"
      R"( "user": "u", "password": "p"}, "destination": {"endpoint": "127.0.0.1:2", "user": "u",)"
      R"( "password": "p"}, "objects": [{"database": "a"}]})");
  ASSERT_FALSE(json.ok());
  EXPECT_NE(json.status().message().find("duplicate key 'name'"), std::string::npos)
      << json.status().message();
  EXPECT_TRUE(parseTaskYaml(base + "objects: [{database: a}, {database: b}]\n").ok());
}

// JSON writes a character beyond U+FFFF as an escaped surrogate pair (Python's json.dumps does by
// default); yaml-cpp refused the body ("invalid unicode: 55357").
TEST(TaskConfigTest, JsonSurrogatePairsAreTheirCharacter) {
  auto c = parseTaskYaml(
      R"({"name": "t", "kind": "sync", "source": {"endpoint": "127.0.0.1:1", "user": "u",)"
      R"( "password": "p\\ud83d"}, "destination": {"endpoint": "127.0.0.1:2", "user": "u",)"
      R"( "password": "p"}, "objects": [{"database": "a", "tables": [{"name": "t", "where":)"
      R"( "note <> '\ud83d\ude00' AND n = '\u00e9'"}]}]})");
  ASSERT_TRUE(c.ok()) << c.status().toString();
  EXPECT_EQ(c->objects[0].tables[0].where, "note <> '\xF0\x9F\x98\x80' AND n = '\xC3\xA9'");
  // An escaped backslash before "ud83d" is a backslash and text, not an escape.
  EXPECT_EQ(c->source.password, "p\\ud83d");
}

// Why a task file cannot be read is said, not only that it cannot.
TEST(TaskConfigTest, AFileThatCannotBeReadSaysWhy) {
  auto missing = loadTaskFile("/nonexistent-dir/task.yaml");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().message(),
            "task file /nonexistent-dir/task.yaml: cannot be read: No such file or directory");
}

// The "billion laughs": 600 bytes whose aliases of aliases expand to 9^12 values kept every walk
// over the document busy for ever (the server's request thread too). An alias used sensibly is
// still read.
TEST(TaskConfigTest, AliasesThatExpandBeyondReasonAreRefused) {
  std::string laughs = "a0: &a0 [x, x, x, x, x, x, x, x, x]\n";
  for (int i = 1; i <= 12; ++i) {
    const std::string n = std::to_string(i), prev = std::to_string(i - 1);
    laughs.append("a").append(n).append(": &a").append(n).append(" [*a").append(prev);
    for (int k = 1; k < 9; ++k) laughs.append(", *a").append(prev);
    laughs.append("]\n");
  }
  auto bomb = parseTaskYaml(laughs);
  ASSERT_FALSE(bomb.ok());
  EXPECT_EQ(bomb.status().message(),
            "task file: more than 1000000 values with its aliases (*name) expanded");
  auto reused = parseTaskYaml(
      "name: t\nkind: sync\nsource: {endpoint: 127.0.0.1:1, user: u, password: &pw p}\n"
      "destination: {endpoint: 127.0.0.1:2, user: u, password: *pw}\nobjects: [{database: a}]\n");
  EXPECT_TRUE(reused.ok()) << reused.status().toString();
}

TEST(TaskConfigTest, DefaultsAndPasswordResolution) {
  auto c = parseTaskYaml(R"(
name: m
kind: migration
source: {endpoint: h1, user: u}
destination: {endpoint: h2:3307, user: u, password_env: DTS_TEST_DEST_PW}
objects: [{database: d}]
)");
  ASSERT_TRUE(c.ok()) << c.status().toString();
  EXPECT_EQ(c->options.parallelism, 4);
  EXPECT_TRUE(c->options.incremental);
  EXPECT_EQ(c->options.conflicting_tables, ConflictPolicy::kPrecheck);
  EXPECT_TRUE(c->options.full.unlimited());
  unsetenv("DTS_TEST_DEST_PW");
  auto missing = c->destination.connectOptions();
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("DTS_TEST_DEST_PW"), std::string::npos);
  setenv("DTS_TEST_DEST_PW", "pw-from-env", 1);
  auto o = c->destination.connectOptions();
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o->password, "pw-from-env");
  EXPECT_EQ(o->endpoint.port, 3307);
  unsetenv("DTS_TEST_DEST_PW");
}

TEST(TaskConfigTest, RoundTripsWithoutPasswords) {
  auto c = parseTaskYaml(kFull);
  ASSERT_TRUE(c.ok());
  std::string yaml = taskToYaml(*c);
  EXPECT_EQ(yaml.find("s3cret-pw"), std::string::npos);
  auto back = parseTaskYaml(yaml);
  ASSERT_TRUE(back.ok()) << back.status().toString() << "\n" << yaml;
  EXPECT_EQ(taskToYaml(*back), yaml);
}

std::string errorOf(const std::string& yaml) {
  auto c = parseTaskYaml(yaml);
  EXPECT_FALSE(c.ok()) << yaml;
  return c.ok() ? "" : c.status().message();
}

std::string withBase(const std::string& options_or_objects) {
  return "name: t\nkind: migration\nsource: {endpoint: h:1, user: u}\n"
         "destination: {endpoint: h:2, user: u}\n" +
         options_or_objects;
}

TEST(TaskConfigTest, EveryErrorNamesTheKeyAndWhatIsAllowed) {
  struct Case {
    std::string yaml;
    std::string expect;
  };
  std::string objects = "objects: [{database: d}]\n";
  std::vector<Case> cases = {
      {"name: [", "not valid YAML at line"},
      {"- a\n- b\n", "task file: must be a YAML mapping"},
      {"kind: sync\n", "name: required"},
      {"name: 'bad name!'\n", "name: 'bad name!' may contain only"},
      {"name: ''\n", "name: must be 1-64 characters"},
      {"name: t\n", "kind: required"},
      {"name: t\nkind: copy\n", "kind: must be migration, sync or tracking, got 'copy'"},
      {"name: t\nkind: sync\n", "source: required"},
      {"name: t\nkind: sync\nsource: x\n", "source: must be a mapping, got 'x'"},
      {"name: t\nkind: sync\nsource: {user: u}\n", "source.endpoint: required"},
      {"name: t\nkind: sync\nsource: {endpoint: 'h:0', user: u}\n",
       "source.endpoint: endpoint 'h:0': port must be 1-65535"},
      {"name: t\nkind: sync\nsource: {endpoint: h}\n", "source.user: required"},
      {"name: t\nkind: sync\nsource: {endpoint: h, user: ''}\n", "source.user: must not be empty"},
      {"name: t\nkind: sync\nsource: {endpoint: h, user: u, password: p, password_env: E}\n",
       "source: give password or password_env, not both"},
      {"name: t\nkind: sync\nsource: {endpoint: h, user: u, password: [p]}\n",
       "source.password: must be a string, got a non-string"},
      {"name: t\nkind: sync\nsource: {endpoint: h, user: u, host: x}\n",
       "source.host: unknown key (allowed here: endpoint, password, password_env, user)"},
      {"name: t\nkind: sync\nsource: {endpoint: h, user: u}\n", "destination: required"},
      {"name: t\nkind: sync\nsource: {endpoint: h, user: u}\ndestination: {endpoint: h, user: u}\n",
       "objects: required"},
      {withBase("objects: []\n"), "objects: must be a non-empty list"},
      {withBase("objects: [{}]\n"), "objects[0].database: required"},
      {withBase("objects: [{database: ''}]\n"), "objects[0].database: must not be empty"},
      {withBase("objects: [{database: d, rename_to: ''}]\n"),
       "objects[0].rename_to: must not be empty"},
      {withBase("objects: [{database: d, table: [x]}]\n"), "objects[0].table: unknown key"},
      // Names the server refuses only once the task writes, and databases dts never moves.
      {withBase("objects: [{database: d, rename_to: " + std::string(65, 'x') + "}]\n"),
       "objects[0].rename_to: is 65 characters long; MySQL and MariaDB names have at most 64"},
      {withBase("objects: [{database: d, tables: [{name: t, rename_to: 'caf\u00e9" +
                std::string(61, 'x') + "'}]}]\n"),
       "objects[0].tables[0].rename_to: is 65 characters long"},
      {withBase("objects: [{database: d, tables: [{name: t, columns: [a, 'b ']}]}]\n"),
       "objects[0].tables[0].columns[1]: must not end with a space"},
      {withBase("objects: [{database: MySQL}]\n"),
       "objects[0].database: 'MySQL' is a system database"},
      {withBase("objects: [{database: d, rename_to: performance_schema}]\n"),
       "objects[0].rename_to: 'performance_schema' is a system database"},
      {withBase("objects: [{database: d, rename_to: dts_meta}]\n"),
       "objects[0].rename_to: 'dts_meta' holds dts's own bookkeeping"},
      {withBase("objects: [{database: d, tables: []}]\n"),
       "objects[0].tables: must be a non-empty list"},
      {withBase("objects: [{database: d, exclude_tables: []}]\n"),
       "objects[0].exclude_tables: must be a non-empty list of table names"},
      {withBase("objects: [{database: d, exclude_tables: s}]\n"),
       "objects[0].exclude_tables: must be a list of strings, got 's'"},
      {withBase("objects: [{database: d, exclude_tables: [a, '']}]\n"),
       "objects[0].exclude_tables[1]: must not be empty"},
      {withBase("objects: [{database: d, exclude_tables: ['a ']}]\n"),
       "objects[0].exclude_tables[0]: must not end with a space"},
      {withBase("objects: [{database: d, exclude_tables: [a], tables: [b]}]\n"),
       "objects[0].exclude_tables: cannot be combined with tables"},
      {withBase("objects: [{database: d, exclude_tables: [a, a]}]\n"),
       "objects[0].exclude_tables[1]: table 'a' is listed twice"},
      {withBase("objects: [{database: d, tables: [{rename_to: x}]}]\n"),
       "objects[0].tables[0].name: required"},
      {withBase("objects: [{database: d, tables: [{name: t, rename_to: ''}]}]\n"),
       "objects[0].tables[0].rename_to: must not be empty"},
      {withBase("objects: [{database: d, tables: [{name: t, columns: []}]}]\n"),
       "objects[0].tables[0].columns: must list at least one column"},
      {withBase("objects: [{database: d, tables: [{name: t, columns: x}]}]\n"),
       "objects[0].tables[0].columns: must be a list of strings, got 'x'"},
      {withBase("objects: [{database: d, tables: [{name: t, where: 'f(x) = 1'}]}]\n"),
       "objects[0].tables[0].where: where: functions"},
      {withBase("objects: [{database: d, tables: [{name: t, dml: [insert, merge]}]}]\n"),
       "objects[0].tables[0].dml: must be a list of insert, update, delete; got 'merge'"},
      {withBase("objects: [{database: d, tables: [{name: t, filter: x}]}]\n"),
       "objects[0].tables[0].filter: unknown key"},
      {withBase("objects: [{database: d, tables: [t, t]}]\n"),
       "objects[0].tables[1].name: table 't' is listed twice"},
      {withBase("objects: [{database: d}, {database: d}]\n"),
       "objects[1].database: 'd' is listed twice"},
      {withBase(objects + "options: {parallelism: x}\n"),
       "options.parallelism: must be an integer 1-64, got 'x'"},
      {withBase(objects + "options: {parallelism: 65}\n"),
       "options.parallelism: must be an integer 1-64, got '65'"},
      {withBase(objects + "options: {parallelism: 0}\n"),
       "options.parallelism: must be an integer 1-64, got '0'"},
      {withBase(objects + "options: {incremental: maybe}\n"),
       "options.incremental: must be true or false, got 'maybe'"},
      {withBase(objects + "options: {ddl: 3}\n"), "options.ddl: must be true or false, got '3'"},
      {withBase(objects + "options: {conflicting_tables: drop}\n"),
       "options.conflicting_tables: must be precheck or ignore, got 'drop'"},
      {withBase(objects + "options: {full: {max_rps: -1}}\n"),
       "options.full.max_rps: must be an integer 0-1000000000, got '-1'"},
      {withBase(objects + "options: {full: {max_mbps: fast}}\n"),
       "options.full.max_mbps: must be a number 0-100000, got 'fast'"},
      {withBase(objects + "options: {full: {burst: 1}}\n"), "options.full.burst: unknown key"},
      {withBase(objects + "options: {full: {chunk_rows: many}}\n"),
       "options.full.chunk_rows: must be an integer 0-10000000, got 'many'"},
      {withBase(objects + "options: {incremental_limits: {chunk_rows: 5}}\n"),
       "options.incremental_limits.chunk_rows: unknown key"},
      {withBase(objects + "options: {full: {method: fast}}\n"),
       "options.full.method: must be auto, bulk_insert, load_data or insert, got 'fast'"},
      {withBase(objects + "options: {incremental_limits: 5}\n"),
       "options.incremental_limits: must be a mapping, got '5'"},
      {withBase(objects + "options: {threads: 5}\n"), "options.threads: unknown key"},
      {withBase(objects + "options: 5\n"), "options: must be a mapping, got '5'"},
      {withBase(objects + "extra: 1\n"), "extra: unknown key"},
      {"name: t\nkind: sync\nsource: {endpoint: h, user: u}\ndestination: {endpoint: h, user: u}\n" +
           objects + "options: {incremental: false}\n",
       "options.incremental: a sync task is always incremental"},
  };
  for (const auto& c : cases) {
    std::string msg = errorOf(c.yaml);
    EXPECT_NE(msg.find(c.expect), std::string::npos)
        << "yaml:\n"
        << c.yaml << "\ngot: " << msg << "\nwant: " << c.expect;
  }
}

TEST(TaskConfigTest, TrackingHasNoDestinationAndKeepsItsLogOptions) {
  const std::string base =
      "name: shop-changes\nkind: tracking\nsource: {endpoint: h:1, user: u}\n"
      "objects: [{database: shop}]\n";
  auto c = parseTaskYaml(base +
                         "options: {retention_hours: 48, retention_bytes: 1000000, start: "
                         "'0-1-100'}\n");
  ASSERT_TRUE(c.ok()) << c.status().toString();
  EXPECT_EQ(c->kind, TaskKind::kTracking);
  EXPECT_TRUE(c->incremental());
  EXPECT_EQ(c->options.retention_hours, 48);
  EXPECT_EQ(c->options.retention_bytes, 1000000u);
  EXPECT_EQ(c->options.start, "0-1-100");
  EXPECT_EQ(c->options.start_ms, -1);
  auto again = parseTaskYaml(taskToYaml(*c));
  ASSERT_TRUE(again.ok()) << again.status().toString() << "\n" << taskToYaml(*c);
  EXPECT_EQ(taskToYaml(*again), taskToYaml(*c));
  EXPECT_EQ(taskToYaml(*c).find("destination"), std::string::npos);

  auto d = parseTaskYaml(base);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->options.retention_hours, 24);
  EXPECT_EQ(d->options.retention_bytes, 0u);

  auto t = parseTaskYaml(base + "options: {start: '2026-12-02T05:00:00Z'}\n");
  ASSERT_TRUE(t.ok()) << t.status().toString();
  EXPECT_EQ(t->options.start_ms, int64_t{1796187600} * 1000);
  auto secs = parseTaskYaml(base + "options: {start: '1700000000'}\n");
  ASSERT_TRUE(secs.ok());
  EXPECT_EQ(secs->options.start_ms, int64_t{1700000000} * 1000);
  auto mysql =
      parseTaskYaml(base + "options: {start: '3E11FA47-71CA-11E1-9E33-C80AA9429562:1-5'}\n");
  ASSERT_TRUE(mysql.ok()) << mysql.status().toString();
  // Names with dots that are no view's topic, and a sync task (no topics) of a view's name.
  for (const char* name : {"shop.v2", "shop.dts", "shop.json", "shop.canal-json.x"}) {
    auto dotted = parseTaskYaml("name: " + std::string(name) + base.substr(base.find('\n')));
    EXPECT_TRUE(dotted.ok()) << name << ": " << dotted.status().toString();
  }
  auto sync = parseTaskYaml(
      "name: shop.canal-json\nkind: sync\nsource: {endpoint: h:1, user: u}\n"
      "destination: {endpoint: h:2, user: u}\nobjects: [{database: d}]\n");
  EXPECT_TRUE(sync.ok()) << sync.status().toString();

  struct Case {
    std::string yaml, expect;
  };
  std::vector<Case> cases = {
      {base + "destination: {endpoint: h:2, user: u}\n",
       "destination: a tracking task has no destination"},
      {base + "options: {retention_hours: 0}\n",
       "options.retention_hours: must be an integer 1-8760"},
      {base + "options: {retention_bytes: -1}\n", "options.retention_bytes: must be an integer"},
      {base + "options: {start: yesterday}\n",
       "options.start: must be a GTID set (\"0-1-100\" or \"uuid:1-100\") or a time"},
      {base + "options: {start: ''}\n", "options.start: must not be empty"},
      // A second document would be ignored without a word.
      {base + "options: {retention_hours: 5}\n---\nbogus: 1\n",
       "a second YAML document (after '---'): give one document only"},
      {base + "options: {incremental: false}\n",
       "options.incremental: a tracking task is always incremental"},
      {withBase("objects: [{database: d}]\noptions: {retention_hours: 5}\n"),
       "options.retention_hours: only a tracking task has a change log"},
      {base + "options: {verify: {full: true}}\n",
       "options.verify: a tracking task has no destination to verify"},
      // The Kafka topics of task shop's encoded views.
      {"name: shop.canal-json\nkind: tracking\nsource: {endpoint: h:1, user: u}\n"
       "objects: [{database: shop}]\n",
       "name: 'shop.canal-json' is the Kafka topic of task 'shop' in canal-json"},
      {"name: a.b.debezium-json\nkind: tracking\nsource: {endpoint: h:1, user: u}\n"
       "objects: [{database: shop}]\n",
       "name: 'a.b.debezium-json' is the Kafka topic of task 'a.b' in debezium-json"},
      {"name: x.maxwell-json\nkind: tracking\nsource: {endpoint: h:1, user: u}\n"
       "objects: [{database: shop}]\n",
       "Kafka topic of task 'x'"},
  };
  for (const auto& k : cases) {
    std::string msg = errorOf(k.yaml);
    EXPECT_NE(msg.find(k.expect), std::string::npos)
        << "yaml:\n"
        << k.yaml << "\ngot: " << msg << "\nwant: " << k.expect;
  }
}

TEST(TaskConfigTest, UtcTimes) {
  EXPECT_EQ(*parseUtcTimeMs("1970-01-01 00:00:00"), 0);
  EXPECT_EQ(*parseUtcTimeMs("2000-03-01T00:00:01Z"), int64_t{951868801} * 1000);
  EXPECT_FALSE(parseUtcTimeMs("2000-13-01 00:00:00").ok());
  EXPECT_FALSE(parseUtcTimeMs("2000-01-01").ok());
  EXPECT_FALSE(parseUtcTimeMs("2000-01-01T00:00:00+01").ok());
  EXPECT_EQ(*parseUtcTimeMs("2000-03-01T00:00:01.25Z"), int64_t{951868801} * 1000 + 250);
  EXPECT_EQ(*parseUtcTimeMs("2000-03-01 00:00:01.000001"), int64_t{951868801} * 1000 + 1);
  EXPECT_EQ(*parseUtcTimeMs("2000-02-29 00:00:00"), int64_t{951782400} * 1000);
  for (const char* bad : {"2001-02-29 00:00:00", "2000-04-31 00:00:00", "2000-01-01 00:00:00.",
                          "2000-01-01 00:00:00.1234567", "2000-01-01 24:00:00",
                          "2000-01-01 00:00:00ZZ", "+200-01-01 00:00:00", "2000-1-01 00:00:00"})
    EXPECT_FALSE(parseUtcTimeMs(bad).ok()) << bad;
}

TEST(TaskConfigTest, PasswordNeverInErrors) {
  std::string msg = errorOf(
      "name: t\nkind: sync\nsource: {endpoint: h, user: u, password: hunter2-secret, port: 1}\n");
  EXPECT_EQ(msg.find("hunter2-secret"), std::string::npos) << msg;
}

TEST(TaskConfigTest, MissingFileIsNotFound) {
  auto c = loadTaskFile("/nonexistent/task.yaml");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), Status::Code::kNotFound);
  EXPECT_NE(c.status().message().find("/nonexistent/task.yaml"), std::string::npos);
}

}  // namespace
}  // namespace dts::task

namespace dts::task {
namespace {

std::string withObjects(const std::string& options) {
  return withBase("objects: [{database: shop}]\n" + options);
}

TEST(TaskConfigVerifyTest, ParsesNoneAndTheMapAndRoundTrips) {
  auto none = parseTaskYaml(withObjects("options: {verify: none}\n"));
  ASSERT_TRUE(none.ok()) << none.status().toString();
  EXPECT_FALSE(none->options.verify.any());
  auto c = parseTaskYaml(withObjects("options: {verify: {full: true, schema: false}}\n"));
  ASSERT_TRUE(c.ok()) << c.status().toString();
  EXPECT_TRUE(c->options.verify.full);
  EXPECT_FALSE(c->options.verify.schema);
  auto back = parseTaskYaml(taskToYaml(*c));
  ASSERT_TRUE(back.ok()) << back.status().toString();
  EXPECT_TRUE(back->options.verify.full);
  EXPECT_FALSE(back->options.verify.schema);
  auto all = parseTaskYaml(withObjects(
      "options: {verify: {incremental: true, interval: 2, max_changed_rows: 50, max_rps: 100,"
      " max_threads_running: 20, max_slowdown: 3.5, parallelism: 4}}\n"));
  ASSERT_TRUE(all.ok()) << all.status().toString();
  auto all_back = parseTaskYaml(taskToYaml(*all));
  ASSERT_TRUE(all_back.ok()) << all_back.status().toString();
  for (const auto* v : {&all->options.verify, &all_back->options.verify}) {
    EXPECT_TRUE(v->incremental);
    EXPECT_FALSE(v->full);
    EXPECT_TRUE(v->any());
    EXPECT_EQ(v->interval_seconds, 2);
    EXPECT_EQ(v->max_changed_rows, 50u);
    EXPECT_EQ(v->max_rps, 100u);
    EXPECT_EQ(v->max_threads_running, 20u);
    EXPECT_DOUBLE_EQ(v->max_slowdown, 3.5);
    EXPECT_EQ(v->parallelism, 4);
  }
  auto default_back = parseTaskYaml(taskToYaml(*none));
  ASSERT_TRUE(default_back.ok());
  EXPECT_FALSE(default_back->options.verify.any());
}

TEST(TaskConfigVerifyTest, ErrorsNameTheKey) {
  EXPECT_NE(errorOf(withObjects("options: {verify: all}\n")).find("options.verify"),
            std::string::npos);
  EXPECT_NE(errorOf(withObjects("options: {verify: {fast: true}}\n")).find("fast"),
            std::string::npos);
  EXPECT_NE(errorOf(withObjects("options: {verify: {full: maybe}}\n")).find("options.verify.full"),
            std::string::npos);
  EXPECT_NE(errorOf(withObjects("options: {verify: {incremental: yes please}}\n"))
                .find("options.verify.incremental"),
            std::string::npos);
  EXPECT_NE(errorOf(withObjects("options: {verify: {max_slowdown: 0.5}}\n"))
                .find("options.verify.max_slowdown: must be 0 (off) or more than 1"),
            std::string::npos);
  EXPECT_NE(errorOf(withObjects("options: {verify: {parallelism: 0}}\n"))
                .find("options.verify.parallelism"),
            std::string::npos);
  EXPECT_NE(errorOf(withObjects("options: {verify: {max_changed_rows: 0}}\n"))
                .find("options.verify.max_changed_rows"),
            std::string::npos);
}

// Retention removes whole segments: under a size cap they are an eighth of it (1-64 MiB), so
// that a small cap is kept (64 MiB segments kept a 300 KB cap's log at 29 MB).
TEST(TaskConfigTest, ChangeLogSegmentsFollowTheSizeCap) {
  auto parsed = [](const std::string& bytes) {
    auto c = parseTaskYaml(
        "name: t\nkind: tracking\nsource: {endpoint: 'h:1', user: u, password: p}\n"
        "objects: [{database: d}]\noptions: {retention_bytes: " +
        bytes + "}\n");
    EXPECT_TRUE(c.ok()) << c.status().toString();
    return changeLogOptions(*c, "/tmp").segment_bytes;
  };
  EXPECT_EQ(parsed("0"), 64ull << 20);
  EXPECT_EQ(parsed("300000"), 1ull << 20);
  EXPECT_EQ(parsed("104857600"), 100ull << 17);  // 100 MiB / 8
  EXPECT_EQ(parsed("10737418240"), 64ull << 20);
}

}  // namespace
}  // namespace dts::task
