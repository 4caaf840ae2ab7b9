#include "mime/Text.h"

#include <libetpan/libetpan.h>

#include <array>
#include <cstdlib>
#include <memory>

namespace plexus::mime {

namespace {

struct FreeDeleter {
    void operator()(char* text) const noexcept { std::free(text); }
};
using CString = std::unique_ptr<char, FreeDeleter>;

}  // namespace

// The code point starting at `index` (strict RFC 3629: no overlongs, no
// surrogates); `index` moves past it, or past one byte when it is invalid.
std::optional<char32_t> nextCodePoint(std::string_view text, std::size_t& index)
{
    const auto lead = static_cast<unsigned char>(text[index++]);
    if (lead < 0x80) return lead;
    const std::size_t length = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 0;
    if (length == 0 || lead > 0xF4 || index + length - 1 > text.size()) return std::nullopt;
    char32_t code = lead & (0x3F >> (length - 1));
    for (std::size_t i = 0; i + 1 < length; ++i) {
        const auto next = static_cast<unsigned char>(text[index + i]);
        if ((next & 0xC0) != 0x80) return std::nullopt;
        code = (code << 6) | (next & 0x3F);
    }
    constexpr std::array<char32_t, 5> kSmallest = {0, 0, 0x80, 0x800, 0x10000};
    if (code < kSmallest[length] || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF)) return std::nullopt;
    index += length - 1;
    return code;
}

bool isValidUtf8(std::string_view text)
{
    for (std::size_t index = 0; index < text.size();) {
        if (!nextCodePoint(text, index)) return false;
    }
    return true;
}

// The valid UTF-8 sequences of `text`, invalid bytes dropped.
std::string keepValidUtf8(std::string_view text)
{
    std::string valid;
    valid.reserve(text.size());
    for (std::size_t index = 0; index < text.size();) {
        const auto start = index;
        if (nextCodePoint(text, index)) valid.append(text.substr(start, index - start));
    }
    return valid;
}

void appendUtf8(std::string& out, char32_t code)
{
    if (code < 0x80) {
        out += static_cast<char>(code);
    } else if (code < 0x800) {
        out += static_cast<char>(0xC0 | (code >> 6));
        out += static_cast<char>(0x80 | (code & 0x3F));
    } else if (code < 0x10000) {
        out += static_cast<char>(0xE0 | (code >> 12));
        out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (code & 0x3F));
    } else {
        out += static_cast<char>(0xF0 | (code >> 18));
        out += static_cast<char>(0x80 | ((code >> 12) & 0x3F));
        out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (code & 0x3F));
    }
}

std::string decodeHeaderValue(std::string_view raw)
{
    // Text outside encoded-words should be ASCII; 8-bit text that is not UTF-8
    // is most likely Windows-1252 / Latin-1.
    const char* const textCharset = isValidUtf8(raw) ? "utf-8" : "windows-1252";
    std::string decoded;
    std::size_t index = 0;
    while (index < raw.size()) {
        char* phrase = nullptr;
        if (mailmime_encoded_phrase_parse(textCharset, raw.data(), raw.size(), &index, "utf-8", &phrase) == MAILIMF_NO_ERROR) {
            decoded += CString(phrase).get();
        }
        if (index >= raw.size()) break;
        // libetpan stops at a malformed "=?": keep that word as written, then read on.
        const auto wordEnd = std::min(raw.find_first_of(" \t\r\n", index + 1), raw.size());
        decoded.append(raw.substr(index, wordEnd - index));
        if (wordEnd < raw.size()) decoded += ' ';
        index = wordEnd;
    }
    return decoded;
}

}  // namespace plexus::mime
