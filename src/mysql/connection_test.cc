#include "mysql/connection.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <thread>

namespace dts::mysql {
namespace {

TEST(EndpointTest, ParsesHostAndPort) {
  auto ep = Endpoint::parse("127.0.0.1:3307");
  ASSERT_TRUE(ep.ok());
  EXPECT_EQ(ep->host, "127.0.0.1");
  EXPECT_EQ(ep->port, 3307);
  auto v6 = Endpoint::parse("[::1]:3308");
  ASSERT_TRUE(v6.ok());
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->port, 3308);
  auto bare = Endpoint::parse("db.example");
  ASSERT_TRUE(bare.ok());
  EXPECT_EQ(bare->port, 3306);
}

TEST(EndpointTest, RejectsBadPorts) {
  EXPECT_FALSE(Endpoint::parse("h:0").ok());
  EXPECT_FALSE(Endpoint::parse("h:70000").ok());
  EXPECT_FALSE(Endpoint::parse("h:12a").ok());
  EXPECT_FALSE(Endpoint::parse(":3306").ok());
}

// Found by a tester: 'h:3306:1' was host 'h:3306', port 1, retried for 12 hours as unreachable.
TEST(EndpointTest, RejectsHostsThatAreNoHostName) {
  for (const char* text :
       {"127.0.0.1:45059:99", "::1", "db host:3306", "a/b:1", "u@h:3306", "h\n:3306", "[h:1"}) {
    auto ep = Endpoint::parse(text);
    EXPECT_FALSE(ep.ok()) << text;
  }
  EXPECT_NE(Endpoint::parse("127.0.0.1:45059:99").status().message().find("[::1]:3306"),
            std::string::npos);
  for (const char* text : {"db-1.example.com:3306", "10.0.0.1", "[fe80::1%eth0]:3307", "my_host"})
    EXPECT_TRUE(Endpoint::parse(text).ok()) << text;
}

// A server that asks for the password in plain text (mysql_clear_password) never gets it: dts
// has no TLS, and an API caller could point a connection test at such a listener to read a
// password_env value or an instance's password (found by a tester with a fake server).
TEST(ConnectionTest, NeverSendsThePasswordInPlainText) {
  int listener = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(listener, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(::listen(listener, 4), 0);
  socklen_t len = sizeof(addr);
  ASSERT_EQ(::getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  const int port = ntohs(addr.sin_port);
  const std::string kSecret = "Sup3r-Secret-Value";
  std::string received;
  std::thread server([&] {
    int c = ::accept(listener, nullptr, nullptr);
    if (c < 0) return;
    timeval tv{2, 0};
    ::setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    auto packet = [&](uint8_t seq, const std::string& payload) {
      std::string p(4, '\0');
      p[0] = static_cast<char>(payload.size() & 0xff);
      p[1] = static_cast<char>((payload.size() >> 8) & 0xff);
      p[2] = static_cast<char>((payload.size() >> 16) & 0xff);
      p[3] = static_cast<char>(seq);
      p += payload;
      (void)!::write(c, p.data(), p.size());
    };
    auto readAll = [&] {
      char buf[4096];
      ssize_t n = ::read(c, buf, sizeof(buf));
      if (n > 0) received.append(buf, static_cast<size_t>(n));
      return n > 0;
    };
    // Handshake v10 without SSL, whose default plugin is mysql_clear_password.
    const uint32_t caps = 0xffffffffu & ~(1u << 11) & ~(1u << 5);
    std::string hs;
    hs += '\x0a';
    hs += std::string("5.5.5-10.11.0-fake") + '\0';
    hs += std::string("\x01\x00\x00\x00", 4);
    hs += std::string("abcdefgh") + '\0';
    hs += static_cast<char>(caps & 0xff);
    hs += static_cast<char>((caps >> 8) & 0xff);
    hs += '\x21';
    hs += std::string("\x02\x00", 2);
    hs += static_cast<char>((caps >> 16) & 0xff);
    hs += static_cast<char>((caps >> 24) & 0xff);
    hs += '\x15';
    hs += std::string(10, '\0');
    hs += std::string("ijklmnopqrst") + '\0';
    hs += std::string("mysql_clear_password") + '\0';
    packet(0, hs);
    if (readAll()) {
      packet(2, std::string("\xfe") + "mysql_clear_password" + '\0');
      readAll();
    }
    ::close(c);
  });
  ConnectOptions o;
  o.endpoint = *Endpoint::parse("127.0.0.1:" + std::to_string(port));
  o.user = "leaky";
  o.password = kSecret;
  o.connect_timeout = std::chrono::seconds(3);
  o.read_timeout = std::chrono::seconds(3);
  auto conn = Connection::connect(o);
  server.join();
  ::close(listener);
  EXPECT_FALSE(conn.ok());
  EXPECT_EQ(received.find(kSecret), std::string::npos) << received;
}

TEST(QuoteIdentifierTest, DoublesBackticks) {
  EXPECT_EQ(quoteIdentifier("a`b"), "`a``b`");
  EXPECT_EQ(quoteQualified("d b", "t;DROP"), "`d b`.`t;DROP`");
}

}  // namespace
}  // namespace dts::mysql
