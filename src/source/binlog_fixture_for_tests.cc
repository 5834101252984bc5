#include "source/binlog_fixture_for_tests.h"

#include <stdlib.h>

#include <filesystem>
#include <fstream>

#include "common/byte_reader.h"
#include "mysql/event_builder_for_tests.h"

namespace dts::source::testing {
namespace {

namespace t = mysql::testing;

std::string intValue(uint64_t v) {
  std::string s;
  putUint(&s, v, 4);
  return s;
}

std::string shortString(const std::string& v) {
  return std::string(1, static_cast<char>(v.size())) + v;
}

// One row of shop.t.
std::string shopRow(uint64_t id, const std::string& name) {
  return t::rowImage({intValue(id), shortString(name)}, {});
}

}  // namespace

ScratchDir::ScratchDir(const std::string& prefix) {
  std::error_code ec;
  std::string tmpl = (std::filesystem::temp_directory_path(ec) / (prefix + "-XXXXXX")).string();
  if (!ec && mkdtemp(tmpl.data()) != nullptr) path_ = tmpl;
}

ScratchDir::~ScratchDir() {
  std::error_code ec;
  if (!path_.empty()) std::filesystem::remove_all(path_, ec);
}

Result<SchemaTable> FakeSchemaLoader::load(const std::string& database, const std::string& table) {
  if (loads_ != nullptr) loads_->push_back(database + "." + table);
  auto it = tables_.find({database, table});
  if (it == tables_.end()) {
    return Status::NotFound("table `" + database + "`.`" + table + "` does not exist (fake)");
  }
  return it->second;
}

Status writeBinlogFile(const std::string& path, const std::vector<std::string>& events) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << "\xfe"
         "bin";
  for (const std::string& e : events) out << e;
  out.close();
  if (!out) return Status::Unavailable("writing binlog fixture " + path);
  return Status::OK();
}

ShopFixture shopFixture() {
  t::EventBuilder b(mysql::ServerFlavor::kMariaDb);
  ShopFixture f;
  auto add = [&](std::string event) {
    f.offsets.push_back(b.offset() - event.size());
    f.events.push_back(std::move(event));
  };
  auto gtid = [&](uint64_t seq, uint8_t flags) {
    f.transaction_starts.push_back(f.events.size());
    add(b.mariaGtid(seq, 0, flags));
  };
  const std::vector<t::TestColumn> shop_cols = {t::colInt(mysql::ColumnType::kLong, "id"),
                                                t::colVarchar("name", 160)};
  const std::vector<t::TestColumn> other_cols = {t::colInt(mysql::ColumnType::kLong, "id")};
  const auto standalone = mysql::MariaGtidEvent::kFlStandalone;
  const auto transactional = mysql::MariaGtidEvent::kFlTransactional;

  add(b.formatDescription());
  gtid(1, standalone);
  add(b.query("shop", "CREATE TABLE t (id INT, name VARCHAR(40))"));

  gtid(2, transactional);
  add(b.query("shop", "BEGIN"));
  add(b.tableMap(1, "shop", "t", shop_cols, /*full_metadata=*/false));
  add(b.rows(mysql::EventType::kWriteRowsV1, 1, 2, shopRow(1, "a") + shopRow(2, "b")));
  add(b.xid(100));

  gtid(3, transactional);
  add(b.query("other", "BEGIN"));
  add(b.tableMap(2, "other", "x", other_cols, /*full_metadata=*/false));
  add(b.rows(mysql::EventType::kWriteRowsV1, 2, 1, t::rowImage({intValue(7)}, {})));
  add(b.xid(101));

  gtid(4, transactional);
  add(b.query("shop", "BEGIN"));
  add(b.tableMap(1, "shop", "t", shop_cols, /*full_metadata=*/false));
  add(b.rows(mysql::EventType::kUpdateRowsV1, 1, 2, shopRow(1, "a") + shopRow(1, "c")));
  add(b.rows(mysql::EventType::kDeleteRowsV1, 1, 2, shopRow(2, "b")));
  add(b.xid(102));

  gtid(5, standalone);
  add(b.query("other", "CREATE TABLE y (id INT)"));
  return f;
}

std::map<std::pair<std::string, std::string>, SchemaTable> shopSchema() {
  SchemaTable t{"shop", "t", {}, {"id"}};
  t.columns.push_back(SchemaColumn{.name = "id", .data_type = "int", .column_type = "int(11)"});
  t.columns.push_back(SchemaColumn{.name = "name",
                                   .data_type = "varchar",
                                   .column_type = "varchar(40)",
                                   .collation = 45,
                                   .octet_length = 160});
  return {{{"shop", "t"}, t}};
}

}  // namespace dts::source::testing
