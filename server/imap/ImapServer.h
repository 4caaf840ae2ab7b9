// The IMAP service (IMAP4rev1, RFC 3501, with the extensions listed in
// ImapSession.cpp's CAPABILITY) on its two listeners: STARTTLS (143) and
// implicit TLS (993).
#pragma once

#include "accounts/Authenticator.h"
#include "imap/Command.h"
#include "intake/TextIndexer.h"
#include "net/IdleParker.h"
#include "net/TlsContext.h"
#include "plugins/PluginHost.h"
#include "store/ChangeNotifier.h"
#include "store/CommitQueue.h"
#include "store/ConnectionPool.h"
#include "store/MailboxStore.h"

#include <Poco/Net/StreamSocket.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

namespace plexus::imap {

enum class ImapService { Imap, Imaps };

struct ImapLimits {
    ReaderLimits reader;
    std::uint64_t messageSize = 50ull << 20;  // APPEND
    std::uint64_t headerSize = 256u << 10;
    // RFC 3501 §5.4: at least 30 minutes once authenticated; less before.
    std::chrono::seconds idleTimeout{1800};
    std::chrono::seconds loginTimeout{60};
    unsigned errors = 20;  // bad commands in a row before we hang up
    // Sessions idling without a thread; beyond, an idling session keeps its thread.
    std::size_t maxIdleSessions = 20000;
};

struct ImapSettings {
    std::string hostname;
    ImapLimits limits;
};

// What sessions use; owned by the daemon, shared by all sessions.
struct ImapServices {
    store::MailboxStore& mailboxes;
    store::CommitQueue& commits;
    store::ConnectionPool& reads;
    store::ChangeNotifier& changes;
    intake::TextIndexer& indexer;
    accounts::Authenticator& authenticator;
    net::TlsContexts& tls;
    net::IdleParker& parker;  // sessions in IDLE wait there, without a thread
    plugins::PluginHost& plugins;  // authentication hooks
};

// Runs one IMAP session on an accepted connection, to its end or until it
// idles (RFC 2177) in the parker, which then carries it on.
void runImapSession(Poco::Net::StreamSocket& socket, ImapService service, const ImapSettings& settings,
                    ImapServices& services, const std::function<bool()>& stopping);

}  // namespace plexus::imap
