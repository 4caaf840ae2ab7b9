#include "app/Daemon.h"

#include "accounts/AccountStore.h"
#include "accounts/Authenticator.h"
#include "app/DirectorySyncService.h"
#include "directory/DirectoryQueries.h"
#include "directory/DirectoryStore.h"
#include "events/EventLog.h"
#include "http/Autoconfig.h"
#include "http/ApiAuthentication.h"
#include "http/DirectoryRoutes.h"
#include "http/HttpApi.h"
#include "http/PluginRoutes.h"
#include "imap/ImapServer.h"
#include "smtp/SmtpServer.h"
#include "net/Listener.h"
#include "plugins/DirectoryService.h"
#include "plugins/SyncedDirectory.h"
#include "plugins/PluginHost.h"
#include "queue/DsnNotifier.h"
#include "queue/OutboundQueue.h"
#include "relay/Routing.h"
#include "relay/SmtpRelayClient.h"
#include "store/ChangeNotifier.h"
#include "store/CommitQueue.h"
#include "store/ConnectionPool.h"
#include "store/MailboxStore.h"
#include "store/Schema.h"
#include "trust/CrlRefresh.h"
#include "trust/WhitelistSource.h"

#include <Poco/JSON/Array.h>
#include <Poco/Logger.h>

#include <atomic>
#include <csignal>
#include <functional>
#include <memory>
#include <optional>

namespace plexus::app {

namespace {

sigset_t controlSignals()
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    return set;
}

// Where the queue's delivery reports go: the sender's INBOX when it is a mailbox
// here, nowhere for an unknown address of our own domains (nobody to tell), and
// the sender's operator otherwise.
queue::FindReportDestination reportDestinations(store::ConnectionPool& reads, const std::set<std::string>& localDomains)
{
    return [&reads, &localDomains](const std::string& address) {
        using Kind = queue::ReportDestination::Kind;
        if (!localDomains.contains(accounts::domainOf(address))) return queue::ReportDestination{Kind::Remote, {}};
        auto db = reads.acquire();
        const auto account = accounts::AccountStore::find(*db, address);
        if (!account) return queue::ReportDestination{Kind::Nowhere, {}};
        return queue::ReportDestination{Kind::Mailbox, {account->id, account->address}};
    };
}

// One event per source: the operator sees in the audit trail which CA's CRL
// came from where, and why a source was refused.
void recordCrlRefresh(store::CommitQueue& commits, const trust::CrlRefreshResult& result)
{
    for (const auto& outcome : result.sources) {
        Poco::JSON::Object detail;
        Poco::JSON::Array installed;
        for (const auto& crl : outcome.addition.installed) installed.add(crl.issuer);
        detail.set("installed", installed);
        const events::Event event{"trust.crl_refreshed", "plexusd", "local", outcome.source,
                                  outcome.ok ? "success" : outcome.error, events::detailJson(detail)};
        commits.post([event](store::Database& db) { events::EventLog::append(db, event); });
    }
}

}  // namespace

