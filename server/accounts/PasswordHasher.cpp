#include "accounts/PasswordHasher.h"

#include "accounts/Sasl.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>

namespace plexus::accounts {

namespace {

struct ScryptCost {
    unsigned logN = 14;  // N = 2^14: 16 MiB with r=8, ~55 ms here (see header)
    unsigned r = 8;
    unsigned p = 1;
};

constexpr std::size_t saltLength = 16;
constexpr std::size_t hashLength = 32;
constexpr std::string_view prefix = "$scrypt$";

// Bounds on what a stored hash may ask for: tampered data must not make a
// login allocate gigabytes or spin for minutes.
constexpr std::uint64_t maxMemoryBytes = 256ull << 20;
constexpr std::size_t minStoredSaltBytes = 8;
constexpr std::size_t minStoredHashBytes = 16;
constexpr std::size_t maxStoredBytes = 64;

// What OpenSSL allocates: V = 128·r·(N+2) bytes plus B = 128·r·p bytes.
std::uint64_t memoryNeeded(const ScryptCost& cost)
{
    return std::uint64_t{128} * cost.r * ((std::uint64_t{1} << cost.logN) + 2 + cost.p);
}

bool withinBounds(const ScryptCost& cost)
{
    return cost.logN >= 10 && cost.logN <= 20 && cost.r >= 1 && cost.r <= 32 && cost.p >= 1 && cost.p <= 16 &&
           memoryNeeded(cost) <= maxMemoryBytes;
}

using KdfContext = std::unique_ptr<EVP_KDF_CTX, decltype(&EVP_KDF_CTX_free)>;

KdfContext newScryptContext()
{
    std::unique_ptr<EVP_KDF, decltype(&EVP_KDF_free)> kdf(EVP_KDF_fetch(nullptr, "SCRYPT", nullptr), EVP_KDF_free);
    if (!kdf) throw std::runtime_error("OpenSSL has no SCRYPT KDF");
    KdfContext context(EVP_KDF_CTX_new(kdf.get()), EVP_KDF_CTX_free);
    if (!context) throw std::runtime_error("cannot create SCRYPT context");
    return context;
}

// Derives `out.size()` bytes into `out`; false if OpenSSL refuses.
bool scrypt(std::string_view password, std::string_view salt, const ScryptCost& cost, std::string& out)
{
    std::uint64_t n = std::uint64_t{1} << cost.logN;
    std::uint32_t r = cost.r;
    std::uint32_t p = cost.p;
    std::uint64_t maxMemory = memoryNeeded(cost);  // OpenSSL's default cap (32 MiB) is not ours
    // OSSL_PARAM wants non-const pointers but does not write through them.
    const OSSL_PARAM params[] = {
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_PASSWORD, const_cast<char*>(password.data()),
                                          password.size()),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, const_cast<char*>(salt.data()), salt.size()),
        OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_N, &n),
        OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_R, &r),
        OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_P, &p),
        OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_MAXMEM, &maxMemory),
        OSSL_PARAM_construct_end(),
    };
    const auto context = newScryptContext();
    return EVP_KDF_derive(context.get(), reinterpret_cast<unsigned char*>(out.data()), out.size(), params) == 1;
}

// A std::string whose bytes are wiped when it goes away (derived keys).
struct SecretBytes {
    explicit SecretBytes(std::size_t size) : bytes(size, '\0') {}
    ~SecretBytes() { OPENSSL_cleanse(bytes.data(), bytes.size()); }
    SecretBytes(const SecretBytes&) = delete;
    SecretBytes& operator=(const SecretBytes&) = delete;
    std::string bytes;
};

struct EncodedHash {
    ScryptCost cost;
    std::string salt;
    std::string hash;
};

std::string encode(const ScryptCost& cost, std::string_view salt, std::string_view hash)
{
    return std::string(prefix) + "ln=" + std::to_string(cost.logN) + ",r=" + std::to_string(cost.r) +
           ",p=" + std::to_string(cost.p) + "$" + encodeBase64(salt) + "$" + encodeBase64(hash);
}

// Takes `name=<decimal>` off the front of `text`.
std::optional<unsigned> takeParameter(std::string_view& text, std::string_view name)
{
    if (!text.starts_with(name) || text.substr(name.size()).empty() || text[name.size()] != '=') return std::nullopt;
    text.remove_prefix(name.size() + 1);
    unsigned value = 0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (error != std::errc{} || end == text.data()) return std::nullopt;
    text.remove_prefix(static_cast<std::size_t>(end - text.data()));
    return value;
}

// Takes base64 up to the next '$' off the front of `text`.
std::optional<std::string> takeBytes(std::string_view& text, std::size_t minBytes)
{
    const auto end = std::min(text.find('$'), text.size());
    auto bytes = decodeBase64(text.substr(0, end));
    text.remove_prefix(end);
    if (!bytes || bytes->size() < minBytes || bytes->size() > maxStoredBytes) return std::nullopt;
    return bytes;
}

bool takeChar(std::string_view& text, char c)
{
    if (text.empty() || text.front() != c) return false;
    text.remove_prefix(1);
    return true;
}

std::optional<EncodedHash> decode(std::string_view text)
{
    if (!text.starts_with(prefix)) return std::nullopt;
    text.remove_prefix(prefix.size());
    EncodedHash decoded;
    const auto logN = takeParameter(text, "ln");
    if (!logN || !takeChar(text, ',')) return std::nullopt;
    const auto r = takeParameter(text, "r");
    if (!r || !takeChar(text, ',')) return std::nullopt;
    const auto p = takeParameter(text, "p");
    if (!p || !takeChar(text, '$')) return std::nullopt;
    decoded.cost = {*logN, *r, *p};
    auto salt = takeBytes(text, minStoredSaltBytes);
    if (!salt || !takeChar(text, '$')) return std::nullopt;
    auto hash = takeBytes(text, minStoredHashBytes);
    if (!hash || !text.empty() || !withinBounds(decoded.cost)) return std::nullopt;
    decoded.salt = std::move(*salt);
    decoded.hash = std::move(*hash);
    return decoded;
}

}  // namespace

std::string hashPassword(std::string_view password)
{
    if (password.empty() || password.size() > maxPasswordLength)
        throw std::invalid_argument("password must be 1 to " + std::to_string(maxPasswordLength) + " bytes long");
    const ScryptCost cost;
    std::string salt(saltLength, '\0');
    if (RAND_bytes(reinterpret_cast<unsigned char*>(salt.data()), static_cast<int>(salt.size())) != 1)
        throw std::runtime_error("no random bytes for a password salt");
    SecretBytes hash(hashLength);
    if (!scrypt(password, salt, cost, hash.bytes)) throw std::runtime_error("scrypt failed");
    return encode(cost, salt, hash.bytes);
}

bool verifyPassword(std::string_view password, std::string_view encoded)
{
    if (password.empty() || password.size() > maxPasswordLength) return false;
    const auto stored = decode(encoded);
    if (!stored) return false;
    SecretBytes candidate(stored->hash.size());
    if (!scrypt(password, stored->salt, stored->cost, candidate.bytes)) return false;
    return CRYPTO_memcmp(candidate.bytes.data(), stored->hash.data(), candidate.bytes.size()) == 0;
}

}  // namespace plexus::accounts
