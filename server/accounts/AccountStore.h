// MSSanté mailboxes ("BAL") as accounts: who they belong to, their credentials
// and who may act for an organizational mailbox. Stateless: every call takes
// the connection (a pool lease, the CLI's, or a commit job's).
#pragma once

#include "store/Sqlite.h"

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace plexus::accounts {

// Code system TRE_R257-TypeBAL.
enum class AccountType { PER, ORG, APP, CAB };
std::string_view toString(AccountType type);
std::optional<AccountType> parseAccountType(std::string_view text);

class AccountError : public std::runtime_error {
    using std::runtime_error::runtime_error;
};

struct Account {
    std::int64_t id = 0;
    std::string address;
    AccountType type = AccountType::PER;
    std::optional<std::string> nationalId;   // RPPS/ADELI (PER, CAB)
    std::optional<std::string> structureId;  // FINESS/SIRET (ORG, APP)
    std::int64_t quotaBytes = 0;
    std::int64_t usedBytes = 0;
    bool hasPassword = false;
};

struct NewAccount {
    std::string address;
    AccountType type = AccountType::PER;
    std::optional<std::string> nationalId;
    std::optional<std::string> structureId;
    std::int64_t quotaBytes = 0;
    std::optional<std::string> passwordHash;
};

// Lower-cased, validated `local@domain` (RFC 5321 dot-atom local part, at most 254 octets).
std::string normaliseAddress(std::string_view address);
bool isValidAddress(std::string_view address);
std::string domainOf(std::string_view address);

class AccountStore {
public:
    // Creates the account and its default folders; AccountError if it exists or is invalid.
    static Account add(store::Database& db, const NewAccount& account);
    static std::optional<Account> find(store::Database& db, std::string_view address);
    static std::vector<Account> list(store::Database& db);
    static std::vector<Account> withNationalId(store::Database& db, std::string_view nationalId);
    static void setPasswordHash(store::Database& db, std::string_view address, const std::string& hash);
    static std::optional<std::string> passwordHash(store::Database& db, std::string_view address);

    // Delegation of an ORG (or CAB) mailbox to a person's own account.
    static void addDelegate(store::Database& db, std::string_view orgAddress, std::string_view personAddress);
    static bool isDelegate(store::Database& db, std::int64_t orgId, std::int64_t personId);
    static std::vector<Account> delegates(store::Database& db, std::int64_t orgId);

    // The addresses an authenticated account may use as MAIL FROM: its own, and
    // those of the organizational mailboxes delegated to it.
    static bool maySendAs(store::Database& db, const Account& identity, std::string_view address);
};

}  // namespace plexus::accounts
