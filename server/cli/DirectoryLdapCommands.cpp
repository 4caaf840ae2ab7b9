// directory configure | sync: the LDAP source of the directory's local copy.
// configure rewrites the [directory.ldap] section of plexus.conf (keys not
// given are kept; the result is checked before it is saved); sync runs one
// RFC 4533 sync (or paged full read) into the directory database.
#include "cli/Commands.h"

#include "cli/DirectoryConfig.h"
#include "directory/DirectoryStore.h"
#include "directory/LdapSettings.h"
#include "directory/LdapSync.h"

#include <Poco/String.h>

#include <unistd.h>

#include <filesystem>
#include <iomanip>
#include <iostream>
#include <map>
#include <sstream>

namespace plexus::cli {

namespace {

namespace fs = std::filesystem;

constexpr const char* kSection = "directory.ldap";

// The section's keys as the file has them now, key -> value.
std::map<std::string, std::string> currentKeys(const Poco::Util::AbstractConfiguration& config,
                                               const std::string& section)
{
    std::map<std::string, std::string> keys;
    Poco::Util::AbstractConfiguration::Keys names;
    config.keys(section, names);
    for (const auto& name : names) {
        if (name == "map") continue;
        keys[name] = config.getString(section + "." + name);
    }
    Poco::Util::AbstractConfiguration::Keys fields;
    config.keys(section + ".map", fields);
    for (const auto& field : fields) keys["map." + field] = config.getString(section + ".map." + field);
    return keys;
}

std::string absolutePath(const std::string& path) { return fs::absolute(path).lexically_normal().string(); }

int configure(const app::Settings& settings, const Arguments& args)
{
    args.allowOnly({"config", "uri", "base", "name", "scope", "filter", "bind-dn", "password-file", "sasl-external",
                    "cert", "key", "ca", "map", "page-size", "batch-size", "max-delete-share", "timeout", "mode",
                    "sync-interval"});
    auto file = rewriteLdapSection(settings, args, kSection,
                                   {{"name", "name"},
                                    {"scope", "scope"},
                                    {"filter", "filter"},
                                    {"page-size", "page_size"},
                                    {"batch-size", "batch_size"},
                                    {"max-delete-share", "max_delete_share"},
                                    {"mode", "mode"},
                                    {"sync-interval", "sync_interval_minutes"}},
                                   {});
    const auto checked = directory::loadLdapSettings(*readIni(file.text()));  // refuses before saving
    file.save();
    auditChange(settings, "admin.directory.ldap_configured", checked.uri + " " + checked.baseDn);
    std::cout << "directory source " << checked.source() << ": " << checked.uri << " base " << checked.baseDn
              << ", " << checked.mapping.fields().size() << " mapped fields\n"
              << "run plexusctl directory sync to load it\n";
    return 0;
}

std::string seconds(std::chrono::milliseconds elapsed)
{
    std::ostringstream out;
    out << std::fixed << std::setprecision(2) << static_cast<double>(elapsed.count()) / 1000.0 << " s";
    return out.str();
}

std::string counts(const directory::SyncSummary& s)
{
    return std::to_string(s.added) + " added, " + std::to_string(s.changed) + " changed, " +
           std::to_string(s.deleted) + " deleted, " + std::to_string(s.skipped) + " skipped, " +
           std::to_string(s.unchanged) + " unchanged";
}

int sync(const app::Settings& settings, const Arguments& args)
{
    args.allowOnly({"config", "full", "force"});
    const auto config = readIni(ConfigFile::load(settings.configPath).text());
    if (!directory::hasLdapSource(*config))
        throw std::runtime_error("no LDAP source in " + settings.configPath + ": run plexusctl directory configure");
    const auto ldap = directory::loadLdapSettings(*config);
    directory::DirectoryStore store(directoryDatabasePath(settings));

    directory::SyncOptions options;
    options.full = args.flag("full");
    options.force = args.flag("force");
    const bool terminal = ::isatty(STDERR_FILENO) != 0;
    if (terminal)
        options.progress = [](const directory::SyncSummary& s) {
            std::cerr << "\r  " << s.added + s.changed + s.unchanged + s.skipped << " entries: " << counts(s)
                      << std::flush;
        };
    try {
        const auto summary = directory::syncFromLdap(ldap, store, options);
        if (terminal) std::cerr << '\n';
        std::cout << "directory sync from " << ldap.uri << " (" << ldap.source() << ")"
                  << (summary.paged ? ", paged full read (no content synchronization)"
                                    : summary.reloaded ? ", full refresh" : ", incremental")
                  << ": " << counts(summary) << " in " << seconds(summary.elapsed) << '\n';
        for (const auto& sample : summary.skippedSamples) std::cout << "skipped " << sample << '\n';
        auditChange(settings, "admin.directory.synced", ldap.source() + " " + counts(summary));
        return 0;
    } catch (const std::exception& e) {
        if (terminal) std::cerr << '\n';
        auditChange(settings, "admin.directory.synced", ldap.source(), e.what());
        throw;
    }
}

}  // namespace

Ini readIni(const std::string& text)
{
    std::istringstream in(text);
    return new Poco::Util::IniFileConfiguration(in);
}

ConfigFile rewriteLdapSection(const app::Settings& settings, const Arguments& args, const std::string& section,
                              const std::vector<std::pair<const char*, const char*>>& options,
                              const std::map<std::string, std::string>& extra)
{
    auto file = ConfigFile::load(settings.configPath);
    auto keys = currentKeys(*readIni(file.text()), section);
    std::vector<std::pair<const char*, const char*>> plain{
        {"uri", "uri"}, {"base", "base"}, {"bind-dn", "bind_dn"}, {"timeout", "timeout_seconds"}};
    plain.insert(plain.end(), options.begin(), options.end());
    for (const auto& [option, key] : plain)
        if (const auto value = args.option(option)) keys[key] = *value;
    const std::pair<const char*, const char*> paths[] = {
        {"password-file", "password_file"}, {"cert", "cert"}, {"key", "key"}, {"ca", "ca"}};
    for (const auto& [option, key] : paths)
        if (const auto value = args.option(option)) keys[key] = absolutePath(*value);
    // One way of binding: the one given replaces the other.
    if (args.flag("sasl-external")) {
        keys["sasl_external"] = "true";
        keys.erase("bind_dn");
        keys.erase("password_file");
    } else if (args.option("bind-dn")) {
        keys.erase("sasl_external");
    }
    for (const auto& mapping : args.optionValues("map")) {
        const auto equals = mapping.find('=');
        if (equals == std::string::npos || equals == 0)
            throw UsageError("--map takes field=attribute, not \"" + mapping + "\"");
        keys["map." + Poco::trim(mapping.substr(0, equals))] = Poco::trim(mapping.substr(equals + 1));
    }
    for (const auto& [key, value] : extra) keys[key] = value;
    for (const auto& [key, value] : keys)
        if (value.find_first_of("\r\n") != std::string::npos)
            throw UsageError("a value of [" + section + "] cannot hold a line break (" + key + ")");

    std::vector<std::string> body;
    for (const auto& [key, value] : keys) body.push_back(key + " = " + value);
    file.removeSection(section);
    file.appendSection(section, body);
    return file;
}

std::string directoryDatabasePath(const app::Settings& settings)
{
    const auto config = readIni(ConfigFile::load(settings.configPath).text());
    const auto path = Poco::trim(config->getString("directory.database", ""));
    return path.empty() ? (fs::path(settings.dataDir) / "directory.db").string() : path;
}

int runDirectoryLdapCommand(const app::Settings& settings, const Arguments& args)
{
    const std::string sub = args.word(1, "directory command");
    if (sub == "configure") return configure(settings, args);
    if (sub == "sync") return sync(settings, args);
    if (sub == "configure-publish" || sub == "publish") return runDirectoryPublishCommand(settings, args);
    throw UsageError("unknown directory command " + sub);
}

}  // namespace plexus::cli
