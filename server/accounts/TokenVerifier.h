// Checks Pro Santé Connect access tokens: signed JWTs (RFC 7519) verified
// locally against the provider's public key.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace plexus::accounts {

inline constexpr std::size_t maxTokenLength = 16 * 1024;

struct TokenPolicy {
    std::string issuer;
    std::string audience;  // empty: not checked
    // PEM "PUBLIC KEY": RSA (>= 2048 bits, tokens must be RS256) or EC P-256
    // (tokens must be ES256). The key type fixes the one accepted algorithm, so
    // "none" and HS256-with-the-public-key tokens are refused.
    std::string publicKeyPemPath;
    // First claim present as a non-empty string wins; PSC puts the national
    // id (RPPS…) in SubjectNameID.
    std::vector<std::string> subjectClaims = {"SubjectNameID", "preferred_username", "sub"};
    std::chrono::seconds leeway{60};  // clock skew allowed on exp and nbf
};

struct VerifiedToken {
    std::string subject;  // national id, e.g. RPPS "810001234567"
    std::string issuer;
    std::chrono::system_clock::time_point expiresAt;
    std::string tokenId;  // "jti", empty if absent
};

// Why a token was refused. what() is the reason's name only: safe to log, the
// token never appears in it.
class TokenError : public std::runtime_error {
public:
    enum class Reason { Malformed, AlgorithmNotAllowed, BadSignature, Expired, NotYetValid, WrongIssuer, WrongAudience, NoSubject };

    explicit TokenError(Reason reason);
    Reason reason() const noexcept { return reason_; }

private:
    Reason reason_;
};

std::string_view toString(TokenError::Reason reason);

class TokenVerifier {
public:
    // Loads the key; std::invalid_argument if it cannot be read or is unsuitable.
    explicit TokenVerifier(const TokenPolicy& policy);

    // Thread-safe. Throws TokenError. Signature first, then claims; "exp" is required.
    VerifiedToken verify(std::string_view jwt,
                         std::chrono::system_clock::time_point now = std::chrono::system_clock::now()) const;

    struct PublicKey;

private:
    TokenPolicy policy_;
    std::shared_ptr<const PublicKey> key_;
};

}  // namespace plexus::accounts
