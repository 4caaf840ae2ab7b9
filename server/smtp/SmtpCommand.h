// Parsing of SMTP command lines (RFC 5321 4.1) and their ESMTP parameters.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace plexus::smtp {

struct CommandLine {
    std::string verb;       // upper-cased
    std::string argument;   // the rest, after one space
};
CommandLine splitCommand(std::string_view line);

// `FROM:<path> params` / `TO:<path> params` (RFC 5321 4.1.1.2-3).
struct PathArgument {
    std::string address;                       // empty for the null path <>
    std::map<std::string, std::string> params; // keyword upper-cased -> value ("" when none)
};

struct ParseError {
    std::string reply;  // full reply line, e.g. "501 5.5.4 Syntax: MAIL FROM:<address>"
};

// `keyword` is "FROM" or "TO". Accepts a space after the colon (common client
// habit) and strips an RFC 5321 source route (`<@a,@b:user@d>`).
std::optional<PathArgument> parsePath(std::string_view argument, std::string_view keyword, ParseError& error);

// RFC 3461 4: xtext is printable ASCII with "+HH" escapes for '+', '=' and controls.
bool isXtext(std::string_view text);
bool isAscii(std::string_view text);

}  // namespace plexus::smtp
