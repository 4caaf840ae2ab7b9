// whitelist, trust, route and cert show: the trust space as the operator keeps it.
// Changes go to the files plexusd reads (plexus.conf, the CA bundle, the CRL
// file, the whitelist's local copy), written atomically; plexusd takes them on
// SIGHUP. Every change is audited.
#include "cli/Commands.h"

#include "cli/ConfigFile.h"
#include "trust/CrlRefresh.h"
#include "trust/DevPki.h"
#include "trust/TrustAnchors.h"
#include "trust/WhitelistSource.h"

#include <Poco/AutoPtr.h>
#include <Poco/DateTimeFormatter.h>
#include <Poco/Net/IPAddress.h>
#include <Poco/NumberParser.h>
#include <Poco/String.h>
#include <Poco/Timestamp.h>
#include <Poco/Util/IniFileConfiguration.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <iomanip>
#include <iostream>
#include <map>

namespace plexus::cli {

namespace {

namespace fs = std::filesystem;

constexpr const char* kTrustSection = "trust";
constexpr const char* kTlsSection = "tls";
constexpr const char* kRoutesSection = "routes";
constexpr const char* kReloadHint = "plexusd takes it on SIGHUP (systemctl reload plexus, or kill -HUP its pid)";

std::string utcText(trust::TimePoint time)
{
    return Poco::DateTimeFormatter::format(
               Poco::Timestamp::fromEpochTime(std::chrono::system_clock::to_time_t(time)), "%Y-%m-%d %H:%M:%S") +
           " UTC";
}

std::string durationText(std::chrono::seconds age)
{
    const auto seconds = age.count();
    if (seconds < 120) return std::to_string(seconds) + " s";
    if (seconds < 7200) return std::to_string(seconds / 60) + " min";
    if (seconds < 2 * 86400) return std::to_string(seconds / 3600) + " h " + std::to_string(seconds / 60 % 60) + " min";
    return std::to_string(seconds / 86400) + " d " + std::to_string(seconds / 3600 % 24) + " h";
}

void printRow(const std::string& label, const std::string& value)
{
    std::cout << std::left << std::setw(12) << label << value << '\n';
}

// A path as plexus.conf must hold it: absolute, on one line.
std::string configPathValue(const std::string& path)
{
    if (std::ranges::any_of(path, [](char c) { return c == '\n' || c == '\r'; }))
        throw UsageError("the path contains a line break");
    return fs::absolute(path).lexically_normal().string();
}

// --- whitelist -------------------------------------------------------------

int showWhitelist(const app::Settings& settings)
{
    const auto& config = settings.whitelist;
    const auto list = trust::Whitelist::loadFile(config.localCopy);
    const auto written = std::chrono::time_point_cast<std::chrono::system_clock::duration>(
        std::chrono::file_clock::to_sys(fs::last_write_time(config.localCopy)));
    const auto age = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now() - written);
    printRow("local copy", config.localCopy + " (written " + utcText(written) + ", " + durationText(age) + " ago)");
    printRow("source", config.source.empty() ? "none: the local copy is the list" : trust::displayLocation(config.source));
    printRow("checksum", config.checksum.empty() ? "none" : trust::displayLocation(config.checksum));
    if (!config.source.empty()) {
        printRow("https CAs", config.caFile.empty() ? "the system CAs" : config.caFile);
        printRow("refresh", config.refreshInterval.count() == 0
                                ? "on SIGHUP only"
                                : "every " + std::to_string(config.refreshInterval.count()) + " min, and on SIGHUP");
    }
    printRow("generated", list.generatedAt().empty() ? "(no DateDeGeneration)" : list.generatedAt());
    printRow("domains", std::to_string(list.domainCount()) + " (" + std::to_string(list.entryCount()) + " entries)");
    return 0;
}

int checkWhitelist(const app::Settings& settings, const std::string& domain)
{
    const auto list = trust::Whitelist::loadFile(settings.whitelist.localCopy);
    const auto operators = list.operatorDns(domain);
    if (operators.empty()) {
        std::cout << domain << " is not in the trust-space whitelist (" << settings.whitelist.localCopy << ")\n";
        return 1;
    }
    std::cout << domain << " is in the trust-space whitelist; operator certificates:\n";
    for (const auto& dn : operators) std::cout << "  " << dn << '\n';
    return 0;
}

int refreshWhitelist(const app::Settings& settings, bool force)
{
    trust::WhitelistSource source(settings.whitelist);
    const auto result = source.refreshNow(force);
    auditChange(settings, "admin.whitelist.refreshed", result.source, result.ok ? "success" : result.error);
    if (!result.ok) {
        std::cerr << "plexusctl: whitelist refresh from " << result.source << " failed; " << settings.whitelist.localCopy
                  << " (" << result.domains << " domains) is kept: " << result.error << '\n';
        return 1;
    }
    if (result.source == settings.whitelist.localCopy) {
        std::cout << "no whitelist_source: " << result.source << " is the list, and it is valid (" << result.domains
                  << " domains)\n"
                  << kReloadHint << '\n';
        return 0;
    }
    std::cout << "whitelist refreshed from " << result.source << ": " << result.domains << " domains, written to "
              << settings.whitelist.localCopy << '\n'
              << kReloadHint;
    if (settings.whitelist.refreshInterval.count() > 0)
        std::cout << ", or at its next scheduled refresh (every " << settings.whitelist.refreshInterval.count()
                  << " min)";
    std::cout << '\n';
    return 0;
}

// Checked now rather than at plexusd's next refresh: a URL's syntax, a file's content.
std::string checkedLocation(const std::string& location, const std::function<void(const std::string&)>& checkFile)
{
    if (trust::isUrl(location)) {
        trust::checkHttpsUrl(location);
        if (std::ranges::any_of(location, [](char c) { return c == '\n' || c == '\r'; }))
            throw UsageError("the URL contains a line break");
        return location;
    }
    const std::string path = configPathValue(location);
    checkFile(path);
    return path;
}

int setWhitelistSource(const app::Settings& settings, const Arguments& args)
{
    const std::string requested = args.word(2, "FILE_OR_URL (or none)");
    const auto checksum = args.option("checksum");
    if (checksum && args.flag("no-checksum")) throw UsageError("--checksum and --no-checksum exclude each other");
    auto config = ConfigFile::load(settings.configPath);
    std::string shown = "none: " + settings.whitelist.localCopy + " alone";
    if (requested == "none") {
        if (checksum || args.option("ca")) throw UsageError("none takes neither --checksum nor --ca");
        config.setValue(kTrustSection, "whitelist_source", "");
        config.setValue(kTrustSection, "whitelist_checksum", "");
    } else {
        const auto source = checkedLocation(requested, [](const std::string& path) { trust::Whitelist::loadFile(path); });
        config.setValue(kTrustSection, "whitelist_source", source);
        shown = trust::displayLocation(source);
        if (checksum) {
            const auto location = checkedLocation(*checksum, [](const std::string& path) {
                trust::checksumDigest(trust::fetchDocument(path, "", trust::kMaxChecksumBytes));
            });
            config.setValue(kTrustSection, "whitelist_checksum", location);
        }
        if (args.flag("no-checksum")) config.setValue(kTrustSection, "whitelist_checksum", "");
        if (const auto ca = args.option("ca")) {
            const auto path = configPathValue(*ca);
            trust::readCertificateFile(path);
            config.setValue(kTrustSection, "whitelist_ca", path);
        }
    }
    config.save();
    auditChange(settings, "admin.whitelist.source_set", shown);
    const auto kept = config.value(kTrustSection, "whitelist_checksum").value_or("");
    std::cout << "whitelist source: " << shown << "\nchecksum: " << (kept.empty() ? "none" : trust::displayLocation(kept))
              << "\nplexusctl whitelist refresh downloads and checks it now; " << kReloadHint << '\n';
    return 0;
}

// --- trust anchors and CRLs ------------------------------------------------

void printCertificate(const trust::CertificateInfo& certificate)
{
    const bool valid = std::chrono::system_clock::now() <= certificate.notAfter;
    std::cout << certificate.subject << "\n  expires  " << utcText(certificate.notAfter)
              << (valid ? "" : "  EXPIRED") << "\n  sha256   " << certificate.sha256Fingerprint << '\n';
}

std::string subjectsOf(const std::vector<trust::CertificateInfo>& certificates)
{
    std::string text;
    for (const auto& certificate : certificates) text += (text.empty() ? "" : "; ") + certificate.subject;
    return text;
}

int addAnchor(const app::Settings& settings, const std::string& candidate)
{
    const auto addition = trust::addTrustAnchors(settings.tls.trustAnchors, candidate);
    auditChange(settings, "admin.trust.anchor_added", subjectsOf(addition.added));
    std::cout << "added to " << settings.tls.trustAnchors << ":\n";
    for (const auto& certificate : addition.added) printCertificate(certificate);
    for (const auto& certificate : addition.alreadyPresent)
        std::cout << "already a trust anchor: " << certificate.subject << '\n';
    for (const auto& warning : addition.warnings) std::cout << "warning: " << warning << '\n';
    std::cout << kReloadHint << ", which rebuilds the TLS contexts\n";
    return 0;
}

int listAnchors(const app::Settings& settings)
{
    std::cout << "trust anchors (" << settings.tls.trustAnchors << "):\n";
    for (const auto& certificate : trust::readCertificateFile(settings.tls.trustAnchors)) printCertificate(certificate);
    if (settings.tls.crl.empty()) {
        std::cout << "no CRL file (tls.crl): revocation is not checked\n";
        return 0;
    }
    std::cout << "CRLs (" << settings.tls.crl << "):\n";
    for (const auto& crl : trust::readRevocationListFile(settings.tls.crl)) {
        const bool expired = crl.nextUpdate && *crl.nextUpdate < std::chrono::system_clock::now();
        std::cout << crl.issuer << "\n  updated  " << utcText(crl.lastUpdate) << "\n  next     "
                  << (crl.nextUpdate ? utcText(*crl.nextUpdate) : "-") << (expired ? "  EXPIRED" : "")
                  << "\n  revoked  " << crl.revokedCount << '\n';
    }
    return 0;
}

// tls.crl, or where it goes (beside the CA bundle) when it is not set yet.
std::string crlFileOf(const app::Settings& settings)
{
    return settings.tls.crl.empty() ? (fs::path(settings.tls.trustAnchors).parent_path() / "crl.pem").string()
                                    : settings.tls.crl;
}

// Sets tls.crl in `config` when it is not set yet; the path it holds.
std::string configureCrlFile(const app::Settings& settings, ConfigFile& config)
{
    const std::string crlPath = crlFileOf(settings);
    if (settings.tls.crl.empty()) config.setValue(kTlsSection, "crl", configPathValue(crlPath));
    return crlPath;
}

void warnAnchorsWithoutCrl(const std::vector<std::string>& anchors)
{
    if (anchors.empty()) return;
    std::cout << "warning: plexusd checks revocation for every certificate of a chain once a CRL file is set; "
                 "certificates issued by these anchors will be refused until their CRL is added:\n";
    for (const auto& anchor : anchors) std::cout << "  " << anchor << '\n';
}

int addCrl(const app::Settings& settings, const std::string& candidate)
{
    const bool configured = !settings.tls.crl.empty();
    const std::string crlPath = crlFileOf(settings);
    const auto addition = trust::addRevocationLists(crlPath, candidate, settings.tls.trustAnchors);
    if (!configured) {
        auto config = ConfigFile::load(settings.configPath);
        configureCrlFile(settings, config);
        config.save();
    }
    std::string issuers;
    for (const auto& crl : addition.installed) {
        issuers += (issuers.empty() ? "" : "; ") + crl.issuer;
        std::cout << "installed the CRL of " << crl.issuer << " (updated " << utcText(crl.lastUpdate) << ", "
                  << crl.revokedCount << " revoked) in " << crlPath << '\n';
    }
    for (const auto& crl : addition.replaced)
        std::cout << "replaced its CRL of " << utcText(crl.lastUpdate) << '\n';
    for (const auto& crl : addition.unchanged)
        std::cout << "the CRL of " << crl.issuer << " in " << crlPath << " is that one already\n";
    auditChange(settings, "admin.trust.crl_added", issuers);
    warnAnchorsWithoutCrl(addition.anchorsWithoutCrl);
    if (!configured) std::cout << "tls.crl set to " << crlPath << " in " << settings.configPath << '\n';
    std::cout << kReloadHint << '\n';
    return 0;
}

// A CRL source as tls.crl_sources holds it: an https:// URL or an absolute path
// to a file holding a CRL; commas separate the sources.
std::string checkedCrlSource(const std::string& requested)
{
    if (requested.find(',') != std::string::npos)
        throw UsageError("a CRL source cannot contain a comma (tls.crl_sources separates them with commas)");
    return checkedLocation(requested, [](const std::string& path) { trust::readRevocationListFile(path); });
}

int addCrlSource(const app::Settings& settings, const Arguments& args)
{
    const auto source = checkedCrlSource(args.word(4, "FILE_OR_URL"));
    auto sources = settings.crls.sources;
    if (std::ranges::find(sources, source) != sources.end())
        throw std::runtime_error(trust::displayLocation(source) + " is a CRL source already");
    sources.push_back(source);
    auto config = ConfigFile::load(settings.configPath);
    const auto crlPath = configureCrlFile(settings, config);
    config.setValue(kTlsSection, "crl_sources", trust::joinCrlSources(sources));
    if (const auto ca = args.option("ca")) {
        const auto path = configPathValue(*ca);
        trust::readCertificateFile(path);
        config.setValue(kTlsSection, "crl_sources_ca", path);
    }
    config.save();
    auditChange(settings, "admin.trust.crl_source_added", trust::displayLocation(source));
    std::cout << "CRL source added: " << trust::displayLocation(source) << "\nits CRLs are kept in " << crlPath
              << "\nplexusctl trust crl refresh fetches them now; " << kReloadHint << '\n';
    return 0;
}

int removeCrlSource(const app::Settings& settings, const std::string& requested)
{
    const std::string source = trust::isUrl(requested) ? requested : configPathValue(requested);
    auto sources = settings.crls.sources;
    if (std::erase(sources, source) == 0)
        throw std::runtime_error(trust::displayLocation(source) + " is not a CRL source of " + settings.configPath +
                                 " (plexusctl trust crl source list shows them)");
    auto config = ConfigFile::load(settings.configPath);
    config.setValue(kTlsSection, "crl_sources", trust::joinCrlSources(sources));
    config.save();
    auditChange(settings, "admin.trust.crl_source_removed", trust::displayLocation(source));
    std::cout << "CRL source removed: " << trust::displayLocation(source)
              << "\nthe CRLs it gave stay in " << crlFileOf(settings) << "; " << kReloadHint << '\n';
    return 0;
}

int listCrlSources(const app::Settings& settings)
{
    const auto& crls = settings.crls;
    if (crls.sources.empty()) {
        std::cout << "no CRL sources (tls.crl_sources): CRLs change by plexusctl trust crl add only\n";
        return 0;
    }
    for (const auto& source : crls.sources) printRow("source", trust::displayLocation(source));
    printRow("kept in", crls.crlFile);
    printRow("https CAs", crls.caFile.empty() ? "the system CAs" : crls.caFile);
    printRow("refresh", crls.refreshInterval.count() == 0
                            ? "at start and on SIGHUP only"
                            : "every " + durationText(crls.refreshInterval) + ", at start and on SIGHUP");
    return 0;
}

int refreshCrls(const app::Settings& settings)
{
    if (settings.crls.sources.empty())
        throw std::runtime_error("no CRL sources (tls.crl_sources): plexusctl trust crl source add adds one");
    const auto result = trust::refreshRevocationLists(settings.crls);
    for (const auto& outcome : result.sources) {
        auditChange(settings, "admin.trust.crl_refreshed", outcome.source, outcome.ok ? "success" : outcome.error);
        if (!outcome.ok) {
            std::cerr << "plexusctl: " << outcome.source << " failed, the CRLs held are kept: " << outcome.error
                      << '\n';
            continue;
        }
        for (const auto& crl : outcome.addition.installed)
            std::cout << outcome.source << ": installed the CRL of " << crl.issuer << " (updated "
                      << utcText(crl.lastUpdate) << ", " << crl.revokedCount << " revoked)\n";
        for (const auto& crl : outcome.addition.unchanged)
            std::cout << outcome.source << ": the CRL of " << crl.issuer << " is unchanged\n";
    }
    for (const auto& crl : result.expired)
        std::cout << "warning: the CRL of " << crl.issuer << " is past its nextUpdate (" << utcText(*crl.nextUpdate)
                  << "): certificates of that CA are refused\n";
    std::cout << (result.changed() ? "CRLs changed in " + settings.crls.crlFile + "; " + kReloadHint +
                                         ", or at its next scheduled refresh"
                                   : "no change")
              << '\n';
    return result.failures() == 0 ? 0 : 1;
}

int runCrlCommand(const app::Settings& settings, const Arguments& args)
{
    const std::string action = args.word(2, "crl action (add, source, refresh)");
    if (action == "source") {
        const std::string sourceAction = args.word(3, "crl source action (add, remove, list)");
        args.allowOnly(sourceAction == "add" ? std::set<std::string>{"config", "ca"} : std::set<std::string>{"config"});
        if (sourceAction == "add") return addCrlSource(settings, args);
        if (sourceAction == "remove") return removeCrlSource(settings, args.word(4, "FILE_OR_URL"));
        if (sourceAction == "list") return listCrlSources(settings);
        throw UsageError("unknown trust crl source action " + sourceAction);
    }
    args.allowOnly({"config"});
    if (action == "add") return addCrl(settings, args.word(3, "FILE"));
    if (action == "refresh") return refreshCrls(settings);
    throw UsageError("unknown trust crl action " + action);
}

// --- routes ------------------------------------------------------------------

bool isHostName(std::string_view name)
{
    if (name.empty() || name.size() > 253) return false;
    for (std::size_t start = 0; start <= name.size();) {
        const auto end = std::min(name.find('.', start), name.size());
        const auto label = name.substr(start, end - start);
        const auto allowed = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '-'; };
        if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-' ||
            !std::ranges::all_of(label, allowed))
            return false;
        start = end + 1;
    }
    return true;
}

