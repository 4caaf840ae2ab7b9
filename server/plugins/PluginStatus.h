// What the running plexusd tells plexusctl about its plugins: table
// plugin_status (schema 4), one row per configured plugin.
#pragma once

#include "store/Sqlite.h"

#include <cstdint>
#include <string>

struct plexus_host;

namespace plexus::plugins {

class PluginStatus {
public:
    static void loaded(store::Database& db, const plexus_host& plugin, const std::string& hooks);
    static void failed(store::Database& db, const std::string& name, const std::string& path, const std::string& error);
    static void counters(store::Database& db, const plexus_host& plugin);
    static void stopped(store::Database& db, const plexus_host& plugin);
};

}  // namespace plexus::plugins
