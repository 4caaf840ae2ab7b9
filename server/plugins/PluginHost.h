// The plugin host: loads the configured plugins, initialises them in order,
// and is what sessions, the HTTP API and the daemon call them through. Every
// call into a plugin is guarded: an error, an exception or a verdict hook past
// its deadline becomes a temporary failure, logged and audited, never a dead
// session or server.
#pragma once

#include "intake/MessageDelivery.h"
#include "intake/MessageReceiver.h"
#include "intake/TextIndexer.h"
#include "plugins/DirectoryService.h"
#include "plugins/PluginSettings.h"
#include "store/ChangeNotifier.h"
#include "store/CommitQueue.h"
#include "store/ConnectionPool.h"
#include "store/MailboxStore.h"
#include "trust/Whitelist.h"

#include <cstdint>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <vector>

namespace plexus::plugins {

// Where a session comes from, as hooks see it.
struct SessionInfo {
    std::string service;  // mx, submission, submissions, imap, imaps
    std::string clientAddress;
    std::string helo;
    bool tls = false;
    std::string identity;  // authenticated mailbox; empty when none
    std::string peerCertificateDn;
};

struct Envelope {
    std::string sender;
    std::vector<std::string> recipients;
};

// The outcome of a chain of verdict hooks.
struct Verdict {
    enum class Action { Continue, Reject, Defer, TakeOver };
    Action action = Action::Continue;
    std::string plugin;       // who decided; empty for Continue
    bool pluginFailed = false;  // an error, exception or overrun: Defer with 451 4.3.0
    int smtpCode = 0;         // always of the action's class once set by the host
    std::string enhancedCode;
    std::string text;

    bool proceeds() const { return action == Action::Continue; }
    // "550 5.7.1 text" (RFC 3463 enhanced code).
    std::string smtpReply() const;
};

// A request to /api/plugins/<name>/..., once the API has authenticated it.
struct HttpCall {
    std::string method;
    std::string path;  // after /api/plugins
    std::string query;
    std::string identity;  // the authenticated account
    std::string contentType;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
};

struct HttpAnswer {
    int status = 500;
    std::string contentType = "application/json";
    std::string body;
    std::vector<std::pair<std::string, std::string>> headers;
};

struct MessageOutcome {
    Verdict verdict;
    // The content to store when the verdict is Continue: the one received, or
    // the plugins' edit of it (headers added, content replaced).
    intake::MessageReceiver::Received message;
};

// What host services act on; owned by the daemon.
struct HostServices {
    store::MailboxStore& mailboxes;
    store::CommitQueue& commits;
    store::ConnectionPool& reads;
    store::ChangeNotifier& changes;
    intake::TextIndexer& indexer;
    DirectoryService& directory;
    std::function<std::shared_ptr<const trust::Whitelist>()> whitelist;
    std::string hostname;
    std::set<std::string> localDomains;
    std::uint64_t maxMessageSize = 50ull << 20;
    std::uint64_t maxHeaderSize = 256u << 10;
    std::int64_t defaultQuotaBytes = 1ll << 30;
    std::function<void()> outboundQueued;  // a submission has remote recipients: the queue runner sends it
};

class PluginHost {
public:
    PluginHost(HostServices services, std::vector<PluginSettings> plugins);
    ~PluginHost();  // stop()
    PluginHost(const PluginHost&) = delete;
    PluginHost& operator=(const PluginHost&) = delete;

    // Loads and initialises every plugin in configuration order, then starts
    // their consumers and timers. PluginError (naming the plugin) when one
    // cannot be loaded or refuses to start: plexusd must not run without it.
    void start();
    // Stops consumers and timers, then shuts plugins down in reverse order.
    void stop();

    bool empty() const;
    bool hasMessageHooks() const;

    Verdict onConnect(const SessionInfo& session);
    Verdict onMailFrom(const SessionInfo& session, const std::string& sender);
    Verdict onRcptTo(const SessionInfo& session, const Envelope& envelope, const std::string& recipient);
    // Takes the received blob; on any verdict but Continue it is unlinked here.
    MessageOutcome onMessage(const SessionInfo& session, const Envelope& envelope,
                             intake::MessageReceiver::Received received);
    Verdict onAuth(const SessionInfo& session, const std::string& mechanism);

    // The plugin route a request to /api/plugins/<name>/... goes to; 404 when none.
    HttpAnswer serveHttp(const HttpCall& call);

    // New events were committed: event consumers look now.
    void eventsAppended();

private:
    struct Runtime;
    std::unique_ptr<Runtime> runtime_;
};

}  // namespace plexus::plugins
