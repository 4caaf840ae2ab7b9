// Checks credentials for every protocol (SMTP, IMAP, HTTP): passwords (when the
// operator allows them), Pro Santé Connect access tokens, and TLS client
// certificates of APP accounts. Failed attempts are throttled per client
// address and per account. Never logs or returns a secret.
#pragma once

#include "accounts/AccountStore.h"
#include "accounts/AuthThrottle.h"
#include "accounts/TokenVerifier.h"
#include "accounts/VerifiedPasswordCache.h"
#include "store/ConnectionPool.h"

#include <chrono>
#include <optional>
#include <semaphore>
#include <string>
#include <string_view>
#include <vector>

namespace plexus::accounts {

struct AuthPolicy {
    bool passwordsAllowed = true;
    std::optional<TokenPolicy> token;  // no token policy: XOAUTH2/OAUTHBEARER not offered
    ThrottlePolicy throttle;
};

struct AuthOutcome {
    std::optional<Account> account;  // set on success
    std::string failure;             // reason for logs and audit; empty on success
    bool throttled = false;          // refused without checking: too many failures
    bool ok() const { return account.has_value(); }
};

class Authenticator {
public:
    Authenticator(store::ConnectionPool& pool, AuthPolicy policy);

    bool passwordsAllowed() const { return policy_.passwordsAllowed; }
    bool tokensEnabled() const { return verifier_.has_value(); }
    // How long a throttled client or account stays locked out (HTTP Retry-After).
    std::chrono::seconds lockout() const { return policy_.throttle.lockout; }

    AuthOutcome withPassword(std::string_view address, std::string_view password, std::string_view clientIp);
    // XOAUTH2/OAUTHBEARER: the token's subject (national id) must own `address`
    // or be a delegate of it.
    AuthOutcome withToken(std::string_view address, std::string_view token, std::string_view clientIp);
    // HTTP API (Authorization: Bearer): as withToken when `mailbox` is given;
    // otherwise the one PER account of the token's subject.
    AuthOutcome withTokenFor(std::string_view token, std::string_view mailbox, std::string_view clientIp);
    // SASL EXTERNAL: an APP account named by the certificate (CN, e-mail); `authzid`
    // (may be empty) must be one of those names.
    AuthOutcome withCertificate(const std::vector<std::string>& certificateNames, std::string_view authzid,
                                std::string_view clientIp);

private:
    AuthOutcome refuse(std::string_view address, std::string_view clientIp, std::string reason);
    AuthOutcome accept(const Account& account, std::string_view clientIp);
    // The verified token's subject (a national id), or nullopt with the reason in `failure`.
    std::optional<std::string> tokenSubject(std::string_view token, std::string& failure) const;

    store::ConnectionPool& pool_;
    AuthPolicy policy_;
    // scrypt takes 16 MiB per check: bound how many run at once.
    std::counting_semaphore<> hashing_{4};
    std::optional<TokenVerifier> verifier_;
    AuthThrottle throttle_;
    VerifiedPasswordCache verified_;
};

}  // namespace plexus::accounts