std::string routeDomain(const app::Settings& settings, const std::string& word)
{
    const std::string domain = Poco::toLower(word);
    if (!isHostName(domain)) throw UsageError(word + " is not a domain name");
    if (settings.smtp.localDomains.contains(domain))
        throw UsageError(domain + " is served by this instance (server.domains): it takes no route");
    return domain;
}

// HOST:PORT with HOST a name, an IPv4 address or a bracketed IPv6 address.
std::string routeTarget(const std::string& target)
{
    const auto colon = target.rfind(':');
    const auto bad = [&target](const std::string& why) { return UsageError(target + " is not HOST:PORT: " + why); };
    if (colon == std::string::npos) throw bad("no port");
    const std::string host = target.substr(0, colon);
    unsigned port = 0;
    if (!Poco::NumberParser::tryParseUnsigned(target.substr(colon + 1), port) || port == 0 || port > 65535)
        throw bad("the port must be a number from 1 to 65535");
    Poco::Net::IPAddress address;
    const bool bracketed = host.size() > 2 && host.front() == '[' && host.back() == ']';
    if (bracketed ? !(Poco::Net::IPAddress::tryParse(host.substr(1, host.size() - 2), address) &&
                      address.family() == Poco::Net::IPAddress::IPv6)
                  : host.find(':') != std::string::npos ||
                        !(isHostName(host) || Poco::Net::IPAddress::tryParse(host, address)))
        throw bad("the host must be a name, an IPv4 address or an IPv6 address in brackets");
    return Poco::toLower(host) + ":" + std::to_string(port);
}

