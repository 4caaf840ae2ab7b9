#include "directory/LdapSettings.h"

#include <Poco/String.h>

#include <cstdint>
#include <stdexcept>

namespace plexus::directory {

namespace {

constexpr const char* kPrefix = "directory.ldap.";

std::string text(const Poco::Util::AbstractConfiguration& config, const std::string& key)
{
    return Poco::trim(config.getString(kPrefix + key, ""));
}

int positive(const Poco::Util::AbstractConfiguration& config, const std::string& key, int fallback, int max)
{
    const int value = config.getInt(kPrefix + key, fallback);
    if (value < 1 || value > max)
        throw std::invalid_argument(kPrefix + key + " must be between 1 and " + std::to_string(max));
    return value;
}

}  // namespace

bool hasLdapSource(const Poco::Util::AbstractConfiguration& config) { return !text(config, "uri").empty(); }

LdapSettings loadLdapSettings(const Poco::Util::AbstractConfiguration& config)
{
    LdapSettings s;
    s.name = text(config, "name").empty() ? s.name : text(config, "name");
    s.uri = text(config, "uri");
    if (!s.uri.starts_with("ldap://") && !s.uri.starts_with("ldaps://"))
        throw std::invalid_argument("directory.ldap.uri must be an ldap:// or ldaps:// URI, not \"" + s.uri + "\"");
    s.baseDn = text(config, "base");
    if (s.baseDn.empty()) throw std::invalid_argument("directory.ldap.base is missing");
    const auto scope = text(config, "scope");
    if (!scope.empty() && scope != "sub" && scope != "one")
        throw std::invalid_argument("directory.ldap.scope must be sub or one");
    s.oneLevel = scope == "one";
    if (const auto filter = text(config, "filter"); !filter.empty()) s.filter = filter;
    s.bindDn = text(config, "bind_dn");
    s.passwordFile = text(config, "password_file");
    s.saslExternal = config.getBool(std::string(kPrefix) + "sasl_external", false);
    s.certFile = text(config, "cert");
    s.keyFile = text(config, "key");
    s.caFile = text(config, "ca");
    if (s.saslExternal && (s.certFile.empty() || s.keyFile.empty()))
        throw std::invalid_argument("directory.ldap.sasl_external needs cert and key (the client certificate)");
    if (!s.bindDn.empty() && s.passwordFile.empty())
        throw std::invalid_argument("directory.ldap.bind_dn needs password_file");
    s.pageSize = positive(config, "page_size", s.pageSize, 100000);
    s.batchSize = positive(config, "batch_size", s.batchSize, 1000000);
    s.timeoutSeconds = positive(config, "timeout_seconds", s.timeoutSeconds, 3600);
    s.maxDeleteShare = config.getDouble(std::string(kPrefix) + "max_delete_share", s.maxDeleteShare);
    if (!(s.maxDeleteShare >= 0 && s.maxDeleteShare <= 1))
        throw std::invalid_argument("directory.ldap.max_delete_share must be between 0 and 1");

    const auto mode = text(config, "mode");
    if (!mode.empty() && mode != "refreshOnly" && mode != "refreshAndPersist")
        throw std::invalid_argument("directory.ldap.mode must be refreshOnly or refreshAndPersist");
    s.mode = mode == "refreshAndPersist" ? SyncMode::RefreshAndPersist : SyncMode::RefreshOnly;
    const double minutes = config.getDouble(std::string(kPrefix) + "sync_interval_minutes", 60);
    if (!(minutes >= 0.01 && minutes <= 7 * 24 * 60))
        throw std::invalid_argument("directory.ldap.sync_interval_minutes must be between 0.01 and 10080");
    s.syncInterval = std::chrono::milliseconds(static_cast<std::int64_t>(minutes * 60000));

    std::map<std::string, std::string> fields;
    Poco::Util::AbstractConfiguration::Keys keys;
    config.keys(std::string(kPrefix) + "map", keys);
    for (const auto& field : keys) fields[field] = config.getString(std::string(kPrefix) + "map." + field, "");
    s.mapping = LdapMapping::fromFields(fields);
    return s;
}

}  // namespace plexus::directory
