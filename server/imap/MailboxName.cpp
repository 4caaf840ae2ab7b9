#include "imap/MailboxName.h"

#include "mime/Text.h"

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
        mime::appendUtf8(out, c);
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
        const char32_t c = mime::nextCodePoint(utf8, i).value_or(kReplacement);  // malformed: U+FFFD
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
