// Message flags in commands (RFC 3501 §2.3.2, flag-list of §9): system flags
// and keywords as APPEND and STORE take them.
#pragma once

#include "imap/Command.h"

#include <cstddef>
#include <string>
#include <vector>

namespace plexus::imap {

inline constexpr std::size_t kMaxKeywordLength = 100;
inline constexpr std::size_t kMaxFlagsPerMessage = 100;

// Appends the flag of an atom, or the flags of a list, to `flags`. Throws
// CommandFailure: BAD for \Recent, unknown system flags and keywords that are
// not atoms (they would break the FLAGS and PERMANENTFLAGS responses that list
// them), NO [LIMIT] for keywords over kMaxKeywordLength.
void appendFlags(const Arg& arg, std::vector<std::string>& flags);

}  // namespace plexus::imap
