#include "imap/Command.h"

#include "mime/Text.h"

#include <Poco/Net/NetException.h>

#include <algorithm>
#include <charconv>

namespace plexus::imap {
namespace {

// How the parser leaves a command early: malformed, or the peer gone half-way.
struct Malformed {
    std::string message;
};
struct PeerClosed {};

[[noreturn]] void fail(std::string message)
{
    throw Malformed{std::move(message)};
}

char toUpper(char c)
{
    return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c;
}

bool equalsIgnoreCase(std::string_view a, std::string_view b)
{
    return std::ranges::equal(a, b, [](char x, char y) { return toUpper(x) == toUpper(y); });
}

bool isCtlOr8Bit(char c)
{
    const auto byte = static_cast<unsigned char>(c);
    return byte < 0x20 || byte >= 0x7F;
}

// tag = 1*<any ASTRING-CHAR except "+">
bool isTagChar(char c)
{
    return c == ']' || (isAtomChar(c) && c != '+');
}

// Argument atoms are wider than ATOM-CHAR: flags start with '\' (\Seen), LIST
// patterns hold '%' and '*', sequence sets '*', and ']' follows a section.
bool isArgumentAtomChar(char c)
{
    return !isCtlOr8Bit(c) && std::string_view("(){ \"").find(c) == std::string_view::npos;
}

// The size of a "{n+}" ending `line`: LITERAL+ bytes that follow the line
// whether or not the server wants them.
std::optional<std::uint64_t> trailingNonSyncLiteral(std::string_view line)
{
    if (!line.ends_with("+}")) return std::nullopt;
    const auto open = line.rfind('{');
    if (open == std::string_view::npos) return std::nullopt;
    const std::string_view digits = line.substr(open + 1, line.size() - open - 3);
    std::uint64_t size = 0;
    const auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), size);
    if (digits.empty() || error != std::errc() || end != digits.data() + digits.size()) return std::nullopt;
    return size;
}

Arg makeAtomOrNil(std::string text)
{
    Arg arg;
    arg.kind = equalsIgnoreCase(text, "NIL") ? Arg::Kind::Nil : Arg::Kind::Atom;
    arg.text = std::move(text);
    return arg;
}

Arg makeString(std::string text, bool literal)
{
    Arg arg;
    arg.kind = Arg::Kind::String;
    arg.text = std::move(text);
    arg.literal = literal;
    return arg;
}

Arg makeList()
{
    Arg arg;
    arg.kind = Arg::Kind::List;
    return arg;
}

}  // namespace

bool isAtomChar(char c)
{
    const auto byte = static_cast<unsigned char>(c);
    return byte >= 0x20 && byte < 0x7F && std::string_view("(){ %*\"\\]").find(c) == std::string_view::npos;
}

bool Arg::is(std::string_view word) const
{
    return kind == Kind::Atom && equalsIgnoreCase(text, word);
}

// Parses one command, line by line: a literal ends its line and the command
// goes on with the next one.
class CommandReader::Parser {
public:
    Parser(CommandReader& reader, Command& command) : reader_(reader), command_(command) {}

    void parseCommand(net::Line first)
    {
        line_ = std::move(first.text);
        reader_.commandBytes_ += line_.size();
        if (line_.empty()) fail("empty command line");
        parseTag();
        if (first.tooLong) fail("command line too long");
        if (!skip(' ')) fail("expected a space after the tag");
        const std::size_t start = position_;
        while (!atEnd() && isAtomChar(peek())) command_.name += toUpper(line_[position_++]);
        if (position_ == start) fail("missing command name");
        parseArguments();
    }

    void parseAfterPendingLiteral()
    {
        nextLine();
        parseArguments();
    }

    // Consumes what the client still sends for a failed command: the bytes of
    // LITERAL+ literals and the lines after them. A synchronizing literal ends
    // it: the client waits for a continuation that never comes (RFC 3501 §7.5).
    // False when the peer closed meanwhile.
    bool discardRest()
    {
        while (const auto size = trailingNonSyncLiteral(line_)) {
            if (!reader_.connection_.readExact(*size, [](std::string_view) {})) return false;
            const auto line = reader_.connection_.readLine(reader_.limits_.lineLength);
            if (!line) return false;
            line_ = line->text;
        }
        return true;
    }

