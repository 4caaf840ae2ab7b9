#include "mime/TextExtractor.h"

#include "mime/HeaderFields.h"
#include "mime/Text.h"

#include <libetpan/libetpan.h>

#include <iconv.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdlib>
#include <limits>
#include <memory>
#include <optional>

namespace plexus::mime {
namespace {

using Reader = std::function<std::string(std::uint64_t, std::uint64_t)>;

// A part's encoded body is read up to this many times the text still wanted:
// enough for quoted-printable (3 bytes per byte) and most HTML; memory stays
// bounded by maxBytes whatever the part's size.
constexpr std::uint64_t kReadFactor = 4;

// Appends `text` to `out` without `out` growing past `maxBytes`, cutting at a
// character boundary. False once `out` is full.
bool appendBounded(std::string& out, std::string_view text, std::size_t maxBytes)
{
    const auto room = maxBytes - std::min(out.size(), maxBytes);
    if (text.size() <= room) {
        out.append(text);
        return out.size() < maxBytes;
    }
    auto cut = room;
    while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
    out.append(text.substr(0, cut));
    return false;
}

// ---- libetpan and iconv ----

struct DecodedPartDeleter {
    void operator()(char* part) const noexcept { mailmime_decoded_part_free(part); }
};
using DecodedPart = std::unique_ptr<char, DecodedPartDeleter>;

struct IconvDeleter {
    using pointer = iconv_t;
    void operator()(iconv_t converter) const noexcept { iconv_close(converter); }
};
using Converter = std::unique_ptr<void, IconvDeleter>;

// RFC 2045 §6: quoted-printable and base64 decoded, other encodings as they are.
std::string decodeTransferEncoding(std::string_view body, std::string_view encoding)
{
    int mechanism = 0;
    if (encoding == "base64") mechanism = MAILMIME_MECHANISM_BASE64;
    else if (encoding == "quoted-printable") mechanism = MAILMIME_MECHANISM_QUOTED_PRINTABLE;
    else return std::string(body);
    std::size_t index = 0;
    char* decoded = nullptr;
    std::size_t length = 0;
    if (mailmime_part_parse(body.data(), body.size(), &index, mechanism, &decoded, &length) != MAILIMF_NO_ERROR) return {};
    const DecodedPart owned(decoded);
    return std::string(owned.get(), length);
}

// iconv's name for a MIME charset. Mail labelled ISO-8859-1 is routinely
// Windows-1252 (curly quotes, euro sign), its superset (WHATWG Encoding §4.2).
std::string iconvName(std::string_view charset)
{
    for (const auto* latin1 : {"iso-8859-1", "iso_8859-1", "latin1", "l1"}) {
        if (detail::equalsIgnoreCase(charset, latin1)) return "WINDOWS-1252";
    }
    return std::string(charset);
}

// `bytes` in `charset` as UTF-8, unconvertible bytes dropped. An unknown
// charset keeps what is valid UTF-8 (us-ascii text often carries UTF-8).
std::string toUtf8(std::string_view bytes, std::string_view charset)
{
    const auto is = [&](std::string_view name) { return detail::equalsIgnoreCase(charset, name); };
    if (charset.empty() || is("utf-8") || is("utf8") || is("us-ascii")) return keepValidUtf8(bytes);
    const iconv_t opened = iconv_open("UTF-8", iconvName(charset).c_str());
    if (opened == reinterpret_cast<iconv_t>(-1)) return keepValidUtf8(bytes);
    const Converter converter(opened);
    std::string out;
    std::array<char, 4096> buffer;
    char* in = const_cast<char*>(bytes.data());  // iconv's prototype; it does not write the input
    std::size_t inLeft = bytes.size();
    while (inLeft > 0) {
        char* outPosition = buffer.data();
        std::size_t outLeft = buffer.size();
        const auto result = iconv(converter.get(), &in, &inLeft, &outPosition, &outLeft);
        out.append(buffer.data(), outPosition);
        if (result != static_cast<std::size_t>(-1)) break;
        if (errno == EILSEQ) {
            ++in;
            --inLeft;
        } else if (errno != E2BIG) {
            break;  // EINVAL: a truncated last character
        }
    }
    return out;
}

// ---- HTML ----

// HTML named character references: the Latin-1 ones (U+00A0..U+00FF, in
// order) and a few frequent others.
constexpr std::array<std::string_view, 96> kLatin1Entities = {
    "nbsp",   "iexcl",  "cent",   "pound",  "curren", "yen",    "brvbar", "sect",   "uml",    "copy",   "ordf",
    "laquo",  "not",    "shy",    "reg",    "macr",   "deg",    "plusmn", "sup2",   "sup3",   "acute",  "micro",
    "para",   "middot", "cedil",  "sup1",   "ordm",   "raquo",  "frac14", "frac12", "frac34", "iquest", "Agrave",
    "Aacute", "Acirc",  "Atilde", "Auml",   "Aring",  "AElig",  "Ccedil", "Egrave", "Eacute", "Ecirc",  "Euml",
    "Igrave", "Iacute", "Icirc",  "Iuml",   "ETH",    "Ntilde", "Ograve", "Oacute", "Ocirc",  "Otilde", "Ouml",
    "times",  "Oslash", "Ugrave", "Uacute", "Ucirc",  "Uuml",   "Yacute", "THORN",  "szlig",  "agrave", "aacute",
    "acirc",  "atilde", "auml",   "aring",  "aelig",  "ccedil", "egrave", "eacute", "ecirc",  "euml",   "igrave",
    "iacute", "icirc",  "iuml",   "eth",    "ntilde", "ograve", "oacute", "ocirc",  "otilde", "ouml",   "divide",
    "oslash", "ugrave", "uacute", "ucirc",  "uuml",   "yacute", "thorn",  "yuml"};

struct Entity {
    std::string_view name;
    char32_t code;
};
constexpr std::array<Entity, 17> kOtherEntities = {{
    {"amp", '&'},      {"lt", '<'},       {"gt", '>'},       {"quot", '"'},      {"apos", '\''},
    {"OElig", 0x152},  {"oelig", 0x153},  {"Yuml", 0x178},   {"ndash", 0x2013},  {"mdash", 0x2014},
    {"lsquo", 0x2018}, {"rsquo", 0x2019}, {"ldquo", 0x201C}, {"rdquo", 0x201D},  {"bull", 0x2022},
    {"hellip", 0x2026}, {"euro", 0x20AC},
}};

std::optional<char32_t> namedEntity(std::string_view name)
{
    const auto latin1 = std::find(kLatin1Entities.begin(), kLatin1Entities.end(), name);
    if (latin1 != kLatin1Entities.end()) return static_cast<char32_t>(0xA0 + (latin1 - kLatin1Entities.begin()));
    const auto other = std::find_if(kOtherEntities.begin(), kOtherEntities.end(), [&](const Entity& e) { return e.name == name; });
    if (other != kOtherEntities.end()) return other->code;
    return std::nullopt;
}

// "#233" or "#xE9".
std::optional<char32_t> numericEntity(std::string_view reference)
{
    if (reference.size() < 2 || reference.front() != '#') return std::nullopt;
    const bool hex = reference[1] == 'x' || reference[1] == 'X';
    const auto digits = reference.substr(hex ? 2 : 1);
    if (digits.empty() || digits.size() > 8) return std::nullopt;
    std::uint32_t code = 0;
    for (const char c : digits) {
        const int digit = c >= '0' && c <= '9'                    ? c - '0'
                          : hex && c >= 'a' && c <= 'f'           ? c - 'a' + 10
                          : hex && c >= 'A' && c <= 'F'           ? c - 'A' + 10
                                                                  : -1;
        if (digit < 0) return std::nullopt;
        code = code * (hex ? 16 : 10) + static_cast<std::uint32_t>(digit);
    }
    if (code == 0 || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF)) return std::nullopt;
    return code;
}

// A character reference at html[index] ('&'): decoded into `text` (a no-break
// space as a plain space, for search); unknown ones are kept as written.
std::size_t decodeEntity(std::string_view html, std::size_t index, std::string& text)
{
    const auto semicolon = html.find(';', index + 1);
    constexpr std::size_t kLongestReference = 10;
    if (semicolon != std::string_view::npos && semicolon - index <= kLongestReference) {
        const auto reference = html.substr(index + 1, semicolon - index - 1);
        if (const auto code = reference.starts_with('#') ? numericEntity(reference) : namedEntity(reference)) {
            appendUtf8(text, *code == 0xA0 ? ' ' : *code);
            return semicolon + 1;
        }
    }
    text += '&';
    return index + 1;
}

bool isAsciiLetter(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

// Elements that end a line of text (so that words of two cells or paragraphs do not merge).
bool breaksLine(std::string_view tag)
{
    constexpr std::array<std::string_view, 22> kBlocks = {
        "address", "article", "blockquote", "br", "dd", "div", "dt", "footer", "h1", "h2", "h3",
        "h4",      "h5",      "h6",         "hr", "li", "p",   "pre", "section", "table", "td", "tr"};
    return std::any_of(kBlocks.begin(), kBlocks.end(), [&](std::string_view block) { return detail::equalsIgnoreCase(tag, block); });
}

// The index just past `closing` ("</script") and the '>' after it, ignoring case.
std::size_t skipPast(std::string_view html, std::size_t index, std::string_view closing)
{
    for (auto at = html.find("</", index); at != std::string_view::npos; at = html.find("</", at + 2)) {
        if (detail::startsWithIgnoreCase(html.substr(at), closing)) {
            const auto end = html.find('>', at);
            return end == std::string_view::npos ? html.size() : end + 1;
        }
    }
    return html.size();
}

// Markup at html[index] ('<'): a comment, a tag (with script and style
// contents), or a '<' that is text. Returns the index after it.
std::size_t skipMarkup(std::string_view html, std::size_t index, std::string& text)
{
    if (html.substr(index).starts_with("<!--")) {
        const auto end = html.find("-->", index + 4);
        return end == std::string_view::npos ? html.size() : end + 3;
    }
    auto nameStart = index + 1;
    const bool closing = nameStart < html.size() && html[nameStart] == '/';
    if (closing) ++nameStart;
    if (nameStart >= html.size() || !(isAsciiLetter(html[nameStart]) || html[nameStart] == '!' || html[nameStart] == '?')) {
        text += '<';
        return index + 1;
    }
    auto nameEnd = nameStart;
    while (nameEnd < html.size() && (isAsciiLetter(html[nameEnd]) || (html[nameEnd] >= '0' && html[nameEnd] <= '9'))) ++nameEnd;
    const auto name = html.substr(nameStart, nameEnd - nameStart);
    // The tag ends at the first '>' outside a quoted attribute value (a quote
    // right after '=' opens one).
    char quote = 0;
    char previous = 0;
    auto end = nameEnd;
    for (; end < html.size() && (quote != 0 || html[end] != '>'); ++end) {
        const char c = html[end];
        if (quote == 0 && previous == '=' && (c == '"' || c == '\'')) quote = c;
        else if (c == quote) quote = 0;
        if (c != ' ') previous = c;
    }
    end = std::min(end + 1, html.size());
    if (breaksLine(name)) text += '\n';
    if (!closing && detail::equalsIgnoreCase(name, "script")) return skipPast(html, end, "</script");
    if (!closing && detail::equalsIgnoreCase(name, "style")) return skipPast(html, end, "</style");
    return end;
}

// Runs of white space become one space, or one line break when they hold one.
std::string collapseWhitespace(std::string_view text)
{
    std::string collapsed;
    collapsed.reserve(text.size());
    for (std::size_t index = 0; index < text.size();) {
        const auto runEnd = std::min(text.find_first_not_of(" \t\r\n\f", index), text.size());
        if (runEnd == index) {
            collapsed += text[index++];
            continue;
        }
        const bool lineBreak = text.substr(index, runEnd - index).find('\n') != std::string_view::npos;
        if (index > 0 && runEnd < text.size()) collapsed += lineBreak ? '\n' : ' ';
        index = runEnd;
    }
    return collapsed;
}

// The text of an HTML document (already UTF-8): tags, comments, scripts and
// styles dropped, character references decoded.
std::string htmlToText(std::string_view html)
{
    std::string text;
    text.reserve(html.size() / 2);
    for (std::size_t index = 0; index < html.size();) {
        if (html[index] == '<') index = skipMarkup(html, index, text);
        else if (html[index] == '&') index = decodeEntity(html, index, text);
        else text += html[index++];
    }
    return collapseWhitespace(text);
}

// ---- parts ----

enum class TextKind { None, Plain, Html };

TextKind textKind(const BodyPart& part)
{
    if (!detail::equalsIgnoreCase(part.type, "text")) return TextKind::None;
    if (detail::equalsIgnoreCase(part.subtype, "plain")) return TextKind::Plain;
    if (detail::equalsIgnoreCase(part.subtype, "html")) return TextKind::Html;
    return TextKind::None;
}

// The decoded UTF-8 text of one text part, reading about what `wanted` bytes need.
std::string partText(const BodyPart& part, TextKind kind, const Reader& read, std::size_t wanted)
{
    const std::uint64_t readLimit =
        wanted > std::numeric_limits<std::uint64_t>::max() / kReadFactor ? part.bodySize : wanted * kReadFactor;
    const auto raw = read(part.bodyOffset, std::min(part.bodySize, readLimit));
    const auto text = toUtf8(decodeTransferEncoding(raw, part.encoding), part.param("charset").value_or(""));
    return kind == TextKind::Html ? htmlToText(text) : text;
}

// Appends the text of `part` and its descendants to `body`; false once full.
bool collectText(const BodyPart& part, const Reader& read, std::size_t maxBytes, std::string& body)
{
    if (part.isMultipart() || part.isEncapsulatedMessage()) {
        return std::all_of(part.children.begin(), part.children.end(),
                           [&](const BodyPart& child) { return collectText(child, read, maxBytes, body); });
    }
    const auto kind = textKind(part);
    if (kind == TextKind::None) return true;
    const auto text = partText(part, kind, read, maxBytes - body.size());
    if (text.empty()) return true;
    if (!body.empty() && !appendBounded(body, "\n", maxBytes)) return false;
    return appendBounded(body, text, maxBytes);
}

std::string headerText(const MessageStructure& structure, const Reader& read, std::size_t maxBytes)
{
    std::string header;
    if (structure.headerSize == 0 || maxBytes == 0) return header;
    for (const auto& field : detail::parseHeaderFields(read(0, structure.headerSize))) {
        if (!appendBounded(header, field.name + ": " + decodeHeaderValue(field.value) + "\n", maxBytes)) break;
    }
    return header;
}

}  // namespace

ExtractedText extractText(const MessageStructure& structure, const Reader& read, std::size_t maxBytes)
{
    ExtractedText extracted;
    extracted.header = headerText(structure, read, maxBytes);
    if (maxBytes > 0) collectText(structure.root, read, maxBytes, extracted.body);
    return extracted;
}

}  // namespace plexus::mime
