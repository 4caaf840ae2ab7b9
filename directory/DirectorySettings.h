// The [directory] section of plexus.conf.
#pragma once

#include "directory/LdapSettings.h"

#include <optional>
#include <string>

namespace plexus::directory {

struct DirectorySettings {
    std::string database;         // [directory] database; default: directory.db next to the main database
    double maxDeleteShare = 0.10;  // [directory] max_delete_share: safety brake of imports (0..1)
    std::optional<LdapSettings> ldap;  // [directory.ldap]: the source plexusd syncs from, if any
};

}  // namespace plexus::directory
