#include "mime/StructureParser.h"

#include "mime/HeaderFields.h"

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

namespace plexus::mime {
namespace {

using detail::equalsIgnoreCase;

// RFC 2046 §5.1.1 allows 70 characters; accept more, bounded.
constexpr std::size_t kMaxBoundaryLength = 200;
// What must be seen of a line to recognise "--" boundary "--".
constexpr std::size_t kLineHeadBytes = kMaxBoundaryLength + 4;

// RFC 2046 §5.1.1: a boundary line may end in transport padding; the CR of
// CRLF is stripped with it.
bool isTransportPadding(char c)
{
    return c == ' ' || c == '\t' || c == '\r';
}

std::string_view withoutPadding(std::string_view text)
{
    while (!text.empty() && isTransportPadding(text.back())) text.remove_suffix(1);
    return text;
}

// A point in the stream: its offset, the line feeds before it, and whether the
// byte before it is a line feed (if not, a body ending there ends in a partial line).
struct Position {
    std::uint64_t offset = 0;
    std::uint64_t newlines = 0;
    bool afterNewline = true;
};

Position later(Position a, Position b)
{
    return a.offset >= b.offset ? a : b;
}

std::uint64_t linesBetween(Position from, Position to)
{
    if (to.offset <= from.offset) return 0;
    return to.newlines - from.newlines + (to.afterNewline ? 0 : 1);
}

bool isIndexedField(std::string_view name)
{
    return equalsIgnoreCase(name, "References") || detail::startsWithIgnoreCase(name, "X-MSS-");
}

// RFC 2046 §5.2.1, RFC 6532 §3.7: only an unencoded message can be read as one.
bool isReadableMessage(const BodyPart& part)
{
    const bool message = equalsIgnoreCase(part.type, "message") &&
                         (equalsIgnoreCase(part.subtype, "rfc822") || equalsIgnoreCase(part.subtype, "global"));
    return message && (part.encoding == "7bit" || part.encoding == "8bit" || part.encoding == "binary");
}

std::string usableBoundary(const BodyPart& part)
{
    const auto boundary = withoutPadding(part.param("boundary").value_or(""));
    return boundary.size() <= kMaxBoundaryLength ? std::string(boundary) : std::string();
}

}  // namespace

class StructureParser::Impl {
public:
    explicit Impl(const Limits& limits) : limits_(limits) { pushPart(result_.root, 0, false, &result_.envelope, {}); }

    const Limits& limits() const { return limits_; }

    void feed(std::string_view bytes)
    {
        while (!bytes.empty()) {
            const auto newline = bytes.find('\n');
            appendToLine(bytes.substr(0, newline));
            if (newline == std::string_view::npos) return;
            endLine(true);
            bytes.remove_prefix(newline + 1);
        }
    }

    MessageStructure finish()
    {
        if (line_.length > 0) endLine(false);
        closeUntil(0, line_.start);
        result_.size = offset_;
        result_.headerSize = result_.root.headerSize;
        return std::move(result_);
    }

private:
    enum class Phase { Header, Body };

    struct OpenPart {
        BodyPart* part;
        Envelope* envelope;  // set for a message's root: its header is also an envelope
        std::size_t depth;
        bool parentIsDigest;  // RFC 2046 §5.1.5: default type message/rfc822
        Position headerStart;
        Position bodyStart;
        // A body ends no earlier than its last part: "--inner" right before
        // "--outer" opens an empty part just past the line break that ends the
        // inner multipart.
        Position lastChildEnd;
        std::string boundary = {};  // of a multipart until its close delimiter
        bool isDigest = false;
    };

    struct Line {
        Position start;
        std::uint64_t length = 0;     // bytes before its LF
        std::string head;             // the first kLineHeadBytes bytes
        bool tailIsPadding = true;    // the bytes past `head`
        char last = 0;
    };

    struct BoundaryMatch {
        std::size_t level;  // index in open_ of the multipart
        bool close;
    };

