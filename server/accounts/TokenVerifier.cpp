#include "accounts/TokenVerifier.h"

#include <Poco/Crypto/ECKey.h>
#include <Poco/Crypto/EVPPKey.h>
#include <Poco/Crypto/RSAKey.h>
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JWT/JWTException.h>
#include <Poco/JWT/Signer.h>
#include <Poco/JWT/Token.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <memory>
#include <optional>

namespace plexus::accounts {

using Clock = std::chrono::system_clock;
using Reason = TokenError::Reason;

namespace {

constexpr int minRsaBits = 2048;
constexpr std::size_t maxSubjectLength = 255;

bool isBase64Url(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

// RFC 7515 §7.1 compact serialization: header.payload.signature, base64url.
bool isCompactSerialization(std::string_view jwt)
{
    const auto firstDot = jwt.find('.');
    const auto secondDot = jwt.find('.', firstDot + 1);
    return std::ranges::count(jwt, '.') == 2 && firstDot > 0 && secondDot > firstDot + 1 &&
           std::ranges::all_of(jwt, [](char c) { return c == '.' || isBase64Url(c); });
}

// Unpadded base64url (RFC 7515 §2) length of `bytes` bytes.
std::size_t base64UrlLength(std::size_t bytes) { return (bytes * 4 + 2) / 3; }

// Read with OpenSSL rather than Poco's EVPPKey(file) constructor, which leaks
// when the file is not a key.
Poco::Crypto::EVPPKey loadPem(const std::string& path)
{
    const std::unique_ptr<BIO, decltype(&BIO_free)> file(BIO_new_file(path.c_str(), "r"), BIO_free);
    const std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(
        file ? PEM_read_bio_PUBKEY(file.get(), nullptr, nullptr, nullptr) : nullptr, EVP_PKEY_free);
    if (!key) {
        ERR_clear_error();  // leave no stale error for the next OpenSSL user on this thread
        throw std::invalid_argument("cannot read a PEM public key from " + path);
    }
    return Poco::Crypto::EVPPKey(key.get());  // copies the key
}

bool isP256(const EVP_PKEY* key)
{
    char group[64] = {};
    std::size_t length = 0;
    return EVP_PKEY_get_group_name(key, group, sizeof group, &length) == 1 && OBJ_sn2nid(group) == NID_X9_62_prime256v1;
}

std::optional<std::string> stringClaim(const Poco::JSON::Object& claims, const std::string& name)
{
    const auto value = claims.get(name);
    if (value.isEmpty()) return std::nullopt;
    if (!value.isString()) throw TokenError(Reason::Malformed);
    auto text = value.extract<std::string>();
    if (text.empty()) return std::nullopt;
    return text;
}

// RFC 7519 §2 NumericDate: seconds since the epoch, possibly fractional.
std::optional<Clock::time_point> timeClaim(const Poco::JSON::Object& claims, const std::string& name)
{
    const auto value = claims.get(name);
    if (value.isEmpty()) return std::nullopt;
    if (!value.isNumeric() || value.isBoolean()) throw TokenError(Reason::Malformed);
    const auto seconds = value.convert<double>();
    if (!std::isfinite(seconds) || seconds < 0 || seconds > 1e11) throw TokenError(Reason::Malformed);
    return Clock::time_point(std::chrono::seconds(static_cast<std::int64_t>(seconds)));
}

// RFC 7519 §4.1.3: "aud" is one string or an array of strings.
bool isAudienceOf(const Poco::JSON::Object& claims, const std::string& audience)
{
    const auto single = claims.get("aud");
    if (single.isString()) return single.extract<std::string>() == audience;
    const auto list = claims.getArray("aud");
    return list && std::any_of(list->begin(), list->end(), [&](const Poco::Dynamic::Var& entry) {
               return entry.isString() && entry.extract<std::string>() == audience;
           });
}

std::string subjectOf(const Poco::JSON::Object& claims, const std::vector<std::string>& subjectClaims)
{
    for (const auto& name : subjectClaims) {
        auto subject = stringClaim(claims, name);
        if (!subject) continue;
        // It reaches logs and SQL parameters: keep it short and printable.
        const bool printable = std::ranges::none_of(*subject, [](char c) { return static_cast<unsigned char>(c) < 0x20; });
        if (subject->size() > maxSubjectLength || !printable) throw TokenError(Reason::Malformed);
        return std::move(*subject);
    }
    throw TokenError(Reason::NoSubject);
}

}  // namespace

// The provider's key and the one algorithm it implies (RFC 8725 §3.1: never
// let the token pick the algorithm family).
struct TokenVerifier::PublicKey {
    explicit PublicKey(const std::string& pemPath);
    Poco::JWT::Token verifySignature(const std::string& jwt) const;

