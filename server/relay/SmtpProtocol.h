// The client side of SMTP's wire format: reply lines (RFC 5321 4.2), EHLO
// keywords (RFC 5321 4.1.1.1), and the data stream with dot-stuffing
// (RFC 5321 4.5.2). No I/O here: SmtpRelayClient feeds it.
#pragma once

#include <cstddef>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace plexus::relay {

// "250-text" or "250 text" (the last line); nullopt when it is not a reply line.
struct ReplyLine {
    int code = 0;
    bool last = true;
    std::string text;  // after the separator
};
std::optional<ReplyLine> parseReplyLine(std::string_view line);

struct SmtpReply {
    int code = 0;
    std::vector<std::string> lines;  // texts, without the code

    bool positive() const { return code >= 200 && code < 400; }
    // "550 5.1.1 <x@y>: unknown user", lines of a multi-line reply joined by a space.
    std::string toString() const;
};

// The extensions an EHLO reply announces, by keyword (compared in upper case).
class EhloCapabilities {
public:
    EhloCapabilities() = default;
    explicit EhloCapabilities(const SmtpReply& ehloReply);  // the first line is the greeting
    bool has(std::string_view keyword) const { return keywords_.find(keyword) != keywords_.end(); }

private:
    std::set<std::string, std::less<>> keywords_;
};

// The message as DATA sends it: a '.' doubled at the start of every line
// (RFC 5321 4.5.2), a CRLF added when the message does not end with one, then
// the terminating ".\r\n". Works on chunks of any size, so that a message is
// never held whole in memory.
class DotStuffer {
public:
    void feed(std::string_view chunk, std::string& out);
    void finish(std::string& out);

private:
    bool atLineStart_ = true;
    bool afterCr_ = false;
};

bool isAscii(std::string_view text);

}  // namespace plexus::relay
