// Publication of this instance's own mailboxes to an LDAP directory
// ([directory.publish], `plexusctl directory publish --ldap`): adds for new
// mailboxes, modifications of the attributes that changed, deletions of the
// mailboxes gone, against what the last publication recorded (Publication.h).
//
//   [directory.publish]
//   uri, bind_dn, password_file, sasl_external, cert, key, ca, timeout_seconds,
//   map.FIELD = attribute           ; as in [directory.ldap] (LdapSettings.h)
//   base = ou=mssante,dc=example    ; where entries are created
//   object_class = top, inetOrgPerson, mssanteMailbox   ; of new entries
//   rdn = mail                      ; the RDN attribute: one of the mapped attributes
#pragma once

#include "directory/LdapSettings.h"
#include "directory/Publication.h"
#include "store/Sqlite.h"

#include <Poco/Util/AbstractConfiguration.h>

#include <cstddef>
#include <stdexcept>
#include <string>
#include <vector>

namespace plexus::directory {

inline constexpr const char* publishSection = "directory.publish";

struct PublishSettings {
    LdapSettings ldap;  // connection, base DN and mapping
    std::vector<std::string> objectClasses;
    std::string rdnAttribute;  // lower-case

    // The key of this target's state: another server or base starts afresh.
    std::string target() const { return "ldap " + ldap.uri + " " + ldap.baseDn; }
};

bool hasPublishTarget(const Poco::Util::AbstractConfiguration& config);
// Throws MappingError or std::invalid_argument with the key at fault.
PublishSettings loadPublishSettings(const Poco::Util::AbstractConfiguration& config);

// "ATTRIBUTE=VALUE,BASE" with the value escaped by libldap (RFC 4514 §2.4).
std::string entryDn(const std::string& rdnAttribute, const std::string& value, const std::string& baseDn);

struct PublishSummary {
    std::size_t added = 0, changed = 0, removed = 0, unchanged = 0, failed = 0;
    std::vector<std::string> failures;  // "ADDRESS: what failed (the server's diagnostic)"
};

// The safety brake: the publication would remove more than max_delete_share of
// the mailboxes the target holds (an accounts database restored empty must not
// wipe this instance from the regional directory). Nothing was published.
class PublicationBrakeError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// Publishes `mailboxes` (dryRun: only counts what would be done, without
// connecting). Successes are recorded as they come (committed in groups); a
// failed entry is reported and the others go on. Throws PublicationBrakeError
// unless `force`; LdapError when the server cannot be reached or bound (nothing
// recorded), or is lost midway (what succeeded kept).
PublishSummary publishToLdap(const PublishSettings& settings, store::Database& directory,
                             const std::vector<MappedEntry>& mailboxes, bool dryRun, bool force);

}  // namespace plexus::directory
