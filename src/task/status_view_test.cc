#include "task/status_view.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <sstream>

#include "common/terminal_text.h"

namespace dts::task {
namespace {

std::vector<std::string> linesOf(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

TableProgress table(std::string db, std::string t, uint64_t done, uint64_t est, bool finished) {
  TableProgress p;
  p.source_database = p.target_database = std::move(db);
  p.source_table = p.target_table = std::move(t);
  p.rows_done = done;
  p.rows_estimated = est;
  p.done = finished;
  return p;
}

// A tracking task has no full load: it shows its log, its position and its groups, never
// "tables 0/1 rows 0/1480".
TEST(StatusViewTest, ATrackingTaskShowsItsLogPositionAndGroups) {
  TaskState st;
  st.name = "shop-changes";
  st.kind = "tracking";
  st.phase = TaskPhase::kIncremental;
  st.latency_ms = 40;
  st.checkpoint_gtid = "0-1-1523";
  st.updated_at_ms = 1796187600000;
  st.tables.push_back(table("shop", "orders", 0, 1480, false));
  st.tables[0].changes_applied = 1200;
  st.tracking = {100, 1623, 5 << 20, 24, 0};
  StatusContext ctx;
  ctx.groups.push_back({"billing", "shop-changes", 1600, 1796187500000});
  ctx.groups.push_back({"flink", "shop-changes.canal-json", 1000, 1796187400000});
  std::string text = renderTaskStatus(st, ctx);
  EXPECT_EQ(text.find("tables 0/1"), std::string::npos) << text;
  EXPECT_EQ(text.find("1480"), std::string::npos) << text;
  EXPECT_EQ(text.find("1,480"), std::string::npos) << text;
  EXPECT_NE(text.find("change log 1,523 records (offsets 100-1623), 5.0 MB"), std::string::npos)
      << text;
  EXPECT_NE(text.find("lag 40 ms"), std::string::npos) << text;
  EXPECT_NE(text.find("shop.orders         1,200 changes logged"), std::string::npos) << text;
  EXPECT_NE(text.find("retention: 24 h, no size cap"), std::string::npos) << text;
  EXPECT_NE(text.find("source position logged: 0-1-1523 (lag 40 ms)"), std::string::npos) << text;
  EXPECT_NE(text.find("    billing                         committed       1600  lag         23 "
                      "records  at 2026-12-02T04:58:20Z"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("    flink (shop-changes.canal-json) committed       1000  lag        623 "
                      "records"),
            std::string::npos)
      << text;
  st.tracking = {};
  ctx.groups.clear();
  text = renderTaskStatus(st, ctx);
  EXPECT_NE(text.find("change log not open yet"), std::string::npos) << text;
  EXPECT_NE(text.find("consumer groups: none has committed"), std::string::npos) << text;
}

// Columns stay aligned whatever the names' characters: every "->" at the same cell.
TEST(StatusViewTest, ColumnsAlignWithMultibyteAndVeryLongNames) {
  TaskState st;
  st.name = "s";
  st.kind = "sync";
  st.phase = TaskPhase::kIncremental;
  st.tables.push_back(table("shop", "orders", 10, 10, true));
  st.tables.push_back(table("\u5546\u5e97", "\u8ba2\u5355", 1200, 1200, true));  // 商店.订单
  st.tables.push_back(table("caf\u00e9", "men\u00fc", 3, 3, true));
  st.tables.push_back(table("warehouse_europe_west_archive",
                            "order_line_items_with_a_name_far_too_long_for_any_column", 5, 5,
                            true));
  std::string text = renderTaskStatus(st, {});
  size_t arrow_cell = std::string::npos, rows_end = std::string::npos;
  int listed = 0;
  for (const std::string& line : linesOf(text)) {
    size_t arrow = line.find(" -> ");
    if (arrow == std::string::npos) continue;
    ++listed;
    size_t cell = displayWidth(line.substr(0, arrow));
    size_t done = displayWidth(line.substr(0, line.find(" done")));
    if (arrow_cell == std::string::npos) {
      arrow_cell = cell;
      rows_end = done;
    }
    EXPECT_EQ(cell, arrow_cell) << text;
    EXPECT_EQ(done, rows_end) << text;
    EXPECT_LE(displayWidth(line), 2 + kMaxNameColumn + 4 + kMaxNameColumn + 20) << line;
  }
  EXPECT_EQ(listed, 4) << text;
  EXPECT_NE(text.find("\u2026"), std::string::npos) << text;  // the long one, cut
  EXPECT_NE(text.find("too_long_for_any_column ->"), std::string::npos) << text;  // its end kept
}

// Rows done never exceed the total shown: a table still loading shows an estimate ("~"), at
// least its rows done; a loaded one its exact count.
TEST(StatusViewTest, RowTotalsAreNeverBelowTheRowsDone) {
  TaskState st;
  st.name = "m";
  st.kind = "migration";
  st.phase = TaskPhase::kFull;
  st.tables.push_back(table("d", "loading", 1500, 1480, false));  // estimate exceeded
  st.tables.push_back(table("d", "loaded", 1510, 1480, true));
  std::string text = renderTaskStatus(st, {});
  EXPECT_NE(text.find("1,500/~1,500"), std::string::npos) << text;
  EXPECT_NE(text.find("1,510/1,510 done"), std::string::npos) << text;
  EXPECT_NE(text.find("rows 3,010/~3,010"), std::string::npos) << text;
  EXPECT_EQ(text.find("1,480"), std::string::npos) << text;
  st.tables[0].done = true;
  text = renderTaskStatus(st, {});
  EXPECT_NE(text.find("rows 3,010/3,010"), std::string::npos) << text;
}

// A task no process runs moves nothing: its last saved rates and latency are not shown as if it
// did (a killed task showed "435414 rows/s ... latency 971 ms").
TEST(StatusViewTest, ATaskNoProcessRunsShowsNoRatesOrLatency) {
  TaskState st;
  st.name = "s";
  st.kind = "sync";
  st.phase = TaskPhase::kIncremental;
  st.tables.push_back(table("d", "t", 10, 10, true));
  st.rps = 435414;
  st.mbps = 45.98;
  st.latency_ms = 971;
  std::string running = renderTaskStatus(st, {});
  EXPECT_NE(running.find("435414 rows/s  45.98 MB/s  latency 971 ms"), std::string::npos)
      << running;
  StatusContext ctx;
  ctx.not_running = true;
  std::string killed = renderTaskStatus(st, ctx);
  EXPECT_NE(killed.find("0 rows/s  0.00 MB/s  latency - ms"), std::string::npos) << killed;
  EXPECT_NE(killed.find("not running"), std::string::npos) << killed;
}

// A migration without incremental changes has no incremental start: its position is the instant
// the rows were copied as of.
TEST(StatusViewTest, AMigrationWithoutIncrementalShowsWhatItsCopyIsAsOf) {
  TaskState st;
  st.name = "m";
  st.kind = "migration";
  st.phase = TaskPhase::kCompleted;
  st.start_gtid = "0-1-4";
  st.config_yaml = "name: m\nkind: migration\noptions:\n  incremental: false\n";
  std::string out = renderTaskStatus(st, {});
  EXPECT_NE(out.find("  copied as of: 0-1-4"), std::string::npos) << out;
  EXPECT_EQ(out.find("incremental start"), std::string::npos) << out;
  st.config_yaml = "name: m\nkind: migration\noptions:\n  incremental: true\n";
  st.phase = TaskPhase::kIncremental;
  out = renderTaskStatus(st, {});
  EXPECT_NE(out.find("  incremental start: 0-1-4"), std::string::npos) << out;
}

// A changed row incremental verification found different makes the task's verification
// "different" wherever it is shown (status text, API and `dts status --json`, metrics), with the
// row; the full comparison's own state, which decides whether it runs, stays "equal" (found by
// a tester: the console said "the destination holds what the source holds").
TEST(StatusViewTest, AChangedRowThatDiffersMakesTheVerificationDifferent) {
  TaskState st;
  st.name = "s";
  st.kind = "sync";
  st.phase = TaskPhase::kIncremental;
  st.verify.state = "equal";
  st.verify.tables_checked = st.verify.tables_total = 2;
  st.verify.incremental.enabled = true;
  st.verify.incremental.rows_checked = 5;
  std::string out = renderTaskStatus(st, {});
  EXPECT_NE(out.find("  verify: equal, 2/2 tables, 0 row and 0 schema differences"),
            std::string::npos)
      << out;
  EXPECT_EQ(verifyStatusJson(st.verify)["state"], "equal");
  st.verify.incremental.row_differences = 1;
  st.verify.incremental.detail = "shop.t: changed: id='3' (note)\nshop.t: missing: id='4'\n";
  out = renderTaskStatus(st, {});
  EXPECT_NE(out.find("  verify: different, 2/2 tables"), std::string::npos) << out;
  EXPECT_NE(out.find("  verify incremental: 5 changed rows checked, 1 different, 0 skipped\n"
                     "    shop.t: changed: id='3' (note)\n    shop.t: missing: id='4'\n"),
            std::string::npos)
      << out;
  const nlohmann::json j = verifyStatusJson(st.verify);
  EXPECT_EQ(j["state"], "different");
  EXPECT_EQ(j["incremental"]["row_differences"], 1);
  EXPECT_EQ(verifyStateJson(st.verify)["state"], "equal");  // what the store keeps
  EXPECT_EQ(verifyStateFromJson(verifyStateJson(st.verify)).incremental.detail,
            st.verify.incremental.detail);
  // Incremental verification alone (no full comparison configured): still said.
  st.verify.state.clear();
  out = renderTaskStatus(st, {});
  EXPECT_NE(out.find("  verify: different\n"), std::string::npos) << out;
}

// An error the task recovered from is shown as past, not as its error; the current one as such.
TEST(StatusViewTest, ARecoveredErrorIsShownAsPast) {
  TaskState st;
  st.name = "s";
  st.kind = "sync";
  st.phase = TaskPhase::kIncremental;
  recordError(&st, "source 127.0.0.1:3306: connection refused", 1796187600000);
  recordError(&st, "source 127.0.0.1:3306: connection refused", 1796187605000);
  ASSERT_EQ(st.errors.size(), 1u);  // one outage, retried: one entry
  std::string text = renderTaskStatus(st, {});
  EXPECT_NE(text.find("  last error: source 127.0.0.1:3306: connection refused"), std::string::npos)
      << text;
  recordRecovery(&st, 1796187660000);
  EXPECT_EQ(st.last_error, "");
  text = renderTaskStatus(st, {});
  EXPECT_EQ(text.find("last error"), std::string::npos) << text;
  EXPECT_NE(text.find("recovered at 2026-12-02T05:01:00Z from an error first seen at "
                      "2026-12-02T05:00:00Z: source 127.0.0.1:3306: connection refused"),
            std::string::npos)
      << text;
  recordError(&st, "destination: disk full", 1796187700000);
  ASSERT_EQ(st.errors.size(), 2u);
  text = renderTaskStatus(st, {});
  EXPECT_NE(text.find("last error: destination: disk full"), std::string::npos) << text;
  EXPECT_EQ(text.find("recovered at"), std::string::npos) << text;
  for (int i = 0; i < 20; ++i) {
    recordRecovery(&st, 1796187800000 + i);
    recordError(&st, "e" + std::to_string(i), 1796187900000 + i);
  }
  EXPECT_EQ(st.errors.size(), kErrorHistory);
  EXPECT_EQ(st.errors.back().message, "e19");
}

}  // namespace
}  // namespace dts::task
