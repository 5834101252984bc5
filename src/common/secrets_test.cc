#include "common/secrets.h"

#include <gtest/gtest.h>

namespace dts {
namespace {

TEST(SecretsTest, RedactsUriPassword) {
  EXPECT_EQ(redactUri("mysql://dts:s3cr:et@127.0.0.1:3306"), "mysql://dts:***@127.0.0.1:3306");
  EXPECT_EQ(redactUri("mysql://dts@127.0.0.1:3306"), "mysql://dts@127.0.0.1:3306");
  EXPECT_EQ(redactUri("127.0.0.1:3306"), "127.0.0.1:3306");
}

TEST(SecretsTest, RedactsEveryOccurrence) {
  EXPECT_EQ(redactSecret("pw=hunter2 again hunter2", "hunter2"), "pw=*** again ***");
  EXPECT_EQ(redactSecret("nothing", ""), "nothing");
}

TEST(SecretsTest, RedactsPasswordsQuotedInSql) {
  EXPECT_EQ(redactSqlPasswords("Error 'x' on query. Query: 'CREATE USER a@'%' IDENTIFIED BY "
                               "'s3cret''"),
            "Error 'x' on query. Query: 'CREATE USER a@'%' IDENTIFIED BY '***''");
  EXPECT_EQ(redactSqlPasswords("ALTER USER b IDENTIFIED VIA ed25519 USING PASSWORD(\"p\\\"w\")"),
            "ALTER USER b IDENTIFIED VIA ed25519 USING PASSWORD(\"***\")");
  EXPECT_EQ(redactSqlPasswords("SET PASSWORD FOR c = PASSWORD('one'); change master to "
                               "master_password='two', master_user='u'"),
            "SET PASSWORD FOR c = PASSWORD('***'); change master to "
            "master_password='***', master_user='u'");
  // Nothing quoted after the keyword: unchanged.
  EXPECT_EQ(redactSqlPasswords("Access denied for user 'r'@'h' (using password: YES)"),
            "Access denied for user 'r'@'h' (using password: YES)");
  EXPECT_EQ(redactSqlPasswords("no secrets here"), "no secrets here");
  EXPECT_EQ(redactSqlPasswords("IDENTIFIED BY 'unterminated"), "IDENTIFIED BY '***");
}

}  // namespace
}  // namespace dts
