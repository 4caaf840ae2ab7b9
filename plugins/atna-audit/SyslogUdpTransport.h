// Syslog over UDP (RFC 5426) to an ATNA audit record repository: one message
// per datagram, no connection, no acknowledgement (IHE ITI-20 allows it where
// losing a record now and then is acceptable; use TLS otherwise).
//
// Size: RFC 5426 3.2 asks receivers for 480 octets at least (IPv4) and 2048
// preferably, hence the default of 2048 octets. A longer message is truncated
// to the limit, which keeps the header and its unique id (RFC 5424 6.1); the
// AuditMessage XML is then cut. Repositories that take larger datagrams are
// configured with a larger limit, up to 65507 (the largest UDP payload over IPv4).
#pragma once

#include "AuditTransport.h"
#include "SyslogMessage.h"

#include <Poco/Net/DatagramSocket.h>
#include <Poco/Net/SocketAddress.h>

#include <cstddef>
#include <cstdint>
#include <string>

namespace plexus::atna {

struct SyslogUdpSettings {
    std::string host;
    std::uint16_t port = 514;  // RFC 5426 3.3
    std::size_t maxMessageSize = 2048;  // 480 .. 65507
    SyslogOrigin origin;
};

class SyslogUdpTransport final : public AuditTransport {
public:
    // Resolves the repository's address; throws std::runtime_error on a bad host or size.
    explicit SyslogUdpTransport(SyslogUdpSettings settings);

    std::string name() const override { return "udp"; }

    // Sends one datagram; throws TransportError when the system refuses it
    // (no route, or an ICMP "port unreachable" reported for an earlier datagram).
    void send(const AuditRecord& record) override;

    // How many messages were truncated to maxMessageSize.
    std::uint64_t truncated() const { return truncated_; }

private:
    SyslogUdpSettings settings_;
    Poco::Net::SocketAddress address_;
    Poco::Net::DatagramSocket socket_;
    std::uint64_t truncated_ = 0;
};

}  // namespace plexus::atna
