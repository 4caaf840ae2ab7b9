#include "accounts/Authenticator.h"

#include "accounts/PasswordHasher.h"

#include <Poco/String.h>

#include <algorithm>
#include <chrono>

namespace plexus::accounts {

namespace {

auto now() { return std::chrono::steady_clock::now(); }

// Verifying against this when the account does not exist keeps the answer time
// the same, so timing does not reveal which addresses exist.
const std::string& decoyHash()
{
    static const std::string hash = hashPassword("plexus-decoy-password");
    return hash;
}

class HashingPermit {
public:
    explicit HashingPermit(std::counting_semaphore<>& permits) : permits_(permits) { permits_.acquire(); }
    ~HashingPermit() { permits_.release(); }
    HashingPermit(const HashingPermit&) = delete;
    HashingPermit& operator=(const HashingPermit&) = delete;

private:
    std::counting_semaphore<>& permits_;
};

}  // namespace

Authenticator::Authenticator(store::ConnectionPool& pool, AuthPolicy policy)
    : pool_(pool), policy_(std::move(policy)), throttle_(policy_.throttle)
{
    if (policy_.token) verifier_.emplace(*policy_.token);
}

AuthOutcome Authenticator::refuse(std::string_view address, std::string_view clientIp, std::string reason)
{
    throttle_.recordFailure(clientIp, address, now());
    AuthOutcome outcome;
    outcome.failure = std::move(reason);
    return outcome;
}

AuthOutcome Authenticator::accept(const Account& account, std::string_view clientIp)
{
    throttle_.recordSuccess(clientIp, account.address, now());
    AuthOutcome outcome;
    outcome.account = account;
    return outcome;
}

AuthOutcome Authenticator::withPassword(std::string_view address, std::string_view password, std::string_view clientIp)
{
    const std::string login = Poco::toLower(std::string(address));
    if (throttle_.isBlocked(clientIp, login, now())) return AuthOutcome{{}, "throttled", true};
    if (!policy_.passwordsAllowed) return refuse(login, clientIp, "passwords disabled");
    auto db = pool_.acquire();
    const auto account = AccountStore::find(*db, login);
    const auto hash = account ? AccountStore::passwordHash(*db, login) : std::nullopt;
    const bool hasHash = hash && !hash->empty();
    bool matches = hasHash && verified_.contains(*hash, password, now());
    if (!matches) {
        HashingPermit permit(hashing_);
        matches = verifyPassword(password, hasHash ? *hash : decoyHash());
        if (matches && hasHash) verified_.remember(*hash, password, now());
    }
    if (!account) return refuse(login, clientIp, "unknown account");
    if (!hash) return refuse(login, clientIp, "account has no password");
    if (!matches) return refuse(login, clientIp, "wrong password");
    return accept(*account, clientIp);
}

AuthOutcome Authenticator::withToken(std::string_view address, std::string_view token, std::string_view clientIp)
{
    const std::string login = Poco::toLower(std::string(address));
    if (throttle_.isBlocked(clientIp, login, now())) return AuthOutcome{{}, "throttled", true};
    std::string failure;
    const auto subject = tokenSubject(token, failure);
    if (!subject) return refuse(login, clientIp, std::move(failure));
    auto db = pool_.acquire();
    const auto account = AccountStore::find(*db, login);
    if (!account) return refuse(login, clientIp, "unknown account");
    if (account->nationalId == *subject) return accept(*account, clientIp);
    // A professional reaching an organizational mailbox delegated to them.
    for (const auto& person : AccountStore::withNationalId(*db, *subject))
        if (AccountStore::isDelegate(*db, account->id, person.id)) return accept(*account, clientIp);
    return refuse(login, clientIp, "token subject " + *subject + " may not use " + login);
}

AuthOutcome Authenticator::withTokenFor(std::string_view token, std::string_view mailbox, std::string_view clientIp)
{
    if (!mailbox.empty()) return withToken(mailbox, token, clientIp);
    // The account is not known before the token is checked: the address alone is throttled until then.
    if (throttle_.isBlocked(clientIp, {}, now())) return AuthOutcome{{}, "throttled", true};
    std::string failure;
    const auto subject = tokenSubject(token, failure);
    if (!subject) return refuse({}, clientIp, std::move(failure));
    auto db = pool_.acquire();
    std::vector<Account> own;
    for (auto& account : AccountStore::withNationalId(*db, *subject))
        if (account.type == AccountType::PER) own.push_back(std::move(account));
    if (own.empty()) return refuse({}, clientIp, "no PER account for token subject " + *subject);
    // Which one is meant cannot be guessed: the client names it.
    if (own.size() > 1) return refuse({}, clientIp, "token subject " + *subject + " has several PER accounts");
    if (throttle_.isBlocked(clientIp, own.front().address, now())) return AuthOutcome{{}, "throttled", true};
    return accept(own.front(), clientIp);
}

std::optional<std::string> Authenticator::tokenSubject(std::string_view token, std::string& failure) const
{
    if (!verifier_) {
        failure = "tokens not configured";
        return std::nullopt;
    }
    try {
        return verifier_->verify(token).subject;
    } catch (const TokenError& e) {
        failure = std::string("token refused: ") + e.what();
        return std::nullopt;
    }
}

AuthOutcome Authenticator::withCertificate(const std::vector<std::string>& certificateNames, std::string_view authzid,
                                           std::string_view clientIp)
{
    std::vector<std::string> names;
    for (const auto& name : certificateNames) names.push_back(Poco::toLower(name));
    const std::string requested = Poco::toLower(std::string(authzid));
    if (!requested.empty() && std::find(names.begin(), names.end(), requested) == names.end())
        return refuse(requested, clientIp, "certificate does not name " + requested);
    auto db = pool_.acquire();
    for (const auto& name : requested.empty() ? names : std::vector<std::string>{requested}) {
        const auto account = AccountStore::find(*db, name);
        if (account && account->type == AccountType::APP) return accept(*account, clientIp);
    }
    return refuse(names.empty() ? std::string() : names.front(), clientIp, "no APP account for this certificate");
}

}  // namespace plexus::accounts
