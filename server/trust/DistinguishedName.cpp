#include "trust/DistinguishedName.h"

#include "trust/OpenSsl.h"

#include <openssl/err.h>
#include <openssl/objects.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <tuple>
#include <utility>

namespace plexus::trust {

namespace {

struct AttributeTypeName {
    std::string_view name;
    std::string_view oid;
};

// Types named in text by their short name; any other type is named by its OID.
constexpr AttributeTypeName kNamedTypes[] = {
    {"CN", "2.5.4.3"},
    {"SN", "2.5.4.4"},
    {"SERIALNUMBER", "2.5.4.5"},
    {"C", "2.5.4.6"},
    {"L", "2.5.4.7"},
    {"ST", "2.5.4.8"},
    {"STREET", "2.5.4.9"},
    {"O", "2.5.4.10"},
    {"OU", "2.5.4.11"},
    {"TITLE", "2.5.4.12"},
    {"POSTALCODE", "2.5.4.17"},
    {"GIVENNAME", "2.5.4.42"},
    {"INITIALS", "2.5.4.43"},
    {"ORGANIZATIONIDENTIFIER", "2.5.4.97"},
    {"UID", "0.9.2342.19200300.100.1.1"},
    {"DC", "0.9.2342.19200300.100.1.25"},
    {"EMAILADDRESS", "1.2.840.113549.1.9.1"},
};

// Other spellings of those types (OpenSSL, Java, Windows, X.520 long names), upper case.
constexpr std::pair<std::string_view, std::string_view> kTypeAliases[] = {
    {"S", "ST"},
    {"STATEORPROVINCENAME", "ST"},
    {"E", "EMAILADDRESS"},
    {"EMAIL", "EMAILADDRESS"},
    {"GN", "GIVENNAME"},
    {"G", "GIVENNAME"},
    {"SURNAME", "SN"},
    {"COMMONNAME", "CN"},
    {"COUNTRYNAME", "C"},
    {"LOCALITYNAME", "L"},
    {"STREETADDRESS", "STREET"},
    {"ORGANIZATIONNAME", "O"},
    {"ORGANIZATIONALUNITNAME", "OU"},
    {"DOMAINCOMPONENT", "DC"},
    {"USERID", "UID"},
};

// Characters that must be escaped anywhere in an RFC 4514 value.
constexpr std::string_view kAlwaysEscaped = "\"+,;<>\\";
// Of those, the ones refused unescaped inside a value: the national list writes
// '"' unescaped (O=CRLCC "PAUL STRAUSS"), and ',', '+' and '\' end or escape it.
constexpr std::string_view kRefusedUnescaped = ";<>";
// Characters that may follow '\' besides two hex digits.
constexpr std::string_view kEscapable = "\"+,;<>\\ #=";

bool isAsciiSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }
bool isDigit(char c) { return c >= '0' && c <= '9'; }
bool isAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
char toLower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }
char toUpper(char c) { return c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c; }

int hexDigitValue(char c)
{
    if (isDigit(c)) return c - '0';
    const char lower = toLower(c);
    return lower >= 'a' && lower <= 'f' ? lower - 'a' + 10 : -1;
}

std::string upperCase(std::string_view text)
{
    std::string upper(text);
    std::ranges::transform(upper, upper.begin(), toUpper);
    return upper;
}

// Well-formed UTF-8: no overlong forms, no surrogates, nothing above U+10FFFF.
bool isValidUtf8(std::string_view text)
{
    for (std::size_t i = 0; i < text.size();) {
        const auto lead = static_cast<unsigned char>(text[i]);
        const std::size_t length = lead < 0x80            ? 1
                                   : (lead >> 5) == 0x06 ? 2
                                   : (lead >> 4) == 0x0E ? 3
                                   : (lead >> 3) == 0x1E ? 4
                                                         : 0;
        if (length == 0 || i + length > text.size()) return false;
        std::uint32_t codePoint = length == 1 ? lead : lead & (0x7F >> length);
        for (std::size_t k = 1; k < length; ++k) {
            const auto next = static_cast<unsigned char>(text[i + k]);
            if ((next & 0xC0) != 0x80) return false;
            codePoint = (codePoint << 6) | (next & 0x3F);
        }
        constexpr std::uint32_t kSmallestOfLength[] = {0, 0, 0x80, 0x800, 0x10000};
        if (codePoint < kSmallestOfLength[length] || codePoint > 0x10FFFF ||
            (codePoint >= 0xD800 && codePoint <= 0xDFFF))
            return false;
        i += length;
    }
    return true;
}

