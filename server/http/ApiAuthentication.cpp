#include "http/ApiAuthentication.h"

#include "accounts/PasswordHasher.h"
#include "accounts/Sasl.h"
#include "events/EventLog.h"
#include "metrics/Metrics.h"

#include <Poco/JSON/Object.h>
#include <Poco/Logger.h>
#include <Poco/String.h>

namespace plexus::http {

namespace {

using accounts::AuthOutcome;
using Poco::Net::HTTPResponse;
using Poco::Net::HTTPServerRequest;
using Poco::Net::HTTPServerResponse;

// One text for every refusal: which of address, password or token was wrong stays unsaid.
constexpr const char* refusedText = "authentication failed";
constexpr std::size_t maxAddressLength = 254;

struct BasicCredentials {
    std::string user;
    std::string password;
};

// RFC 7617: "Basic" 1*SP base64(user-id ":" password); the scheme is case-insensitive.
std::optional<BasicCredentials> basicCredentials(std::string_view authorization)
{
    constexpr std::string_view scheme = "basic ";
    if (authorization.size() < scheme.size() ||
        Poco::icompare(std::string(authorization.substr(0, scheme.size())), std::string(scheme)) != 0)
        return std::nullopt;
    auto encoded = authorization.substr(scheme.size());
    encoded.remove_prefix(std::min(encoded.find_first_not_of(' '), encoded.size()));
    const auto decoded = accounts::decodeBase64(encoded);
    if (!decoded) return std::nullopt;
    const auto colon = decoded->find(':');
    // Bounded like SASL PLAIN's: the throttle keeps failed logins in memory.
    if (colon == std::string::npos || colon == 0 || colon > maxAddressLength ||
        decoded->size() - colon - 1 > accounts::maxPasswordLength)
        return std::nullopt;
    return BasicCredentials{decoded->substr(0, colon), decoded->substr(colon + 1)};
}

// The scheme of an Authorization header, from a fixed vocabulary (it labels metrics).
std::string schemeOf(const std::string& authorization)
{
    const auto scheme = Poco::toLower(authorization.substr(0, authorization.find(' ')));
    return scheme == "basic" || scheme == "bearer" ? scheme : "other";
}

void challenge(const HTTPServerRequest& request, HTTPServerResponse& response, bool passwordsAllowed,
               const std::string& message)
{
    closeConnectionIfRequestHasBody(request, response);
    response.set("WWW-Authenticate",
                 passwordsAllowed ? R"(Basic realm="plexus", Bearer realm="plexus")" : R"(Bearer realm="plexus")");
    sendJsonError(response, HTTPResponse::HTTP_UNAUTHORIZED, message);
}

AuthOutcome checkCredentials(accounts::Authenticator& authenticator, const std::string& scheme,
                             const std::string& authorization, const std::string& mailbox, const std::string& clientIp)
{
    if (scheme == "basic") {
        const auto credentials = basicCredentials(authorization);
        if (!credentials) return {{}, "malformed Basic credentials", false};
        // As SASL PLAIN's authorization identity: a password proves only its own mailbox.
        if (!mailbox.empty() && Poco::icompare(mailbox, credentials->user) != 0)
            return {{}, std::string(mailboxHeader) + " differs from the Basic login", false};
        return authenticator.withPassword(credentials->user, credentials->password, clientIp);
    }
    if (scheme == "bearer") {
        const auto token = accounts::bearerToken(authorization);
        if (!token) return {{}, "malformed Bearer credentials", false};
        return authenticator.withTokenFor(*token, mailbox, clientIp);
    }
    return {{}, "unsupported authorization scheme", false};
}

// Logged, counted and audited like the logins of the mail protocols.
void recordAttempt(store::CommitQueue& commits, const AuthOutcome& outcome, const std::string& scheme,
                   const std::string& clientIp)
{
    Poco::JSON::Object detail;
    detail.set("service", "http");
    detail.set("mechanism", scheme);
    auto& log = Poco::Logger::get("http");
    const std::string address = outcome.ok() ? outcome.account->address : "";
    if (outcome.ok()) {
        log.debug("%s authenticated as %s with %s", clientIp, address, scheme);
    } else {
        metrics::Registry::instance()
            .counter("plexus_auth_failures_total", "Failed authentications", "mechanism=\"http-" + scheme + "\"")
            .add();
        detail.set("reason", outcome.failure);
        log.notice("API authentication failure from %s with %s: %s", clientIp, scheme, outcome.failure);
    }
    const events::Event event{"auth.login", address, clientIp, address, outcome.ok() ? "success" : "failure",
                              events::detailJson(detail)};
    commits.post([event](store::Database& db) { events::EventLog::append(db, event); });
}

}  // namespace

std::optional<ApiIdentity> ApiAuthentication::identify(HTTPServerRequest& request, HTTPServerResponse& response) const
{
    const std::string authorization = request.get("Authorization", "");
    if (authorization.empty()) {
        challenge(request, response, authenticator_->passwordsAllowed(), "authentication required");
        return std::nullopt;
    }
    const std::string clientIp = request.clientAddress().host().toString();
    const std::string scheme = schemeOf(authorization);
    const std::string mailbox = request.get(mailboxHeader, "");
    const auto outcome = checkCredentials(*authenticator_, scheme, authorization, mailbox, clientIp);
    recordAttempt(*commits_, outcome, scheme, clientIp);
    if (outcome.ok()) return ApiIdentity{*outcome.account, scheme};
    if (outcome.throttled) {
        closeConnectionIfRequestHasBody(request, response);
        response.set("Retry-After", std::to_string(authenticator_->lockout().count()));
        sendJsonError(response, HTTPResponse::HTTP_TOO_MANY_REQUESTS,
                      "too many authentication failures; try again later");
    } else {
        challenge(request, response, authenticator_->passwordsAllowed(), refusedText);
    }
    return std::nullopt;
}

Handler ApiAuthentication::authenticated(ApiHandler handler) const
{
    return [authentication = *this, handler = std::move(handler)](HTTPServerRequest& request,
                                                                   HTTPServerResponse& response) {
        if (const auto identity = authentication.identify(request, response)) handler(request, response, *identity);
    };
}

void addWhoamiRoute(HttpApi& api, const ApiAuthentication& authentication)
{
    const auto whoami = [](HTTPServerRequest& request, HTTPServerResponse& response, const ApiIdentity& identity) {
        if (request.getMethod() != Poco::Net::HTTPRequest::HTTP_GET) {
            closeConnectionIfRequestHasBody(request, response);
            response.set("Allow", "GET");
            sendJsonError(response, HTTPResponse::HTTP_METHOD_NOT_ALLOWED, "only GET");
            return;
        }
        Poco::JSON::Object body;
        body.set("address", identity.account.address);
        body.set("type", std::string(accounts::toString(identity.account.type)));
        body.set("method", identity.method);
        sendJson(response, HTTPResponse::HTTP_OK, body);
    };
    api.addRoute("/api/whoami", authentication.authenticated(whoami));
}

}  // namespace plexus::http
