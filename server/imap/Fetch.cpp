#include "imap/Fetch.h"

#include "imap/ResponseSyntax.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <limits>
#include <stdexcept>
#include <string_view>

namespace plexus::imap {
namespace {

using Kind = FetchItem::Kind;
using Partial = std::pair<std::uint64_t, std::uint64_t>;
using mime::BodyPart;

// ---- text helpers ----------------------------------------------------------

char asciiUpper(char c)
{
    return c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c;
}

std::string upper(std::string_view text)
{
    std::string out(text);
    std::transform(out.begin(), out.end(), out.begin(), asciiUpper);
    return out;
}

bool equalsIgnoreCase(std::string_view a, std::string_view b)
{
    return std::equal(a.begin(), a.end(), b.begin(), b.end(),
                      [](char x, char y) { return asciiUpper(x) == asciiUpper(y); });
}

bool isDigit(char c)
{
    return c >= '0' && c <= '9';
}

bool isAsciiLetter(char c)
{
    return asciiUpper(c) >= 'A' && asciiUpper(c) <= 'Z';
}

// "(a b c)"
std::string parenthesized(const std::vector<std::string>& items)
{
    std::string out = "(";
    for (const auto& item : items) {
        if (out.size() > 1) out += ' ';
        out += item;
    }
    return out + ')';
}

// ---- parsing ---------------------------------------------------------------

[[noreturn]] void fail(const std::string& message)
{
    throw CommandError("", message);
}

// The offending text in an error message: bounded, printable.
std::string shown(std::string_view text)
{
    constexpr std::size_t kMax = 60;
    std::string out;
    for (const char c : text.substr(0, kMax)) out += (c >= 0x20 && c < 0x7f) ? c : '?';
    return '"' + out + (text.size() > kMax ? "...\"" : "\"");
}

struct NamedKind {
    std::string_view name;
    Kind kind;
};

constexpr std::array kSimpleItems = {
    NamedKind{"ENVELOPE", Kind::Envelope},         NamedKind{"FLAGS", Kind::Flags},
    NamedKind{"INTERNALDATE", Kind::InternalDate}, NamedKind{"RFC822", Kind::Rfc822},
    NamedKind{"RFC822.HEADER", Kind::Rfc822Header}, NamedKind{"RFC822.SIZE", Kind::Rfc822Size},
    NamedKind{"RFC822.TEXT", Kind::Rfc822Text},    NamedKind{"BODY", Kind::Body},
    NamedKind{"BODYSTRUCTURE", Kind::BodyStructure}, NamedKind{"UID", Kind::Uid},
    NamedKind{"MODSEQ", Kind::ModSeq},
};

// RFC 3501 §6.4.5 macros.
std::optional<std::vector<Kind>> macro(std::string_view name)
{
    std::vector<Kind> kinds = {Kind::Flags, Kind::InternalDate, Kind::Rfc822Size};
    if (equalsIgnoreCase(name, "FAST")) return kinds;
    kinds.push_back(Kind::Envelope);
    if (equalsIgnoreCase(name, "ALL")) return kinds;
    kinds.push_back(Kind::Body);
    if (equalsIgnoreCase(name, "FULL")) return kinds;
    return std::nullopt;
}

bool filtersFields(Section::Text text)
{
    return text == Section::Text::HeaderFields || text == Section::Text::HeaderFieldsNot;
}

// Reads BODY[section]<partial> after "BODY[" or "BODY.PEEK[" (RFC 3501 §9
// section, header-list, and the partial of fetch-att).
class SectionReader {
public:
    SectionReader(std::string_view item, std::size_t start) : item_(item), at_(start) {}

    Section section()
    {
        Section section;
        if (take(']')) return section;
        if (isDigit(peek())) {
            section.part = partNumbers();
            if (take(']')) return section;
            expect('.', "'.' or ']' after the part number");
        }
        section.text = text(!section.part.empty());
        if (filtersFields(section.text)) section.fields = headerList();
        expect(']', "']' to close the section");
        return section;
    }

