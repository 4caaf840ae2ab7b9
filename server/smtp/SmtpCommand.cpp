#include "smtp/SmtpCommand.h"

#include <Poco/String.h>

#include <cctype>

namespace plexus::smtp {

CommandLine splitCommand(std::string_view line)
{
    const auto space = line.find(' ');
    CommandLine command;
    command.verb = Poco::toUpper(std::string(line.substr(0, space)));
    if (space != std::string_view::npos) command.argument = std::string(line.substr(space + 1));
    return command;
}

bool isAscii(std::string_view text)
{
    for (unsigned char c : text)
        if (c >= 0x80) return false;
    return true;
}

bool isXtext(std::string_view text)
{
    for (std::size_t i = 0; i < text.size(); ++i) {
        const auto c = static_cast<unsigned char>(text[i]);
        if (c == '+') {
            if (i + 2 >= text.size() || !std::isxdigit(static_cast<unsigned char>(text[i + 1])) ||
                !std::isxdigit(static_cast<unsigned char>(text[i + 2])))
                return false;
            i += 2;
        } else if (c < 33 || c > 126 || c == '=') {
            return false;
        }
    }
    return true;
}

namespace {

bool parseParams(std::string_view text, std::map<std::string, std::string>& params)
{
    std::size_t pos = 0;
    while (pos < text.size()) {
        if (text[pos] == ' ') {
            ++pos;
            continue;
        }
        const auto end = std::min(text.find(' ', pos), text.size());
        const auto param = text.substr(pos, end - pos);
        const auto equals = param.find('=');
        const std::string keyword = Poco::toUpper(std::string(param.substr(0, equals)));
        if (keyword.empty()) return false;
        for (char c : keyword)
            if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-') return false;
        const std::string value = equals == std::string_view::npos ? std::string() : std::string(param.substr(equals + 1));
        if (!params.emplace(keyword, value).second) return false;  // a parameter given twice
        pos = end;
    }
    return true;
}

}  // namespace

std::optional<PathArgument> parsePath(std::string_view argument, std::string_view keyword, ParseError& error)
{
    const std::string usage = keyword == "FROM" ? "MAIL FROM:<address>" : "RCPT TO:<address>";
    error.reply = "501 5.5.4 Syntax: " + usage;
    if (argument.size() <= keyword.size() ||
        Poco::icompare(std::string(argument.substr(0, keyword.size())), std::string(keyword)) != 0 ||
        argument[keyword.size()] != ':')
        return std::nullopt;
    std::string_view rest = argument.substr(keyword.size() + 1);
    while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
    if (rest.empty() || rest.front() != '<') return std::nullopt;

    // Find the closing '>' outside a quoted local part.
    bool quoted = false;
    std::size_t close = std::string_view::npos;
    for (std::size_t i = 1; i < rest.size(); ++i) {
        if (quoted && rest[i] == '\\') {
            ++i;
        } else if (rest[i] == '"') {
            quoted = !quoted;
        } else if (!quoted && rest[i] == '>') {
            close = i;
            break;
        } else if (!quoted && (rest[i] == '<' || rest[i] == ' ')) {
            return std::nullopt;
        }
    }
    if (close == std::string_view::npos) return std::nullopt;
    std::string_view path = rest.substr(1, close - 1);
    if (!path.empty() && path.front() == '@') {
        const auto colon = path.find(':');
        if (colon == std::string_view::npos) return std::nullopt;
        path.remove_prefix(colon + 1);
    }
    PathArgument result;
    result.address = std::string(path);
    if (!result.address.empty()) {
        const auto at = result.address.rfind('@');
        if (at == std::string::npos || at == 0 || at + 1 == result.address.size()) {
            error.reply = "553 5.1.3 Bad address syntax: <" + result.address + ">";
            return std::nullopt;
        }
    }
    const auto params = rest.substr(close + 1);
    if (!params.empty() && params.front() != ' ') return std::nullopt;
    if (!parseParams(params, result.params)) {
        error.reply = "501 5.5.4 Malformed or repeated parameter";
        return std::nullopt;
    }
    return result;
}

}  // namespace plexus::smtp
