// Publication of this instance's own mailboxes (`plexusctl directory
// publish`): what is published for each local mailbox, and the diff against
// what the last publication to a target (an LDAP directory, the export file)
// recorded in the directory database's `publication` table.
#pragma once

#include "directory/LdapMapping.h"
#include "store/Sqlite.h"

#include <cstddef>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace plexus::directory {

// A mailbox of this instance as its account holds it (server/accounts).
struct LocalMailbox {
    std::string address;      // lower-case
    std::string type;         // PER, ORG, APP, CAB
    std::string nationalId;   // "" for ORG/APP
    std::string structureId;  // FINESS (9 characters) or SIRET (14); "" for PER/CAB
};

// The records published for a local mailbox: the account's address, type and
// owner ids, completed from the directory's local copy (the first person
// record of the national id: names, profession, specialty; the first structure
// record of the FINESS/SIRET: name, address, city). Accounts have no service
// nor "liste rouge" flag: published as none and visible.
MappedEntry describeLocalMailbox(store::Database& directory, const LocalMailbox& local);

// What a target holds of one mailbox: a hash of the entry or line published,
// and the DN it was published at ("" for the export).
struct PublishedState {
    std::string hash;
    std::string dn;
    bool operator==(const PublishedState&) const = default;
};
using PublicationState = std::map<std::string, PublishedState>;  // by address

PublicationState publicationState(store::Database& directory, std::string_view target);
void recordPublished(store::Database& directory, std::string_view target, std::string_view address,
                     const PublishedState& state);
void forgetPublished(store::Database& directory, std::string_view target, std::string_view address);

// SHA-256 (hex) of the parts, each length-prefixed so that no two lists of
// parts have the same serialization.
std::string publicationHash(const std::vector<std::string>& parts);

struct PublicationItem {
    std::string address;
    PublishedState state;  // as it would be once published
};

// What a publication must do: indexes into the current items for adds and
// changes (hash or DN differs), the previous state of the addresses gone.
struct PublicationPlan {
    std::vector<std::size_t> added, changed;
    std::vector<std::pair<std::string, PublishedState>> removed;
    std::size_t unchanged = 0;
};
PublicationPlan planPublication(const std::vector<PublicationItem>& current, const PublicationState& previous);

}  // namespace plexus::directory
