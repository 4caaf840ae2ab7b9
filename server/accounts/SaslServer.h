// The server side of the SASL mechanisms Plexus offers (PLAIN, LOGIN,
// XOAUTH2, OAUTHBEARER, EXTERNAL), shared by SMTP AUTH (RFC 4954) and IMAP
// AUTHENTICATE (RFC 3501 §6.2.2): the protocol supplies how a challenge is
// sent and a response read; this runs the exchange and checks credentials.
#pragma once

#include "accounts/Authenticator.h"

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace plexus::accounts {

// Sends `challenge` (raw bytes; the protocol base64-encodes it) and returns
// the client's decoded response, or nullopt when the client cancelled or the
// response was undecodable (the protocol has then answered the client).
using SaslExchange = std::function<std::optional<std::string>(const std::string& challenge)>;

struct SaslResult {
    enum class Status { Unsupported, Aborted, Done };
    Status status = Status::Unsupported;
    AuthOutcome outcome;  // Done: the verdict
};

// Mechanisms offered to a client over TLS; EXTERNAL only when it presented a certificate.
std::vector<std::string> saslMechanisms(const Authenticator& auth, bool hasCertificate);

// Runs `mechanism` (upper case) with an optional initial response (SASL-IR).
SaslResult runSaslMechanism(Authenticator& auth, std::string_view mechanism, std::optional<std::string> initial,
                            const std::vector<std::string>& certificateNames, std::string_view clientIp,
                            const SaslExchange& exchange);

}  // namespace plexus::accounts
