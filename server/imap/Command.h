// IMAP command syntax (RFC 3501 §9, generic form): a tagged command is a tag,
// a name and arguments made of atoms, strings (quoted or literal), NIL and
// parenthesized lists. CommandReader reads one whole command from a
// connection, literals included, answering synchronizing literals with a
// continuation request and honouring LITERAL+ (RFC 7888).
#pragma once

#include "net/Connection.h"

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace plexus::imap {

// ATOM-CHAR (RFC 3501 §9): any CHAR except atom-specials (flag keywords are atoms).
bool isAtomChar(char c);

struct Arg {
    enum class Kind { Atom, String, Nil, List };
    Kind kind = Kind::Atom;
    // Atom: its characters, case kept. An atom may carry a bracketed section
    // with spaces and parentheses inside, as fetch attributes do:
    // `BODY.PEEK[HEADER.FIELDS (From To)]<0.100>` is one atom.
    // String: the decoded contents (quoted-specials unescaped, literal bytes as sent).
    std::string text;
    bool literal = false;    // String sent as a literal
    std::vector<Arg> items;  // List

    bool isAtom() const { return kind == Kind::Atom; }
    bool isString() const { return kind == Kind::String; }
    bool isList() const { return kind == Kind::List; }
    bool isNil() const { return kind == Kind::Nil; }
    // astring = atom / string (RFC 3501 §9)
    bool isAstring() const { return kind == Kind::Atom || kind == Kind::String; }
    // Atom whose text equals `word` ignoring ASCII case.
    bool is(std::string_view word) const;
};

struct Command {
    std::string tag;
    std::string name;  // upper case; for "UID FETCH" etc. name is "UID" and args[0] the sub-command atom
    std::vector<Arg> args;
    // Set when reading stopped before a literal too large to hold in memory
    // (only for APPEND, see CommandReader::read): its size and whether it is
    // non-synchronizing. The session consumes the bytes itself, then calls resume().
    std::optional<std::uint64_t> pendingLiteral;
    bool pendingLiteralNonSync = false;
};

// A malformed command: answered with BAD (tagged when the tag was read, else
// untagged "* BAD"). The rest of the command line, literals included, has been
// consumed, so the session can go on with the next command.
class CommandError : public std::runtime_error {
public:
    CommandError(std::string tag, const std::string& message) : std::runtime_error(message), tag_(std::move(tag)) {}
    const std::string& tag() const { return tag_; }

private:
    std::string tag_;
};

struct ReaderLimits {
    std::size_t lineLength = 64 * 1024;    // one line of a command, literals excluded
    std::size_t inlineLiteral = 64 * 1024; // literals held in memory (SEARCH strings, LOGIN passwords...)
    std::size_t commandSize = 256 * 1024;  // whole command, held-in-memory literals included
    std::size_t nonSyncLiteral = 64 * 1024;// LITERAL+ literals larger than this (other than the APPEND message) are read, dropped and refused
    std::size_t depth = 16;                // nested parentheses
};

class CommandReader {
public:
    CommandReader(net::Connection& connection, ReaderLimits limits = {});

    // Reads the next command. nullopt: the peer closed the connection, or the
    // server is stopping (connection.stopRequested()). Throws CommandError for
    // a malformed command and Poco::TimeoutException when the client is silent
    // past the connection's idle timeout.
    //
    // Literals: a synchronizing literal {n} within limits gets "+ OK" (flushed)
    // before its bytes are read. For an APPEND command, a literal larger than
    // limits.inlineLiteral is not read: the command returns with the arguments
    // before it and pendingLiteral set (no continuation sent yet: the session
    // sends it, or refuses with a tagged NO). Any other literal over its limit
    // is a CommandError (a synchronizing one is refused without reading it; a
    // non-synchronizing one is read and dropped first). An APPEND literal over
    // limits.inlineLiteral must be a top-level argument. Lines ending in a bare
    // LF are accepted like CRLF ones, as Dovecot does. If the peer closes in the
    // middle of a command, the partial command is dropped and nullopt returned.
    std::optional<Command> read();

    // After the session has consumed command.pendingLiteral bytes, parses the
    // rest of the command into command.args (MULTIAPPEND may pend again).
    // Throws CommandError like read(), and Poco::Net::ConnectionResetException
    // when the peer closes before the command's end.
    void resume(Command& command);

    // For IDLE: reads one line ("DONE"), without the literal logic; nullopt
    // when the peer closed or the server is stopping, as for read().
    std::optional<std::string> readLine();

    // Instead of consuming a pending literal, when the session refuses it with
    // NO (no continuation sent): clears command.pendingLiteral. A synchronizing
    // literal is then never sent, nor anything after it, so nothing is read. A
    // non-synchronizing one is on its way: its bytes and the rest of the command
    // (further LITERAL+ messages included) are read and dropped, so the next
    // read() starts at the next command.
    void abandonPending(Command& command);

private:
    class Parser;  // one pass over a command's lines and literals (Command.cpp)
    net::Connection& connection_;
    ReaderLimits limits_;
    std::size_t commandBytes_ = 0;  // the current command so far: lines and held literals, across resume()
};

}  // namespace plexus::imap