int runDaemon(const Settings& settings)
{
    auto& log = Poco::Logger::get("plexusd");
    // Signals are taken by sigwait below; every thread started from here inherits the mask.
    const sigset_t signals = controlSignals();
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);
    std::signal(SIGPIPE, SIG_IGN);

    store::MailboxStore mailboxes(settings.blobDir, store::AtRestKey::loadFile(settings.atRestKeyPath));
    {
        store::Database db(settings.databasePath);
        store::migrateSchema(db);
        if (const auto removed = mailboxes.removeOrphanBlobs(db))
            log.warning("removed %z unfinished message file(s) left by an interrupted run", removed);
    }
    store::CommitQueue commits(settings.databasePath);
    store::ConnectionPool reads(settings.databasePath);
    accounts::Authenticator authenticator(reads, settings.auth);
    // The CRLs are fetched before the TLS contexts first load them; a later change
    // reloads the contexts. Declared first, the contexts outlive the refresher's thread.
    std::optional<net::TlsContexts> tlsContexts;
    trust::CrlRefresher crls(settings.crls, [&commits, &tlsContexts, &log](const trust::CrlRefreshResult& result) {
        recordCrlRefresh(commits, result);
        if (!result.changed() || !tlsContexts) return;
        try {
            tlsContexts->reload();
            log.information("TLS contexts reloaded with the new CRLs");
        } catch (const std::exception& e) {
            log.error("TLS reload after the CRL refresh failed, keeping the current contexts: %s", std::string(e.what()));
        }
    });
    crls.refreshNow();
    net::TlsContexts& tls = tlsContexts.emplace(settings.tls);
    crls.startSchedule();
    trust::WhitelistSource whitelist(settings.whitelist, [&commits](const trust::WhitelistRefreshResult& result) {
        Poco::JSON::Object detail;
        detail.set("domains", result.domains);
        const events::Event event{"trust.whitelist_refreshed", "plexusd", "local", result.source,
                                  result.ok ? "success" : result.error, events::detailJson(detail)};
        commits.post([event](store::Database& db) { events::EventLog::append(db, event); });
    });
    log.information("trust-space whitelist: %z domains from %s", whitelist.current()->domainCount(),
                    settings.whitelist.localCopy);
    whitelist.startSchedule();

    store::ChangeNotifier changes;
    intake::TextIndexer indexer(mailboxes, reads, commits);
    const auto currentWhitelist = [&whitelist] { return whitelist.current(); };
    std::atomic<bool> stopping{false};
    const std::function<bool()> isStopping = [&stopping] { return stopping.load(); };

    // Mail for other operators: the outbound queue, the relay client it sends
    // through, and the delivery reports it owes to senders.
    relay::Router router(std::make_shared<relay::SystemResolver>(), settings.routes);
    relay::SmtpRelayClient relayClient(settings.relayClient, router, tls, currentWhitelist, isStopping);
    // A report queued for another operator needs no wake-up: the queue rescans
    // as soon as the attempt that made it is finished.
    queue::DsnNotifier reports({settings.hostname, settings.primaryDomain},
                               intake::DeliveryServices{mailboxes, commits, changes, indexer, {}},
                               reportDestinations(reads, settings.smtp.localDomains));
    queue::OutboundQueue outbound(settings.relay, {reads, commits, mailboxes}, relayClient, reports);
    const auto outboundQueued = [&outbound] { outbound.wake(); };
    log.information("relay: %z static route(s), MX lookups for other domains", router.routes()->entries().size());

    // Plugins look up this instance's mailboxes first, then the national directory's local copy.
    {
        const directory::DirectoryStore created(settings.directory.database);  // schema up to date before reads
    }
    store::ConnectionPool directoryReads(settings.directory.database, store::ConnectionPool::kDefaultMaxIdle,
                                         directory::mapForReads);
    DirectorySyncService directorySync(settings.directory.database, [&commits](const events::Event& event) {
        commits.post([event](store::Database& db) { events::EventLog::append(db, event); });
    });
    directorySync.start(settings.directory.ldap);
    plugins::LocalDirectory localDirectory(reads);
    plugins::SyncedDirectory directory(localDirectory, directoryReads);
    plugins::PluginHost plugins(
        plugins::HostServices{mailboxes, commits, reads, changes, indexer, directory, currentWhitelist, settings.hostname,
                              settings.smtp.localDomains, settings.smtp.limits.messageSize,
                              settings.smtp.limits.headerSize, settings.defaultQuotaBytes, outboundQueued},
        settings.plugins);
    plugins.start();
    outbound.start();
    const auto reportDelivered = [&reports, &outbound](const queue::OutboundMessage& message,
                                                       const std::vector<queue::NoticeRecipient>& recipients) {
        reports.deliveredHere(message, recipients);
        outbound.wake();  // a report to another operator's sender is queued
    };
    smtp::SmtpServices services{mailboxes, commits, reads, changes, indexer, authenticator, tls, currentWhitelist,
                                plugins, outboundQueued, reportDelivered, directoryReads};

    // IDLE sessions wait without a thread; a change to their folder resumes them.
    net::IdleParker parker(settings.imap.limits.maxIdleSessions, settings.maxSessions);
    changes.setObserver([&parker](std::int64_t folderId) { parker.wake(folderId); });
    imap::ImapServices imapServices{mailboxes, commits, reads, changes, indexer, authenticator, tls, parker, plugins};
    std::vector<std::unique_ptr<net::Listener>> listeners;
    auto addListener = [&](const std::string& name, unsigned short port, net::Listener::SessionHandler handler) {
        listeners.push_back(std::make_unique<net::Listener>(
            net::ListenerOptions{name, settings.ports.address, port, settings.maxSessions}, std::move(handler)));
    };
    auto smtpSessions = [&](smtp::SmtpService service) {
        return [&, service](Poco::Net::StreamSocket& socket) {
            smtp::runSmtpSession(socket, service, settings.smtp, services, isStopping);
        };
    };
    auto imapSessions = [&](imap::ImapService service) {
        return [&, service](Poco::Net::StreamSocket& socket) {
            imap::runImapSession(socket, service, settings.imap, imapServices, isStopping);
        };
    };
    addListener("mx", settings.ports.mx, smtpSessions(smtp::SmtpService::Mx));
    addListener("submission", settings.ports.submission, smtpSessions(smtp::SmtpService::Submission));
    addListener("submissions", settings.ports.submissions, smtpSessions(smtp::SmtpService::Submissions));
    addListener("imap", settings.ports.imap, imapSessions(imap::ImapService::Imap));
    addListener("imaps", settings.ports.imaps, imapSessions(imap::ImapService::Imaps));
    http::HttpApi api(settings.ports.address, settings.ports.http, tls, reads);
    const http::MailEndpoints endpoints{settings.hostname,
                                       {settings.smtp.localDomains.begin(), settings.smtp.localDomains.end()},
                                       settings.ports.imaps,
                                       settings.ports.imap,
                                       settings.ports.submissions,
                                       settings.ports.submission,
                                       settings.auth.passwordsAllowed,
                                       settings.auth.token.has_value()};
    const auto autoconfig = [xml = http::autoconfigXml(endpoints)](Poco::Net::HTTPServerRequest&,
                                                                     Poco::Net::HTTPServerResponse& response) {
        response.setContentType("application/xml; charset=utf-8");
        response.sendBuffer(xml.data(), xml.size());
    };
    const http::ApiAuthentication apiAuthentication(authenticator, commits);
    http::addWhoamiRoute(api, apiAuthentication);
    http::addPluginRoutes(api, apiAuthentication, plugins);
    http::addDirectoryRoutes(api, apiAuthentication, directoryReads);
    api.addRoute("/.well-known/autoconfig/mail/config-v1.1.xml", autoconfig);
    api.addRoute("/mail/config-v1.1.xml", autoconfig);

    for (auto& listener : listeners) {
        listener->start();
        log.information("%s listening on %s:%hu", listener->name(), settings.ports.address, listener->port());
    }
    api.start();
    log.information("http listening on %s:%hu", settings.ports.address, api.port());
    log.information("plexusd ready for %s as %s", settings.primaryDomain, settings.hostname);

    for (;;) {
        int signal = 0;
        sigwait(&signals, &signal);
        if (signal != SIGHUP) break;
        log.information("SIGHUP: reloading certificates, CRLs, the whitelist, [relay], [routes] and [directory.ldap]");
        try {
            const auto reloaded = loadSettings(settings.configPath);
            crls.reconfigure(reloaded.crls);
            crls.refreshNow();
            tls.reload(reloaded.tls);  // the files may have changed (a first CRL file, say)
            whitelist.reconfigure(reloaded.whitelist);  // whitelist source may have changed
            router.replaceRoutes(reloaded.routes);
            relayClient.reconfigure(reloaded.relayClient);
            outbound.reconfigure(reloaded.relay);
            directorySync.reconfigure(reloaded.directory.ldap);
            const auto refreshed = whitelist.refreshNow();
            log.information(refreshed.ok ? "reloaded; whitelist has %z domains, %z static route(s)"
                                         : "reloaded; whitelist refresh failed, %z domains kept; %z static route(s)",
                            refreshed.domains, reloaded.routes.entries().size());
        } catch (const std::exception& e) {
            log.error("reload failed, keeping the previous settings: %s", std::string(e.what()));
        }
    }
    log.information("stopping: finishing sessions");
    stopping = true;
    directorySync.stop();  // abandons a persist search, unbinds
    api.stop();
    for (auto& listener : listeners) listener->stop();
    parker.stop();  // idling sessions say BYE too
    outbound.stop();  // attempts in progress are cut short and recorded
    crls.stopSchedule();
    plugins.stop();
    log.information("stopped");
    return 0;
}

}  // namespace plexus::app
