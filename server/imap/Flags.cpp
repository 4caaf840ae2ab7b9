#include "imap/Flags.h"

#include "imap/ImapSession.h"

#include <Poco/String.h>

#include <algorithm>
#include <set>

namespace plexus::imap {

namespace {

void appendFlag(const Arg& flag, std::vector<std::string>& flags)
{
    if (!flag.isAtom() || flag.text.empty()) throw CommandFailure{"BAD", "Flags are atoms"};
    if (Poco::icompare(flag.text, "\\Recent") == 0) throw CommandFailure{"BAD", "\\Recent cannot be set"};
    if (flag.text[0] == '\\') {
        static const std::set<std::string> system{"\\ANSWERED", "\\FLAGGED", "\\DELETED", "\\SEEN", "\\DRAFT"};
        if (!system.contains(Poco::toUpper(flag.text)))
            throw CommandFailure{"BAD", "Unknown system flag " + flag.text.substr(0, 32)};
    } else if (!std::all_of(flag.text.begin(), flag.text.end(), isAtomChar)) {
        throw CommandFailure{"BAD", "Invalid keyword " + flag.text.substr(0, 32)};
    } else if (flag.text.size() > kMaxKeywordLength) {
        throw CommandFailure{"NO", "[LIMIT] Keywords are at most " + std::to_string(kMaxKeywordLength) + " characters"};
    }
    flags.push_back(flag.text);
}

}  // namespace

void appendFlags(const Arg& arg, std::vector<std::string>& flags)
{
    if (!arg.isList()) return appendFlag(arg, flags);
    for (const auto& flag : arg.items) appendFlag(flag, flags);
}

}  // namespace plexus::imap
