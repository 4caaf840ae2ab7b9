// Authentication of the HTTP API: every route under /api/ is wrapped by
// ApiAuthentication::authenticated(). A client proves who it is on each request:
//   Authorization: Basic base64(address ":" password)  (when passwords are allowed)
//   Authorization: Bearer <Pro Santé Connect access token>
// A token acts as the one PER account of its subject (a national id), or as
// the mailbox named by X-Plexus-Mailbox when its subject owns it or is one of
// its delegates, the rule of IMAP and SMTP. Credentials are checked by the
// accounts::Authenticator, so throttling is shared with the mail protocols;
// every attempt is logged and audited (auth.login, service "http"), never the
// Authorization header itself.
#pragma once

#include "accounts/Authenticator.h"
#include "http/HttpApi.h"
#include "store/CommitQueue.h"

#include <functional>
#include <optional>
#include <string>

namespace plexus::http {

// Names the mailbox a Bearer token acts for; with Basic it may only repeat the login.
inline constexpr const char* mailboxHeader = "X-Plexus-Mailbox";

struct ApiIdentity {
    accounts::Account account;
    std::string method;  // "basic" or "bearer"
};

using ApiHandler = std::function<void(Poco::Net::HTTPServerRequest&, Poco::Net::HTTPServerResponse&,
                                      const ApiIdentity&)>;

class ApiAuthentication {
public:
    // Both must outlive the handlers made here; audit events go through `commits`.
    ApiAuthentication(accounts::Authenticator& authenticator, store::CommitQueue& commits)
        : authenticator_(&authenticator), commits_(&commits)
    {
    }

    // `handler` runs for authenticated requests only. Other requests get 401
    // with WWW-Authenticate and the same {"error"} whatever failed (no account
    // enumeration), or 429 with Retry-After when the client or account is
    // locked out.
    Handler authenticated(ApiHandler handler) const;

private:
    // Who sent the request; nullopt once the 401 or 429 answer is sent.
    std::optional<ApiIdentity> identify(Poco::Net::HTTPServerRequest& request,
                                        Poco::Net::HTTPServerResponse& response) const;

    accounts::Authenticator* authenticator_;
    store::CommitQueue* commits_;
};

// GET /api/whoami: {"address", "type", "method"} of the authenticated client,
// for operators checking a client's credentials.
void addWhoamiRoute(HttpApi& api, const ApiAuthentication& authentication);

}  // namespace plexus::http
