#include "SyslogTransports.h"

#include "SyslogTlsTransport.h"
#include "SyslogUdpTransport.h"

#include <Poco/NumberParser.h>
#include <Poco/String.h>

#include <stdexcept>

namespace plexus::atna {

namespace {

std::string required(const ConfigLookup& config, const std::string& key)
{
    const auto value = config(key);
    if (!value || Poco::trim(*value).empty()) throw std::invalid_argument(key + " is required");
    return Poco::trim(*value);
}

std::int64_t integer(const ConfigLookup& config, const std::string& key, std::int64_t fallback, std::int64_t min,
                     std::int64_t max)
{
    const auto value = config(key);
    if (!value) return fallback;
    std::int64_t parsed = 0;
    if (!Poco::NumberParser::tryParse64(Poco::trim(*value), parsed) || parsed < min || parsed > max)
        throw std::invalid_argument(key + " must be a number from " + std::to_string(min) + " to " +
                                    std::to_string(max) + ", not \"" + *value + "\"");
    return parsed;
}

SyslogOrigin origin(const ConfigLookup& config)
{
    return {static_cast<int>(integer(config, "syslog_facility", 10, 0, 23)), config("syslog_app_name").value_or("plexus"),
            ""};
}

}  // namespace

std::unique_ptr<AuditTransport> makeSyslogTransport(const std::string& name, const ConfigLookup& config)
{
    if (name == "tls") {
        SyslogTlsSettings settings;
        settings.host = required(config, "tls_host");
        settings.port = static_cast<std::uint16_t>(integer(config, "tls_port", 6514, 1, 65535));
        settings.caFile = required(config, "tls_ca_file");
        settings.certificateFile = required(config, "tls_cert_file");
        settings.keyFile = required(config, "tls_key_file");
        settings.serverName = config("tls_server_name").value_or("");
        settings.timeout = std::chrono::milliseconds(integer(config, "tls_timeout_ms", 5000, 100, 600000));
        settings.origin = origin(config);
        return std::make_unique<SyslogTlsTransport>(std::move(settings));
    }
    if (name == "udp") {
        SyslogUdpSettings settings;
        settings.host = required(config, "udp_host");
        settings.port = static_cast<std::uint16_t>(integer(config, "udp_port", 514, 1, 65535));
        settings.maxMessageSize = static_cast<std::size_t>(integer(config, "udp_max_message_bytes", 2048, 480, 65507));
        settings.origin = origin(config);
        return std::make_unique<SyslogUdpTransport>(std::move(settings));
    }
    throw std::invalid_argument("no syslog transport named " + name);
}

}  // namespace plexus::atna
