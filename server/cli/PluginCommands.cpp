// plugin add|remove|show and plugins. add and remove edit the configuration
// file only (plexusd loads plugins at start); the state shown comes from the
// plugin_status and plugin_poison tables the running plexusd writes.
#include "cli/Commands.h"

#include "cli/ConfigFile.h"
#include "plugins/PluginLibrary.h"
#include "plugins/PluginSettings.h"

#include <Poco/DateTimeFormatter.h>
#include <Poco/String.h>
#include <Poco/Timestamp.h>

#include <algorithm>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <sstream>

namespace plexus::cli {

namespace {

namespace fs = std::filesystem;
using plugins::PluginSettings;

constexpr const char* kPluginsSection = "plugins";
constexpr const char* kEnabledKey = "enabled";

std::string sectionOf(const std::string& name) { return "plugin." + name; }

std::string joinNames(const std::vector<std::string>& names)
{
    std::string text;
    for (const auto& name : names) text += (text.empty() ? "" : ", ") + name;
    return text;
}

// A descriptor's text in a comment line: a line break would end the comment and start INI syntax.
std::string oneLine(const char* text)
{
    std::string line = text ? text : "";
    std::ranges::replace_if(line, [](char c) { return static_cast<unsigned char>(c) < 0x20; }, ' ');
    return line;
}

std::string capabilitiesOf(const plexus_plugin_descriptor& descriptor)
{
    const std::string names = plugins::capabilityNames(descriptor.capabilities);
    return names.empty() ? "none" : names;
}

std::string formatTime(std::int64_t secondsSinceEpoch)
{
    return Poco::DateTimeFormatter::format(Poco::Timestamp::fromEpochTime(secondsSinceEpoch), "%Y-%m-%d %H:%M:%S");
}

// What the running plexusd wrote about a plugin.
struct PluginStatus {
    std::string version, abi, hooks, state, error;
    std::optional<std::int64_t> loadedAt;
    std::int64_t updatedAt = 0, calls = 0, failures = 0, timeouts = 0;
};

// None when plexusd has not loaded this plugin, or loaded it from another file than the one configured now.
std::optional<PluginStatus> statusOf(store::Database& db, const PluginSettings& plugin)
{
    auto row = db.prepare(
        "SELECT path, version, abi, hooks, state, error, loaded_at, updated_at, calls, failures, timeouts "
        "FROM plugin_status WHERE name = ?");
    row.bind(1, plugin.name);
    if (!row.step() || row.text(0) != plugin.path) return std::nullopt;
    PluginStatus status;
    status.version = row.text(1);
    status.abi = row.text(2);
    status.hooks = row.text(3);
    status.state = row.text(4);
    status.error = row.text(5);
    if (!row.isNull(6)) status.loadedAt = row.int64(6);
    status.updatedAt = row.int64(7);
    status.calls = row.int64(8);
    status.failures = row.int64(9);
    status.timeouts = row.int64(10);
    return status;
}

std::string stateOf(const std::optional<PluginStatus>& status) { return status ? status->state : "not loaded"; }

std::int64_t poisonCount(store::Database& db, const std::string& name)
{
    auto count = db.prepare("SELECT count(*) FROM plugin_poison WHERE plugin = ?");
    count.bind(1, name);
    count.step();
    return count.int64(0);
}

// Config values an operator should not see echoed to a terminal.
bool isSecretKey(const std::string& key)
{
    const std::string lower = Poco::toLower(key);
    return lower.find("secret") != std::string::npos || lower.find("password") != std::string::npos ||
           lower.find("key") != std::string::npos;
}

int addPlugin(const std::string& configPath, const Arguments& args)
{
    args.allowOnly({"config", "name"});
    const std::string path = fs::absolute(args.word(2, "PATH.so")).lexically_normal().string();
    if (std::ranges::any_of(path, [](char c) { return c == '\n' || c == '\r'; }))
        throw UsageError("the plugin path contains a line break");
    auto config = ConfigFile::load(configPath);
    // Refused here, with the loader's reason, rather than at plexusd's next start.
    const auto library = plugins::PluginLibrary::open(path);
    const auto& descriptor = library.descriptor();
    const std::string name = args.option("name").value_or(descriptor.name);
    if (!plugins::isValidPluginName(name))
        throw UsageError("--name " + name + " is not a plugin name (1 to 32 of a-z, 0-9, '-')");
    auto enabled = plugins::splitPluginList(config.value(kPluginsSection, kEnabledKey).value_or(""));
    if (config.hasSection(sectionOf(name)) || std::ranges::find(enabled, name) != enabled.end())
        throw std::runtime_error("a plugin named " + name + " is already configured in " + configPath +
                                 "; choose another name with --name, or first: plexusctl plugin remove " + name);

    const PluginSettings defaults;
    std::vector<std::string> body{
        "; " + std::string(descriptor.name) + " " + oneLine(descriptor.version) + ", plugin ABI " +
            library.abiVersion() + ": " + oneLine(descriptor.description),
        "; capabilities: " + capabilitiesOf(descriptor),
        "path = " + path,
        "; A verdict hook's time limit, and the attempts before an event is set aside as poison:",
        "; deadline_ms = " + std::to_string(defaults.deadline.count()),
        "; event_max_attempts = " + std::to_string(defaults.eventMaxAttempts),
    };
    if (descriptor.capabilities & PLEXUS_CAP_SUBMIT)
        body.push_back("; The mailbox the messages it submits come from: submit_as = ADDRESS");
    enabled.push_back(name);
    config.setValue(kPluginsSection, kEnabledKey, joinNames(enabled));
    config.appendSection(sectionOf(name), body);
    config.save();
    std::cout << "added plugin " << name << " " << oneLine(descriptor.version) << " (" << path << ") as ["
              << sectionOf(name) << "] in " << configPath << "\nenabled: " << joinNames(enabled)
              << "\nrestart plexusd to load it\n";
    return 0;
}

int removePlugin(const std::string& configPath, const Arguments& args)
{
    args.allowOnly({"config"});
    const std::string name = args.word(2, "NAME");
    auto config = ConfigFile::load(configPath);
    auto enabled = plugins::splitPluginList(config.value(kPluginsSection, kEnabledKey).value_or(""));
    const bool wasEnabled = std::erase(enabled, name) > 0;
    const bool hadSection = config.removeSection(sectionOf(name));
    if (!wasEnabled && !hadSection)
        throw std::runtime_error("no plugin " + name + " in " + configPath + " (plexusctl plugins lists them)");
    if (wasEnabled) config.setValue(kPluginsSection, kEnabledKey, joinNames(enabled));
    config.save();
    std::cout << "removed plugin " << name << " from " << configPath
              << " (its storage and event positions stay in the database)\nrestart plexusd to unload it\n";
    return 0;
}

void printRow(const std::string& label, const std::string& value)
{
    std::cout << "  " << std::left << std::setw(20) << label << value << '\n';
}

void printLibrary(const PluginSettings& plugin)
{
    std::cout << "library\n";
    try {
        const auto library = plugins::PluginLibrary::open(plugin.path);
        const auto& descriptor = library.descriptor();
        printRow("name", descriptor.name);
        printRow("version", oneLine(descriptor.version) + ", plugin ABI " + library.abiVersion());
        printRow("description", oneLine(descriptor.description));
        printRow("capabilities", capabilitiesOf(descriptor));
    } catch (const plugins::PluginError& e) {
        printRow("error", e.what());
    }
}

void printPoisonEvents(store::Database& db, const std::string& name)
{
    auto rows = db.prepare(
        "SELECT consumer, event_id, attempts, set_aside_at, error FROM plugin_poison WHERE plugin = ? "
        "ORDER BY set_aside_at, event_id");
    rows.bind(1, name);
    std::ostringstream table;
    std::size_t count = 0;
    while (rows.step()) {
        if (count++ == 0)
            table << "  " << std::left << std::setw(34) << "CONSUMER" << std::setw(12) << "EVENT" << std::setw(10)
                  << "ATTEMPTS" << std::setw(21) << "SET ASIDE" << "ERROR\n";
        table << "  " << std::setw(34) << rows.text(0) << std::setw(12) << rows.int64(1) << std::setw(10)
              << rows.int64(2) << std::setw(21) << formatTime(rows.int64(3)) << rows.text(4) << '\n';
    }
    std::cout << "poison events: " << count << '\n' << table.str();
}

int showPlugin(const std::string& configPath, const Arguments& args)
{
    args.allowOnly({"config"});
    const std::string name = args.word(2, "NAME");
    const auto settings = app::loadSettings(configPath);
    const auto plugin = std::ranges::find(settings.plugins, name, &PluginSettings::name);
    if (plugin == settings.plugins.end())
        throw std::runtime_error("no plugin " + name + " is enabled in " + configPath +
                                 " (plexusctl plugins lists them)");
    auto db = openDatabase(settings);
    const auto status = statusOf(db, *plugin);

    std::cout << "plugin " << plugin->name << '\n';
    printRow("path", plugin->path);
    printRow("state", stateOf(status));
    if (status) {
        if (!status->error.empty()) printRow("error", status->error);
        printRow("version", status->version + ", plugin ABI " + status->abi);
        printRow("hooks", status->hooks.empty() ? "none" : status->hooks);
        if (status->loadedAt) printRow("loaded at", formatTime(*status->loadedAt));
        printRow("updated at", formatTime(status->updatedAt));
        printRow("calls", std::to_string(status->calls));
        printRow("failures", std::to_string(status->failures) + " (timeouts " + std::to_string(status->timeouts) + ")");
    }
    printRow("deadline_ms", std::to_string(plugin->deadline.count()));
    printRow("event_max_attempts", std::to_string(plugin->eventMaxAttempts));
    printRow("submit_as", plugin->submitAs.value_or("-"));
    printLibrary(*plugin);
    std::cout << "config [" << sectionOf(plugin->name) << "]\n";
    for (const auto& [key, value] : plugin->values)
        std::cout << "  " << key << " = " << (isSecretKey(key) ? "***" : value) << '\n';
    printPoisonEvents(db, plugin->name);
    return 0;
}

}  // namespace

int runPluginCommand(const std::string& configPath, const Arguments& args)
{
    const std::string action = args.word(1, "plugin action (add, remove, show)");
    if (action == "add") return addPlugin(configPath, args);
    if (action == "remove") return removePlugin(configPath, args);
    if (action == "show") return showPlugin(configPath, args);
    throw UsageError("unknown plugin action " + action);
}

int runPluginList(const app::Settings& settings, const Arguments& args)
{
    args.allowOnly({"config"});
    if (settings.plugins.empty()) {
        std::cout << "no plugins enabled (plexusctl plugin add PATH.so adds one)\n";
        return 0;
    }
    auto db = openDatabase(settings);
    std::size_t nameWidth = 6;
    for (const auto& plugin : settings.plugins) nameWidth = std::max(nameWidth, plugin.name.size() + 2);
    const int name = static_cast<int>(nameWidth);
    std::cout << std::left << std::setw(name) << "NAME" << std::setw(12) << "VERSION" << std::setw(6) << "ABI"
              << std::setw(12) << "STATE" << std::setw(10) << "CALLS" << std::setw(10) << "FAILURES" << std::setw(10)
              << "TIMEOUTS" << std::setw(8) << "POISON" << "HOOKS\n";
    for (const auto& plugin : settings.plugins) {
        const auto status = statusOf(db, plugin);
        PluginStatus shown = status.value_or(PluginStatus{});
        if (!status) shown.version = shown.abi = "-";
        std::cout << std::setw(name) << plugin.name << std::setw(12) << shown.version << std::setw(6) << shown.abi
                  << std::setw(12) << stateOf(status) << std::setw(10) << shown.calls << std::setw(10) << shown.failures
                  << std::setw(10) << shown.timeouts << std::setw(8) << poisonCount(db, plugin.name)
                  << (shown.hooks.empty() ? "-" : shown.hooks) << '\n';
        if (status && status->state == "failed") std::cout << "  error: " << status->error << '\n';
    }
    return 0;
}

}  // namespace plexus::cli
