// mailbox, delegate, passwd and cert commands.
#include "cli/Commands.h"

#include "accounts/AccountStore.h"
#include "accounts/PasswordHasher.h"
#include "events/EventLog.h"
#include "mime/MessageStructure.h"
#include "store/MailboxStore.h"
#include "store/Schema.h"
#include "trust/DevPki.h"

#include <Poco/DateTimeFormatter.h>
#include <Poco/Timestamp.h>

#include <filesystem>
#include <iomanip>
#include <iostream>
#include <unistd.h>

namespace plexus::cli {

store::Database openDatabase(const app::Settings& settings)
{
    store::Database db(settings.databasePath);
    store::migrateSchema(db);
    return db;
}

void audit(store::Database& db, const std::string& type, const std::string& object, const std::string& outcome)
{
    const char* user = getenv("USER");
    events::EventLog::append(db, {type, std::string("plexusctl:") + (user ? user : "?"), "local", object, outcome, "{}"});
}

void auditChange(const app::Settings& settings, const std::string& type, const std::string& object,
                 const std::string& outcome)
{
    auto db = openDatabase(settings);
    store::Transaction tx(db);
    audit(db, type, object, outcome);
    tx.commit();
}

namespace {

using accounts::AccountStore;

std::string readPasswordFromStdin()
{
    std::string password;
    std::getline(std::cin, password);
    if (!password.empty() && password.back() == '\r') password.pop_back();
    if (password.empty()) throw UsageError("empty password on standard input");
    return password;
}


int addMailbox(const app::Settings& settings, const Arguments& args)
{
    args.allowOnly({"config", "type", "rpps", "finess", "quota-mb", "password-stdin"});
    accounts::NewAccount account;
    account.address = args.word(2, "ADDRESS");
    const auto type = accounts::parseAccountType(args.requiredOption("type"));
    if (!type) throw UsageError("--type must be PER, ORG, APP or CAB");
    account.type = *type;
    account.nationalId = args.option("rpps");
    account.structureId = args.option("finess");
    if ((account.type == accounts::AccountType::PER || account.type == accounts::AccountType::CAB) && account.structureId)
        throw UsageError("a " + std::string(accounts::toString(account.type)) + " mailbox takes --rpps, not --finess");
    if ((account.type == accounts::AccountType::ORG || account.type == accounts::AccountType::APP) && account.nationalId)
        throw UsageError("a " + std::string(accounts::toString(account.type)) + " mailbox takes --finess, not --rpps");
    const std::string domain = accounts::domainOf(account.address);
    if (!settings.smtp.localDomains.count(domain))
        throw UsageError("domain " + domain + " is not served by this instance (server.domains)");
    account.quotaBytes = settings.defaultQuotaBytes;
    if (auto quota = args.option("quota-mb")) account.quotaBytes = std::stoll(*quota) << 20;
    if (args.flag("password-stdin")) account.passwordHash = accounts::hashPassword(readPasswordFromStdin());

    auto db = openDatabase(settings);
    store::Transaction tx(db);
    const auto created = AccountStore::add(db, account);
    audit(db, "admin.mailbox.added", created.address);
    tx.commit();
    std::cout << "created " << accounts::toString(created.type) << " mailbox " << created.address << '\n';
    return 0;
}

int listMailboxes(const app::Settings& settings)
{
    auto db = openDatabase(settings);
    std::cout << std::left << std::setw(40) << "ADDRESS" << std::setw(5) << "TYPE" << std::setw(16) << "ID"
              << std::setw(10) << "PASSWORD" << "USED/QUOTA\n";
    for (const auto& a : AccountStore::list(db)) {
        std::cout << std::setw(40) << a.address << std::setw(5) << accounts::toString(a.type) << std::setw(16)
                  << a.nationalId.value_or(a.structureId.value_or("-")) << std::setw(10) << (a.hasPassword ? "yes" : "no")
                  << a.usedBytes << '/' << a.quotaBytes << '\n';
    }
    return 0;
}

int showMailbox(const app::Settings& settings, const Arguments& args)
{
    auto db = openDatabase(settings);
    const auto account = AccountStore::find(db, args.word(2, "ADDRESS"));
    if (!account) throw std::runtime_error("no mailbox " + args.word(2, "ADDRESS"));
    std::cout << account->address << " (" << accounts::toString(account->type) << ")";
    if (account->nationalId) std::cout << " RPPS " << *account->nationalId;
    if (account->structureId) std::cout << " FINESS " << *account->structureId;
    std::cout << ", " << account->usedBytes << " of " << account->quotaBytes << " bytes used\n";
    for (const auto& delegate : AccountStore::delegates(db, account->id)) std::cout << "delegate: " << delegate.address << '\n';
    for (const auto& folder : store::MailboxStore::folders(db, account->id)) {
        if (folder.name != "INBOX" && folder.messages == 0) continue;
        std::cout << "\n" << folder.name << " (" << folder.messages << " messages, uidvalidity " << folder.uidValidity
                  << ")\n";
        std::cout << std::left << std::setw(7) << "UID" << std::setw(22) << "DATE" << std::setw(36) << "FROM"
                  << std::setw(10) << "SIZE" << "SUBJECT\n";
        for (const auto& message : store::MailboxStore::messages(db, folder.id)) {
            const auto structure = mime::MessageStructure::fromJson(message.structureJson);
            const auto& from = structure.envelope.from;
            const std::string sender = from.empty() ? "" : from.front().mailbox + "@" + from.front().host;
            std::cout << std::setw(7) << message.uid << std::setw(22)
                      << Poco::DateTimeFormatter::format(Poco::Timestamp::fromEpochTime(message.internalDate),
                                                         "%Y-%m-%d %H:%M:%S")
                      << std::setw(36) << sender << std::setw(10) << message.size << structure.envelope.subject << '\n';
        }
    }
    return 0;
}

int removeMailbox(const app::Settings& settings, const Arguments& args)
{
    auto db = openDatabase(settings);
    const auto account = AccountStore::find(db, args.word(2, "ADDRESS"));
    if (!account) throw std::runtime_error("no mailbox " + args.word(2, "ADDRESS"));
    store::Transaction tx(db);
    const auto released = store::MailboxStore::removeAccountContent(db, account->id);
    db.prepare("DELETE FROM accounts WHERE id = ?").bind(1, account->id).run();
    audit(db, "admin.mailbox.removed", account->address);
    tx.commit();
    store::MailboxStore(settings.blobDir, store::AtRestKey::loadFile(settings.atRestKeyPath)).unlinkBlobs(released);
    std::cout << "removed " << account->address << " and its messages\n";
    return 0;
}

}  // namespace

int runMailboxCommand(const app::Settings& settings, const Arguments& args)
{
    const std::string action = args.word(1, "mailbox action (add, list, show, remove)");
    if (action == "add") return addMailbox(settings, args);
    if (action == "list") {
        args.allowOnly({"config"});
        return listMailboxes(settings);
    }
    args.allowOnly({"config"});
    if (action == "show") return showMailbox(settings, args);
    if (action == "remove") return removeMailbox(settings, args);
    throw UsageError("unknown mailbox action " + action);
}

int runMessageCommand(const app::Settings& settings, const Arguments& args)
{
    if (args.word(1, "message action (cat)") != "cat") throw UsageError("unknown message action " + args.words[1]);
    const std::string address = args.word(2, "ADDRESS");
    const std::string uidText = args.word(3, "UID");
    args.allowOnly({"config", "folder"});
    const std::string folderName = args.option("folder").value_or("INBOX");
    auto db = openDatabase(settings);
    const auto account = AccountStore::find(db, address);
    if (!account) throw std::runtime_error("no mailbox " + address);
    for (const auto& folder : store::MailboxStore::folders(db, account->id)) {
        if (folder.name != folderName) continue;
        for (const auto& message : store::MailboxStore::messages(db, folder.id)) {
            if (std::to_string(message.uid) != uidText) continue;
            {
                store::Transaction tx(db);
                audit(db, "admin.message.read", address + " " + folderName + " " + uidText);
                tx.commit();
            }
            const store::MailboxStore mailboxes(settings.blobDir, store::AtRestKey::loadFile(settings.atRestKeyPath));
            auto blob = mailboxes.openBlob(message.blobPath);
            std::vector<char> buffer(64 * 1024);
            for (std::uint64_t offset = 0; offset < blob.size();) {
                const auto n = blob.read(offset, buffer.data(), buffer.size());
                std::cout.write(buffer.data(), static_cast<std::streamsize>(n));
                offset += n;
            }
            return 0;
        }
    }
    throw std::runtime_error("no message " + uidText + " in " + address + " " + folderName);
}

int runDelegateCommand(const app::Settings& settings, const Arguments& args)
{
    if (args.word(1, "delegate action (add)") != "add") throw UsageError("unknown delegate action " + args.words[1]);
    args.allowOnly({"config"});
    const std::string org = args.word(2, "ORG_ADDRESS");
    const std::string person = args.word(3, "PERSON_ADDRESS");
    auto db = openDatabase(settings);
    store::Transaction tx(db);
    AccountStore::addDelegate(db, org, person);
    audit(db, "admin.delegate.added", org + " -> " + person);
    tx.commit();
    std::cout << person << " may now use " << org << '\n';
    return 0;
}

int runPasswd(const app::Settings& settings, const Arguments& args)
{
    args.allowOnly({"config", "password-stdin"});
    if (!args.flag("password-stdin")) throw UsageError("passwd reads the password from standard input: --password-stdin");
    const std::string address = args.word(1, "ADDRESS");
    const std::string hash = accounts::hashPassword(readPasswordFromStdin());
    auto db = openDatabase(settings);
    store::Transaction tx(db);
    AccountStore::setPasswordHash(db, address, hash);
    audit(db, "admin.password.changed", address);
    tx.commit();
    std::cout << "password of " << address << " changed\n";
    return 0;
}

int runCertCommand(const app::Settings& settings, const Arguments& args)
{
    if (args.word(1, "cert action (issue)") != "issue") throw UsageError("unknown cert action " + args.words[1]);
    args.allowOnly({"config", "out"});
    const std::string name = args.word(2, "NAME");
    const std::filesystem::path out = args.requiredOption("out");
    std::filesystem::create_directories(out);
    const std::filesystem::path pki = std::filesystem::path(settings.dataDir) / "pki";
    const auto key = out / (name + ".key");
    const auto cert = out / (name + ".crt");
    trust::DistinguishedNameSpec subject;
    subject.commonName = name;
    subject.organization = "Plexus development PKI";
    subject.country = "FR";
    trust::issueClientCertificate((pki / "ca.key").string(), (pki / "ca.crt").string(), subject, key.string(),
                                  cert.string());
    std::cout << "certificate " << cert.string() << "\nkey         " << key.string() << "\nsubject     "
              << trust::rfc4514SubjectOfCertificateFile(cert.string()) << '\n';
    return 0;
}

}  // namespace plexus::cli
