#include "trust/WhitelistSource.h"

#include "metrics/Metrics.h"
#include "trust/AtomicFile.h"
#include "trust/DistinguishedName.h"

#include <Poco/Exception.h>
#include <Poco/Logger.h>
#include <Poco/Net/Context.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/HTTPSClientSession.h>
#include <Poco/Net/IPAddress.h>
#include <Poco/URI.h>

#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <istream>

namespace plexus::trust {

namespace {

namespace fs = std::filesystem;
using std::chrono::system_clock;

constexpr auto kConnectTimeout = std::chrono::seconds(10);
constexpr auto kIoTimeout = std::chrono::seconds(20);
// A server trickling bytes under the I/O timeout still has to finish by then.
constexpr auto kDownloadDeadline = std::chrono::seconds(120);
// How often the schedule thread updates plexus_whitelist_age_seconds.
constexpr auto kAgeUpdatePeriod = std::chrono::seconds(15);
constexpr const char* kCipherList = "HIGH:!aNULL:!eNULL:!MD5:!RC4:!3DES:!SHA1";

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

Poco::Timespan timespan(std::chrono::seconds seconds) { return Poco::Timespan(seconds.count(), 0); }

Poco::URI parseHttpsUrl(const std::string& location)
{
    Poco::URI uri;
    try {
        uri = Poco::URI(location);
    } catch (const Poco::Exception& e) {
        throw WhitelistError(displayLocation(location) + ": not a URL: " + e.displayText());
    }
    if (uri.getScheme() != "https")
        throw WhitelistError(displayLocation(location) + ": only https:// URLs are accepted");
    if (uri.getHost().empty()) throw WhitelistError(displayLocation(location) + ": the URL has no host");
    return uri;
}

// Why OpenSSL rejected the server's certificate, for the error message
// (downloads run on the calling thread, handshake included).
thread_local std::string certificateProblem;

int recordCertificateProblem(int ok, X509_STORE_CTX* store)
{
    if (ok == 0 && certificateProblem.empty()) {
        certificateProblem = X509_verify_cert_error_string(X509_STORE_CTX_get_error(store));
        if (const X509* certificate = X509_STORE_CTX_get_current_cert(store))
            certificateProblem += " (" + DistinguishedName::fromX509(certificate).toString() + ")";
    }
    return ok;
}

Poco::Net::Context::Ptr clientContext(const std::string& caFile, const std::string& host)
{
    Poco::Net::Context::Params params;
    params.caLocation = caFile;
    params.loadDefaultCAs = caFile.empty();
    params.verificationMode = Poco::Net::Context::VERIFY_STRICT;
    params.verificationDepth = 9;
    params.cipherList = kCipherList;
    Poco::Net::Context::Ptr context = new Poco::Net::Context(Poco::Net::Context::TLS_CLIENT_USE, params);
    context->requireMinimumProtocol(Poco::Net::Context::PROTO_TLSV1_2);
    // OpenSSL checks the name during the handshake (RFC 6125, IP literals
    // against iPAddress names); Poco's own check would resolve the certificate's names.
    context->enableExtendedCertificateVerification(false);
    X509_VERIFY_PARAM* verify = SSL_CTX_get0_param(context->sslContext());
    Poco::Net::IPAddress address;
    const int named = Poco::Net::IPAddress::tryParse(host, address)
                          ? X509_VERIFY_PARAM_set1_ip_asc(verify, host.c_str())
                          : X509_VERIFY_PARAM_set1_host(verify, host.c_str(), host.size());
    if (named != 1) throw WhitelistError("cannot set the expected server name " + host);
    SSL_CTX_set_verify(context->sslContext(), SSL_VERIFY_PEER, recordCertificateProblem);
    return context;
}

std::string download(const std::string& location, const std::string& caFile, std::size_t maxBytes)
{
    const Poco::URI uri = parseHttpsUrl(location);
    const std::string shown = displayLocation(location);
    const auto deadline = std::chrono::steady_clock::now() + kDownloadDeadline;
    certificateProblem.clear();
    try {
        Poco::Net::HTTPSClientSession session(uri.getHost(), uri.getPort(), clientContext(caFile, uri.getHost()));
        session.setTimeout(timespan(kConnectTimeout), timespan(kIoTimeout), timespan(kIoTimeout));
        Poco::Net::HTTPRequest request(Poco::Net::HTTPRequest::HTTP_GET, uri.getPathEtc(),
                                       Poco::Net::HTTPMessage::HTTP_1_1);
        request.set("User-Agent", "Plexus");
        session.sendRequest(request);
        Poco::Net::HTTPResponse response;
        std::istream& body = session.receiveResponse(response);
        if (response.getStatus() != Poco::Net::HTTPResponse::HTTP_OK)
            throw WhitelistError(shown + ": HTTP " + std::to_string(response.getStatus()) + " " + response.getReason());
        const auto announced = response.hasContentLength() ? response.getContentLength64() : -1;
        if (announced > static_cast<Poco::Int64>(maxBytes))
            throw WhitelistError(shown + ": " + std::to_string(announced) + " bytes, more than the limit of " +
                                 std::to_string(maxBytes));
        std::string document;
        std::array<char, 64 * 1024> buffer{};
        while (body.read(buffer.data(), buffer.size()) || body.gcount() > 0) {
            document.append(buffer.data(), static_cast<std::size_t>(body.gcount()));
            if (document.size() > maxBytes)
                throw WhitelistError(shown + ": more than the limit of " + std::to_string(maxBytes) + " bytes");
            if (std::chrono::steady_clock::now() > deadline)
                throw WhitelistError(shown + ": download not finished after " +
                                     std::to_string(kDownloadDeadline.count()) + " s");
        }
        if (body.bad())
            throw WhitelistError(shown + ": the connection failed or timed out after " +
                                 std::to_string(document.size()) + " bytes");
        if (announced >= 0 && document.size() != static_cast<std::size_t>(announced))
            throw WhitelistError(shown + ": the download was cut short (" + std::to_string(document.size()) + " of " +
                                 std::to_string(announced) + " bytes)");
        return document;
    } catch (const Poco::Exception& e) {
        throw WhitelistError(shown + ": " + e.displayText() +
                             (certificateProblem.empty() ? "" : ": " + certificateProblem));
    }
}

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

bool isUrl(std::string_view location) { return location.find("://") != std::string_view::npos; }

void checkHttpsUrl(const std::string& location) { parseHttpsUrl(location); }

std::string displayLocation(const std::string& location)
{
    if (!isUrl(location)) return location;
    try {
        const Poco::URI uri(location);
        Poco::URI shown;
        shown.setScheme(uri.getScheme());
        shown.setHost(uri.getHost());
        shown.setPort(uri.getPort());
        shown.setPath(uri.getPath());
        return shown.toString();
    } catch (const Poco::Exception&) {
        return "(a URL that does not parse)";
    }
}

std::string fetchDocument(const std::string& location, const std::string& caFile, std::size_t maxBytes)
{
    if (isUrl(location)) return download(location, caFile, maxBytes);
    try {
        return readFile(location, maxBytes);
    } catch (const FileError& e) {
        throw WhitelistError(e.what());
    }
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
    wake_.notify_all();  // the interval may have changed
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

void WhitelistSource::startSchedule()
{
    std::lock_guard lock(mutex_);
    if (schedule_.joinable()) return;
    stopping_ = false;
    schedule_ = std::thread([this] { runSchedule(); });
}

void WhitelistSource::stopSchedule()
{
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_all();
    if (schedule_.joinable()) schedule_.join();
}

void WhitelistSource::runSchedule()
{
    std::unique_lock lock(mutex_);
    // The first refresh is due when the list in use is one interval old.
    auto lastAttempt = obtainedAt_;
    while (!stopping_) {
        const auto interval = settings_.refreshInterval;
        const bool scheduled = interval.count() > 0 && hasSeparateSource(settings_);
        const auto now = system_clock::now();
        if (scheduled && now >= lastAttempt + interval) {
            lastAttempt = now;
            lock.unlock();
            refreshNow();
            lock.lock();
            continue;
        }
        const auto nextAgeUpdate = now + kAgeUpdatePeriod;
        wake_.wait_until(lock, scheduled ? std::min(lastAttempt + interval, nextAgeUpdate) : nextAgeUpdate);
        lock.unlock();
        updateAge();
        lock.lock();
    }
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
