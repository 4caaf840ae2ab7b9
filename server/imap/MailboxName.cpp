#include "imap/MailboxName.h"

#include <cstdint>
#include <vector>

namespace plexus::imap {
namespace {

// Modified BASE64 (RFC 3501 §5.1.3): RFC 2045 base64 with ',' for '/', no padding.
constexpr std::string_view kBase64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";
constexpr char32_t kReplacement = 0xFFFD;

bool directlyEncoded(char32_t c)
{
    return c >= 0x20 && c <= 0x7E;
}

bool isSurrogate(char32_t c)
{
    return c >= 0xD800 && c <= 0xDFFF;
}

// Next code point of `utf8` at `i`; malformed sequences give U+FFFD, one byte consumed.
char32_t nextCodePoint(std::string_view utf8, std::size_t& i)
{
    const auto lead = static_cast<unsigned char>(utf8[i++]);
    if (lead < 0x80) return lead;
    std::size_t length = 0;
    char32_t c = 0;
    if (lead >= 0xC2 && lead <= 0xDF) { length = 1; c = lead & 0x1F; }
    else if (lead >= 0xE0 && lead <= 0xEF) { length = 2; c = lead & 0x0F; }
    else if (lead >= 0xF0 && lead <= 0xF4) { length = 3; c = lead & 0x07; }
    else return kReplacement;
    if (i + length > utf8.size()) return kReplacement;
    for (std::size_t k = 0; k < length; ++k) {
        const auto byte = static_cast<unsigned char>(utf8[i + k]);
        if ((byte & 0xC0) != 0x80) return kReplacement;
        c = (c << 6) | (byte & 0x3F);
    }
    // Overlong forms, surrogates and values past U+10FFFF are not UTF-8.
    static constexpr char32_t minimum[] = {0, 0x80, 0x800, 0x10000};
    if (c < minimum[length] || isSurrogate(c) || c > 0x10FFFF) return kReplacement;
    i += length;
    return c;
}

void appendUtf8(std::string& out, char32_t c)
{
    if (c < 0x80) {
        out += static_cast<char>(c);
    } else if (c < 0x800) {
        out += static_cast<char>(0xC0 | (c >> 6));
        out += static_cast<char>(0x80 | (c & 0x3F));
    } else if (c < 0x10000) {
        out += static_cast<char>(0xE0 | (c >> 12));
        out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (c & 0x3F));
    } else {
        out += static_cast<char>(0xF0 | (c >> 18));
        out += static_cast<char>(0x80 | ((c >> 12) & 0x3F));
        out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (c & 0x3F));
    }
}

void appendUtf16(std::vector<std::uint16_t>& units, char32_t c)
{
    if (c < 0x10000) {
        units.push_back(static_cast<std::uint16_t>(c));
        return;
    }
    c -= 0x10000;
    units.push_back(static_cast<std::uint16_t>(0xD800 | (c >> 10)));
    units.push_back(static_cast<std::uint16_t>(0xDC00 | (c & 0x3FF)));
}

// "&" + modified base64 of the UTF-16BE units + "-".
void appendShifted(std::string& out, const std::vector<std::uint16_t>& units)
{
    out += '&';
    std::uint32_t bits = 0;
    int count = 0;
    for (const std::uint16_t unit : units) {
        bits = (bits << 16) | unit;
        count += 16;
        while (count >= 6) {
            count -= 6;
            out += kBase64[(bits >> count) & 0x3F];
        }
    }
    if (count > 0) out += kBase64[(bits << (6 - count)) & 0x3F];
    out += '-';
}

// Decodes the modified base64 between "&" and "-" into UTF-16 units; nullopt
// when a character is not base64 or the leftover bits are not zero padding.
std::optional<std::vector<std::uint16_t>> decodeBase64(std::string_view text)
{
    std::vector<std::uint16_t> units;
    std::uint32_t bits = 0;
    int count = 0;
    for (const char c : text) {
        const auto value = kBase64.find(c);
        if (value == std::string_view::npos) return std::nullopt;
        bits = (bits << 6) | static_cast<std::uint32_t>(value);
        count += 6;
        if (count >= 16) {
            count -= 16;
            units.push_back(static_cast<std::uint16_t>(bits >> count));
        }
    }
    // A minimal encoding leaves fewer than 6 bits, all zero.
    if (count >= 6 || (bits & ((1U << count) - 1)) != 0) return std::nullopt;
    return units;
}

// Appends the UTF-16 units as UTF-8; false on unpaired surrogates or on
// characters that had to be written directly.
bool appendDecoded(std::string& out, const std::vector<std::uint16_t>& units)
{
    for (std::size_t i = 0; i < units.size(); ++i) {
        char32_t c = units[i];
        if (c >= 0xDC00 && c <= 0xDFFF) return false;
        if (c >= 0xD800 && c <= 0xDBFF) {
            if (i + 1 == units.size() || units[i + 1] < 0xDC00 || units[i + 1] > 0xDFFF) return false;
            c = 0x10000 + ((c - 0xD800) << 10) + (units[++i] - 0xDC00);
        }
        // NUL would cut the name short in the store.
        if (c == 0 || directlyEncoded(c)) return false;
        appendUtf8(out, c);
    }
    return true;
}

}  // namespace

std::string encodeMailboxName(std::string_view utf8)
{
    std::string out;
    std::vector<std::uint16_t> pending;  // characters awaiting one shifted run
    std::size_t i = 0;
    while (i < utf8.size()) {
        const char32_t c = nextCodePoint(utf8, i);
        if (!directlyEncoded(c)) {
            appendUtf16(pending, c);
            continue;
        }
        if (!pending.empty()) {
            appendShifted(out, pending);
            pending.clear();
        }
        out += static_cast<char>(c);
        if (c == '&') out += '-';
    }
    if (!pending.empty()) appendShifted(out, pending);
    return out;
}

std::optional<std::string> decodeMailboxName(std::string_view modifiedUtf7)
{
    std::string out;
    std::size_t i = 0;
    while (i < modifiedUtf7.size()) {
        const char c = modifiedUtf7[i];
        if (!directlyEncoded(static_cast<unsigned char>(c))) return std::nullopt;
        if (c != '&') {
            out += c;
            ++i;
            continue;
        }
        const auto end = modifiedUtf7.find('-', i + 1);
        if (end == std::string_view::npos) return std::nullopt;
        if (end == i + 1) {
            out += '&';
        } else {
            const auto units = decodeBase64(modifiedUtf7.substr(i + 1, end - i - 1));
            if (!units || !appendDecoded(out, *units)) return std::nullopt;
        }
        i = end + 1;
    }
    return out;
}

}  // namespace plexus::imap
