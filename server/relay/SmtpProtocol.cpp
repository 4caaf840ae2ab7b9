#include "relay/SmtpProtocol.h"

#include <Poco/String.h>

#include <algorithm>
#include <cctype>
#include <charconv>

namespace plexus::relay {

std::optional<ReplyLine> parseReplyLine(std::string_view line)
{
    // RFC 5321 4.2: three digits, then ' ' on the last line or '-' before more;
    // a bare code ("250") is a last line without text.
    if (line.size() < 3 || !std::all_of(line.begin(), line.begin() + 3, [](char c) { return c >= '0' && c <= '9'; }))
        return std::nullopt;
    if (line[0] < '2' || line[0] > '5') return std::nullopt;
    if (line.size() > 3 && line[3] != ' ' && line[3] != '-') return std::nullopt;
    ReplyLine parsed;
    std::from_chars(line.data(), line.data() + 3, parsed.code);
    parsed.last = line.size() == 3 || line[3] == ' ';
    if (line.size() > 4) parsed.text = line.substr(4);
    return parsed;
}

std::string SmtpReply::toString() const
{
    std::string text = std::to_string(code);
    for (const auto& line : lines)
        if (!line.empty()) text += " " + line;
    return text;
}

EhloCapabilities::EhloCapabilities(const SmtpReply& ehloReply)
{
    for (std::size_t i = 1; i < ehloReply.lines.size(); ++i) {
        const std::string& line = ehloReply.lines[i];
        const std::string keyword = Poco::toUpper(line.substr(0, line.find(' ')));
        if (!keyword.empty()) keywords_.insert(keyword);
    }
}

void DotStuffer::feed(std::string_view chunk, std::string& out)
{
    out.reserve(out.size() + chunk.size() + 16);
    std::size_t start = 0;
    for (;;) {
        if (atLineStart_ && start < chunk.size() && chunk[start] == '.') out += '.';
        const auto newline = chunk.find('\n', start);
        const std::size_t end = newline == std::string_view::npos ? chunk.size() : newline + 1;
        out.append(chunk.substr(start, end - start));
        if (end > start) {
            afterCr_ = chunk[end - 1] == '\r';
            atLineStart_ = chunk[end - 1] == '\n';
        }
        if (newline == std::string_view::npos) return;
        start = end;
    }
}

void DotStuffer::finish(std::string& out)
{
    // RFC 5321 4.1.1.4: the terminating dot follows a CRLF of its own.
    if (!atLineStart_) out += afterCr_ ? "\n" : "\r\n";
    out += ".\r\n";
    atLineStart_ = true;
    afterCr_ = false;
}

bool isAscii(std::string_view text)
{
    return std::all_of(text.begin(), text.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; });
}

}  // namespace plexus::relay
