#include "accounts/AccountStore.h"

#include "store/MailboxStore.h"

#include <Poco/String.h>

#include <chrono>

namespace plexus::accounts {

using store::Database;

std::string_view toString(AccountType type)
{
    switch (type) {
    case AccountType::PER: return "PER";
    case AccountType::ORG: return "ORG";
    case AccountType::APP: return "APP";
    case AccountType::CAB: return "CAB";
    }
    return "PER";
}

std::optional<AccountType> parseAccountType(std::string_view text)
{
    for (auto type : {AccountType::PER, AccountType::ORG, AccountType::APP, AccountType::CAB})
        if (Poco::icompare(std::string(text), std::string(toString(type))) == 0) return type;
    return std::nullopt;
}

namespace {

bool isAtext(char c)
{
    // RFC 5322 3.2.3 atext
    static constexpr std::string_view specials = "!#$%&'*+-/=?^_`{|}~";
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           specials.find(c) != std::string_view::npos;
}

bool isDotAtom(std::string_view text)
{
    if (text.empty() || text.front() == '.' || text.back() == '.') return false;
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '.') {
            if (text[i + 1] == '.') return false;
        } else if (!isAtext(text[i])) {
            return false;
        }
    }
    return true;
}

bool isDomainName(std::string_view domain)
{
    if (domain.empty() || domain.size() > 253) return false;
    std::size_t labelStart = 0;
    for (std::size_t i = 0; i <= domain.size(); ++i) {
        if (i == domain.size() || domain[i] == '.') {
            const auto label = domain.substr(labelStart, i - labelStart);
            if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') return false;
            labelStart = i + 1;
        } else {
            const char c = domain[i];
            if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-')) return false;
        }
    }
    return true;
}

Account readAccount(store::Statement& stmt)
{
    Account a;
    a.id = stmt.int64(0);
    a.address = stmt.text(1);
    a.type = parseAccountType(stmt.text(2)).value_or(AccountType::PER);
    a.nationalId = stmt.optionalText(3);
    a.structureId = stmt.optionalText(4);
    a.quotaBytes = stmt.int64(5);
    a.usedBytes = stmt.int64(6);
    a.hasPassword = !stmt.isNull(7);
    return a;
}

constexpr const char* selectAccount =
    "SELECT id, address, type, national_id, structure_id, quota_bytes, used_bytes, password_hash FROM accounts ";

}  // namespace

bool isValidAddress(std::string_view address)
{
    const auto at = address.rfind('@');
    if (at == std::string_view::npos || address.size() > 254) return false;
    const auto local = address.substr(0, at);
    return local.size() <= 64 && isDotAtom(local) && isDomainName(address.substr(at + 1));
}

std::string normaliseAddress(std::string_view address)
{
    if (!isValidAddress(address)) throw AccountError("invalid address: " + std::string(address));
    return Poco::toLower(std::string(address));
}

std::string domainOf(std::string_view address)
{
    const auto at = address.rfind('@');
    return at == std::string_view::npos ? std::string() : Poco::toLower(std::string(address.substr(at + 1)));
}

Account AccountStore::add(Database& db, const NewAccount& account)
{
    const std::string address = normaliseAddress(account.address);
    if (find(db, address)) throw AccountError("mailbox " + address + " already exists");
    const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                         std::chrono::system_clock::now().time_since_epoch()).count();
    db.prepare(
          "INSERT INTO accounts (address, type, national_id, structure_id, password_hash, quota_bytes, created_at) "
          "VALUES (?, ?, ?, ?, ?, ?, ?)")
        .bind(1, address)
        .bind(2, toString(account.type))
        .bindOptional(3, account.nationalId)
        .bindOptional(4, account.structureId)
        .bindOptional(5, account.passwordHash)
        .bind(6, account.quotaBytes)
        .bind(7, static_cast<std::int64_t>(now))
        .run();
    store::MailboxStore::createDefaultFolders(db, db.lastInsertId());
    return *find(db, address);
}

