#include "directory/LdapSettings.h"

#include <Poco/String.h>

#include <cstdint>
#include <stdexcept>

namespace plexus::directory {

namespace {

std::string trimmedValue(const Poco::Util::AbstractConfiguration& config, const std::string& key)
{
    return Poco::trim(config.getString(key, ""));
}

}  // namespace

bool hasLdapSource(const Poco::Util::AbstractConfiguration& config, const std::string& section)
{
    return !trimmedValue(config, section + ".uri").empty();
}

LdapSettings loadLdapSettings(const Poco::Util::AbstractConfiguration& config, const std::string& section)
{
    const std::string prefix = section + ".";
    const auto text = [&](const std::string& key) { return trimmedValue(config, prefix + key); };
    const auto positive = [&](const std::string& key, int fallback, int max) {
        const int value = config.getInt(prefix + key, fallback);
        if (value < 1 || value > max)
            throw std::invalid_argument(prefix + key + " must be between 1 and " + std::to_string(max));
        return value;
    };
    LdapSettings s;
    s.name = text("name").empty() ? s.name : text("name");
    s.uri = text("uri");
    if (!s.uri.starts_with("ldap://") && !s.uri.starts_with("ldaps://"))
        throw std::invalid_argument(prefix + "uri must be an ldap:// or ldaps:// URI, not \"" + s.uri + "\"");
    s.baseDn = text("base");
    if (s.baseDn.empty()) throw std::invalid_argument(prefix + "base is missing");
    const auto scope = text("scope");
    if (!scope.empty() && scope != "sub" && scope != "one")
        throw std::invalid_argument(prefix + "scope must be sub or one");
    s.oneLevel = scope == "one";
    if (const auto filter = text("filter"); !filter.empty()) s.filter = filter;
    s.bindDn = text("bind_dn");
    s.passwordFile = text("password_file");
    s.saslExternal = config.getBool(prefix + "sasl_external", false);
    s.certFile = text("cert");
    s.keyFile = text("key");
    s.caFile = text("ca");
    if (s.saslExternal && (s.certFile.empty() || s.keyFile.empty()))
        throw std::invalid_argument(prefix + "sasl_external needs cert and key (the client certificate)");
    if (!s.bindDn.empty() && s.passwordFile.empty())
        throw std::invalid_argument(prefix + "bind_dn needs password_file");
    s.pageSize = positive("page_size", s.pageSize, 100000);
    s.batchSize = positive("batch_size", s.batchSize, 1000000);
    s.timeoutSeconds = positive("timeout_seconds", s.timeoutSeconds, 3600);
    s.maxDeleteShare = config.getDouble(prefix + "max_delete_share", s.maxDeleteShare);
    if (!(s.maxDeleteShare >= 0 && s.maxDeleteShare <= 1))
        throw std::invalid_argument(prefix + "max_delete_share must be between 0 and 1");

    const auto mode = text("mode");
    if (!mode.empty() && mode != "refreshOnly" && mode != "refreshAndPersist")
        throw std::invalid_argument(prefix + "mode must be refreshOnly or refreshAndPersist");
    s.mode = mode == "refreshAndPersist" ? SyncMode::RefreshAndPersist : SyncMode::RefreshOnly;
    const double minutes = config.getDouble(prefix + "sync_interval_minutes", 60);
    if (!(minutes >= 0.01 && minutes <= 7 * 24 * 60))
        throw std::invalid_argument(prefix + "sync_interval_minutes must be between 0.01 and 10080");
    s.syncInterval = std::chrono::milliseconds(static_cast<std::int64_t>(minutes * 60000));

    std::map<std::string, std::string> fields;
    Poco::Util::AbstractConfiguration::Keys keys;
    config.keys(prefix + "map", keys);
    for (const auto& field : keys) fields[field] = config.getString(prefix + "map." + field, "");
    s.mapping = LdapMapping::fromFields(fields);
    return s;
}

}  // namespace plexus::directory
