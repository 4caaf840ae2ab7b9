// The SMTP client that relays queued mail to other MSSanté operators: one
// transaction per destination domain with all its recipients (RFC 5321),
// always over STARTTLS with our certificate as client certificate, and only to
// a peer whose certificate chains to our trust anchors and whose subject DN the
// whitelist lists for that domain.
#pragma once

#include "net/TlsContext.h"
#include "queue/Transport.h"
#include "relay/Routing.h"
#include "trust/Whitelist.h"

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

namespace plexus::relay {

struct ClientSettings {
    std::string hostname;  // our name in EHLO
    std::chrono::seconds connectTimeout{30};
    // RFC 5321 4.5.3.2: 5 minutes for the greeting, MAIL and RCPT replies
    // (the shorter DATA and data-block limits are covered by it too)...
    std::chrono::seconds commandTimeout{300};
    // ...and 10 minutes for the reply to the final dot, while the peer files the message.
    std::chrono::seconds dataEndTimeout{600};

    // server.hostname, and in [relay] (whose other keys are the queue's):
    // connect_timeout_seconds, command_timeout_seconds, data_timeout_seconds.
    // Throws RelayError naming a bad key.
    static ClientSettings fromConfig(const Poco::Util::AbstractConfiguration& config);
};

class SmtpRelayClient : public queue::Transport {
public:
    using WhitelistSource = std::function<std::shared_ptr<const trust::Whitelist>()>;

    // `tls.forRelay()` and `whitelist()` are read at each delivery, so reloads
    // apply to the next one. `stopping` cuts an attempt short at shutdown
    // (a few seconds' grace, then a temporary failure).
    SmtpRelayClient(ClientSettings settings, const Router& router, const net::TlsContexts& tls,
                    WhitelistSource whitelist, std::function<bool()> stopping = [] { return false; });

    // Thread-safe. Tries the route's hosts in order, and each address of a host,
    // while connection, greeting, STARTTLS, TLS or certificate checks fail
    // (RFC 5321 5.1); once MAIL FROM is sent, the peer's replies are final.
    queue::AttemptResult deliver(const queue::OutboundMessage& message) override;

    // New settings (SIGHUP), for the attempts that start after it.
    void reconfigure(ClientSettings settings);

private:
    ClientSettings currentSettings() const;

    mutable std::mutex mutex_;
    ClientSettings settings_;
    const Router& router_;
    const net::TlsContexts& tls_;
    WhitelistSource whitelist_;
    std::function<bool()> stopping_;
};

}  // namespace plexus::relay