    std::optional<Partial> partial()
    {
        if (!take('<')) return std::nullopt;
        const std::uint64_t origin = number("the partial origin");
        expect('.', "'.' between the partial origin and length");
        const std::uint64_t length = number("the partial length");
        if (length == 0) error("the partial length must not be 0");
        expect('>', "'>' to close the partial");
        return Partial{origin, length};
    }

    void end()
    {
        if (at_ < item_.size()) error("unexpected " + shown(item_.substr(at_)) + " after the section");
    }

private:
    [[noreturn]] void error(const std::string& what) const
    {
        fail("Invalid FETCH data item " + shown(item_) + ": " + what);
    }

    char peek(std::size_t ahead = 0) const { return at_ + ahead < item_.size() ? item_[at_ + ahead] : '\0'; }

    bool take(char c)
    {
        if (peek() != c) return false;
        ++at_;
        return true;
    }

    void expect(char c, const std::string& what)
    {
        if (!take(c)) error("expected " + what);
    }

    std::string_view digits()
    {
        const std::size_t start = at_;
        while (isDigit(peek())) ++at_;
        return item_.substr(start, at_ - start);
    }

    // RFC 9051 number64: partial offsets and lengths.
    std::uint64_t number(const std::string& what)
    {
        const auto text = digits();
        std::uint64_t value = 0;
        const auto result = std::from_chars(text.data(), text.data() + text.size(), value);
        if (text.empty() || result.ec != std::errc() || value > std::numeric_limits<std::int64_t>::max()) {
            error("expected a number for " + what);
        }
        return value;
    }

    // section-part = nz-number *("." nz-number)
    std::vector<std::uint32_t> partNumbers()
    {
        std::vector<std::uint32_t> numbers;
        do {
            const auto text = digits();
            std::uint32_t value = 0;
            const auto result = std::from_chars(text.data(), text.data() + text.size(), value);
            if (result.ec != std::errc() || text.front() == '0') {
                error("part numbers are positive numbers without leading zeros");
            }
            numbers.push_back(value);
        } while (peek() == '.' && isDigit(peek(1)) && take('.'));
        return numbers;
    }

    // section-msgtext, or section-text after a part number (MIME allowed).
    Section::Text text(bool afterPart)
    {
        const std::size_t start = at_;
        while (isAsciiLetter(peek()) || peek() == '.') ++at_;
        const auto word = item_.substr(start, at_ - start);
        if (equalsIgnoreCase(word, "HEADER")) return Section::Text::Header;
        if (equalsIgnoreCase(word, "HEADER.FIELDS")) return Section::Text::HeaderFields;
        if (equalsIgnoreCase(word, "HEADER.FIELDS.NOT")) return Section::Text::HeaderFieldsNot;
        if (equalsIgnoreCase(word, "TEXT")) return Section::Text::Text;
        if (afterPart && equalsIgnoreCase(word, "MIME")) return Section::Text::Mime;
        if (!afterPart && equalsIgnoreCase(word, "MIME")) error("MIME needs a part number");
        error("expected HEADER, HEADER.FIELDS, HEADER.FIELDS.NOT, TEXT" + std::string(afterPart ? ", MIME" : "") +
              " or a part number in the section");
    }

    // header-list = "(" header-fld-name *(SP header-fld-name) ")"
    std::vector<std::string> headerList()
    {
        expect(' ', "a space before the header field list");
        expect('(', "'(' to open the header field list");
        std::vector<std::string> names;
        do {
            names.push_back(astring());
        } while (take(' '));
        expect(')', "')' to close the header field list");
        return names;
    }

    // header-fld-name = astring: an atom (ASTRING-CHAR) or a quoted string.
    std::string astring()
    {
        if (take('"')) return quoted();
        const std::size_t start = at_;
        while (at_ < item_.size() && isAstringChar(item_[at_])) ++at_;
        if (at_ == start) error("expected a header field name");
        return std::string(item_.substr(start, at_ - start));
    }

