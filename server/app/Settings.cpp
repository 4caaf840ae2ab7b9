#include "app/Settings.h"

#include "trust/Fetch.h"

#include <Poco/AutoPtr.h>
#include <Poco/Exception.h>
#include <Poco/String.h>
#include <Poco/StringTokenizer.h>
#include <Poco/Util/IniFileConfiguration.h>

#include <filesystem>
#include <limits>

namespace plexus::app {

namespace {

using Config = Poco::Util::AbstractConfiguration;

unsigned short port(const Config& config, const std::string& key, unsigned short fallback)
{
    const int value = config.getInt(key, fallback);
    if (value < 0 || value > 65535) throw ConfigError(key + " must be a port number, not " + std::to_string(value));
    return static_cast<unsigned short>(value);
}

std::string required(const Config& config, const std::string& key)
{
    const std::string value = Poco::trim(config.getString(key, ""));
    if (value.empty()) throw ConfigError("missing setting " + key);
    return value;
}

template <typename T>
T positive(const Config& config, const std::string& key, T fallback)
{
    const auto value = static_cast<T>(config.getInt64(key, static_cast<Poco::Int64>(fallback)));
    if (value <= 0) throw ConfigError(key + " must be positive");
    return value;
}

// A count where 0 turns the limit off.
unsigned limitOrOff(const Config& config, const std::string& key, unsigned fallback)
{
    const auto value = config.getInt64(key, fallback);
    if (value < 0 || value > std::numeric_limits<unsigned>::max())
        throw ConfigError(key + " must be a whole number, 0 for no limit");
    return static_cast<unsigned>(value);
}

trust::CrlRefreshSettings crlRefreshSettings(const Config& config, const net::TlsFiles& tls)
{
    trust::CrlRefreshSettings crls;
    crls.sources = trust::splitCrlSources(config.getString("tls.crl_sources", ""));
    crls.crlFile = tls.crl;
    crls.trustAnchors = tls.trustAnchors;
    crls.caFile = Poco::trim(config.getString("tls.crl_sources_ca", ""));
    if (!crls.sources.empty() && crls.crlFile.empty())
        throw ConfigError("tls.crl_sources needs tls.crl, the file the fetched CRLs are kept in");
    for (const auto& source : crls.sources) {
        try {
            if (trust::isUrl(source)) trust::checkHttpsUrl(source);
        } catch (const trust::FetchError& e) {
            throw ConfigError(std::string("tls.crl_sources: ") + e.what());
        }
    }
    const auto minutes = config.getInt64("tls.crl_refresh_minutes", 60);
    const auto seconds = config.getInt64("tls.crl_refresh_seconds", minutes * 60);  // for tests
    if (minutes < 0 || seconds < 0)
        throw ConfigError("tls.crl_refresh_minutes must not be negative (0: refresh at start and on SIGHUP only)");
    crls.refreshInterval = std::chrono::seconds(seconds);
    return crls;
}

}  // namespace

Settings loadSettings(const std::string& path)
{
    if (!std::filesystem::exists(path)) throw ConfigError("configuration file " + path + " does not exist");
    Poco::AutoPtr<Poco::Util::IniFileConfiguration> config;
    try {
        config = new Poco::Util::IniFileConfiguration(path);
    } catch (const Poco::Exception& e) {
        throw ConfigError("cannot read " + path + ": " + e.displayText());
    }
    try {
        Settings s;
        s.configPath = path;
        s.dataDir = required(*config, "server.data_dir");
        s.hostname = required(*config, "server.hostname");
        Poco::StringTokenizer domains(required(*config, "server.domains"), ", ",
                                      Poco::StringTokenizer::TOK_IGNORE_EMPTY | Poco::StringTokenizer::TOK_TRIM);
        for (const auto& domain : domains) s.smtp.localDomains.insert(Poco::toLower(domain));
        s.primaryDomain = Poco::toLower(domains[0]);
        s.smtp.hostname = s.hostname;

        s.ports.address = config->getString("listen.address", s.ports.address);
        s.ports.mx = port(*config, "listen.mx", s.ports.mx);
        s.ports.submission = port(*config, "listen.submission", s.ports.submission);
        s.ports.submissions = port(*config, "listen.submissions", s.ports.submissions);
        s.ports.imap = port(*config, "listen.imap", s.ports.imap);
        s.ports.imaps = port(*config, "listen.imaps", s.ports.imaps);
        s.ports.http = port(*config, "listen.http", s.ports.http);

        s.tls.certificate = required(*config, "tls.certificate");
        s.tls.privateKey = required(*config, "tls.key");
        s.tls.trustAnchors = required(*config, "tls.trust_anchors");
        s.tls.crl = Poco::trim(config->getString("tls.crl", ""));
        s.crls = crlRefreshSettings(*config, s.tls);
        s.whitelist.localCopy = required(*config, "trust.whitelist");
        s.whitelist.source = Poco::trim(config->getString("trust.whitelist_source", ""));
        s.whitelist.checksum = Poco::trim(config->getString("trust.whitelist_checksum", ""));
        s.whitelist.caFile = Poco::trim(config->getString("trust.whitelist_ca", ""));
        const auto refreshMinutes =
            config->getInt64("trust.whitelist_refresh_minutes", s.whitelist.refreshInterval.count());
        if (refreshMinutes < 0)
            throw ConfigError("trust.whitelist_refresh_minutes must not be negative (0: refresh on SIGHUP only)");
        s.whitelist.refreshInterval = std::chrono::minutes(refreshMinutes);

        s.databasePath = required(*config, "store.database");
        s.blobDir = required(*config, "store.blobs");
        s.atRestKeyPath = required(*config, "store.key");
        s.directory.database = Poco::trim(config->getString(
            "directory.database", (std::filesystem::path(s.databasePath).parent_path() / "directory.db").string()));
        s.directory.maxDeleteShare = config->getDouble("directory.max_delete_share", s.directory.maxDeleteShare);
        if (!(s.directory.maxDeleteShare >= 0 && s.directory.maxDeleteShare <= 1))
            throw ConfigError("directory.max_delete_share must be between 0 and 1");
        s.smtp.validateRemoteRecipients = config->getBool("directory.validate_remote_recipients", false);
        if (directory::hasLdapSource(*config)) {
            try {
                s.directory.ldap = directory::loadLdapSettings(*config);
            } catch (const std::invalid_argument& e) {
                throw ConfigError("in " + path + ": " + e.what());
            } catch (const directory::MappingError& e) {
                throw ConfigError("in " + path + ": " + e.what());
            }
        }
        s.defaultQuotaBytes = positive<std::int64_t>(*config, "store.default_quota_mb", 1024) << 20;

        auto& limits = s.smtp.limits;
        limits.messageSize = positive<std::uint64_t>(*config, "limits.message_size", limits.messageSize);
        limits.headerSize = positive<std::uint64_t>(*config, "limits.header_size", limits.headerSize);
        limits.recipients = positive<unsigned>(*config, "limits.recipients", limits.recipients);
        limits.dataLine = positive<std::size_t>(*config, "limits.line_length", limits.dataLine);
        limits.idleTimeout = std::chrono::seconds(positive<int>(*config, "limits.idle_timeout", 300));
        limits.sessionTime = std::chrono::seconds(positive<int>(*config, "limits.session_time", 1800));
        s.maxSessions = positive<int>(*config, "limits.max_sessions", s.maxSessions);
        limits.maxHops = positive<unsigned>(*config, "smtp.max_hops", limits.maxHops);
        auto& rates = s.smtp.senderRateLimits;
        rates.perHour = limitOrOff(*config, "relay.sender_rate_limit", rates.perHour);
        rates.appPerHour = limitOrOff(*config, "relay.app_sender_rate_limit", rates.appPerHour);

        s.imap.hostname = s.hostname;
        auto& imap = s.imap.limits;
        imap.messageSize = limits.messageSize;
        imap.headerSize = limits.headerSize;
        imap.reader.lineLength = positive<std::size_t>(*config, "limits.imap_line_length", imap.reader.lineLength);
        imap.idleTimeout = std::chrono::seconds(positive<int>(*config, "limits.imap_idle_timeout", 1800));
        imap.loginTimeout = std::chrono::seconds(positive<int>(*config, "limits.imap_login_timeout", 60));
        imap.maxIdleSessions = positive<std::size_t>(*config, "limits.imap_max_idle_sessions", imap.maxIdleSessions);

        s.auth.passwordsAllowed = config->getBool("auth.passwords", true);
        const std::string issuer = config->getString("auth.token_issuer", "");
        if (!issuer.empty()) {
            accounts::TokenPolicy token;
            token.issuer = issuer;
            token.audience = config->getString("auth.token_audience", "");
            token.publicKeyPemPath = required(*config, "auth.token_public_key");
            s.auth.token = token;
        }
        s.auth.throttle.maxFailuresPerIp = positive<unsigned>(*config, "auth.throttle_ip_failures", 20);
        s.auth.throttle.maxFailuresPerAccount = positive<unsigned>(*config, "auth.throttle_account_failures", 10);
        s.auth.throttle.window = std::chrono::seconds(positive<int>(*config, "auth.throttle_window", 300));
        s.auth.throttle.lockout = s.auth.throttle.window;
        s.plugins = plugins::loadPluginSettings(*config, s.dataDir);
        s.relay = queue::loadRelaySettings(*config);
        s.relayClient = relay::ClientSettings::fromConfig(*config);
        s.routes = relay::RouteTable::fromConfig(*config);
        return s;
    } catch (const Poco::SyntaxException& e) {
        throw ConfigError("in " + path + ": " + e.displayText());
    } catch (const plugins::PluginConfigError& e) {
        throw ConfigError("in " + path + ": " + e.what());
    } catch (const queue::RelayConfigError& e) {
        throw ConfigError("in " + path + ": " + e.what());
    } catch (const relay::RelayError& e) {
        throw ConfigError("in " + path + ": " + e.what());
    }
}

}  // namespace plexus::app
