#include "trust/CrlRefresh.h"

#include "metrics/Metrics.h"
#include "trust/Fetch.h"

#include <Poco/DateTimeFormatter.h>
#include <Poco/Logger.h>
#include <Poco/StringTokenizer.h>
#include <Poco/Timestamp.h>

#include <algorithm>

namespace plexus::trust {

namespace {

namespace fs = std::filesystem;
using std::chrono::system_clock;

Poco::Logger& log() { return Poco::Logger::get("crl"); }

std::string utcText(TimePoint time)
{
    return Poco::DateTimeFormatter::format(Poco::Timestamp::fromEpochTime(system_clock::to_time_t(time)),
                                           "%Y-%m-%d %H:%M:%S UTC");
}

// Prometheus label value (exposition format 0.0.4: backslash, quote and line feed escaped).
std::string sourceLabel(const std::string& source)
{
    std::string value;
    for (const char c : source) {
        if (c == '\\' || c == '"') value += '\\';
        value += c == '\n' ? 'n' : c;
    }
    return "source=\"" + value + "\"";
}

metrics::Gauge& lastSuccess(const std::string& source)
{
    return metrics::Registry::instance().gauge("plexus_crl_source_last_success_timestamp_seconds",
                                               "When the CRL source was last fetched and checked (Unix time)",
                                               sourceLabel(source));
}

metrics::Counter& failures(const std::string& source)
{
    return metrics::Registry::instance().counter(
        "plexus_crl_refresh_failures_total", "CRL fetches that failed (the CRL held was kept)", sourceLabel(source));
}

metrics::Gauge& expiredGauge()
{
    return metrics::Registry::instance().gauge("plexus_crl_expired",
                                               "CRLs held past their nextUpdate (their CAs' certificates are refused)");
}

std::optional<fs::file_time_type> lastWrite(const std::string& path)
{
    std::error_code error;
    const auto time = fs::last_write_time(path, error);
    if (error) return std::nullopt;
    return time;
}

CrlSourceOutcome refreshFrom(const std::string& source, const CrlRefreshSettings& settings)
{
    CrlSourceOutcome outcome;
    outcome.source = displayLocation(source);
    try {
        const std::string document = fetchDocument(source, settings.caFile, kMaxCrlBytes);
        outcome.addition = addRevocationListData(settings.crlFile, document, outcome.source, settings.trustAnchors);
        outcome.ok = true;
    } catch (const std::exception& e) {
        outcome.error = e.what();
    }
    return outcome;
}

std::vector<RevocationListInfo> expiredIn(const std::string& crlFile)
{
    std::vector<RevocationListInfo> expired;
    if (crlFile.empty() || !fs::exists(crlFile)) return expired;
    const auto now = system_clock::now();
    try {
        for (auto& crl : readRevocationListFile(crlFile))
            if (crl.nextUpdate && *crl.nextUpdate < now) expired.push_back(std::move(crl));
    } catch (const TrustFileError& e) {
        log().error("cannot read the CRLs held: %s", std::string(e.what()));
    }
    return expired;
}

void logResult(const CrlRefreshResult& result, const std::string& crlFile)
{
    for (const auto& outcome : result.sources) {
        if (!outcome.ok) {
            log().warning("CRL refresh from %s failed, keeping the CRLs held in %s: %s", outcome.source, crlFile,
                          outcome.error);
            continue;
        }
        for (const auto& crl : outcome.addition.installed)
            log().information("CRL of %s (updated %s, %z revoked) installed from %s", crl.issuer,
                              utcText(crl.lastUpdate), crl.revokedCount, outcome.source);
        for (const auto& crl : outcome.addition.unchanged)
            log().debug("CRL of %s from %s: unchanged", crl.issuer, outcome.source);
    }
    if (result.fileReplacedElsewhere) log().information("%s was replaced by plexusctl: loading it", crlFile);
    for (const auto& crl : result.expired)
        log().warning("the CRL of %s held in %s is past its nextUpdate (%s): certificates of that CA are refused "
                      "until a current CRL is installed",
                      crl.issuer, crlFile, utcText(*crl.nextUpdate));
}

}  // namespace

std::vector<std::string> splitCrlSources(std::string_view value)
{
    const Poco::StringTokenizer items(std::string(value), ",",
                                      Poco::StringTokenizer::TOK_IGNORE_EMPTY | Poco::StringTokenizer::TOK_TRIM);
    return {items.begin(), items.end()};
}

std::string joinCrlSources(const std::vector<std::string>& sources)
{
    std::string value;
    for (const auto& source : sources) value += (value.empty() ? "" : ", ") + source;
    return value;
}

bool CrlRefreshResult::changed() const
{
    return fileReplacedElsewhere || std::ranges::any_of(sources, [](const CrlSourceOutcome& outcome) {
               return outcome.ok && !outcome.addition.installed.empty();
           });
}

std::size_t CrlRefreshResult::failures() const
{
    return static_cast<std::size_t>(std::ranges::count_if(sources, [](const auto& outcome) { return !outcome.ok; }));
}

CrlRefreshResult refreshRevocationLists(const CrlRefreshSettings& settings)
{
    CrlRefreshResult result;
    for (const auto& source : settings.sources) {
        if (settings.crlFile.empty()) {
            result.sources.push_back({displayLocation(source), false, {}, "no CRL file (tls.crl) to keep it in"});
            continue;
        }
        result.sources.push_back(refreshFrom(source, settings));
    }
    result.expired = expiredIn(settings.crlFile);
    return result;
}

CrlRefresher::CrlRefresher(CrlRefreshSettings settings, Observer observer)
    : observer_(std::move(observer)), settings_(std::move(settings))
{
}

CrlRefresher::~CrlRefresher() { stopSchedule(); }

CrlRefreshSettings CrlRefresher::settings() const
{
    std::lock_guard lock(mutex_);
    return settings_;
}

void CrlRefresher::reconfigure(CrlRefreshSettings settings)
{
    {
        std::lock_guard lock(mutex_);
        settings_ = std::move(settings);
    }
    schedule_.wake();  // the interval may have changed
}

CrlRefreshResult CrlRefresher::refreshNow()
{
    const std::lock_guard refreshing(refreshing_);
    const auto config = settings();
    const auto before = lastWrite(config.crlFile);
    auto result = refreshRevocationLists(config);
    result.fileReplacedElsewhere = crlFileSeen_ && before && *before != *crlFileSeen_;
    crlFileSeen_ = lastWrite(config.crlFile);

    const auto now = std::chrono::duration_cast<std::chrono::seconds>(system_clock::now().time_since_epoch());
    for (const auto& outcome : result.sources) {
        if (outcome.ok)
            lastSuccess(outcome.source).set(now.count());
        else
            failures(outcome.source).add();
    }
    expiredGauge().set(static_cast<std::int64_t>(result.expired.size()));
    logResult(result, config.crlFile);
    if (observer_) observer_(result);
    return result;
}

void CrlRefresher::startSchedule() { schedule_.start(); }

void CrlRefresher::stopSchedule() { schedule_.stop(); }

system_clock::time_point CrlRefresher::scheduledRun()
{
    const auto interval = settings().refreshInterval;
    const auto now = system_clock::now();
    if (!lastScheduled_) {
        lastScheduled_ = now;  // plexusd refreshed as it started
    } else if (interval.count() > 0 && now >= *lastScheduled_ + interval) {
        lastScheduled_ = now;
        refreshNow();
    }
    // Without a schedule, only reconfigure() wakes the thread before this.
    return *lastScheduled_ + (interval.count() > 0 ? interval : std::chrono::hours(24));
}

}  // namespace plexus::trust