    // Drops a pending LITERAL+ the session refused, and the rest of its command.
    void discardPendingLiteral(std::uint64_t size)
    {
        if (!reader_.connection_.readExact(size, [](std::string_view) {})) return;
        const auto line = reader_.connection_.readLine(reader_.limits_.lineLength);
        if (!line) return;
        line_ = line->text;
        discardRest();
    }

private:
    bool atEnd() const { return position_ == line_.size(); }
    char peek() const { return line_[position_]; }

    bool skip(char c)
    {
        if (atEnd() || peek() != c) return false;
        ++position_;
        return true;
    }

    void parseTag()
    {
        while (!atEnd() && isTagChar(peek())) ++position_;
        if (position_ == 0) fail("missing or invalid tag");
        command_.tag = line_.substr(0, position_);
    }

    void nextLine()
    {
        auto line = reader_.connection_.readLine(reader_.limits_.lineLength);
        if (!line) throw PeerClosed{};
        line_ = std::move(line->text);
        position_ = 0;
        reader_.commandBytes_ += line_.size();
        if (line->tooLong) fail("command line too long");
        if (reader_.commandBytes_ > reader_.limits_.commandSize) fail("command too large");
    }

    // The innermost open list: lists are filled in order, so each open list is
    // the last argument of the one enclosing it.
    std::vector<Arg>& current()
    {
        std::vector<Arg>* args = &command_.args;
        for (std::size_t level = 0; level < openLists_; ++level) args = &args->back().items;
        return *args;
    }

    // Arguments up to the end of the command, or up to a pending APPEND literal.
    void parseArguments()
    {
        bool needSeparator = true;  // the command name or the previous argument was just read
        bool listJustOpened = false;
        for (;;) {
            if (needSeparator) {
                if (atEnd()) {
                    if (openLists_ > 0) fail("unterminated list");
                    return;
                }
                if (peek() == ')') {
                    closeList();
                    continue;
                }
                if (!skip(' ')) fail("expected a space between arguments");
            }
            if (atEnd()) fail(listJustOpened ? "unterminated list" : "missing argument after a space");
            const char c = peek();
            if (c == ')') {
                if (!listJustOpened) fail("unexpected ')'");
                closeList();
            } else if (c == '(') {
                openList();
            } else if (c == '"') {
                current().push_back(parseQuoted());
            } else if (c == '{') {
                if (!parseLiteral()) return;
            } else {
                current().push_back(parseAtom());
            }
            listJustOpened = c == '(';
            needSeparator = !listJustOpened;
        }
    }

    void openList()
    {
        if (openLists_ >= reader_.limits_.depth) fail("lists nested too deeply");
        current().push_back(makeList());
        ++openLists_;
        ++position_;
    }

    void closeList()
    {
        if (openLists_ == 0) fail("unexpected ')'");
        --openLists_;
        ++position_;
    }

    // quoted = DQUOTE *QUOTED-CHAR DQUOTE; only \" and \\ are escapes. UTF-8 is
    // accepted as RFC 9051 (and Dovecot) do: clients quote accented passwords
    // and search strings.
    Arg parseQuoted()
    {
        ++position_;
        std::string text;
        for (;;) {
            if (atEnd()) fail("unterminated quoted string");
            char c = line_[position_++];
            if (c == '"') {
                if (!mime::isValidUtf8(text)) fail("quoted string is not UTF-8");
                return makeString(std::move(text), false);
            }
            if (c == '\\') {
                if (atEnd() || (peek() != '"' && peek() != '\\')) fail("invalid escape in quoted string");
                c = line_[position_++];
            } else if (c == '\0' || c == '\r') {
                fail("invalid character in quoted string");
            }
            text += c;
        }
    }

    // A bracketed part is taken whole, spaces and parentheses included, so that
    // BODY.PEEK[HEADER.FIELDS (From To)]<0.100> is one atom.
    Arg parseAtom()
    {
        const std::size_t start = position_;
        while (!atEnd()) {
            const char c = peek();
            if (c == '[') {
                const auto close = line_.find(']', position_);
                if (close == std::string::npos) fail("unterminated '[' in an atom");
                if (std::any_of(line_.begin() + static_cast<std::ptrdiff_t>(position_),
                                line_.begin() + static_cast<std::ptrdiff_t>(close), isCtlOr8Bit))
                    fail("invalid character inside brackets");
                position_ = close + 1;
            } else if (isArgumentAtomChar(c) && (c != ']' || position_ > start)) {
                ++position_;
            } else {
                break;
            }
        }
        if (position_ == start) fail("unexpected character in arguments");
        return makeAtomOrNil(line_.substr(start, position_ - start));
    }

