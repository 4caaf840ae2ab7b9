#include "plugins/PluginSettings.h"

#include "plugins/PluginLibrary.h"

#include <Poco/String.h>
#include <Poco/StringTokenizer.h>

#include <charconv>
#include <filesystem>
#include <set>

namespace plexus::plugins {

namespace {

namespace fs = std::filesystem;
using Config = Poco::Util::AbstractConfiguration;

// Every key under `prefix`, dotted names included ("a.b = x" in a section is key "a.b").
void collectValues(const Config& config, const std::string& prefix, const std::string& relative,
                   std::map<std::string, std::string>& values)
{
    Config::Keys keys;
    config.keys(prefix, keys);
    for (const auto& key : keys) {
        const std::string full = prefix + "." + key;
        const std::string name = relative.empty() ? key : relative + "." + key;
        // Raw: a secret may contain "${", which getString() would try to expand.
        if (config.has(full)) values[name] = Poco::trim(config.getRawString(full));
        collectValues(config, full, name, values);
    }
}

// A whole number in [min, max], or `fallback` (the struct's default) when the key is absent.
int boundedNumber(const PluginSettings& plugin, const std::string& key, int fallback, int min, int max)
{
    const auto it = plugin.values.find(key);
    if (it == plugin.values.end()) return fallback;
    const std::string& text = it->second;
    int value = 0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (error != std::errc() || end != text.data() + text.size() || value < min || value > max)
        throw PluginConfigError("[plugin." + plugin.name + "] " + key + " must be a whole number from " +
                                std::to_string(min) + " to " + std::to_string(max) + ", not \"" + text + "\"");
    return value;
}

fs::path pluginDir(const Config& config, const std::string& dataDir)
{
    const std::string dir = Poco::trim(config.getString("plugins.dir", ""));
    if (dir.empty()) return fs::path(dataDir) / "plugins";
    return fs::path(dataDir) / dir;  // an absolute dir replaces dataDir
}

PluginSettings loadPlugin(const Config& config, const std::string& name, const fs::path& dir)
{
    PluginSettings plugin;
    plugin.name = name;
    const std::string section = "plugin." + name;
    collectValues(config, section, "", plugin.values);
    if (plugin.values.empty())
        throw PluginConfigError("plugin " + name + " is enabled in [plugins] but there is no [" + section +
                                "] section with its path");
    const auto path = plugin.values.find("path");
    if (path == plugin.values.end() || path->second.empty())
        throw PluginConfigError("[" + section + "] has no path (the plugin's .so file)");
    plugin.path = (dir / path->second).lexically_normal().string();  // an absolute path replaces dir
    const auto defaultDeadline = static_cast<int>(plugin.deadline.count());
    plugin.deadline = std::chrono::milliseconds(boundedNumber(plugin, "deadline_ms", defaultDeadline, 1, 600000));
    plugin.eventMaxAttempts = boundedNumber(plugin, "event_max_attempts", plugin.eventMaxAttempts, 1, 1000);
    if (const auto submitAs = plugin.values.find("submit_as");
        submitAs != plugin.values.end() && !submitAs->second.empty())
        plugin.submitAs = submitAs->second;
    return plugin;
}

}  // namespace

std::vector<std::string> splitPluginList(const std::string& enabled)
{
    const Poco::StringTokenizer names(enabled, ", ",
                                      Poco::StringTokenizer::TOK_IGNORE_EMPTY | Poco::StringTokenizer::TOK_TRIM);
    return {names.begin(), names.end()};
}

std::vector<PluginSettings> loadPluginSettings(const Config& config, const std::string& dataDir)
{
    const fs::path dir = pluginDir(config, dataDir);
    std::vector<PluginSettings> plugins;
    std::set<std::string> seen;
    for (const auto& name : splitPluginList(config.getString("plugins.enabled", ""))) {
        if (!isValidPluginName(name))
            throw PluginConfigError("[plugins] enabled names \"" + name +
                                    "\", not a plugin name (1 to 32 of a-z, 0-9, '-')");
        if (!seen.insert(name).second) throw PluginConfigError("[plugins] enabled names " + name + " twice");
        plugins.push_back(loadPlugin(config, name, dir));
    }
    return plugins;
}

}  // namespace plexus::plugins
