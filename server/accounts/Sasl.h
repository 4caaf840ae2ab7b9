// SASL credential decoding for PLAIN (RFC 4616), XOAUTH2 (Google's format, the
// MSSanté "API LPS") and OAUTHBEARER (RFC 7628). Parsers take the payload after
// base64 decoding and return nothing on any malformation: the caller answers
// with a generic failure and never echoes the payload (it holds secrets).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace plexus::accounts {

// Strict RFC 4648 §4 base64: standard alphabet, padding required, no
// whitespace, no non-zero pad bits.
std::optional<std::string> decodeBase64(std::string_view text);
std::string encodeBase64(std::string_view bytes);

struct PlainCredentials {
    std::string authzid;  // empty: act as authcid
    std::string authcid;
    std::string password;
};

// RFC 4616 §2: [authzid] NUL authcid NUL passwd. Identities are capped at 255
// octets, the password at maxPasswordLength.
std::optional<PlainCredentials> parsePlain(std::string_view message);

struct BearerCredentials {
    std::string user;   // XOAUTH2 "user", OAUTHBEARER authzid; empty if OAUTHBEARER gave none
    std::string token;  // RFC 6750 b64token, at most maxTokenLength octets
};

// RFC 6750 §2.1 credentials, "Bearer" 1*SP b64token (the scheme is
// case-insensitive), as in XOAUTH2's and OAUTHBEARER's auth= and in an HTTP
// Authorization header: the token, at most maxTokenLength octets.
std::optional<std::string> bearerToken(std::string_view authorization);

// user=<address> ^A auth=Bearer <token> ^A ^A
std::optional<BearerCredentials> parseXoauth2(std::string_view message);

// RFC 7628 §3.1: gs2-header ^A *(key=value ^A) ^A, "auth" required. Channel
// binding ("p=") is refused: it is not offered.
std::optional<BearerCredentials> parseOauthBearer(std::string_view message);

// RFC 7628 §3.2.2 error challenge (JSON, not yet base64-encoded), also sent
// for XOAUTH2. Empty scope / openidConfiguration are left out.
std::string oauthBearerFailureChallenge(std::string_view status, std::string_view scope,
                                        std::string_view openidConfiguration = {});

}  // namespace plexus::accounts
