#include "accounts/SaslServer.h"

#include "accounts/Sasl.h"

#include <Poco/String.h>

#include <utility>

namespace plexus::accounts {

std::vector<std::string> saslMechanisms(const Authenticator& auth, bool hasCertificate)
{
    std::vector<std::string> mechanisms;
    if (auth.passwordsAllowed()) mechanisms.insert(mechanisms.end(), {"PLAIN", "LOGIN"});
    if (auth.tokensEnabled()) mechanisms.insert(mechanisms.end(), {"XOAUTH2", "OAUTHBEARER"});
    if (hasCertificate) mechanisms.emplace_back("EXTERNAL");
    return mechanisms;
}

SaslResult runSaslMechanism(Authenticator& auth, std::string_view mechanism, std::optional<std::string> initial,
                            const std::vector<std::string>& certificateNames, std::string_view clientIp,
                            const SaslExchange& exchange)
{
    using Status = SaslResult::Status;
    // The first response may have come with the command (SASL-IR, RFC 4959).
    auto response = [&](const std::string& challenge) -> std::optional<std::string> {
        if (initial) return std::exchange(initial, std::nullopt);
        return exchange(challenge);
    };
    auto done = [](AuthOutcome outcome) { return SaslResult{Status::Done, std::move(outcome)}; };
    const SaslResult aborted{Status::Aborted, {}};

    if (mechanism == "PLAIN" && auth.passwordsAllowed()) {
        const auto data = response("");
        if (!data) return aborted;
        const auto credentials = parsePlain(*data);
        if (!credentials) return done({{}, "malformed PLAIN response", false});
        if (!credentials->authzid.empty() && Poco::icompare(credentials->authzid, credentials->authcid) != 0)
            return done({{}, "PLAIN authorization identity differs from the login", false});
        return done(auth.withPassword(credentials->authcid, credentials->password, clientIp));
    }
    if (mechanism == "LOGIN" && auth.passwordsAllowed()) {
        const auto user = response("Username:");
        if (!user) return aborted;
        const auto password = response("Password:");
        if (!password) return aborted;
        return done(auth.withPassword(*user, *password, clientIp));
    }
    if ((mechanism == "XOAUTH2" || mechanism == "OAUTHBEARER") && auth.tokensEnabled()) {
        const auto data = response("");
        if (!data) return aborted;
        const auto bearer = mechanism == "XOAUTH2" ? parseXoauth2(*data) : parseOauthBearer(*data);
        auto outcome = bearer ? auth.withToken(bearer->user, bearer->token, clientIp)
                              : AuthOutcome{{}, "malformed " + std::string(mechanism) + " response", false};
        // RFC 7628 3.2.2: an error challenge, answered by a dummy response, then the failure.
        if (!outcome.ok() && !outcome.throttled && !exchange(oauthBearerFailureChallenge("invalid_token", "openid")))
            return aborted;
        return done(std::move(outcome));
    }
    if (mechanism == "EXTERNAL" && !certificateNames.empty()) {
        const auto authzid = response("");
        if (!authzid) return aborted;
        return done(auth.withCertificate(certificateNames, *authzid, clientIp));
    }
    return {Status::Unsupported, {}};
}

}  // namespace plexus::accounts