std::string canonicalTypeOfOid(std::string_view oid)
{
    const auto* known = std::ranges::find(kNamedTypes, oid, &AttributeTypeName::oid);
    return std::string(known != std::end(kNamedTypes) ? known->name : oid);
}

std::string dottedOid(const ASN1_OBJECT* object)
{
    std::array<char, 128> buffer{};
    const int length = OBJ_obj2txt(buffer.data(), buffer.size(), object, 1);
    if (length <= 0 || static_cast<std::size_t>(length) >= buffer.size())
        throw DnError("attribute type OID cannot be read: " + openssl::drainErrors());
    return std::string(buffer.data(), static_cast<std::size_t>(length));
}

// A keyword we do not list may still be one OpenSSL knows ("businessCategory"):
// it then gets the same canonical form as in a certificate, its OID.
std::optional<std::string> canonicalTypeOfKeyword(std::string_view keyword)
{
    const std::string upper = upperCase(keyword);
    if (std::ranges::find(kNamedTypes, upper, &AttributeTypeName::name) != std::end(kNamedTypes)) return upper;
    const auto* alias = std::ranges::find(kTypeAliases, upper, &std::pair<std::string_view, std::string_view>::first);
    if (alias != std::end(kTypeAliases)) return std::string(alias->second);
    const std::string name(keyword);
    int nid = OBJ_sn2nid(name.c_str());
    if (nid == NID_undef) nid = OBJ_ln2nid(name.c_str());
    if (nid == NID_undef) return std::nullopt;
    return canonicalTypeOfOid(dottedOid(OBJ_nid2obj(nid)));
}

std::string utf8Of(const ASN1_STRING* text)
{
    unsigned char* converted = nullptr;
    const int length = ASN1_STRING_to_UTF8(&converted, text);
    if (length < 0) throw DnError("attribute value cannot be converted to UTF-8: " + openssl::drainErrors());
    const auto freeConverted = [](unsigned char* bytes) { OPENSSL_free(bytes); };
    const std::unique_ptr<unsigned char, decltype(freeConverted)> owner(converted, freeConverted);
    return std::string(reinterpret_cast<const char*>(converted), static_cast<std::size_t>(length));
}

std::string escapedValue(std::string_view value)
{
    std::string escaped;
    escaped.reserve(value.size());
    for (std::size_t i = 0; i < value.size(); ++i) {
        const char c = value[i];
        if (c == '\0') {
            escaped += "\\00";
            continue;
        }
        const bool edgeSpecial = (i == 0 && (c == ' ' || c == '#')) || (i + 1 == value.size() && c == ' ');
        if (edgeSpecial || kAlwaysEscaped.find(c) != std::string_view::npos) escaped += '\\';
        escaped += c;
    }
    return escaped;
}

std::string rendered(const std::vector<RelativeDistinguishedName>& rdns)
{
    std::string text;
    for (const auto& rdn : rdns) {
        if (!text.empty()) text += ',';
        for (std::size_t i = 0; i < rdn.size(); ++i) {
            if (i > 0) text += '+';
            text += rdn[i].type;
            text += '=';
            text += escapedValue(rdn[i].value);
        }
    }
    return text;
}

// RFC 4518-like: insignificant spaces dropped, ASCII case folded; other bytes kept.
std::string normalizedValue(std::string_view value)
{
    std::string normal;
    normal.reserve(value.size());
    bool pendingSpace = false;
    for (const char c : value) {
        if (isAsciiSpace(c)) {
            pendingSpace = !normal.empty();
            continue;
        }
        if (pendingSpace) normal += ' ';
        pendingSpace = false;
        normal += toLower(c);
    }
    return normal;
}

// Attribute order inside a multi-valued RDN carries no meaning: sorted.
std::vector<RelativeDistinguishedName> normalizedRdns(const std::vector<RelativeDistinguishedName>& rdns)
{
    std::vector<RelativeDistinguishedName> normal = rdns;
    for (auto& rdn : normal) {
        for (auto& attribute : rdn) attribute.value = normalizedValue(attribute.value);
        std::ranges::sort(rdn, {}, [](const DnAttribute& a) { return std::tie(a.type, a.value); });
    }
    return normal;
}

