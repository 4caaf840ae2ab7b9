// The SMTP service (RFC 5321 with ESMTP extensions) on its three listeners:
// MX for other MSSanté operators (mutual TLS, whitelist), submission with
// STARTTLS (587) and submissions with implicit TLS (465) for clients.
#pragma once

#include "accounts/Authenticator.h"
#include "intake/TextIndexer.h"
#include "net/TlsContext.h"
#include "plugins/PluginHost.h"
#include "queue/Notifier.h"
#include "smtp/SenderRateLimiter.h"
#include "store/ChangeNotifier.h"
#include "store/CommitQueue.h"
#include "store/ConnectionPool.h"
#include "store/MailboxStore.h"
#include "trust/Whitelist.h"

#include <Poco/Net/StreamSocket.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <vector>

namespace plexus::smtp {

enum class SmtpService { Mx, Submission, Submissions };

struct SmtpLimits {
    std::size_t commandLine = 2048;      // RFC 5321 4.5.3.1.4 minimum is 512
    std::size_t authLine = 12288;        // RFC 4954 4
    std::size_t dataLine = 998;          // RFC 5322 2.1.1
    std::uint64_t messageSize = 50ull << 20;
    std::uint64_t headerSize = 256u << 10;
    unsigned recipients = 500;
    unsigned errors = 10;                // bad commands before we hang up
    unsigned maxHops = 50;               // Received: fields, ours included (RFC 5321 6.3), as Postfix's hopcount_limit
    std::chrono::seconds idleTimeout{300};
    std::chrono::seconds sessionTime{1800};
};

struct SmtpSettings {
    std::string hostname;
    std::set<std::string> localDomains;  // lower case
    SmtpLimits limits;
    SenderRateLimits senderRateLimits;  // remote recipients of authenticated senders
    // [directory] validate_remote_recipients: a remote recipient must be a
    // mailbox of the national directory's local copy (SmtpServices::directory).
    bool validateRemoteRecipients = false;
};

// What sessions use; owned by the daemon, shared by all sessions.
struct SmtpServices {
    store::MailboxStore& mailboxes;
    store::CommitQueue& commits;
    store::ConnectionPool& reads;
    store::ChangeNotifier& changes;  // INBOXes that received a message
    intake::TextIndexer& indexer;
    accounts::Authenticator& authenticator;
    net::TlsContexts& tls;
    std::function<std::shared_ptr<const trust::Whitelist>()> whitelist;
    plugins::PluginHost& plugins;
    std::function<void()> outboundQueued;  // a message has remote recipients: the queue runner sends it
    // Once a message is in the mailboxes of local recipients that asked for a
    // success notice (NOTIFY=SUCCESS), their "delivered" report to the sender; empty: none.
    std::function<void(const queue::OutboundMessage&, const std::vector<queue::NoticeRecipient>&)> reportDelivered;
    store::ConnectionPool& directory;  // the national directory's local copy (directory/)
    // Last: the daemon leaves it to its default (the sessions' shared counters).
    SenderRateLimiter senderRates{};
};

// Runs one SMTP session to its end on an accepted connection.
void runSmtpSession(Poco::Net::StreamSocket& socket, SmtpService service, const SmtpSettings& settings,
                    SmtpServices& services, const std::function<bool()>& stopping);

}  // namespace plexus::smtp