std::optional<Account> AccountStore::find(Database& db, std::string_view address)
{
    auto stmt = db.prepare(std::string(selectAccount) + "WHERE address = ?");
    stmt.bind(1, address);
    if (!stmt.step()) return std::nullopt;
    return readAccount(stmt);
}

std::vector<Account> AccountStore::list(Database& db)
{
    auto stmt = db.prepare(std::string(selectAccount) + "ORDER BY address");
    std::vector<Account> result;
    while (stmt.step()) result.push_back(readAccount(stmt));
    return result;
}

std::vector<Account> AccountStore::withNationalId(Database& db, std::string_view nationalId)
{
    auto stmt = db.prepare(std::string(selectAccount) + "WHERE national_id = ? ORDER BY address");
    stmt.bind(1, nationalId);
    std::vector<Account> result;
    while (stmt.step()) result.push_back(readAccount(stmt));
    return result;
}

void AccountStore::setPasswordHash(Database& db, std::string_view address, const std::string& hash)
{
    db.prepare("UPDATE accounts SET password_hash = ? WHERE address = ?").bind(1, hash).bind(2, address).run();
    if (db.changes() == 0) throw AccountError("no mailbox " + std::string(address));
}

std::optional<std::string> AccountStore::passwordHash(Database& db, std::string_view address)
{
    auto stmt = db.prepare("SELECT password_hash FROM accounts WHERE address = ?");
    stmt.bind(1, address);
    if (!stmt.step()) return std::nullopt;
    return stmt.optionalText(0);
}

void AccountStore::addDelegate(Database& db, std::string_view orgAddress, std::string_view personAddress)
{
    const auto org = find(db, orgAddress);
    const auto person = find(db, personAddress);
    if (!org) throw AccountError("no mailbox " + std::string(orgAddress));
    if (!person) throw AccountError("no mailbox " + std::string(personAddress));
    if (org->type != AccountType::ORG && org->type != AccountType::CAB)
        throw AccountError(org->address + " is a " + std::string(toString(org->type)) +
                           " mailbox; only ORG and CAB mailboxes have delegates");
    if (person->type != AccountType::PER)
        throw AccountError(person->address + " is not a personal (PER) mailbox");
    db.prepare("INSERT OR IGNORE INTO delegations (org_id, person_id) VALUES (?, ?)")
        .bind(1, org->id)
        .bind(2, person->id)
        .run();
    // IMAP access: the delegate gets every right but "a" (administer) on each existing
    // folder of the organization; folders created later inherit it (FolderStore::create).
    // An "a" the delegate already had is kept.
    db.prepare("INSERT INTO acl (mailbox_id, identifier, rights) SELECT id, ?1, 'lrswipkxte' FROM mailboxes "
               "WHERE account_id = ?2 ON CONFLICT (mailbox_id, identifier) DO UPDATE "
               "SET rights = 'lrswipkxte' || iif(instr(acl.rights, 'a') > 0, 'a', '')")
        .bind(1, person->address)
        .bind(2, org->id)
        .run();
}

bool AccountStore::isDelegate(Database& db, std::int64_t orgId, std::int64_t personId)
{
    auto stmt = db.prepare("SELECT 1 FROM delegations WHERE org_id = ? AND person_id = ?");
    stmt.bind(1, orgId).bind(2, personId);
    return stmt.step();
}

std::vector<Account> AccountStore::delegates(Database& db, std::int64_t orgId)
{
    auto stmt = db.prepare(std::string(selectAccount) +
                           "WHERE id IN (SELECT person_id FROM delegations WHERE org_id = ?) ORDER BY address");
    stmt.bind(1, orgId);
    std::vector<Account> result;
    while (stmt.step()) result.push_back(readAccount(stmt));
    return result;
}

bool AccountStore::maySendAs(Database& db, const Account& identity, std::string_view address)
{
    if (Poco::icompare(identity.address, std::string(address)) == 0) return true;
    const auto target = find(db, address);
    return target && isDelegate(db, target->id, identity.id);
}

}  // namespace plexus::accounts
