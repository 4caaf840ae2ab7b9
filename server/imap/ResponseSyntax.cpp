#include "imap/ResponseSyntax.h"

#include <array>
#include <charconv>
#include <cstdio>
#include <ctime>

namespace plexus::imap {
namespace {

constexpr std::size_t kMaxQuoted = 1024;
constexpr std::array<std::string_view, 12> kMonths = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

bool quotable(std::string_view text)
{
    if (text.size() > kMaxQuoted) return false;
    for (const char c : text) {
        const auto byte = static_cast<unsigned char>(c);
        if (byte == 0 || byte == '\r' || byte == '\n' || byte >= 0x80) return false;
    }
    return true;
}

// A conservative subset of ATOM-CHAR: no list wildcards, no ']' and nothing
// a client could take for a quoted-special or a literal.
bool safeAtomChar(char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
    return std::string_view("-._/@+&$!#^~:=,;?|'").find(c) != std::string_view::npos;
}

bool equalsIgnoreCase(std::string_view a, std::string_view b)
{
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        const auto lower = [](char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; };
        if (lower(a[i]) != lower(b[i])) return false;
    }
    return true;
}

// Reads an unsigned decimal of [minDigits, maxDigits] digits at the front of `text`.
std::optional<int> takeNumber(std::string_view& text, std::size_t minDigits, std::size_t maxDigits)
{
    std::size_t digits = 0;
    while (digits < text.size() && digits < maxDigits && text[digits] >= '0' && text[digits] <= '9') ++digits;
    if (digits < minDigits) return std::nullopt;
    int value = 0;
    std::from_chars(text.data(), text.data() + digits, value);
    text.remove_prefix(digits);
    return value;
}

bool takeChar(std::string_view& text, char expected)
{
    if (text.empty() || text.front() != expected) return false;
    text.remove_prefix(1);
    return true;
}

// Month name, case-insensitive (RFC 3501 §9 date-month); 0-based.
std::optional<int> takeMonth(std::string_view& text)
{
    if (text.size() < 3) return std::nullopt;
    for (std::size_t i = 0; i < kMonths.size(); ++i) {
        if (equalsIgnoreCase(text.substr(0, 3), kMonths[i])) {
            text.remove_prefix(3);
            return static_cast<int>(i);
        }
    }
    return std::nullopt;
}

// "d-Mon-yyyy" or "dd-Mon-yyyy" into `fields` (date part only).
bool takeDate(std::string_view& text, std::tm& fields)
{
    const auto day = takeNumber(text, 1, 2);
    if (!day || !takeChar(text, '-')) return false;
    const auto month = takeMonth(text);
    if (!month || !takeChar(text, '-')) return false;
    const auto year = takeNumber(text, 4, 4);
    if (!year) return false;
    fields.tm_mday = *day;
    fields.tm_mon = *month;
    fields.tm_year = *year - 1900;
    return true;
}

// timegm normalizes out-of-range fields (31-Feb becomes 3-Mar): a date is
// valid when normalization left it unchanged.
std::optional<std::int64_t> toEpoch(std::tm fields)
{
    const std::tm given = fields;
    const std::time_t seconds = timegm(&fields);
    if (fields.tm_mday != given.tm_mday || fields.tm_mon != given.tm_mon || fields.tm_year != given.tm_year ||
        fields.tm_hour != given.tm_hour || fields.tm_min != given.tm_min || fields.tm_sec != given.tm_sec)
        return std::nullopt;
    return static_cast<std::int64_t>(seconds);
}

}  // namespace

std::string imapString(std::string_view text)
{
    if (!quotable(text)) return "{" + std::to_string(text.size()) + "}\r\n" + std::string(text);
    std::string quoted;
    quoted.reserve(text.size() + 2);
    quoted += '"';
    for (const char c : text) {
        if (c == '"' || c == '\\') quoted += '\\';
        quoted += c;
    }
    quoted += '"';
    return quoted;
}

std::string imapNString(const std::optional<std::string_view>& text)
{
    return text ? imapString(*text) : "NIL";
}

std::string imapNStringOrNil(std::string_view text)
{
    return text.empty() ? "NIL" : imapString(text);
}

std::string imapAString(std::string_view text)
{
    // A bare NIL would read back as nil, not as the string "NIL".
    if (text.empty() || equalsIgnoreCase(text, "NIL")) return imapString(text);
    for (const char c : text)
        if (!safeAtomChar(c)) return imapString(text);
    return std::string(text);
}

std::string imapDateTime(std::int64_t epochSeconds)
{
    const auto seconds = static_cast<std::time_t>(epochSeconds);
    std::tm fields{};
    gmtime_r(&seconds, &fields);
    // date-day-fixed = (SP DIGIT) / 2DIGIT (RFC 3501 §9)
    char buffer[40];
    std::snprintf(buffer, sizeof buffer, "\"%2d-%s-%04d %02d:%02d:%02d +0000\"", fields.tm_mday,
                  kMonths[static_cast<std::size_t>(fields.tm_mon)].data(), fields.tm_year + 1900, fields.tm_hour,
                  fields.tm_min, fields.tm_sec);
    return buffer;
}

std::optional<std::int64_t> parseImapDateTime(std::string_view text)
{
    takeChar(text, ' ');  // the SP of date-day-fixed
    std::tm fields{};
    if (!takeDate(text, fields) || !takeChar(text, ' ')) return std::nullopt;
    const auto hour = takeNumber(text, 2, 2);
    if (!hour || !takeChar(text, ':')) return std::nullopt;
    const auto minute = takeNumber(text, 2, 2);
    if (!minute || !takeChar(text, ':')) return std::nullopt;
    const auto second = takeNumber(text, 2, 2);
    if (!second || !takeChar(text, ' ') || text.empty()) return std::nullopt;
    const char sign = text.front();
    text.remove_prefix(1);
    const auto zoneHours = takeNumber(text, 2, 2);
    const auto zoneMinutes = takeNumber(text, 2, 2);
    if ((sign != '+' && sign != '-') || !zoneHours || !zoneMinutes || !text.empty()) return std::nullopt;
    if (*hour > 23 || *minute > 59 || *second > 59 || *zoneHours > 23 || *zoneMinutes > 59) return std::nullopt;
    fields.tm_hour = *hour;
    fields.tm_min = *minute;
    fields.tm_sec = *second;
    const auto local = toEpoch(fields);
    if (!local) return std::nullopt;
    const std::int64_t offset = (*zoneHours * 60 + *zoneMinutes) * 60;
    return sign == '+' ? *local - offset : *local + offset;
}

std::optional<std::int64_t> parseImapDate(std::string_view text)
{
    std::tm fields{};
    if (!takeDate(text, fields) || !text.empty()) return std::nullopt;
    return toEpoch(fields);
}

}  // namespace plexus::imap
