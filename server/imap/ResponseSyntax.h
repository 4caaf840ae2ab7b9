// IMAP response syntax (RFC 3501 §9): how strings, NIL and dates are written
// in server responses.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace plexus::imap {

// A string as a quoted string when it can be one (7-bit, no CR, LF or NUL,
// at most 1024 bytes), else as a literal "{n}\r\n" followed by its bytes.
std::string imapString(std::string_view text);
// nstring: NIL when absent.
std::string imapNString(const std::optional<std::string_view>& text);
// "" or NIL for empty values, as ENVELOPE fields want: empty → NIL.
std::string imapNStringOrNil(std::string_view text);
// astring: a bare atom when the text is a non-empty atom (RFC 3501 ATOM-CHAR),
// else imapString.
std::string imapAString(std::string_view text);

// date-time of INTERNALDATE: "dd-Mon-yyyy hh:mm:ss +zzzz" (quoted), for a
// time in seconds since the epoch, written in UTC (+0000).
std::string imapDateTime(std::int64_t epochSeconds);
// Parses the APPEND date-time (RFC 3501 §9 date-time, the quotes removed);
// returns seconds since the epoch, or nullopt when malformed.
std::optional<std::int64_t> parseImapDateTime(std::string_view text);
// SEARCH's date (RFC 3501 §9 date: d-Mon-yyyy, optionally quoted already
// removed): the day's midnight UTC in seconds since the epoch.
std::optional<std::int64_t> parseImapDate(std::string_view text);

}  // namespace plexus::imap
