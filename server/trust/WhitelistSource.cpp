#include "trust/WhitelistSource.h"

#include "metrics/Metrics.h"
#include "trust/AtomicFile.h"

#include <Poco/Logger.h>

#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <cctype>

namespace plexus::trust {

namespace {

namespace fs = std::filesystem;
using std::chrono::system_clock;

// How often the schedule thread updates plexus_whitelist_age_seconds.
constexpr auto kAgeUpdatePeriod = std::chrono::seconds(15);

struct WhitelistMetrics {
    metrics::Gauge& domains;
    metrics::Gauge& age;
    metrics::Counter& failures;
};

WhitelistMetrics& whitelistMetrics()
{
    auto& registry = metrics::Registry::instance();
    static WhitelistMetrics instance{
        registry.gauge("plexus_whitelist_domains", "Domains of the trust-space whitelist in use"),
        registry.gauge("plexus_whitelist_age_seconds", "Seconds since the whitelist in use was last obtained"),
        registry.counter("plexus_whitelist_refresh_failures_total",
                         "Whitelist refreshes that failed (the previous list was kept)"),
    };
    return instance;
}

Poco::Logger& log() { return Poco::Logger::get("whitelist"); }

bool sameFile(const std::string& a, const std::string& b)
{
    std::error_code error;
    if (fs::equivalent(a, b, error)) return true;
    return fs::absolute(a, error).lexically_normal() == fs::absolute(b, error).lexically_normal();
}

// Whether fresh copies come from somewhere else than the local copy itself.
bool hasSeparateSource(const WhitelistSourceSettings& settings)
{
    return !settings.source.empty() && (isUrl(settings.source) || !sameFile(settings.source, settings.localCopy));
}

void requireNoShrink(const Whitelist& fresh, const Whitelist* current)
{
    if (current == nullptr) return;
    if (static_cast<double>(fresh.domainCount()) < kMinimumKeptShare * static_cast<double>(current->domainCount()))
        throw WhitelistError("the new list has " + std::to_string(fresh.domainCount()) + " domains, less than " +
                             std::to_string(static_cast<int>(kMinimumKeptShare * 100)) + "% of the " +
                             std::to_string(current->domainCount()) +
                             " of the list in use; refused (plexusctl whitelist refresh --force takes it anyway)");
}

system_clock::time_point toSystemClock(fs::file_time_type time)
{
    return std::chrono::time_point_cast<system_clock::duration>(std::chrono::file_clock::to_sys(time));
}

}  // namespace

std::string checksumDigest(std::string_view checksumFile)
{
    constexpr std::string_view kSpaces = " \t\r\n";
    const auto start = checksumFile.find_first_not_of(kSpaces);
    const auto token = start == std::string_view::npos
                           ? std::string_view()
                           : checksumFile.substr(start, checksumFile.find_first_of(kSpaces, start) - start);
    if (token.size() != 64 || !std::ranges::all_of(token, [](char c) { return std::isxdigit(static_cast<unsigned char>(c)); }))
        throw WhitelistError("the checksum file does not start with a SHA-256 digest (64 hexadecimal digits)");
    std::string digest(token);
    std::ranges::transform(digest, digest.begin(), [](char c) { return static_cast<char>(std::tolower(c)); });
    return digest;
}

std::string sha256Hex(std::string_view data)
{
    std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
    unsigned int length = 0;
    if (EVP_Digest(data.data(), data.size(), digest.data(), &length, EVP_sha256(), nullptr) != 1)
        throw WhitelistError("SHA-256 failed");
    constexpr std::string_view kHex = "0123456789abcdef";
    std::string hex;
    for (unsigned int i = 0; i < length; ++i) {
        hex += kHex[digest[i] >> 4];
        hex += kHex[digest[i] & 0x0f];
    }
    return hex;
}

WhitelistSource::WhitelistSource(WhitelistSourceSettings settings, Observer observer)
    : observer_(std::move(observer)), settings_(std::move(settings))
{
    std::string localProblem;
    try {
        adoptLocalCopy(settings_.localCopy);
        return;
    } catch (const WhitelistError& e) {
        if (!hasSeparateSource(settings_)) throw;
        localProblem = e.what();
    }
    const auto result = refreshNow();
    if (!result.ok) throw WhitelistError(localProblem + "; and from the source: " + result.error);
}

WhitelistSource::~WhitelistSource() { stopSchedule(); }

std::shared_ptr<const Whitelist> WhitelistSource::current() const
{
    std::lock_guard lock(mutex_);
    return current_;
}

WhitelistSourceSettings WhitelistSource::settings() const
{
    std::lock_guard lock(mutex_);
    return settings_;
}

void WhitelistSource::reconfigure(WhitelistSourceSettings settings)
{
    {
        std::lock_guard lock(mutex_);
        settings_ = std::move(settings);
    }
    schedule_.wake();  // the interval may have changed
}

void WhitelistSource::adopt(std::shared_ptr<const Whitelist> list, system_clock::time_point obtainedAt)
{
    whitelistMetrics().domains.set(static_cast<std::int64_t>(list->domainCount()));
    {
        std::lock_guard lock(mutex_);
        current_ = std::move(list);
        obtainedAt_ = obtainedAt;
    }
    updateAge();
}

void WhitelistSource::adoptLocalCopy(const std::string& path)
{
    std::error_code error;
    const auto written = fs::last_write_time(path, error);
    if (error) throw WhitelistError("whitelist " + path + ": " + error.message());
    auto list = std::make_shared<const Whitelist>(Whitelist::loadFile(path));
    {
        std::lock_guard lock(mutex_);
        localCopyWritten_ = written;
    }
    adopt(std::move(list), toSystemClock(written));
}

void WhitelistSource::fetchFromSource(const WhitelistSourceSettings& settings, bool force)
{
    {
        // plexusctl whitelist refresh checked and wrote it: it is the operator's latest word.
        std::error_code error;
        const auto written = fs::last_write_time(settings.localCopy, error);
        std::unique_lock lock(mutex_);
        if (!error && written != localCopyWritten_) {
            localCopyWritten_ = written;  // tried once: a bad copy must not block the downloads
            lock.unlock();
            try {
                adoptLocalCopy(settings.localCopy);
            } catch (const WhitelistError& e) {
                log().warning("whitelist: ignoring the local copy written meanwhile: %s", std::string(e.what()));
            }
        }
    }
    const std::string document = fetchDocument(settings.source, settings.caFile, Whitelist::kMaxDocumentBytes);
    if (!settings.checksum.empty()) {
        const auto expected = checksumDigest(fetchDocument(settings.checksum, settings.caFile, kMaxChecksumBytes));
        const auto actual = sha256Hex(document);
        if (actual != expected)
            throw WhitelistError("checksum mismatch: " + displayLocation(settings.source) + " has SHA-256 " + actual +
                                 ", " + displayLocation(settings.checksum) + " announces " + expected);
    }
    auto list = std::make_shared<const Whitelist>(Whitelist::parse(document, displayLocation(settings.source)));
    if (!force) requireNoShrink(*list, current().get());
    try {
        replaceFile(settings.localCopy, document);
    } catch (const FileError& e) {
        throw WhitelistError("cannot keep the new list as " + settings.localCopy + ": " + e.what());
    }
    std::error_code error;
    const auto written = fs::last_write_time(settings.localCopy, error);
    {
        std::lock_guard lock(mutex_);
        localCopyWritten_ = written;
    }
    adopt(std::move(list), system_clock::now());
}

WhitelistRefreshResult WhitelistSource::refreshNow(bool force)
{
    const std::lock_guard refreshing(refreshing_);
    const auto config = settings();
    const bool separateSource = hasSeparateSource(config);
    WhitelistRefreshResult result;
    result.source = displayLocation(separateSource ? config.source : config.localCopy);
    try {
        if (separateSource)
            fetchFromSource(config, force);
        else
            adoptLocalCopy(config.localCopy);
        result.ok = true;
    } catch (const std::exception& e) {
        result.error = e.what();
        whitelistMetrics().failures.add();
    }
    const auto list = current();
    result.domains = list ? list->domainCount() : 0;
    if (result.ok)
        log().information("whitelist: %z domains from %s", result.domains, result.source);
    else
        log().error("whitelist refresh from %s failed, keeping the current list (%z domains): %s", result.source,
                    result.domains, result.error);
    if (observer_) observer_(result);
    return result;
}

void WhitelistSource::startSchedule() { schedule_.start(); }

void WhitelistSource::stopSchedule() { schedule_.stop(); }

system_clock::time_point WhitelistSource::scheduledRun()
{
    const auto config = settings();
    const bool scheduled = config.refreshInterval.count() > 0 && hasSeparateSource(config);
    if (!lastScheduled_) {
        // The first refresh is due when the list in use is one interval old.
        std::lock_guard lock(mutex_);
        lastScheduled_ = obtainedAt_;
    }
    if (scheduled && system_clock::now() >= *lastScheduled_ + config.refreshInterval) {
        lastScheduled_ = system_clock::now();
        refreshNow();
    }
    updateAge();
    const auto nextAgeUpdate = system_clock::now() + kAgeUpdatePeriod;
    return scheduled ? std::min(*lastScheduled_ + config.refreshInterval, nextAgeUpdate) : nextAgeUpdate;
}

void WhitelistSource::updateAge() const
{
    system_clock::time_point obtainedAt;
    {
        std::lock_guard lock(mutex_);
        obtainedAt = obtainedAt_;
    }
    const auto age = std::chrono::duration_cast<std::chrono::seconds>(system_clock::now() - obtainedAt);
    whitelistMetrics().age.set(std::max<std::int64_t>(0, age.count()));
}

}  // namespace plexus::trust
