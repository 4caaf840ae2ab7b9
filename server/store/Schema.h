// The database schema of a Plexus instance and its migrations.
#pragma once

#include "store/Sqlite.h"

namespace plexus::store {

// Creates or upgrades the schema; idempotent, safe at every start.
void migrateSchema(Database& db);

}  // namespace plexus::store
