// plexusd's side of the LDAP sync: one thread keeps the national directory's
// local copy up to date from the [directory.ldap] source, with refreshOnly
// syncs every sync_interval_minutes or one refreshAndPersist search kept open.
//
// A failure (server down, bad credentials, a dropped connection) is logged with
// its reason and retried with a doubling delay (1 s .. 5 min); the copy keeps
// what it had. A sync stopped by the safety brake deletes nothing: it is logged,
// recorded as an event, and the thread waits until the operator has run
// `plexusctl directory sync --force` (the source's sync point moves) or SIGHUP.
// Metrics: plexus_directory_last_sync_timestamp_seconds, plexus_directory_entries,
// plexus_directory_sync_failures_total.
#pragma once

#include "directory/DirectoryStore.h"
#include "directory/LdapSettings.h"
#include "events/EventLog.h"

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

namespace plexus::app {

class DirectorySyncService {
public:
    using RecordEvent = std::function<void(const events::Event&)>;

    DirectorySyncService(std::string databasePath, RecordEvent record);
    ~DirectorySyncService();
    DirectorySyncService(const DirectorySyncService&) = delete;
    DirectorySyncService& operator=(const DirectorySyncService&) = delete;

    // Starts the thread; without a source it idles until reconfigured.
    void start(std::optional<directory::LdapSettings> source);
    // SIGHUP: the source as configured now. A sync under way ends (its work is
    // kept) and the next starts at once with the new settings.
    void reconfigure(std::optional<directory::LdapSettings> source);
    // Ends a sync under way (abandon, unbind) and joins the thread.
    void stop();

private:
    void run();
    // One sync; returns how long to wait before the next.
    std::chrono::milliseconds syncOnce(const directory::LdapSettings& source, directory::DirectoryStore& store);
    // Waits `delay` or until stopped or reconfigured (then false).
    bool pause(std::chrono::milliseconds delay);
    bool interrupted();

    const std::string databasePath_;
    const RecordEvent record_;
    std::mutex mutex_;
    std::condition_variable wake_;
    std::optional<directory::LdapSettings> source_;
    bool stopping_ = false, changed_ = false;
    std::chrono::milliseconds retryDelay_;
    bool failing_ = false;                   // the last sync failed (one event per series)
    std::optional<std::string> brakedState_;  // the sync point when the brake stopped a sync
    std::thread thread_;
};

}  // namespace plexus::app