    // literal = "{" number ["+"] "}" CRLF *CHAR8 (RFC 3501 §9, RFC 7888 §3).
    // False when reading stops before an APPEND message held by the session.
    bool parseLiteral()
    {
        const auto close = line_.find('}', position_);
        if (close == std::string::npos || close + 1 != line_.size()) fail("a literal's size must end the line");
        std::string_view digits = std::string_view(line_).substr(position_ + 1, close - position_ - 1);
        const bool nonSync = digits.ends_with('+');
        if (nonSync) digits.remove_suffix(1);
        std::uint64_t size = 0;
        const auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), size);
        if (digits.empty() || error != std::errc() || end != digits.data() + digits.size())
            fail("invalid literal size");
        position_ = line_.size();
        const ReaderLimits& limits = reader_.limits_;
        if (command_.name == "APPEND" && size > limits.inlineLiteral) {
            if (openLists_ > 0) fail("an APPEND message cannot be inside a list");
            command_.pendingLiteral = size;
            command_.pendingLiteralNonSync = nonSync;
            return false;
        }
        const std::size_t limit = nonSync ? std::min(limits.inlineLiteral, limits.nonSyncLiteral) : limits.inlineLiteral;
        if (size > limit || reader_.commandBytes_ + size > limits.commandSize) fail("literal too large");
        current().push_back(makeString(readLiteral(size, nonSync), true));
        nextLine();
        return true;
    }

    std::string readLiteral(std::size_t size, bool nonSync)
    {
        if (!nonSync) {
            reader_.connection_.write("+ OK\r\n");
            reader_.connection_.flush();
        }
        std::string bytes;
        bytes.reserve(size);
        if (!reader_.connection_.readExact(size, [&bytes](std::string_view piece) { bytes.append(piece); }))
            throw PeerClosed{};
        reader_.commandBytes_ += size;
        return bytes;
    }

    CommandReader& reader_;
    Command& command_;
    std::string line_;
    std::size_t position_ = 0;
    std::size_t openLists_ = 0;
};

CommandReader::CommandReader(net::Connection& connection, ReaderLimits limits)
    : connection_(connection), limits_(limits)
{
}

std::optional<Command> CommandReader::read()
{
    commandBytes_ = 0;
    auto first = connection_.readLine(limits_.lineLength, true);
    if (!first) return std::nullopt;
    Command command;
    Parser parser(*this, command);
    try {
        parser.parseCommand(std::move(*first));
    } catch (const Malformed& error) {
        if (!parser.discardRest()) return std::nullopt;
        throw CommandError(command.tag, error.message);
    } catch (const PeerClosed&) {
        return std::nullopt;
    }
    return command;
}

void CommandReader::resume(Command& command)
{
    command.pendingLiteral.reset();
    command.pendingLiteralNonSync = false;
    Parser parser(*this, command);
    try {
        parser.parseAfterPendingLiteral();
    } catch (const Malformed& error) {
        if (!parser.discardRest()) throw Poco::Net::ConnectionResetException("peer closed in the middle of a command");
        throw CommandError(command.tag, error.message);
    } catch (const PeerClosed&) {
        throw Poco::Net::ConnectionResetException("peer closed in the middle of a command");
    }
}

std::optional<std::string> CommandReader::readLine()
{
    auto line = connection_.readLine(limits_.lineLength, true);
    if (!line) return std::nullopt;
    return std::move(line->text);
}

void CommandReader::abandonPending(Command& command)
{
    const auto size = command.pendingLiteral;
    const bool nonSync = command.pendingLiteralNonSync;
    command.pendingLiteral.reset();
    command.pendingLiteralNonSync = false;
    if (!size || !nonSync) return;
    Parser(*this, command).discardPendingLiteral(*size);
}

}  // namespace plexus::imap