// DOMAIN = HOST:PORT lines of [routes]. Poco splits keys at dots, and domain
// names have dots: the keys under "routes" are walked as a tree.
std::map<std::string, std::string> readRoutes(const std::string& configPath)
{
    Poco::AutoPtr<Poco::Util::IniFileConfiguration> config(new Poco::Util::IniFileConfiguration(configPath));
    std::map<std::string, std::string> routes;
    const std::string prefix = std::string(kRoutesSection) + ".";
    std::function<void(const std::string&)> walk = [&](const std::string& key) {
        if (key.starts_with(prefix) && config->hasProperty(key))
            routes[Poco::toLower(key.substr(prefix.size()))] = Poco::trim(config->getString(key));
        Poco::Util::AbstractConfiguration::Keys children;
        config->keys(key, children);
        for (const auto& child : children) walk(key + "." + child);
    };
    walk(kRoutesSection);
    return routes;
}

int setRoute(const app::Settings& settings, const std::string& domainWord, const std::string& targetWord)
{
    const auto domain = routeDomain(settings, domainWord);
    const auto target = routeTarget(targetWord);
    auto config = ConfigFile::load(settings.configPath);
    config.setValue(kRoutesSection, domain, target);
    config.save();
    auditChange(settings, "admin.route.set", domain + " " + target);
    std::cout << "route: mail for " << domain << " goes to " << target << "\n" << kReloadHint << '\n';
    return 0;
}

