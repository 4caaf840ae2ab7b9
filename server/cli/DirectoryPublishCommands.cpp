// directory configure-publish | publish: this instance's own mailboxes in an
// LDAP directory ([directory.publish]) and in a file of the national
// extraction's layout, each as a diff against its last publication.
#include "cli/Commands.h"

#include "accounts/AccountStore.h"
#include "cli/DirectoryConfig.h"
#include "directory/DirectoryStore.h"
#include "directory/LdapPublish.h"
#include "directory/NationalFileExport.h"

#include <algorithm>
#include <iostream>

namespace plexus::cli {

namespace {

int configurePublish(const app::Settings& settings, const Arguments& args)
{
    args.allowOnly({"config", "uri", "base", "bind-dn", "password-file", "sasl-external", "cert", "key", "ca", "map",
                    "timeout", "object-class", "rdn"});
    std::map<std::string, std::string> extra;
    std::string classes;
    for (const auto& name : args.optionValues("object-class")) classes += (classes.empty() ? "" : ", ") + name;
    if (!classes.empty()) extra["object_class"] = classes;
    auto file = rewriteLdapSection(settings, args, directory::publishSection, {{"rdn", "rdn"}}, extra);
    const auto checked = directory::loadPublishSettings(*readIni(file.text()));  // refuses before saving
    file.save();
    auditChange(settings, "admin.directory.publish_configured", checked.ldap.uri + " " + checked.ldap.baseDn);
    std::cout << "mailboxes published to " << checked.ldap.uri << " under " << checked.ldap.baseDn << " as "
              << checked.rdnAttribute << "=..., " << checked.ldap.mapping.fields().size() << " mapped fields\n"
              << "run plexusctl directory publish to publish them\n";
    return 0;
}

// Every account of the main database, completed from the directory's local copy, by address.
std::vector<directory::MappedEntry> localMailboxes(const app::Settings& settings, store::Database& directory)
{
    auto db = openDatabase(settings);
    std::vector<directory::MappedEntry> mailboxes;
    for (const auto& account : accounts::AccountStore::list(db))
        mailboxes.push_back(directory::describeLocalMailbox(
            directory, {account.address, std::string(accounts::toString(account.type)), account.nationalId.value_or(""),
                        account.structureId.value_or("")}));
    std::ranges::sort(mailboxes, {}, [](const auto& entry) { return entry.mailbox.address; });
    return mailboxes;
}

int publishToLdap(const app::Settings& settings, store::Database& directory,
                  const std::vector<directory::MappedEntry>& mailboxes, bool dryRun, bool force)
{
    const auto config = readIni(ConfigFile::load(settings.configPath).text());
    if (!directory::hasPublishTarget(*config))
        throw std::runtime_error("no [directory.publish] in " + settings.configPath +
                                 ": run plexusctl directory configure-publish");
    const auto target = directory::loadPublishSettings(*config);
    try {
        const auto s = directory::publishToLdap(target, directory, mailboxes, dryRun, force);
        const auto counts = std::to_string(s.added) + " added, " + std::to_string(s.changed) + " changed, " +
                            std::to_string(s.removed) + " removed, " + std::to_string(s.unchanged) + " unchanged, " +
                            std::to_string(s.failed) + " failed";
        std::cout << (dryRun ? "would publish to " : "published to ") << target.ldap.uri << " ("
                  << target.ldap.baseDn << "): " << counts << '\n';
        for (const auto& failure : s.failures) std::cout << "failed " << failure << '\n';
        if (!dryRun)
            auditChange(settings, "admin.directory.published", target.target() + " " + counts,
                        s.failed == 0 ? "success" : "partial");
        return s.failed == 0 ? 0 : 1;
    } catch (const std::exception& e) {
        if (!dryRun) auditChange(settings, "admin.directory.published", target.target(), e.what());
        throw;
    }
}

int exportMailboxes(const app::Settings& settings, store::Database& directory,
                    const std::vector<directory::MappedEntry>& mailboxes, const std::string& path, bool dryRun)
{
    const auto s = directory::exportNationalFile(directory, mailboxes, path, dryRun);
    std::cout << (dryRun ? "would export " : "exported ") << s.mailboxes << " mailboxes to " << path << ": "
              << s.added << " added, " << s.changed << " changed, " << s.removed << " removed, " << s.unchanged
              << " unchanged since the last export\n";
    if (!dryRun) auditChange(settings, "admin.directory.exported", path);
    return 0;
}

}  // namespace

int runDirectoryPublishCommand(const app::Settings& settings, const Arguments& args)
{
    if (args.word(1, "directory command") == "configure-publish") return configurePublish(settings, args);
    args.allowOnly({"config", "ldap", "export", "dry-run", "force"});
    const auto exportPath = args.option("export");
    const bool toLdap = args.flag("ldap") || !exportPath;
    const bool dryRun = args.flag("dry-run");
    directory::DirectoryStore store(directoryDatabasePath(settings));
    const auto mailboxes = localMailboxes(settings, store.database());
    int status = 0;
    if (exportPath) status = exportMailboxes(settings, store.database(), mailboxes, *exportPath, dryRun);
    if (toLdap) status = std::max(status, publishToLdap(settings, store.database(), mailboxes, dryRun, args.flag("force")));
    return status;
}

}  // namespace plexus::cli
