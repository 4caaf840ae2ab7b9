// The trust-space whitelist in use, kept fresh from its source (the national
// HTTPS URL or a file), checked (optional SHA-256 checksum, namespace, size,
// no sudden shrink) before it replaces the current one. A refresh that fails
// for any reason keeps the current list; a good one is also written to the
// local copy, which is what the next start uses.
#pragma once

#include "trust/Fetch.h"
#include "trust/PeriodicTask.h"
#include "trust/Whitelist.h"

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

namespace plexus::trust {

// The [trust] whitelist settings.
struct WhitelistSourceSettings {
    std::string localCopy;     // whitelist: read at start, rewritten with each good download
    std::string source;        // whitelist_source: https:// URL or file; empty: localCopy alone
    std::string checksum;      // whitelist_checksum: https:// URL or file, "<sha256 hex>  name"; optional
    std::string caFile;        // whitelist_ca: CAs for the HTTPS downloads; empty: the system CAs
    std::chrono::minutes refreshInterval{60};  // whitelist_refresh_minutes; 0: on demand (SIGHUP) only
};

struct WhitelistRefreshResult {
    bool ok = false;
    std::size_t domains = 0;  // of the list in use afterwards
    std::string source;       // where the list was read, credentials and query left out
    std::string error;        // why the refresh failed (the previous list is kept)
};

// A fetched list may not have fewer than this share of the current list's
// domains: a truncated or wrong publication would cut off most operators.
inline constexpr double kMinimumKeptShare = 0.5;
inline constexpr std::size_t kMaxChecksumBytes = 64 * 1024;

// "<64 hex digits>  filename" (sha256sum style; only the first token counts):
// the digest, lower case. Throws WhitelistError.
std::string checksumDigest(std::string_view checksumFile);
std::string sha256Hex(std::string_view data);

class WhitelistSource {
public:
    using Observer = std::function<void(const WhitelistRefreshResult&)>;

    // Loads the local copy, or refreshes from the source when there is no
    // usable local copy. Throws WhitelistError when neither gives a list.
    explicit WhitelistSource(WhitelistSourceSettings settings, Observer observer = {});
    ~WhitelistSource();  // stops the schedule
    WhitelistSource(const WhitelistSource&) = delete;
    WhitelistSource& operator=(const WhitelistSource&) = delete;

    // Never null. Callers keep the list they took for as long as they need it.
    std::shared_ptr<const Whitelist> current() const;

    // With a source: adopts a local copy written meanwhile by someone else
    // (plexusctl whitelist refresh), then fetches, checks, writes the local
    // copy and swaps. Without: reloads the local copy. `force` lifts the shrink check.
    WhitelistRefreshResult refreshNow(bool force = false);

    // New settings for the following refreshes (SIGHUP re-reads the configuration).
    void reconfigure(WhitelistSourceSettings settings);

    // Refreshes every refreshInterval on a thread of its own (the first one
    // when the local copy is that old) and keeps plexus_whitelist_age_seconds current.
    void startSchedule();
    void stopSchedule();

private:
    WhitelistSourceSettings settings() const;
    void adopt(std::shared_ptr<const Whitelist> list, std::chrono::system_clock::time_point obtainedAt);
    void adoptLocalCopy(const std::string& path);
    void fetchFromSource(const WhitelistSourceSettings& settings, bool force);
    std::chrono::system_clock::time_point scheduledRun();
    void updateAge() const;

    Observer observer_;
    mutable std::mutex mutex_;  // guards the members below, not the refresh itself
    WhitelistSourceSettings settings_;
    std::shared_ptr<const Whitelist> current_;
    std::chrono::system_clock::time_point obtainedAt_;
    std::filesystem::file_time_type localCopyWritten_;  // the local copy as last read or written here

    std::mutex refreshing_;  // one refresh at a time (schedule, SIGHUP, CLI)
    std::optional<std::chrono::system_clock::time_point> lastScheduled_;  // the schedule thread's own
    PeriodicTask schedule_{[this] { return scheduledRun(); }};
};

}  // namespace plexus::trust
