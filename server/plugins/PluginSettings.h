// Which plugins plexusd loads, in which order, and each one's settings, read
// from the configuration:
//   [plugins]
//   enabled = a, b        ; load order; empty or absent: none
//   dir = /folder         ; for relative paths; default DATA_DIR/plugins, relative to DATA_DIR
//   [plugin.a]
//   path = a.so           ; required
//   deadline_ms = 5000    ; optional, and any key of the plugin's own (config_get)
#pragma once

#include <Poco/Util/AbstractConfiguration.h>

#include <chrono>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace plexus::plugins {

// A plugin setting plexusd cannot start with; the message names the section and key.
class PluginConfigError : public std::runtime_error {
    using std::runtime_error::runtime_error;
};

struct PluginSettings {
    std::string name;                          // [a-z0-9-]{1,32}
    std::string path;                          // absolute, resolved against [plugins] dir when relative
    std::chrono::milliseconds deadline{5000};  // deadline_ms, 1..600000
    int eventMaxAttempts = 10;                 // event_max_attempts, 1..1000
    std::optional<std::string> submitAs;       // submit_as: the technical identity for submitted messages
    std::map<std::string, std::string> values; // every key of [plugin.NAME] (including the above), for config_get
};

// The enabled plugins in load order. Throws PluginConfigError.
std::vector<PluginSettings> loadPluginSettings(const Poco::Util::AbstractConfiguration& config,
                                               const std::string& dataDir);

// The names listed in `[plugins] enabled`, as written (not validated).
std::vector<std::string> splitPluginList(const std::string& enabled);

}  // namespace plexus::plugins