    void appendToLine(std::string_view bytes)
    {
        if (bytes.empty()) return;
        const std::size_t headRoom = kLineHeadBytes - line_.head.size();
        line_.head.append(bytes.substr(0, headRoom));
        if (bytes.size() > headRoom && line_.tailIsPadding) {
            line_.tailIsPadding = std::all_of(bytes.begin() + headRoom, bytes.end(), isTransportPadding);
        }
        line_.length += bytes.size();
        line_.last = bytes.back();
        offset_ += bytes.size();
        if (phase_ == Phase::Header) keepHeaderBytes(bytes);
    }

    void keepHeaderBytes(std::string_view bytes)
    {
        const std::size_t room = limits_.maxHeaderBytes - header_.size();
        if (bytes.size() > room) headerOverflow_ = true;
        header_.append(bytes.substr(0, room));
    }

    // Past the limit only whole lines are parsed.
    std::string_view keptHeader() const
    {
        const std::string_view kept = header_;
        return headerOverflow_ ? kept.substr(0, kept.rfind('\n') + 1) : kept;
    }

    void endLine(bool terminated)
    {
        if (terminated) {
            if (phase_ == Phase::Header) keepHeaderBytes("\n");
            ++offset_;
            ++newlines_;
        }
        const std::uint64_t contentLength = line_.length - (terminated && line_.last == '\r' ? 1 : 0);
        const Position contentEnd{line_.start.offset + contentLength, line_.start.newlines,
                                  contentLength == 0 && line_.start.afterNewline};
        const Position next{offset_, newlines_, terminated};
        handleLine(contentLength, next);
        previousLineEnd_ = contentEnd;
        startLine(next);
    }

    void startLine(Position start)
    {
        line_.start = start;
        line_.length = 0;
        line_.head.clear();  // keeps its buffer: no allocation per line
        line_.tailIsPadding = true;
        line_.last = 0;
    }

    void handleLine(std::uint64_t contentLength, Position next)
    {
        auto match = frozen_ ? std::nullopt : matchBoundary();
        if (match && !match->close && !reservePart()) match.reset();
        if (match) {
            onBoundary(*match, next);
        } else if (phase_ == Phase::Header && contentLength == 0) {
            endHeader(next);
        }
    }

    std::optional<BoundaryMatch> matchBoundary() const
    {
        if (!line_.tailIsPadding) return std::nullopt;
        std::string_view text = withoutPadding(line_.head);
        if (!text.starts_with("--")) return std::nullopt;
        text.remove_prefix(2);
        // Innermost first: only the boundaries of enclosing multiparts count (RFC 2046 §5.1.2).
        for (std::size_t level = open_.size(); level-- > 0;) {
            const std::string& boundary = open_[level].boundary;
            if (boundary.empty() || !text.starts_with(boundary)) continue;
            const auto rest = text.substr(boundary.size());
            if (rest.empty()) return BoundaryMatch{level, false};
            if (rest == "--") return BoundaryMatch{level, true};
        }
        return std::nullopt;
    }

    // Past maxParts the structure stops growing: the rest of the message
    // belongs to the parts open at that point.
    bool reservePart()
    {
        if (partsCreated_ >= limits_.maxParts) {
            frozen_ = true;
            return false;
        }
        ++partsCreated_;
        return true;
    }

    void onBoundary(BoundaryMatch match, Position next)
    {
        // RFC 2046 §5.1.1: the line break before a boundary line belongs to the boundary.
        closeUntil(match.level + 1, previousLineEnd_);
        if (match.close) {
            open_.back().boundary.clear();  // what follows is the epilogue
            return;
        }
        OpenPart& multipart = open_.back();
        BodyPart& child = multipart.part->children.emplace_back();
        child.headerOffset = next.offset;
        pushPart(child, multipart.depth + 1, multipart.isDigest, nullptr, next);
    }

    void pushPart(BodyPart& part, std::size_t depth, bool parentIsDigest, Envelope* envelope, Position start)
    {
        open_.push_back({.part = &part,
                         .envelope = envelope,
                         .depth = depth,
                         .parentIsDigest = parentIsDigest,
                         .headerStart = start,
                         .bodyStart = start,
                         .lastChildEnd = start});
        phase_ = Phase::Header;
        header_.clear();
        headerOverflow_ = false;
    }

