#include "imap/Search.h"

#include "imap/ResponseSyntax.h"
#include "mime/Text.h"

#include <libetpan/libetpan.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <chrono>
#include <cstdlib>
#include <limits>

namespace plexus::imap {
namespace {

using Kind = SearchKey::Kind;
using mime::appendUtf8;
using mime::decodeHeaderValue;
using mime::nextCodePoint;

constexpr std::int64_t kSecondsPerDay = 24 * 60 * 60;
constexpr std::uint64_t kMaxNumber64 = std::numeric_limits<std::int64_t>::max();  // RFC 9051 number64, RFC 7162 mod-sequence

// ---- text ----

char asciiLower(char c)
{
    return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

bool equalsIgnoreCase(std::string_view a, std::string_view b)
{
    return std::equal(a.begin(), a.end(), b.begin(), b.end(),
                      [](char x, char y) { return asciiLower(x) == asciiLower(y); });
}

bool startsWithIgnoreCase(std::string_view text, std::string_view prefix)
{
    return text.size() >= prefix.size() && equalsIgnoreCase(text.substr(0, prefix.size()), prefix);
}

std::string_view trim(std::string_view text)
{
    const auto first = text.find_first_not_of(" \t");
    if (first == std::string_view::npos) return {};
    return text.substr(first, text.find_last_not_of(" \t") - first + 1);
}

// Simple case folding of ASCII, Latin-1 Supplement and Latin Extended-A
// (Unicode CaseFolding.txt, status C) — enough for French and its neighbours.
char32_t foldCase(char32_t c)
{
    const auto lowerOfPair = [](char32_t code, bool upperIsEven) { return (code % 2 == 0) == upperIsEven ? code + 1 : code; };
    if (c >= 'A' && c <= 'Z') return c + 0x20;
    if (c >= 0xC0 && c <= 0xDE && c != 0xD7) return c + 0x20;
    if (c >= 0x100 && c <= 0x137 && c != 0x130 && c != 0x131) return lowerOfPair(c, true);
    if (c >= 0x139 && c <= 0x148) return lowerOfPair(c, false);
    if (c >= 0x14A && c <= 0x177) return lowerOfPair(c, true);
    if (c == 0x178) return 0xFF;
    if (c >= 0x179 && c <= 0x17E) return lowerOfPair(c, false);
    if (c == 0x17F) return 's';
    return c;
}

// Folded copy; bytes that are not UTF-8 are kept as they are.
std::string fold(std::string_view text)
{
    std::string folded;
    folded.reserve(text.size());
    for (std::size_t index = 0; index < text.size();) {
        const auto start = index;
        if (const auto code = nextCodePoint(text, index)) {
            appendUtf8(folded, foldCase(*code));
        } else {
            folded += text[start];
        }
    }
    return folded;
}

// ---- libetpan ----

struct DateTimeDeleter {
    void operator()(mailimf_date_time* date) const noexcept { mailimf_date_time_free(date); }
};
using DateTime = std::unique_ptr<mailimf_date_time, DateTimeDeleter>;

// The Date: field's own calendar day (RFC 3501 §6.4.4: "disregarding time and
// timezone") as epoch seconds of that day at 00:00 UTC.
std::optional<std::int64_t> sentDay(std::string_view headerBlock)
{
    const auto values = headerValues(headerBlock, "Date");
    if (values.empty()) return std::nullopt;
    std::size_t index = 0;
    mailimf_date_time* parsed = nullptr;
    if (mailimf_date_time_parse(values.front().data(), values.front().size(), &index, &parsed) != MAILIMF_NO_ERROR) {
        return std::nullopt;
    }
    const DateTime date(parsed);
    int year = date->dt_year;
    if (year < 50) year += 2000;  // RFC 5322 §4.3 obs-year
    else if (year < 1000) year += 1900;
    const std::chrono::year_month_day day{std::chrono::year{year}, std::chrono::month{static_cast<unsigned>(date->dt_month)},
                                          std::chrono::day{static_cast<unsigned>(date->dt_day)}};
    if (!day.ok()) return std::nullopt;
    return std::chrono::sys_days{day}.time_since_epoch().count() * kSecondsPerDay;
}

std::int64_t utcDay(std::int64_t epochSeconds)
{
    const auto quotient = epochSeconds / kSecondsPerDay;
    return (epochSeconds % kSecondsPerDay < 0 ? quotient - 1 : quotient) * kSecondsPerDay;
}

bool compareDay(Kind kind, std::int64_t day, std::int64_t wanted)
{
    switch (kind) {
    case Kind::Before:
    case Kind::SentBefore: return day < wanted;
    case Kind::On:
    case Kind::SentOn: return day == wanted;
    default: return day >= wanted;
    }
}

bool headerContains(std::string_view headerBlock, std::string_view field, std::string_view value)
{
    const auto values = headerValues(headerBlock, field);
    return std::any_of(values.begin(), values.end(),
                       [&](const std::string& raw) { return containsFolded(decodeHeaderValue(raw), value); });
}

// ---- parsing ----

[[noreturn]] void fail(const std::string& message)
{
    throw CommandError("", message);
}

std::optional<std::uint64_t> parseNumber(std::string_view text, std::uint64_t max)
{
    if (text.empty() || !std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
        return std::nullopt;
    }
    std::uint64_t value = 0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (error != std::errc() || end != text.data() + text.size() || value > max) return std::nullopt;
    return value;
}

struct FlagKeyName {
    std::string_view name, flag;
    Kind kind;
};
constexpr std::array<FlagKeyName, 10> kFlagKeys = {{
    {"ANSWERED", "\\Answered", Kind::Flag}, {"UNANSWERED", "\\Answered", Kind::NoFlag},
    {"DELETED", "\\Deleted", Kind::Flag},   {"UNDELETED", "\\Deleted", Kind::NoFlag},
    {"DRAFT", "\\Draft", Kind::Flag},       {"UNDRAFT", "\\Draft", Kind::NoFlag},
    {"FLAGGED", "\\Flagged", Kind::Flag},   {"UNFLAGGED", "\\Flagged", Kind::NoFlag},
    {"SEEN", "\\Seen", Kind::Flag},         {"UNSEEN", "\\Seen", Kind::NoFlag},
}};

struct KindKeyName {
    std::string_view name;
    Kind kind;
};
constexpr std::array<KindKeyName, 4> kBareKeys = {{
    {"ALL", Kind::All}, {"NEW", Kind::New}, {"OLD", Kind::Old}, {"RECENT", Kind::Recent}}};
constexpr std::array<KindKeyName, 6> kDateKeys = {{
    {"BEFORE", Kind::Before}, {"ON", Kind::On}, {"SINCE", Kind::Since},
    {"SENTBEFORE", Kind::SentBefore}, {"SENTON", Kind::SentOn}, {"SENTSINCE", Kind::SentSince}}};
constexpr std::array<KindKeyName, 2> kNumberKeys = {{{"LARGER", Kind::Larger}, {"SMALLER", Kind::Smaller}}};
constexpr std::array<KindKeyName, 2> kTextKeys = {{{"BODY", Kind::Body}, {"TEXT", Kind::Text}}};

constexpr std::array<std::string_view, 5> kAddressAndSubjectFields = {"Bcc", "Cc", "From", "Subject", "To"};

template <class Table>
const typename Table::value_type* lookup(const Table& table, const Arg& arg)
{
    const auto entry = std::find_if(table.begin(), table.end(), [&](const auto& e) { return arg.is(e.name); });
    return entry == table.end() ? nullptr : &*entry;
}

SearchKey leaf(Kind kind)
{
    SearchKey key;
    key.kind = kind;
    return key;
}

// search-key grammar of RFC 3501 §9 (plus RFC 7162 §7 MODSEQ) over a list of
// arguments, recursively; `depth` counts nesting (lists, NOT, OR).
class KeyParser {
public:
    KeyParser(const std::vector<Arg>& args, std::size_t first, std::size_t maxDepth)
        : args_(args), position_(first), maxDepth_(maxDepth)
    {
    }

    bool atEnd() const { return position_ >= args_.size(); }
    const Arg& peek() const { return args_[position_]; }
    void skip() { ++position_; }

    // One or more keys up to the end, as an And.
    SearchKey parseAll(std::size_t depth)
    {
        if (atEnd()) fail("Missing search criteria");
        SearchKey all = leaf(Kind::And);
        while (!atEnd()) all.children.push_back(parseKey(depth));
        return all;
    }

    // The argument following `key`.
    const Arg& argumentOf(std::string_view key)
    {
        if (atEnd()) fail("Missing argument to " + std::string(key));
        return args_[position_++];
    }

    std::string astringOf(std::string_view key)
    {
        const Arg& arg = argumentOf(key);
        // The reader types the atom NIL apart; as an astring it is just text.
        if (!arg.isAstring() && !arg.isNil()) fail("Invalid argument to " + std::string(key));
        return arg.text;
    }

private:
    SearchKey parseKey(std::size_t depth)
    {
        if (depth > maxDepth_) fail("Search criteria nested too deeply");
        const Arg& arg = args_[position_++];
        if (arg.isList()) return KeyParser(arg.items, 0, maxDepth_).parseAll(depth + 1);
        if (!arg.isAtom()) fail("Invalid search key");
        if (const auto* entry = lookup(kFlagKeys, arg)) return flagKey(entry->kind, std::string(entry->flag));
        if (const auto* entry = lookup(kBareKeys, arg)) return leaf(entry->kind);
        if (const auto* entry = lookup(kDateKeys, arg)) return dateKey(entry->kind, arg.text);
        if (const auto* entry = lookup(kNumberKeys, arg)) return numberKey(entry->kind, arg.text);
        if (const auto* entry = lookup(kTextKeys, arg)) return textKey(entry->kind, astringOf(arg.text));
        const auto field = std::find_if(kAddressAndSubjectFields.begin(), kAddressAndSubjectFields.end(),
                                        [&](std::string_view name) { return arg.is(name); });
        if (field != kAddressAndSubjectFields.end()) return headerKey(std::string(*field), astringOf(arg.text));
        if (arg.is("HEADER")) {
            auto name = astringOf(arg.text);
            return headerKey(std::move(name), astringOf(arg.text));
        }
        if (arg.is("KEYWORD")) return flagKey(Kind::Flag, astringOf(arg.text));
        if (arg.is("UNKEYWORD")) return flagKey(Kind::NoFlag, astringOf(arg.text));
        if (arg.is("NOT")) return withChildren(Kind::Not, 1, depth);
        if (arg.is("OR")) return withChildren(Kind::Or, 2, depth);
        if (arg.is("UID")) return setKey(Kind::Uids, argumentOf(arg.text));
        if (arg.is("MODSEQ")) return modSeqKey();
        if (auto set = SequenceSet::parse(arg.text)) {
            SearchKey key = leaf(Kind::SequenceNumbers);
            key.set = std::move(set);
            return key;
        }
        fail("Unknown search key " + arg.text);
    }

    SearchKey withChildren(Kind kind, std::size_t count, std::size_t depth)
    {
        SearchKey key = leaf(kind);
        for (std::size_t i = 0; i < count; ++i) {
            if (atEnd()) fail(std::string(kind == Kind::Not ? "NOT" : "OR") + " needs more search keys");
            key.children.push_back(parseKey(depth + 1));
        }
        return key;
    }

    static SearchKey flagKey(Kind kind, std::string flag)
    {
        SearchKey key = leaf(kind);
        key.field = std::move(flag);
        return key;
    }

    static SearchKey headerKey(std::string field, std::string value)
    {
        SearchKey key = leaf(Kind::Header);
        key.field = std::move(field);
        key.value = std::move(value);
        return key;
    }

    SearchKey dateKey(Kind kind, std::string_view name)
    {
        SearchKey key = leaf(kind);
        const auto date = parseImapDate(astringOf(name));
        if (!date) fail("Invalid date for " + std::string(name));
        key.number = *date;
        return key;
    }

    static SearchKey textKey(Kind kind, std::string text)
    {
        SearchKey key = leaf(kind);
        key.value = std::move(text);
        return key;
    }

    SearchKey numberKey(Kind kind, std::string_view name)
    {
        SearchKey key = leaf(kind);
        const Arg& arg = argumentOf(name);
        const auto number = arg.isAtom() ? parseNumber(arg.text, kMaxNumber64) : std::nullopt;
        if (!number) fail("Invalid number for " + std::string(name));
        key.number = static_cast<std::int64_t>(*number);
        return key;
    }

    static SearchKey setKey(Kind kind, const Arg& arg)
    {
        auto set = arg.isAtom() ? SequenceSet::parse(arg.text) : std::nullopt;
        if (!set) fail("Invalid sequence set");
        SearchKey key = leaf(kind);
        key.set = std::move(set);
        return key;
    }

    // RFC 7162 §7: "MODSEQ" [SP entry-name SP entry-type-req] SP mod-sequence-valzer.
    // Plexus keeps one mod-sequence per message, so the entry is checked, then ignored.
    SearchKey modSeqKey()
    {
        const Arg* arg = &argumentOf("MODSEQ");
        if (arg->isString()) {
            if (!startsWithIgnoreCase(arg->text, "/flags/") || arg->text.size() == 7) fail("Invalid MODSEQ entry name");
            const Arg& type = argumentOf("MODSEQ");
            if (!type.is("all") && !type.is("priv") && !type.is("shared")) fail("Invalid MODSEQ entry type");
            arg = &argumentOf("MODSEQ");
        }
        const auto number = arg->isAtom() ? parseNumber(arg->text, kMaxNumber64) : std::nullopt;
        if (!number) fail("Invalid MODSEQ value");
        SearchKey key = leaf(Kind::ModSeq);
        key.number = static_cast<std::int64_t>(*number);
        return key;
    }

    const std::vector<Arg>& args_;
    std::size_t position_;
    std::size_t maxDepth_;
};

// RFC 4731 §3.1: search-return-opts = "RETURN" SP "(" [option *(SP option)] ")".
SearchReturn parseReturnOptions(const Arg& list)
{
    if (!list.isList()) fail("RETURN needs a list of options");
    SearchReturn ret{.esearch = true};
    for (const Arg& option : list.items) {
        if (option.is("MIN")) ret.min = true;
        else if (option.is("MAX")) ret.max = true;
        else if (option.is("ALL")) ret.all = true;
        else if (option.is("COUNT")) ret.count = true;
        else fail("Unsupported RETURN option " + option.text);
    }
    if (list.items.empty()) ret.all = true;
    return ret;
}

std::string parseCharset(std::string_view charset)
{
    if (equalsIgnoreCase(charset, "US-ASCII")) return "US-ASCII";
    if (equalsIgnoreCase(charset, "UTF-8")) return "UTF-8";
    fail("[BADCHARSET (US-ASCII UTF-8)] Unsupported charset " + std::string(charset));
}

bool containsModSeq(const SearchKey& key)
{
    return key.kind == Kind::ModSeq
           || std::any_of(key.children.begin(), key.children.end(), [](const SearchKey& child) { return containsModSeq(child); });
}

}  // namespace

bool SearchQuery::usesModSeq() const
{
    return containsModSeq(root);
}

SearchQuery parseSearchQuery(const std::vector<Arg>& args, std::size_t first, std::size_t maxDepth)
{
    KeyParser parser(args, first, maxDepth);
    SearchQuery query;
    if (!parser.atEnd() && parser.peek().is("RETURN")) {
        parser.skip();
        query.ret = parseReturnOptions(parser.argumentOf("RETURN"));
    }
    if (!parser.atEnd() && parser.peek().is("CHARSET")) {
        parser.skip();
        query.charset = parseCharset(parser.astringOf("CHARSET"));
    }
    query.root = parser.parseAll(1);
    return query;
}

SearchKey parseSearchKeys(const std::vector<Arg>& args, std::size_t first, std::size_t maxDepth)
{
    return KeyParser(args, first, maxDepth).parseAll(1);
}

namespace {

// A necessary condition for `key` from what is cheap to know (the full-text
// prefilter): an AND whose header keys cannot match reads no header at all.
bool mayMatch(const SearchKey& key, SearchSubject& message)
{
    const auto mayMatchChild = [&](const SearchKey& child) { return mayMatch(child, message); };
    switch (key.kind) {
    case Kind::And: return std::all_of(key.children.begin(), key.children.end(), mayMatchChild);
    case Kind::Or: return std::any_of(key.children.begin(), key.children.end(), mayMatchChild);
    case Kind::Header: return key.value.empty() || message.headerMayContain(key.value);
    default: return true;
    }
}

}  // namespace

bool matches(const SearchKey& key, SearchSubject& message)
{
    const auto matchesChild = [&](const SearchKey& child) { return matches(child, message); };
    const auto& children = key.children;
    switch (key.kind) {
    case Kind::All: return true;
    case Kind::And: return mayMatch(key, message) && std::all_of(children.begin(), children.end(), matchesChild);
    case Kind::Or: return std::any_of(children.begin(), children.end(), matchesChild);
    case Kind::Not: return std::none_of(children.begin(), children.end(), matchesChild);
    case Kind::SequenceNumbers:
        return key.set && key.set->contains(message.sequenceNumber(), message.largestSequenceNumber());
    case Kind::Uids: return key.set && key.set->contains(message.uid(), message.largestUid());
    case Kind::Flag: return message.hasFlag(key.field);
    case Kind::NoFlag: return !message.hasFlag(key.field);
    case Kind::Recent: return message.hasFlag("\\Recent");
    case Kind::New: return message.hasFlag("\\Recent") && !message.hasFlag("\\Seen");  // RFC 3501: RECENT UNSEEN
    case Kind::Old: return !message.hasFlag("\\Recent");
    case Kind::Before:
    case Kind::On:
    case Kind::Since: return compareDay(key.kind, utcDay(message.internalDate()), key.number);
    case Kind::SentBefore:
    case Kind::SentOn:
    case Kind::SentSince: {
        const auto day = sentDay(message.header());
        return day && compareDay(key.kind, *day, key.number);
    }
    case Kind::Larger: return message.size() > static_cast<std::uint64_t>(key.number);
    case Kind::Smaller: return message.size() < static_cast<std::uint64_t>(key.number);
    case Kind::Header:
        return (key.value.empty() || message.headerMayContain(key.value)) &&
               headerContains(message.header(), key.field, key.value);
    case Kind::Body: return message.textContains(key.value, false);
    case Kind::Text: return message.textContains(key.value, true);
    case Kind::ModSeq: return message.modseq() >= static_cast<std::uint64_t>(key.number);
    }
    return false;
}

std::vector<std::string> headerValues(std::string_view headerBlock, std::string_view field)
{
    std::vector<std::string> values;
    bool inMatchingField = false;
    for (std::size_t start = 0; start < headerBlock.size();) {
        const auto end = std::min(headerBlock.find('\n', start), headerBlock.size());
        auto line = headerBlock.substr(start, end - start);
        start = end + 1;
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        if (line.empty()) break;  // the blank line ending the header
        if (line.front() == ' ' || line.front() == '\t') {
            if (inMatchingField) values.back().append(line);  // RFC 5322 §2.2.3 unfolding
            continue;
        }
        const auto colon = line.find(':');
        inMatchingField = colon != std::string_view::npos && colon > 0 && equalsIgnoreCase(trim(line.substr(0, colon)), field);
        if (inMatchingField) values.emplace_back(line.substr(colon + 1));
    }
    for (auto& value : values) value = std::string(trim(value));
    return values;
}

bool containsFolded(std::string_view haystack, std::string_view needle)
{
    return fold(haystack).find(fold(needle)) != std::string::npos;
}

}  // namespace plexus::imap
