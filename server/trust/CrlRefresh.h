// The CRLs in use (tls.crl) kept current from the CAs' publication points
// (tls.crl_sources: https:// URLs or files; IGC-Santé publishes one CRL per
// CA). Each fetched CRL is checked as `plexusctl trust crl add` checks one
// (signed by a trust anchor, not past its nextUpdate, not older than the one
// held) and merged into the file atomically. A source that fails keeps the
// CRL held for its CA and says why.
#pragma once

#include "trust/PeriodicTask.h"
#include "trust/TrustAnchors.h"

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace plexus::trust {

// The largest IGC-Santé CRLs are a few MiB.
inline constexpr std::size_t kMaxCrlBytes = 32 * 1024 * 1024;

// The [tls] CRL settings.
struct CrlRefreshSettings {
    std::vector<std::string> sources;  // crl_sources: https:// URLs or files, comma-separated
    std::string crlFile;               // crl: the CRLs in use, read by the TLS contexts
    std::string trustAnchors;          // trust_anchors: who may sign a CRL
    std::string caFile;                // crl_sources_ca: CAs for the HTTPS downloads; empty: the system CAs
    // crl_refresh_minutes (crl_refresh_seconds, for tests, wins); 0: at start, on SIGHUP and by plexusctl only.
    std::chrono::seconds refreshInterval{std::chrono::minutes(60)};
};

// "a, b ,c" as the list of its non-empty, trimmed items.
std::vector<std::string> splitCrlSources(std::string_view value);
std::string joinCrlSources(const std::vector<std::string>& sources);

struct CrlSourceOutcome {
    std::string source;  // displayLocation of the source
    bool ok = false;
    RevocationListAddition addition;  // when ok
    std::string error;                // when not: why (the CRLs held are kept)
};

struct CrlRefreshResult {
    std::vector<CrlSourceOutcome> sources;
    std::vector<RevocationListInfo> expired;  // CRLs held past their nextUpdate afterwards
    bool fileReplacedElsewhere = false;       // by plexusctl since the last refresh here
    bool changed() const;                     // the TLS contexts must load the CRL file again
    std::size_t failures() const;
};

// Fetches every source in turn and merges what it holds into the CRL file.
// A failing source is an outcome, not an exception.
CrlRefreshResult refreshRevocationLists(const CrlRefreshSettings& settings);

// The refreshes of a running plexusd: at once, on a schedule and on SIGHUP,
// one at a time; the observer hears each result (logs, events, TLS reload).
// Metrics: plexus_crl_source_last_success_timestamp_seconds and
// plexus_crl_refresh_failures_total per source, plexus_crl_expired.
class CrlRefresher {
public:
    using Observer = std::function<void(const CrlRefreshResult&)>;

    CrlRefresher(CrlRefreshSettings settings, Observer observer);
    ~CrlRefresher();  // stops the schedule
    CrlRefresher(const CrlRefresher&) = delete;
    CrlRefresher& operator=(const CrlRefresher&) = delete;

    CrlRefreshResult refreshNow();
    void reconfigure(CrlRefreshSettings settings);  // for the following refreshes
    // A refresh every refreshInterval, the first one interval from now.
    void startSchedule();
    void stopSchedule();

private:
    CrlRefreshSettings settings() const;
    std::chrono::system_clock::time_point scheduledRun();

    Observer observer_;
    mutable std::mutex mutex_;  // guards settings_
    CrlRefreshSettings settings_;

    std::mutex refreshing_;  // one refresh at a time; guards crlFileSeen_
    std::optional<std::filesystem::file_time_type> crlFileSeen_;  // as this process last read or wrote it
    std::optional<std::chrono::system_clock::time_point> lastScheduled_;  // the schedule thread's own
    PeriodicTask schedule_{[this] { return scheduledRun(); }};
};

}  // namespace plexus::trust