    void endHeader(Position bodyStart)
    {
        OpenPart& open = open_.back();
        BodyPart& part = *open.part;
        part.headerSize = bodyStart.offset - part.headerOffset;
        part.bodyOffset = bodyStart.offset;
        open.bodyStart = bodyStart;
        phase_ = Phase::Body;
        const auto fields = detail::parseHeaderFields(keptHeader());
        header_.clear();
        detail::parseContentFields(fields, open.parentIsDigest, part);
        if (open.envelope != nullptr) *open.envelope = detail::parseEnvelope(fields);
        if (&part == &result_.root) indexFields(fields);
        openContents();
    }

    // Multipart: expect its boundary. Readable message: its header comes next.
    void openContents()
    {
        OpenPart& open = open_.back();
        BodyPart& part = *open.part;
        if (frozen_ || open.depth + 1 >= limits_.maxDepth) return;  // deeper: an opaque leaf
        if (part.isMultipart()) {
            open.boundary = usableBoundary(part);
            open.isDigest = equalsIgnoreCase(part.subtype, "digest");
        } else if (isReadableMessage(part) && reservePart()) {
            BodyPart& root = part.children.emplace_back();
            root.headerOffset = part.bodyOffset;
            pushPart(root, open.depth + 1, false, &part.envelope.emplace(), open.bodyStart);
        }
    }

    void indexFields(const std::vector<HeaderField>& fields)
    {
        for (const auto& field : fields) {
            const std::size_t bytes = field.name.size() + field.value.size();
            if (!isIndexedField(field.name) || indexedBytes_ + bytes > limits_.maxIndexedHeaderBytes) continue;
            indexedBytes_ += bytes;
            result_.headers.push_back(field);
        }
    }

    void closeUntil(std::size_t remaining, Position end)
    {
        while (open_.size() > remaining) closeInnermost(end);
    }

    void closeInnermost(Position end)
    {
        OpenPart& open = open_.back();
        if (phase_ == Phase::Header) {
            // A header cut short by a boundary or the end of input. It may open an
            // encapsulated message, which closeUntil() then closes first.
            endHeader(later(end, open.headerStart));
            return;
        }
        const Position stop = later(end, later(open.bodyStart, open.lastChildEnd));
        open.part->bodySize = stop.offset - open.bodyStart.offset;
        open.part->bodyLines = linesBetween(open.bodyStart, stop);
        open_.pop_back();
        if (!open_.empty()) open_.back().lastChildEnd = stop;
    }

    Limits limits_;
    MessageStructure result_;
    std::vector<OpenPart> open_;  // root first; pointers into result_, which never moves
    Phase phase_ = Phase::Header;  // of the innermost open part; the others are in their body
    std::string header_;           // the innermost part's header while in Phase::Header
    bool headerOverflow_ = false;
    Line line_;
    Position previousLineEnd_;  // where the previous line's content ended
    std::uint64_t offset_ = 0;
    std::uint64_t newlines_ = 0;
    std::size_t partsCreated_ = 1;
    std::size_t indexedBytes_ = 0;
    bool frozen_ = false;
};

StructureParser::StructureParser(Limits limits) : impl_(std::make_unique<Impl>(limits)) {}
StructureParser::~StructureParser() = default;
StructureParser::StructureParser(StructureParser&&) noexcept = default;
StructureParser& StructureParser::operator=(StructureParser&&) noexcept = default;

void StructureParser::feed(const char* data, std::size_t size)
{
    impl_->feed({data, size});
}

MessageStructure StructureParser::finish()
{
    MessageStructure structure = impl_->finish();
    impl_ = std::make_unique<Impl>(impl_->limits());
    return structure;
}

MessageStructure parseMessage(std::string_view whole, Limits limits)
{
    StructureParser parser(limits);
    parser.feed(whole.data(), whole.size());
    return parser.finish();
}

}  // namespace plexus::mime
