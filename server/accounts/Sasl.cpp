#include "accounts/Sasl.h"

#include "accounts/PasswordHasher.h"
#include "accounts/TokenVerifier.h"

#include <Poco/JSON/Object.h>

#include <openssl/evp.h>

#include <algorithm>
#include <climits>
#include <sstream>
#include <stdexcept>
#include <utility>
#include <vector>

namespace plexus::accounts {

namespace {

constexpr std::string_view base64Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr std::size_t maxIdentityLength = 255;  // RFC 4616 §2
constexpr char kvsep = '\x01';                  // RFC 7628 §3.1

bool isAlpha(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); }
bool isDigit(char c) { return c >= '0' && c <= '9'; }
bool isControl(char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; }
bool isOneOf(std::string_view set, char c) { return set.find(c) != std::string_view::npos; }

// The low bits of the last symbol that padding leaves unused must be zero
// (RFC 4648 §3.5), so that every byte string has one encoding.
bool padBitsAreZero(char last, std::size_t padding)
{
    const auto value = base64Alphabet.find(last);
    const auto unusedMask = padding == 2 ? 0x0fu : 0x03u;
    return (value & unusedMask) == 0;
}

// An identity we pass on (authzid, authcid, user): bounded, printable.
bool isAcceptableIdentity(std::string_view id)
{
    return id.size() <= maxIdentityLength && std::ranges::none_of(id, isControl);
}

// RFC 7628 §3.1: key = 1*(ALPHA); value = *(VCHAR / SP / HTAB / CR / LF).
bool isKey(std::string_view key) { return !key.empty() && std::ranges::all_of(key, isAlpha); }
bool isValue(std::string_view value)
{
    return std::ranges::all_of(value, [](char c) { return c == '\t' || c == '\r' || c == '\n' || !isControl(c); });
}

using KeyValues = std::vector<std::pair<std::string_view, std::string_view>>;

std::optional<std::string_view> valueOf(const KeyValues& pairs, std::string_view key)
{
    const auto found = std::ranges::find(pairs, key, &KeyValues::value_type::first);
    if (found == pairs.end()) return std::nullopt;
    return found->second;
}

// *(key "=" value kvsep) kvsep; a repeated key makes the message ambiguous.
std::optional<KeyValues> parseKeyValues(std::string_view text)
{
    if (!text.ends_with(kvsep)) return std::nullopt;
    text.remove_suffix(1);
    KeyValues pairs;
    while (!text.empty()) {
        const auto end = text.find(kvsep);
        const auto equals = text.substr(0, end).find('=');
        if (end == std::string_view::npos || equals == std::string_view::npos) return std::nullopt;
        const auto key = text.substr(0, equals);
        const auto value = text.substr(equals + 1, end - equals - 1);
        if (!isKey(key) || !isValue(value) || valueOf(pairs, key)) return std::nullopt;
        pairs.emplace_back(key, value);
        text.remove_prefix(end + 1);
    }
    return pairs;
}

bool startsWithIgnoringCase(std::string_view text, std::string_view prefix)
{
    return text.size() >= prefix.size() &&
           std::ranges::equal(text.substr(0, prefix.size()), prefix,
                              [](char a, char b) { return (a | 0x20) == (b | 0x20); });
}

// RFC 6750 §2.1: b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
bool isB64Token(std::string_view token)
{
    const auto body = token.substr(0, token.find('='));
    const auto isTokenChar = [](char c) { return isAlpha(c) || isDigit(c) || isOneOf("-._~+/", c); };
    return !body.empty() && std::ranges::all_of(body, isTokenChar) &&
           std::ranges::all_of(token.substr(body.size()), [](char c) { return c == '='; });
}

}  // namespace

std::optional<std::string> bearerToken(std::string_view authorization)
{
    constexpr std::string_view scheme = "Bearer ";
    if (!startsWithIgnoringCase(authorization, scheme)) return std::nullopt;
    auto token = authorization.substr(scheme.size());
    token.remove_prefix(std::min(token.find_first_not_of(' '), token.size()));
    if (token.size() > maxTokenLength || !isB64Token(token)) return std::nullopt;
    return std::string(token);
}