int removeRoute(const app::Settings& settings, const std::string& domainWord)
{
    const std::string domain = Poco::toLower(domainWord);
    auto routes = readRoutes(settings.configPath);
    if (routes.erase(domain) == 0)
        throw std::runtime_error("no route for " + domain + " in " + settings.configPath +
                                 " (plexusctl route list shows them)");
    // ConfigFile removes sections, not single keys: the section is written again without the route.
    auto config = ConfigFile::load(settings.configPath);
    config.removeSection(kRoutesSection);
    if (!routes.empty()) {
        std::vector<std::string> lines;
        for (const auto& [routed, target] : routes) lines.push_back(routed + " = " + target);
        config.appendSection(kRoutesSection, lines);
    }
    config.save();
    auditChange(settings, "admin.route.removed", domain);
    std::cout << "route for " << domain << " removed: its MX records apply again\n" << kReloadHint << '\n';
    return 0;
}

int listRoutes(const app::Settings& settings)
{
    const auto routes = readRoutes(settings.configPath);
    if (routes.empty()) {
        std::cout << "no static routes: mail goes to each domain's MX\n";
        return 0;
    }
    std::size_t width = 8;
    for (const auto& [domain, target] : routes) width = std::max(width, domain.size() + 2);
    std::cout << std::left << std::setw(static_cast<int>(width)) << "DOMAIN" << "HOST:PORT\n";
    for (const auto& [domain, target] : routes) std::cout << std::setw(static_cast<int>(width)) << domain << target << '\n';
    return 0;
}

}  // namespace

