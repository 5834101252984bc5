// A socket address as text, for logs and for what the servers (HTTP, Kafka) tell their clients.
#pragma once

#include <sys/socket.h>

#include <string>

namespace dts {

// The host ("1.2.3.4", "::1"; an IPv4 client of a dual-stack socket as its IPv4 address), and
// its port in *port. "" (and port 0) for a family other than IPv4/IPv6.
std::string socketHost(const sockaddr_storage& sa, int* port);

// "1.2.3.4:5678" or "[::1]:5678".
std::string socketEndpoint(const sockaddr_storage& sa);

}  // namespace dts
