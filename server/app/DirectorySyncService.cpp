#include "app/DirectorySyncService.h"

#include "directory/LdapSync.h"
#include "metrics/Metrics.h"

#include <Poco/Logger.h>

#include <algorithm>

namespace plexus::app {

namespace {

using namespace std::chrono_literals;

constexpr std::chrono::milliseconds kFirstRetry = 1s;
constexpr std::chrono::milliseconds kLastRetry = 5min;
// After the safety brake: how often to look whether the operator forced a sync.
constexpr std::chrono::milliseconds kBrakeCheck = 2s;

Poco::Logger& logger() { return Poco::Logger::get("directory"); }

metrics::Gauge& lastSyncGauge()
{
    static auto& gauge = metrics::Registry::instance().gauge(
        "plexus_directory_last_sync_timestamp_seconds", "When the LDAP sync last committed a sync point (Unix time)");
    return gauge;
}
metrics::Gauge& entriesGauge()
{
    static auto& gauge =
        metrics::Registry::instance().gauge("plexus_directory_entries", "Mailboxes held for the LDAP source");
    return gauge;
}
metrics::Counter& failuresCounter()
{
    static auto& counter =
        metrics::Registry::instance().counter("plexus_directory_sync_failures_total", "LDAP syncs that failed");
    return counter;
}

std::string counts(const directory::SyncSummary& s)
{
    return std::to_string(s.added) + " added, " + std::to_string(s.changed) + " changed, " +
           std::to_string(s.deleted) + " deleted, " + std::to_string(s.skipped) + " skipped";
}

}  // namespace

DirectorySyncService::DirectorySyncService(std::string databasePath, RecordEvent record)
    : databasePath_(std::move(databasePath)), record_(std::move(record)), retryDelay_(kFirstRetry)
{
    // Present on /metrics from the start, at 0, whether or not a source is configured.
    lastSyncGauge();
    entriesGauge();
    failuresCounter();
}

DirectorySyncService::~DirectorySyncService() { stop(); }

void DirectorySyncService::start(std::optional<directory::LdapSettings> source)
{
    source_ = std::move(source);
    thread_ = std::thread([this] { run(); });
}

void DirectorySyncService::reconfigure(std::optional<directory::LdapSettings> source)
{
    {
        const std::lock_guard lock(mutex_);
        source_ = std::move(source);
        changed_ = true;
    }
    wake_.notify_all();
}

void DirectorySyncService::stop()
{
    {
        const std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable()) thread_.join();
}

bool DirectorySyncService::interrupted()
{
    const std::lock_guard lock(mutex_);
    return stopping_ || changed_;
}

bool DirectorySyncService::pause(std::chrono::milliseconds delay)
{
    std::unique_lock lock(mutex_);
    return !wake_.wait_for(lock, delay, [this] { return stopping_ || changed_; });
}

void DirectorySyncService::run()
{
    try {
        directory::DirectoryStore store(databasePath_);
        for (;;) {
            std::optional<directory::LdapSettings> source;
            {
                std::unique_lock lock(mutex_);
                wake_.wait(lock, [this] { return stopping_ || changed_ || source_; });
                if (stopping_) return;
                if (changed_) brakedState_.reset();  // SIGHUP: try again
                changed_ = false;
                source = source_;
            }
            if (!source) continue;
            pause(syncOnce(*source, store));
        }
    } catch (const std::exception& e) {
        // Only the directory database itself failing gets here: mail goes on without syncs.
        logger().critical("directory sync stopped: %s", std::string(e.what()));
    }
}

std::chrono::milliseconds DirectorySyncService::syncOnce(const directory::LdapSettings& source,
                                                         directory::DirectoryStore& store)
{
    const auto held = [&] {
        entriesGauge().set(static_cast<std::int64_t>(store.count(directory::RecordKind::mailbox, source.source())));
    };
    if (brakedState_) {
        if (store.syncState(source.source()).value_or("") == *brakedState_) return kBrakeCheck;
        logger().information("directory sync from %s: the operator synced past the safety brake, resuming",
                             source.uri);
        brakedState_.reset();
    }
    directory::SyncOptions options;
    options.mode = source.mode;
    options.stopped = [this] { return interrupted(); };
    bool loggedRefresh = false;
    options.committed = [&](const directory::SyncSummary& summary) {
        lastSyncGauge().set(std::chrono::duration_cast<std::chrono::seconds>(
                                std::chrono::system_clock::now().time_since_epoch())
                                .count());
        held();
        retryDelay_ = kFirstRetry;
        failing_ = false;
        if (!loggedRefresh) {
            loggedRefresh = true;
            logger().information("directory sync from %s: %s%s", source.uri, counts(summary),
                                 std::string(source.mode == directory::SyncMode::RefreshAndPersist
                                                 ? "; following changes"
                                                 : ""));
            record_({"directory.synced", "plexusd", "", source.source(), "success", "{}"});
        }
    };
    const bool persist = source.mode == directory::SyncMode::RefreshAndPersist;
    try {
        const auto summary = directory::syncFromLdap(source, store, options);
        if (summary.stopped) return 0ms;
        // A persist search the server ended: search again at once.
        return persist ? kFirstRetry : source.syncInterval;
    } catch (const directory::SafetyBrakeError& e) {
        failuresCounter().add();
        brakedState_ = store.syncState(source.source()).value_or("");
        logger().error("directory sync from %s stopped: %s", source.uri, std::string(e.what()));
        record_({"directory.synced", "plexusd", "", source.source(), "safety brake", "{}"});
        return kBrakeCheck;
    } catch (const std::exception& e) {
        failuresCounter().add();
        const auto delay = retryDelay_;
        retryDelay_ = std::min(retryDelay_ * 2, kLastRetry);
        logger().error("directory sync from %s failed, the local copy is kept; retrying in %lds: %s", source.uri,
                       static_cast<long>(std::chrono::ceil<std::chrono::seconds>(delay).count()),
                       std::string(e.what()));
        if (!failing_) record_({"directory.synced", "plexusd", "", source.source(), e.what(), "{}"});
        failing_ = true;
        held();
        return delay;
    }
}

}  // namespace plexus::app
