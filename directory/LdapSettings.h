// The [directory.ldap] section of plexus.conf: where the LDAP source is, how
// to bind, what to read and how its attributes map to the directory model.
//
//   [directory.ldap]
//   name = region                 ; records' source is "ldap:region"
//   uri = ldaps://annuaire.example:636   (ldap:// always upgrades with StartTLS)
//   base = ou=people,dc=sante,dc=fr
//   scope = sub                   ; sub | one
//   filter = (objectClass=mssanteMailbox)
//   bind_dn = cn=plexus,...       ; with password_file, or:
//   sasl_external = true          ; with cert and key (client certificate)
//   ca = /path/ca.pem             ; the server certificate is always checked
//   page_size = 500               ; paged reads (no syncprov): below the server's sizelimit
//   batch_size = 20000            ; entries per committed transaction
//   max_delete_share = 0.2        ; safety brake, see LdapSync
//   timeout_seconds = 30
//   mode = refreshOnly            ; or refreshAndPersist (plexusd keeps the search open)
//   sync_interval_minutes = 60    ; refreshOnly: plexusd's schedule (fractions allowed)
//   map.mailbox = mail            ; one map.FIELD per field, see LdapMapping
#pragma once

#include "directory/LdapMapping.h"
#include "directory/SyncControls.h"

#include <Poco/Util/AbstractConfiguration.h>

#include <chrono>
#include <string>

namespace plexus::directory {

struct LdapSettings {
    std::string name = "default";
    std::string uri;
    std::string baseDn;
    bool oneLevel = false;
    std::string filter = "(objectClass=*)";
    std::string bindDn;
    std::string passwordFile;
    bool saslExternal = false;
    std::string certFile, keyFile;
    std::string caFile;
    int pageSize = 500;
    int batchSize = 20000;
    double maxDeleteShare = 0.2;
    int timeoutSeconds = 30;
    SyncMode mode = SyncMode::RefreshOnly;            // what plexusd runs; plexusctl always refreshes once
    std::chrono::milliseconds syncInterval{60 * 60 * 1000};  // between plexusd's refreshOnly syncs
    LdapMapping mapping;

    std::string source() const { return "ldap:" + name; }
};

// True when the configuration has an LDAP source (SECTION.uri).
bool hasLdapSource(const Poco::Util::AbstractConfiguration& config, const std::string& section = "directory.ldap");
// The section's settings ([directory.ldap], or [directory.publish] which has
// the same connection and mapping keys). Throws MappingError (the mapping) or
// std::invalid_argument (anything else) with the key at fault.
LdapSettings loadLdapSettings(const Poco::Util::AbstractConfiguration& config,
                              const std::string& section = "directory.ldap");

}  // namespace plexus::directory
