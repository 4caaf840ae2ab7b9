#include "plugins/PluginStatus.h"

#include "plugins/HostContext.h"

#include <Poco/Timestamp.h>

namespace plexus::plugins {

namespace {

std::int64_t now() { return Poco::Timestamp().epochTime(); }

}  // namespace

void PluginStatus::loaded(store::Database& db, const plexus_host& plugin, const std::string& hooks)
{
    const auto& descriptor = plugin.library.descriptor();
    db.prepare("INSERT OR REPLACE INTO plugin_status (name, path, version, abi, capabilities, hooks, state, error, "
               "loaded_at, updated_at, calls, failures, timeouts) VALUES (?, ?, ?, ?, ?, ?, 'loaded', '', ?, ?, 0, 0, 0)")
        .bind(1, plugin.name())
        .bind(2, plugin.settings.path)
        .bind(3, std::string(descriptor.version ? descriptor.version : ""))
        .bind(4, plugin.library.abiVersion())
        .bind(5, static_cast<std::int64_t>(descriptor.capabilities))
        .bind(6, hooks)
        .bind(7, now())
        .bind(8, now())
        .run();
}

void PluginStatus::failed(store::Database& db, const std::string& name, const std::string& path,
                          const std::string& error)
{
    db.prepare("INSERT OR REPLACE INTO plugin_status (name, path, state, error, updated_at) VALUES (?, ?, 'failed', ?, ?)")
        .bind(1, name)
        .bind(2, path)
        .bind(3, error)
        .bind(4, now())
        .run();
}

void PluginStatus::counters(store::Database& db, const plexus_host& plugin)
{
    db.prepare("UPDATE plugin_status SET calls = ?, failures = ?, timeouts = ?, updated_at = ? WHERE name = ?")
        .bind(1, static_cast<std::int64_t>(plugin.calls.load()))
        .bind(2, static_cast<std::int64_t>(plugin.failures.load()))
        .bind(3, static_cast<std::int64_t>(plugin.timeouts.load()))
        .bind(4, now())
        .bind(5, plugin.name())
        .run();
}

void PluginStatus::stopped(store::Database& db, const plexus_host& plugin)
{
    counters(db, plugin);
    db.prepare("UPDATE plugin_status SET state = 'stopped' WHERE name = ?").bind(1, plugin.name()).run();
}

}  // namespace plexus::plugins