int runWhitelistCommand(const app::Settings& settings, const Arguments& args)
{
    const std::string action = args.word(1, "whitelist action (show, check, refresh, source)");
    if (action == "source") {
        args.allowOnly({"config", "checksum", "no-checksum", "ca"});
        return setWhitelistSource(settings, args);
    }
    if (action == "refresh") {
        args.allowOnly({"config", "force"});
        return refreshWhitelist(settings, args.flag("force"));
    }
    args.allowOnly({"config"});
    if (action == "show") return showWhitelist(settings);
    if (action == "check") return checkWhitelist(settings, args.word(2, "DOMAIN"));
    throw UsageError("unknown whitelist action " + action);
}

int runTrustCommand(const app::Settings& settings, const Arguments& args)
{
    const std::string action = args.word(1, "trust action (add, list, crl)");
    if (action == "crl") return runCrlCommand(settings, args);
    args.allowOnly({"config"});
    if (action == "add") return addAnchor(settings, args.word(2, "CA.pem"));
    if (action == "list") return listAnchors(settings);
    throw UsageError("unknown trust action " + action);
}

int runRouteCommand(const app::Settings& settings, const Arguments& args)
{
    args.allowOnly({"config"});
    const std::string action = args.word(1, "route action (set, remove, list)");
    if (action == "set") return setRoute(settings, args.word(2, "DOMAIN"), args.word(3, "HOST:PORT"));
    if (action == "remove") return removeRoute(settings, args.word(2, "DOMAIN"));
    if (action == "list") return listRoutes(settings);
    throw UsageError("unknown route action " + action);
}

int runCertShow(const app::Settings& settings, const Arguments& args)
{
    args.allowOnly({"config"});
    const auto certificate = trust::readCertificateFile(settings.tls.certificate).front();
    printRow("subject", certificate.subject);
    printRow("issuer", certificate.issuer);
    printRow("valid", utcText(certificate.notBefore) + " to " + utcText(certificate.notAfter));
    printRow("sha256", certificate.sha256Fingerprint);
    // What a peer operator will check: our DN listed for our domains.
    const auto list = trust::Whitelist::loadFile(settings.whitelist.localCopy);
    const auto subject = trust::subjectOfCertificateFile(settings.tls.certificate);
    for (const auto& domain : settings.smtp.localDomains)
        printRow("whitelist", domain + (list.allows(domain, subject) ? ": lists this certificate"
                                                                       : ": does NOT list this certificate"));
    return 0;
}

}  // namespace plexus::cli