namespace {

std::optional<BearerCredentials> bearerCredentials(const KeyValues& pairs, std::string_view user)
{
    const auto authorization = valueOf(pairs, "auth");
    if (!authorization || !isAcceptableIdentity(user)) return std::nullopt;
    auto token = bearerToken(*authorization);
    if (!token) return std::nullopt;
    return BearerCredentials{std::string(user), std::move(*token)};
}

// RFC 5801 §5.1 saslname: "," and "=" travel as "=2C" and "=3D"; any other "=" is invalid.
std::optional<std::string> decodeSaslName(std::string_view name)
{
    std::string decoded;
    for (std::size_t i = 0; i < name.size(); ++i) {
        if (name[i] != '=') {
            decoded += name[i];
            continue;
        }
        const auto escape = name.substr(i + 1, 2);
        if (escape != "2C" && escape != "3D") return std::nullopt;
        decoded += escape == "2C" ? ',' : '=';
        i += 2;
    }
    return decoded;
}

// RFC 7628 §3.1 gs2-header = gs2-cb-flag "," [ gs2-authzid ] "," with
// gs2-cb-flag "n" or "y" ("p=": channel binding is not offered).
std::optional<std::string> authzidOfGs2Header(std::string_view header)
{
    if (!header.starts_with("n,") && !header.starts_with("y,")) return std::nullopt;
    header.remove_prefix(2);
    if (!header.ends_with(',') || std::ranges::count(header, ',') != 1) return std::nullopt;
    header.remove_suffix(1);
    if (header.empty()) return std::string();
    if (!header.starts_with("a=") || header.size() == 2) return std::nullopt;
    return decodeSaslName(header.substr(2));
}

}  // namespace

std::optional<std::string> decodeBase64(std::string_view text)
{
    if (text.size() % 4 != 0 || text.size() > INT_MAX) return std::nullopt;
    const std::size_t padding = text.ends_with("==") ? 2 : text.ends_with('=') ? 1 : 0;
    const auto symbols = text.substr(0, text.size() - padding);
    if (!std::ranges::all_of(symbols, [](char c) { return isOneOf(base64Alphabet, c); })) return std::nullopt;
    if (padding > 0 && !padBitsAreZero(symbols.back(), padding)) return std::nullopt;
    std::string bytes(text.size() / 4 * 3, '\0');
    const int decoded = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(bytes.data()),
                                        reinterpret_cast<const unsigned char*>(text.data()), static_cast<int>(text.size()));
    if (decoded < 0) return std::nullopt;
    bytes.resize(static_cast<std::size_t>(decoded) - padding);  // EVP_DecodeBlock counts padding as zero bytes
    return bytes;
}

std::string encodeBase64(std::string_view bytes)
{
    if (bytes.size() > INT_MAX / 4 * 3) throw std::length_error("too large to encode in base64");
    std::string text((bytes.size() + 2) / 3 * 4 + 1, '\0');
    const int length = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(text.data()),
                                       reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<int>(bytes.size()));
    text.resize(static_cast<std::size_t>(length));
    return text;
}

std::optional<PlainCredentials> parsePlain(std::string_view message)
{
    if (std::ranges::count(message, '\0') != 2) return std::nullopt;
    const auto first = message.find('\0');
    const auto second = message.find('\0', first + 1);
    PlainCredentials credentials{std::string(message.substr(0, first)),
                                 std::string(message.substr(first + 1, second - first - 1)),
                                 std::string(message.substr(second + 1))};
    if (credentials.authcid.empty() || credentials.password.empty() ||
        credentials.password.size() > maxPasswordLength || !isAcceptableIdentity(credentials.authzid) ||
        !isAcceptableIdentity(credentials.authcid))
        return std::nullopt;
    return credentials;
}

std::optional<BearerCredentials> parseXoauth2(std::string_view message)
{
    const auto pairs = parseKeyValues(message);
    if (!pairs) return std::nullopt;
    const auto user = valueOf(*pairs, "user");
    if (!user || user->empty()) return std::nullopt;
    return bearerCredentials(*pairs, *user);
}

std::optional<BearerCredentials> parseOauthBearer(std::string_view message)
{
    const auto headerEnd = message.find(kvsep);
    if (headerEnd == std::string_view::npos) return std::nullopt;
    const auto authzid = authzidOfGs2Header(message.substr(0, headerEnd));
    const auto pairs = parseKeyValues(message.substr(headerEnd + 1));
    if (!authzid || !pairs) return std::nullopt;
    return bearerCredentials(*pairs, *authzid);
}

std::string oauthBearerFailureChallenge(std::string_view status, std::string_view scope,
                                        std::string_view openidConfiguration)
{
    Poco::JSON::Object challenge;
    challenge.set("status", std::string(status));
    if (!scope.empty()) challenge.set("scope", std::string(scope));
    if (!openidConfiguration.empty()) challenge.set("openid-configuration", std::string(openidConfiguration));
    std::ostringstream json;
    challenge.stringify(json);
    return json.str();
}

}  // namespace plexus::accounts
