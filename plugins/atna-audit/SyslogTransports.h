// The syslog transports ("tls", "udp") built from the plugin's configuration keys.
#pragma once

#include "AuditTransport.h"

#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace plexus::atna {

using ConfigLookup = std::function<std::optional<std::string>(const std::string& key)>;

// "tls": tls_host, tls_port (6514), tls_ca_file, tls_cert_file, tls_key_file (all
// three required: ATNA nodes authenticate each other), tls_server_name (tls_host),
// tls_timeout_ms (5000). "udp": udp_host, udp_port (514), udp_max_message_bytes
// (2048). Both: syslog_facility (10, authpriv), syslog_app_name ("plexus").
// Throws std::invalid_argument naming the key that is missing or wrong, and
// std::runtime_error when the certificates do not load.
std::unique_ptr<AuditTransport> makeSyslogTransport(const std::string& name, const ConfigLookup& config);

}  // namespace plexus::atna