    // ASTRING-CHAR = ATOM-CHAR / resp-specials
    static bool isAstringChar(char c) { return isAtomChar(c) || c == ']'; }

    // quoted = DQUOTE *QUOTED-CHAR DQUOTE, the opening quote already taken.
    std::string quoted()
    {
        std::string value;
        for (;;) {
            if (at_ == item_.size()) error("unterminated quoted field name");
            char c = item_[at_++];
            if (c == '"') return value;
            if (c == '\\') {
                c = peek();
                if (c != '"' && c != '\\') error("only \\\" and \\\\ may be escaped in a quoted field name");
                ++at_;
            } else if (c == '\r' || c == '\n') {
                error("line break in a quoted field name");
            }
            value += c;
        }
    }

    std::string_view item_;
    std::size_t at_;
};

FetchItem itemOf(Kind kind)
{
    FetchItem item{};
    item.kind = kind;
    return item;
}

FetchItem parseSectionItem(std::string_view text, std::size_t bracket)
{
    FetchItem item = itemOf(Kind::BodySection);
    const auto name = text.substr(0, bracket);
    if (equalsIgnoreCase(name, "BODY.PEEK")) {
        item.peek = true;
    } else if (!equalsIgnoreCase(name, "BODY")) {
        fail("Unknown FETCH data item " + shown(text));
    }
    SectionReader reader(text, bracket + 1);
    item.section = reader.section();
    item.partial = reader.partial();
    reader.end();
    return item;
}

FetchItem parseItem(const Arg& arg)
{
    if (!arg.isAtom()) fail("Expected a FETCH data item, not a string, NIL or list");
    const std::string_view text = arg.text;
    if (const auto bracket = text.find('['); bracket != std::string_view::npos) return parseSectionItem(text, bracket);
    const auto simple = std::find_if(kSimpleItems.begin(), kSimpleItems.end(),
                                     [&](const NamedKind& named) { return equalsIgnoreCase(text, named.name); });
    if (simple == kSimpleItems.end()) fail("Unknown FETCH data item " + shown(text));
    return itemOf(simple->kind);
}

std::vector<FetchItem> parseItems(const Arg& arg)
{
    std::vector<FetchItem> items;
    if (arg.isList()) {
        if (arg.items.empty()) fail("Empty FETCH data item list");
        for (const Arg& element : arg.items) {
            if (element.isAtom() && macro(element.text)) fail("FETCH macro " + shown(element.text) + " inside a list");
            items.push_back(parseItem(element));
        }
    } else if (const auto kinds = arg.isAtom() ? macro(arg.text) : std::nullopt) {
        for (const Kind kind : *kinds) items.push_back(itemOf(kind));
    } else {
        items.push_back(parseItem(arg));
    }
    return items;
}

std::uint64_t modSequence(const Arg& arg)
{
    std::uint64_t value = 0;
    const auto& text = arg.text;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    const bool whole = end == text.data() + text.size() && !text.empty();
    if (!arg.isAtom() || error != std::errc() || !whole || value > std::numeric_limits<std::int64_t>::max()) {
        fail("CHANGEDSINCE needs a mod-sequence number, not " + shown(text));
    }
    return value;
}

// fetch-modifiers (RFC 4466 §2.4): CHANGEDSINCE (RFC 7162 §3.1.4.1) and
// VANISHED (§3.2.6, only with CHANGEDSINCE).
void parseModifiers(const Arg& arg, FetchRequest& request)
{
    if (!arg.isList() || arg.items.empty()) fail("Expected a list of FETCH modifiers after the data items");
    const auto& modifiers = arg.items;
    for (std::size_t i = 0; i < modifiers.size(); ++i) {
        if (modifiers[i].is("CHANGEDSINCE") && !request.changedSince) {
            if (i + 1 == modifiers.size()) fail("CHANGEDSINCE needs a mod-sequence number");
            request.changedSince = modSequence(modifiers[++i]);
        } else if (modifiers[i].is("VANISHED") && !request.vanished) {
            request.vanished = true;
        } else {
            fail("Unknown or repeated FETCH modifier " + shown(modifiers[i].text));
        }
    }
    if (request.vanished && !request.changedSince) fail("VANISHED needs CHANGEDSINCE");
    // RFC 7162 §3.1.4.1: CHANGEDSINCE implies the MODSEQ data item.
    if (request.changedSince && !request.wants(Kind::ModSeq)) request.items.push_back(itemOf(Kind::ModSeq));
}

// ---- sections --------------------------------------------------------------

// A byte range of the message.
struct Extent {
    std::uint64_t offset = 0, size = 0;
};

Extent headerOf(const BodyPart& part)
{
    return {part.headerOffset, part.headerSize};
}

Extent bodyOf(const BodyPart& part)
{
    return {part.bodyOffset, part.bodySize};
}

// The root of the message a message/rfc822 part encapsulates, when parsed.
const BodyPart* encapsulated(const BodyPart& part)
{
    return part.isEncapsulatedMessage() && !part.children.empty() ? &part.children.front() : nullptr;
}

// RFC 3501 §6.4.5: the parts of a multipart are numbered from 1; a message
// that is not multipart has one part, its body; the parts of a message/rfc822
// part are those of the message it encapsulates.
const BodyPart* subpart(const BodyPart& parent, std::uint32_t number, bool parentIsMessage)
{
    if (parent.isMultipart()) {
        return number >= 1 && number <= parent.children.size() ? &parent.children[number - 1] : nullptr;
    }
    if (parentIsMessage) return number == 1 ? &parent : nullptr;
    const BodyPart* inner = encapsulated(parent);
    return inner != nullptr ? subpart(*inner, number, true) : nullptr;
}

const BodyPart* findPart(const BodyPart& root, const std::vector<std::uint32_t>& numbers)
{
    const BodyPart* part = &root;
    bool isMessage = true;
    for (const std::uint32_t number : numbers) {
        part = subpart(*part, number, isMessage);
        if (part == nullptr) return nullptr;
        isMessage = false;
    }
    return part;
}

// Where a section lies (HEADER.FIELDS: the header it filters); nullopt when
// the part does not exist. HEADER, HEADER.FIELDS and TEXT after a part number
// refer to the message of a message/rfc822 part.
std::optional<Extent> locate(const Section& section, const mime::MessageStructure& structure)
{
    using Text = Section::Text;
    if (section.part.empty() && section.text == Text::Whole) return Extent{0, structure.size};
    const BodyPart* part = section.part.empty() ? &structure.root : findPart(structure.root, section.part);
    if (part == nullptr) return std::nullopt;
    if (section.text == Text::Whole) return bodyOf(*part);
    if (section.text == Text::Mime) return section.part.empty() ? std::nullopt : std::optional(headerOf(*part));
    const BodyPart* message = section.part.empty() ? part : encapsulated(*part);
    if (message == nullptr) return std::nullopt;
    return section.text == Text::Text ? bodyOf(*message) : headerOf(*message);
}

bool isBlankLine(std::string_view line)
{
    return line == "\r\n" || line == "\n";
}

// The field name of a header line ("Name:" or obsolete "Name :"), or empty.
std::string_view fieldName(std::string_view line)
{
    const auto colon = line.find(':');
    if (colon == std::string_view::npos) return {};
    auto name = line.substr(0, colon);
    while (!name.empty() && (name.back() == ' ' || name.back() == '\t')) name.remove_suffix(1);
    return name;
}

// RFC 3501 §6.4.5 HEADER.FIELDS (.NOT): the fields whose name is (is not) in
// the list, case-insensitively, with their continuation lines, in message
// order; then the header's blank line, absent only when the message has none.
// Lines that are not fields (no colon, stray continuations) are in neither.
std::string filterHeader(std::string_view header, const std::vector<std::string>& names, bool listed)
{
    std::string out;
    bool copying = false;
    while (!header.empty()) {
        const auto lineEnd = header.find('\n');
        const auto line = header.substr(0, lineEnd == std::string_view::npos ? header.size() : lineEnd + 1);
        header.remove_prefix(line.size());
        if (isBlankLine(line)) {
            out += line;
            break;
        }
        if (line.front() != ' ' && line.front() != '\t') {
            const auto name = fieldName(line);
            const bool inList = std::any_of(names.begin(), names.end(),
                                            [&](const std::string& wanted) { return equalsIgnoreCase(name, wanted); });
            copying = !name.empty() && inList == listed;
        }
        if (copying) out += line;
    }
    return out;
}

// RFC 3501 §6.4.5 <origin.length>: the part of [origin, origin + length)
// that exists.
Extent window(std::uint64_t size, const std::optional<Partial>& partial)
{
    if (!partial) return {0, size};
    const std::uint64_t origin = std::min(partial->first, size);
    return {origin, std::min(partial->second, size - origin)};
}

std::string readSection(const Section& section, const std::optional<Partial>& partial,
                        const mime::MessageStructure& structure, store::BlobReader& blob)
{
    const auto extent = locate(section, structure);
    if (!extent) return {};
    if (filtersFields(section.text)) {
        const std::string fields = filterHeader(blob.readRange(extent->offset, extent->size), section.fields,
                                                section.text == Section::Text::HeaderFields);
        const Extent part = window(fields.size(), partial);
        return fields.substr(part.offset, part.size);
    }
    const Extent part = window(extent->size, partial);
    return blob.readRange(extent->offset + part.offset, part.size);
}

// ---- rendering -------------------------------------------------------------

std::string nilOr(std::string_view text)
{
    return imapNStringOrNil(text);
}

std::string addressList(const std::vector<mime::Address>& addresses)
{
    if (addresses.empty()) return "NIL";
    std::string out = "(";
    for (const auto& a : addresses) {
        out += parenthesized({nilOr(a.name), nilOr(a.adl), nilOr(a.mailbox), nilOr(a.host)});
    }
    return out + ')';
}

// body-fld-param
std::string parameters(const std::vector<mime::Parameter>& params)
{
    if (params.empty()) return "NIL";
    std::vector<std::string> items;
    for (const auto& p : params) {
        items.push_back(imapString(p.name));
        items.push_back(imapString(p.value));
    }
    return parenthesized(items);
}

// body-fld-dsp
std::string disposition(const BodyPart& part)
{
    if (part.disposition.empty()) return "NIL";
    return parenthesized({imapString(part.disposition), parameters(part.dispositionParams)});
}

// body-fld-lang: always a list when present, as Dovecot writes it.
std::string language(const BodyPart& part)
{
    if (part.language.empty()) return "NIL";
    std::vector<std::string> tags;
    for (const auto& tag : part.language) tags.push_back(imapString(tag));
    return parenthesized(tags);
}

bool isType(const BodyPart& part, std::string_view type, std::string_view subtype)
{
    return equalsIgnoreCase(part.type, type) && equalsIgnoreCase(part.subtype, subtype);
}

// What a multipart without parts and a message/rfc822 that was not parsed
// contain, as Dovecot writes it: an empty text/plain.
BodyPart emptyTextPart()
{
    BodyPart part;
    part.type = "text";
    part.subtype = "plain";
    part.params = {{"charset", "us-ascii"}};
    part.encoding = "7bit";
    return part;
}

std::string singlePart(const BodyPart& part, bool extensible)
{
    std::vector<std::string> fields = {imapString(upper(part.type)),  imapString(upper(part.subtype)),
                                       parameters(part.params),       nilOr(part.id),
                                       nilOr(part.description),       imapString(upper(part.encoding)),
                                       std::to_string(part.bodySize)};
    // body-type-msg (§7.4.2): envelope, body and lines; empty ones when the
    // message was not parsed (encoded, limits), as Dovecot does.
    if (isType(part, "message", "rfc822")) {
        const BodyPart* inner = encapsulated(part);
        fields.push_back(renderEnvelope(inner != nullptr ? *part.envelope : mime::Envelope{}));
        fields.push_back(renderBodyStructure(inner != nullptr ? *inner : emptyTextPart(), extensible));
        fields.push_back(std::to_string(part.bodyLines));
    } else if (equalsIgnoreCase(part.type, "text")) {
        fields.push_back(std::to_string(part.bodyLines));
    }
    if (extensible) {
        fields.insert(fields.end(), {nilOr(part.md5), disposition(part), language(part), nilOr(part.location)});
    }
    return parenthesized(fields);
}

// body-type-mpart: the parts without separators, then the subtype.
std::string multipart(const BodyPart& part, bool extensible)
{
    std::string out = "(";
    if (part.children.empty()) out += singlePart(emptyTextPart(), extensible);
    for (const auto& child : part.children) out += renderBodyStructure(child, extensible);
    out += ' ' + imapString(upper(part.subtype));
    if (extensible) {
        out += ' ' + parameters(part.params) + ' ' + disposition(part) + ' ' + language(part) + ' ' +
               nilOr(part.location);
    }
    return out + ')';
}

std::string_view textName(Section::Text text)
{
    switch (text) {
    case Section::Text::Whole: return "";
    case Section::Text::Header: return "HEADER";
    case Section::Text::HeaderFields: return "HEADER.FIELDS";
    case Section::Text::HeaderFieldsNot: return "HEADER.FIELDS.NOT";
    case Section::Text::Text: return "TEXT";
    case Section::Text::Mime: return "MIME";
    }
    throw std::logic_error("FETCH: unknown section text");
}

// The section-spec as BODY[...] echoes it.
std::string sectionSpec(const Section& section)
{
    std::string out;
    for (const std::uint32_t number : section.part) {
        if (!out.empty()) out += '.';
        out += std::to_string(number);
    }
    const auto text = textName(section.text);
    if (!text.empty() && !out.empty()) out += '.';
    out += text;
    if (filtersFields(section.text)) {
        std::vector<std::string> names;
        for (const auto& name : section.fields) names.push_back(imapAString(name));
        out += ' ' + parenthesized(names);
    }
    return out;
}

Section sectionOf(Section::Text text)
{
    Section section;
    section.text = text;
    return section;
}

const mime::MessageStructure& structureOf(const FetchedMessage& message)
{
    if (message.structure == nullptr) throw std::logic_error("FETCH: message structure not loaded");
    return *message.structure;
}

// "NAME {n}\r\nbytes": section data is always a literal, as message bytes may hold anything.
void appendSection(std::string& out, std::string_view name, const FetchedMessage& message, const Section& section,
                   const std::optional<Partial>& partial = std::nullopt)
{
    const std::string bytes = readSection(section, partial, structureOf(message), message.blob());
    out += name;
    out += " {" + std::to_string(bytes.size()) + "}\r\n";
    out += bytes;
}

// BODY[section]<origin>: RFC 3501 §7.4.2 echoes the partial by its origin only.
std::string sectionItemName(const FetchItem& item)
{
    const std::string origin = item.partial ? '<' + std::to_string(item.partial->first) + '>' : "";
    return "BODY[" + sectionSpec(item.section) + ']' + origin;
}

void appendItem(std::string& out, const FetchItem& item, const FetchedMessage& message)
{
    using Text = Section::Text;
    switch (item.kind) {
    case Kind::Envelope: out += "ENVELOPE " + renderEnvelope(structureOf(message).envelope); break;
    case Kind::Flags: out += "FLAGS (" + message.flags + ')'; break;
    case Kind::InternalDate: out += "INTERNALDATE " + imapDateTime(message.internalDate); break;
    case Kind::Rfc822: appendSection(out, "RFC822", message, sectionOf(Text::Whole)); break;
    case Kind::Rfc822Header: appendSection(out, "RFC822.HEADER", message, sectionOf(Text::Header)); break;
    case Kind::Rfc822Size: out += "RFC822.SIZE " + std::to_string(message.size); break;
    case Kind::Rfc822Text: appendSection(out, "RFC822.TEXT", message, sectionOf(Text::Text)); break;
    case Kind::Body: out += "BODY " + renderBodyStructure(structureOf(message).root, false); break;
    case Kind::BodyStructure: out += "BODYSTRUCTURE " + renderBodyStructure(structureOf(message).root, true); break;
    case Kind::BodySection: appendSection(out, sectionItemName(item), message, item.section, item.partial); break;
    case Kind::Uid: out += "UID " + std::to_string(message.uid); break;
    case Kind::ModSeq: out += "MODSEQ (" + std::to_string(message.modseq) + ')'; break;
    }
}

}  // namespace

bool FetchRequest::setsSeen() const
{
    return std::any_of(items.begin(), items.end(), [](const FetchItem& item) {
        return item.kind == Kind::Rfc822 || item.kind == Kind::Rfc822Text ||
               (item.kind == Kind::BodySection && !item.peek);
    });
}

bool FetchRequest::needsStructure() const
{
    return needsBlob() || wants(Kind::Envelope) || wants(Kind::Body) || wants(Kind::BodyStructure);
}

bool FetchRequest::needsBlob() const
{
    return wants(Kind::Rfc822) || wants(Kind::Rfc822Header) || wants(Kind::Rfc822Text) || wants(Kind::BodySection);
}

bool FetchRequest::wants(FetchItem::Kind kind) const
{
    return std::any_of(items.begin(), items.end(), [&](const FetchItem& item) { return item.kind == kind; });
}

FetchRequest parseFetchRequest(const std::vector<Arg>& args, std::size_t first)
{
    if (first >= args.size()) fail("FETCH needs data items");
    FetchRequest request;
    request.items = parseItems(args[first]);
    if (first + 1 < args.size()) parseModifiers(args[first + 1], request);
    if (first + 2 < args.size()) fail("Unexpected argument after the FETCH modifiers");
    return request;
}

// The response is built in memory: each section read is held twice at most,
// in the response and while being copied into it (a BODY[] is bounded by the
// SMTP message size limit).
std::string renderFetchItems(const FetchRequest& request, const FetchedMessage& message)
{
    std::string out = "(";
    for (const auto& item : request.items) {
        if (out.size() > 1) out += ' ';
        appendItem(out, item, message);
    }
    out += ')';
    return out;
}

// RFC 3501 §7.4.2 envelope; Sender and Reply-To default to From.
std::string renderEnvelope(const mime::Envelope& envelope)
{
    return parenthesized({nilOr(envelope.date), nilOr(envelope.subject), addressList(envelope.from),
                          addressList(envelope.imapSender()), addressList(envelope.imapReplyTo()),
                          addressList(envelope.to), addressList(envelope.cc), addressList(envelope.bcc),
                          nilOr(envelope.inReplyTo), nilOr(envelope.messageId)});
}

// RFC 3501 §7.4.2 body / BODYSTRUCTURE. Type, subtype and encoding are written
// in upper case, as in the RFC's examples and UW-IMAP (Dovecot keeps the
// message's case; both are valid: the values are case-insensitive); the other
// strings as in the message.
std::string renderBodyStructure(const BodyPart& root, bool extensible)
{
    return root.isMultipart() ? multipart(root, extensible) : singlePart(root, extensible);
}

std::string sectionBytes(const Section& section, const mime::MessageStructure& structure, store::BlobReader& blob)
{
    return readSection(section, std::nullopt, structure, blob);
}

}  // namespace plexus::imap