// Recursive descent over RFC 4514 text; every failure names what and where.
class Rfc4514Parser {
public:
    explicit Rfc4514Parser(std::string_view text) : text_(text) {}

    std::vector<RelativeDistinguishedName> parse()
    {
        skipSpaces();
        if (atEnd()) fail("it is empty");
        std::vector<RelativeDistinguishedName> rdns;
        while (true) {
            rdns.push_back(parseRdn());
            if (atEnd()) return rdns;
            expect(',');
        }
    }

private:
    RelativeDistinguishedName parseRdn()
    {
        RelativeDistinguishedName rdn;
        while (true) {
            rdn.push_back(parseAttribute());
            if (atEnd() || peek() != '+') return rdn;
            ++pos_;
        }
    }

    DnAttribute parseAttribute()
    {
        skipSpaces();
        DnAttribute attribute;
        attribute.type = parseType();
        skipSpaces();
        expect('=');
        skipSpaces();
        attribute.value = parseValue();
        skipSpaces();
        return attribute;
    }

    std::string parseType()
    {
        const std::size_t start = pos_;
        if (text_.size() - pos_ > 4 && upperCase(text_.substr(pos_, 4)) == "OID." && isDigit(text_[pos_ + 4]))
            pos_ += 4;
        if (!atEnd() && isDigit(peek())) return canonicalTypeOfOid(parseNumericOid());
        if (atEnd() || !isAlpha(peek())) fail("expected an attribute type");
        while (!atEnd() && (isAlpha(peek()) || isDigit(peek()) || peek() == '-')) ++pos_;
        const std::string_view keyword = text_.substr(start, pos_ - start);
        auto canonical = canonicalTypeOfKeyword(keyword);
        if (!canonical) {
            pos_ = start;
            fail("unknown attribute type \"" + std::string(keyword) + "\"");
        }
        return std::move(*canonical);
    }

    // number *( "." number ), no leading zeros (RFC 4512).
    std::string_view parseNumericOid()
    {
        const std::size_t start = pos_;
        std::size_t arcs = 0;
        do {
            if (arcs > 0) ++pos_;  // the '.'
            const std::size_t arcStart = pos_;
            while (!atEnd() && isDigit(peek())) ++pos_;
            if (pos_ == arcStart || (text_[arcStart] == '0' && pos_ - arcStart > 1)) fail("malformed OID");
            ++arcs;
        } while (!atEnd() && peek() == '.');
        if (arcs < 2) fail("malformed OID");
        return text_.substr(start, pos_ - start);
    }

    std::string parseValue()
    {
        if (atEnd()) return {};
        if (peek() == '#') return parseBerValue();
        std::string value = peek() == '"' ? parseQuotedValue() : parseStringValue();
        if (!isValidUtf8(value)) fail("attribute value is not valid UTF-8");
        return value;
    }

    // RFC 2253 legacy form, found in the national list: O="C.H. DE  CADILLAC".
    // The quotes are not part of the value; inside them only '"' and '\' need escaping.
    std::string parseQuotedValue()
    {
        ++pos_;
        std::string value;
        while (!atEnd() && peek() != '"') {
            if (peek() == '\\') {
                ++pos_;
                value += parseEscape();
            } else {
                value += text_[pos_++];
            }
        }
        if (atEnd()) fail("unterminated quoted value");
        ++pos_;
        return value;
    }

    std::string parseStringValue()
    {
        std::string value;
        std::size_t significant = 0;  // unescaped trailing spaces are not part of the value
        while (!atEnd() && peek() != ',' && peek() != '+') {
            const char c = peek();
            if (c == '\\') {
                ++pos_;
                value += parseEscape();
                significant = value.size();
                continue;
            }
            if (c == '\0' || kRefusedUnescaped.find(c) != std::string_view::npos)
                fail(std::string("unescaped '") + c + "' in an attribute value");
            value += c;
            ++pos_;
            if (c != ' ') significant = value.size();
        }
        value.resize(significant);
        return value;
    }

    char parseEscape()
    {
        if (atEnd()) fail("'\\' at the end");
        const int high = hexDigitValue(peek());
        if (high >= 0) {
            const int low = pos_ + 1 < text_.size() ? hexDigitValue(text_[pos_ + 1]) : -1;
            if (low < 0) fail("'\\' followed by a single hex digit");
            pos_ += 2;
            return static_cast<char>(high * 16 + low);
        }
        if (kEscapable.find(peek()) == std::string_view::npos)
            fail(std::string("'\\' followed by '") + peek() + "', neither a special character nor two hex digits");
        return text_[pos_++];
    }

