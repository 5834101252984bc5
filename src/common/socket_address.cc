#include "common/socket_address.h"

#include <arpa/inet.h>
#include <netinet/in.h>

namespace dts {

std::string socketHost(const sockaddr_storage& sa, int* port) {
  char buf[INET6_ADDRSTRLEN] = {0};
  *port = 0;
  if (sa.ss_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(&sa);
    ::inet_ntop(AF_INET, &in->sin_addr, buf, sizeof(buf));
    *port = ntohs(in->sin_port);
    return buf;
  }
  if (sa.ss_family != AF_INET6) return "";
  const auto* in6 = reinterpret_cast<const sockaddr_in6*>(&sa);
  *port = ntohs(in6->sin6_port);
  if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr)) {  // an IPv4 client of a dual-stack socket
    ::inet_ntop(AF_INET, &in6->sin6_addr.s6_addr[12], buf, sizeof(buf));
    return buf;
  }
  ::inet_ntop(AF_INET6, &in6->sin6_addr, buf, sizeof(buf));
  return buf;
}

std::string socketEndpoint(const sockaddr_storage& sa) {
  int port = 0;
  std::string host = socketHost(sa, &port);  // port is read only after the call returns
  if (host.find(':') != std::string::npos) host = "[" + host + "]";
  return host + ":" + std::to_string(port);
}

}  // namespace dts
