// The directory database's schema and its migrations.
#pragma once

#include "store/Sqlite.h"

namespace plexus::directory {

// Creates or upgrades the schema; idempotent, safe at every start.
void migrateDirectorySchema(store::Database& db);

}  // namespace plexus::directory
