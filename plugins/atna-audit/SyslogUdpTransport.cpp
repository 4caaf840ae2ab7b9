#include "SyslogUdpTransport.h"

#include <Poco/Exception.h>

#include <stdexcept>
#include <unistd.h>

namespace plexus::atna {

namespace {

constexpr std::size_t kMinMessageSize = 480;  // RFC 5426 3.2
constexpr std::size_t kMaxMessageSize = 65507;  // 65535 - IPv4 header (20) - UDP header (8)

}  // namespace

SyslogUdpTransport::SyslogUdpTransport(SyslogUdpSettings settings) : settings_(std::move(settings))
{
    if (settings_.maxMessageSize < kMinMessageSize || settings_.maxMessageSize > kMaxMessageSize)
        throw std::runtime_error("syslog UDP: the message size limit must be 480 to 65507 octets, not " +
                                 std::to_string(settings_.maxMessageSize));
    try {
        address_ = Poco::Net::SocketAddress(settings_.host, settings_.port);
        // Connected: the kernel then reports an ICMP "port unreachable" at the next send.
        socket_.connect(address_);
    } catch (const Poco::Exception& e) {
        throw std::runtime_error("syslog UDP: " + settings_.host + ":" + std::to_string(settings_.port) + ": " +
                                 e.displayText());
    }
    if (settings_.origin.procId.empty()) settings_.origin.procId = std::to_string(::getpid());
}

void SyslogUdpTransport::send(const AuditRecord& record)
{
    const std::string message = formatSyslogMessage(record, settings_.origin);
    const std::string_view datagram = truncateSyslogMessage(message, settings_.maxMessageSize);
    try {
        socket_.sendBytes(datagram.data(), static_cast<int>(datagram.size()));
    } catch (const Poco::Exception& e) {
        throw TransportError("syslog repository " + address_.toString() + " (UDP): " + e.displayText());
    }
    if (datagram.size() < message.size()) ++truncated_;
}

}  // namespace plexus::atna
