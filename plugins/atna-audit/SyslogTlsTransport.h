// Syslog over TLS (RFC 5425) to an ATNA audit record repository (IHE ITI-20):
// one persistent connection, reopened when it breaks; mutual TLS 1.2+ with our
// client certificate; the repository's certificate checked against the
// configured CA and its host name (or IP address, RFC 6125).
//
// Syslog has no acknowledgement. So that a refused or dropped connection is
// seen before records go into it: a TLS 1.3 connection counts as open once the
// repository has sent its first session ticket (it has then accepted our
// certificate); each send() first checks that the repository has not closed
// the connection; flush() waits until the repository's TCP has acknowledged
// every byte. A repository that dies between two sends may still lose the
// records written just before; their unique ids let the repository drop the
// copies of those sent again. Writing to a closed socket raises SIGPIPE:
// plexusd ignores it, other programs must too.
#pragma once

#include "AuditTransport.h"
#include "SyslogMessage.h"

#include <Poco/Net/StreamSocket.h>

#include <openssl/ssl.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

namespace plexus::atna {

struct SyslogTlsSettings {
    std::string host;  // name or IP address
    std::uint16_t port = 6514;  // RFC 5425 4.1
    std::string caFile;  // PEM: the CAs the repository's certificate must chain to
    std::string certificateFile;  // PEM chain of our client certificate ("" sends none)
    std::string keyFile;
    std::string serverName;  // what the repository's certificate must name ("" → host)
    std::chrono::milliseconds timeout{5000};  // connect, handshake, each write, flush
    SyslogOrigin origin;
};

class SyslogTlsTransport final : public AuditTransport {
public:
    // Loads the certificates and key; throws std::runtime_error when they do not load.
    explicit SyslogTlsTransport(SyslogTlsSettings settings);
    ~SyslogTlsTransport() override;

    std::string name() const override { return "tls"; }

    // Opens the connection if needed and writes the framed message; throws
    // TransportError (the connection is then closed, reopened at the next send).
    void send(const AuditRecord& record) override;

    // Returns once the repository's TCP has acknowledged everything sent and the
    // connection is still open; throws TransportError otherwise.
    void flush() override;

private:
    struct SslFree {
        void operator()(SSL* ssl) const { SSL_free(ssl); }
    };
    struct SslCtxFree {
        void operator()(SSL_CTX* context) const { SSL_CTX_free(context); }
    };

    void connect();
    void awaitSessionTicket(std::chrono::steady_clock::time_point deadline);
    void disconnect() noexcept;
    [[noreturn]] void fail(const std::string& what);
    // Drives one OpenSSL call on the non-blocking socket until it completes or the deadline passes.
    template <typename Call>
    int drive(Call call, std::chrono::steady_clock::time_point deadline, const char* what);
    bool peerClosed();
    std::string label() const;

    SyslogTlsSettings settings_;
    std::unique_ptr<SSL_CTX, SslCtxFree> context_;
    std::optional<Poco::Net::StreamSocket> socket_;
    std::unique_ptr<SSL, SslFree> ssl_;
};

}  // namespace plexus::atna