    // "#" followed by the hex BER encoding of the value (RFC 4514 2.4).
    std::string parseBerValue()
    {
        ++pos_;
        std::string ber;
        while (!atEnd() && hexDigitValue(peek()) >= 0) {
            const int low = pos_ + 1 < text_.size() ? hexDigitValue(text_[pos_ + 1]) : -1;
            if (low < 0) fail("odd number of hex digits in a '#' value");
            ber += static_cast<char>(hexDigitValue(peek()) * 16 + low);
            pos_ += 2;
        }
        const auto* bytes = reinterpret_cast<const unsigned char*>(ber.data());
        const openssl::Asn1TypePtr decoded(d2i_ASN1_TYPE(nullptr, &bytes, static_cast<long>(ber.size())));
        if (!decoded || bytes != reinterpret_cast<const unsigned char*>(ber.data()) + ber.size()) {
            ERR_clear_error();  // the fault is the text's, named below
            fail("'#' value is not one BER element");
        }
        constexpr int kStringTypes[] = {V_ASN1_UTF8STRING,   V_ASN1_PRINTABLESTRING, V_ASN1_IA5STRING,
                                        V_ASN1_T61STRING,    V_ASN1_BMPSTRING,       V_ASN1_UNIVERSALSTRING,
                                        V_ASN1_NUMERICSTRING, V_ASN1_VISIBLESTRING};
        if (std::ranges::find(kStringTypes, ASN1_TYPE_get(decoded.get())) == std::end(kStringTypes))
            fail("'#' value is not a character string");
        return utf8Of(decoded->value.asn1_string);
    }

    bool atEnd() const { return pos_ >= text_.size(); }
    char peek() const { return text_[pos_]; }
    void skipSpaces()
    {
        while (!atEnd() && peek() == ' ') ++pos_;
    }
    void expect(char wanted)
    {
        if (atEnd() || peek() != wanted) fail(std::string("expected '") + wanted + "'");
        ++pos_;
    }

    [[noreturn]] void fail(const std::string& what) const
    {
        throw DnError("invalid distinguished name \"" + std::string(text_) + "\": " + what + " at offset " +
                      std::to_string(pos_));
    }

    std::string_view text_;
    std::size_t pos_ = 0;
};

}  // namespace

DistinguishedName::DistinguishedName(std::vector<RelativeDistinguishedName> rdns) : rdns_(std::move(rdns))
{
    // The key is the smaller of both orientations, so a DN written in X.500
    // order gets the same key as its RFC 4514 form.
    auto normal = normalizedRdns(rdns_);
    std::string forward = rendered(normal);
    std::ranges::reverse(normal);
    matchKey_ = std::min(std::move(forward), rendered(normal));
}

DistinguishedName DistinguishedName::parse(std::string_view rfc4514)
{
    return DistinguishedName(Rfc4514Parser(rfc4514).parse());
}

DistinguishedName DistinguishedName::fromX509Name(const X509_NAME* name)
{
    if (name == nullptr) throw DnError("no X.509 name");
    std::vector<RelativeDistinguishedName> rdns;
    int currentSet = -1;
    for (int i = 0; i < X509_NAME_entry_count(name); ++i) {
        const X509_NAME_ENTRY* entry = X509_NAME_get_entry(name, i);
        DnAttribute attribute{canonicalTypeOfOid(dottedOid(X509_NAME_ENTRY_get_object(entry))),
                              utf8Of(X509_NAME_ENTRY_get_data(entry))};
        // Entries of one multi-valued RDN share a set number.
        if (rdns.empty() || X509_NAME_ENTRY_set(entry) != currentSet) rdns.emplace_back();
        currentSet = X509_NAME_ENTRY_set(entry);
        rdns.back().push_back(std::move(attribute));
    }
    std::ranges::reverse(rdns);  // X.509 stores the most general RDN first
    return DistinguishedName(std::move(rdns));
}

DistinguishedName DistinguishedName::fromX509(const X509* certificate)
{
    if (certificate == nullptr) throw DnError("no certificate");
    return fromX509Name(X509_get_subject_name(certificate));
}

std::string DistinguishedName::toString() const { return rendered(rdns_); }

}  // namespace plexus::trust