    std::string algorithm;
    std::size_t signatureBytes = 0;  // fixed by the key (RFC 7518 §3.3, §3.4)
    Poco::SharedPtr<Poco::Crypto::RSAKey> rsa;
    Poco::SharedPtr<Poco::Crypto::ECKey> ec;
};

TokenVerifier::PublicKey::PublicKey(const std::string& pemPath)
{
    const auto key = loadPem(pemPath);
    const EVP_PKEY* native = key;
    if (EVP_PKEY_get_base_id(native) == EVP_PKEY_RSA && EVP_PKEY_get_bits(native) >= minRsaBits) {
        algorithm = Poco::JWT::Signer::ALGO_RS256;
        signatureBytes = static_cast<std::size_t>(EVP_PKEY_get_size(native));
        rsa = new Poco::Crypto::RSAKey(key);
    } else if (EVP_PKEY_get_base_id(native) == EVP_PKEY_EC && isP256(native)) {
        algorithm = Poco::JWT::Signer::ALGO_ES256;
        signatureBytes = 64;  // R and S, 32 bytes each
        ec = new Poco::Crypto::ECKey(key);
    } else {
        throw std::invalid_argument("token-signing key must be RSA (2048 bits or more) or EC P-256: " + pemPath);
    }
}

Poco::JWT::Token TokenVerifier::PublicKey::verifySignature(const std::string& jwt) const
{
    try {
        if (Poco::JWT::Token(jwt).getAlgorithm() != algorithm) throw TokenError(Reason::AlgorithmNotAllowed);
        // Poco asserts (and leaks) on short ECDSA signatures: check the length first.
        if (jwt.size() - jwt.rfind('.') - 1 != base64UrlLength(signatureBytes)) throw TokenError(Reason::BadSignature);
        // One Signer per call: Signer makes no thread-safety promise, while the
        // keys are only read, which OpenSSL 3 allows from several threads.
        Poco::JWT::Signer signer;
        signer.setAlgorithms({algorithm});
        if (rsa) signer.setRSAKey(rsa);
        if (ec) signer.setECKey(ec);
        return signer.verify(jwt);
    } catch (const Poco::JWT::SignatureVerificationException&) {
        throw TokenError(Reason::BadSignature);
    } catch (const Poco::Exception&) {
        // Poco's messages may quote the token: only the category goes on.
        throw TokenError(Reason::Malformed);
    }
}

TokenError::TokenError(Reason reason) : std::runtime_error(std::string(toString(reason))), reason_(reason) {}

std::string_view toString(TokenError::Reason reason)
{
    switch (reason) {
    case Reason::Malformed: return "malformed token";
    case Reason::AlgorithmNotAllowed: return "signature algorithm not allowed";
    case Reason::BadSignature: return "bad signature";
    case Reason::Expired: return "expired";
    case Reason::NotYetValid: return "not yet valid";
    case Reason::WrongIssuer: return "wrong issuer";
    case Reason::WrongAudience: return "wrong audience";
    case Reason::NoSubject: return "no subject";
    }
    return "unknown";
}

TokenVerifier::TokenVerifier(const TokenPolicy& policy)
    : policy_(policy), key_(std::make_shared<const PublicKey>(policy.publicKeyPemPath))
{
    if (policy_.issuer.empty()) throw std::invalid_argument("the token policy needs an issuer");
    if (policy_.subjectClaims.empty()) throw std::invalid_argument("the token policy needs subject claims");
}

VerifiedToken TokenVerifier::verify(std::string_view jwt, Clock::time_point now) const
{
    if (jwt.size() > maxTokenLength || !isCompactSerialization(jwt)) throw TokenError(Reason::Malformed);
    const auto token = key_->verifySignature(std::string(jwt));
    // RFC 7515 §4.1.11: extensions we do not know must not be ignored.
    if (token.header().has("crit")) throw TokenError(Reason::Malformed);
    const auto& claims = token.payload();

    VerifiedToken verified;
    verified.issuer = stringClaim(claims, "iss").value_or("");
    if (verified.issuer != policy_.issuer) throw TokenError(Reason::WrongIssuer);
    if (!policy_.audience.empty() && !isAudienceOf(claims, policy_.audience)) throw TokenError(Reason::WrongAudience);

    const auto expiresAt = timeClaim(claims, "exp");
    if (!expiresAt) throw TokenError(Reason::Malformed);  // access tokens must expire
    if (now >= *expiresAt + policy_.leeway) throw TokenError(Reason::Expired);
    const auto notBefore = timeClaim(claims, "nbf");
    if (notBefore && now + policy_.leeway < *notBefore) throw TokenError(Reason::NotYetValid);
    verified.expiresAt = *expiresAt;

    verified.subject = subjectOf(claims, policy_.subjectClaims);
    verified.tokenId = stringClaim(claims, "jti").value_or("");
    return verified;
}

}  // namespace plexus::accounts
