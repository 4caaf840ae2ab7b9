// SORT and THREAD (RFC 5256): sort criteria, the base subject, and the
// ORDEREDSUBJECT and REFERENCES threading algorithms.
#pragma once

#include "imap/Command.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace plexus::imap {

struct SortCriterion {
    enum class Key { Arrival, Cc, Date, From, Size, Subject, To };
    Key key;
    bool reverse = false;
};

// Parses the parenthesized sort criteria list (RFC 5256 §3). Throws
// CommandError (empty tag) when malformed or empty.
std::vector<SortCriterion> parseSortCriteria(const Arg& list);

// What sorting and threading need of one message.
struct SortData {
    std::uint32_t id = 0;          // sequence number or UID: what the answer lists
    std::uint32_t sequence = 0;    // final tie-break (RFC 5256 §3)
    std::int64_t arrival = 0;      // internal date
    std::int64_t sent = 0;         // Date: header in epoch seconds; internal date when missing or unparsable (§2.2)
    std::uint64_t size = 0;
    std::string subject;           // raw Subject header value
    std::string from, to, cc;      // the first address's mailbox (local part) per §3, raw header value given
    std::string messageId;         // raw Message-ID
    std::string inReplyTo;         // raw In-Reply-To
    std::string references;        // raw References
};

// Messages sorted by the criteria (stable on sequence).
std::vector<std::uint32_t> sortMessages(std::vector<SortData> messages, const std::vector<SortCriterion>& criteria);

// RFC 5256 §2.1 base subject, from a raw Subject value (RFC 2047 decoded, then
// reply/forward markers and blobs removed), uppercased for comparison.
std::string baseSubject(std::string_view rawSubject);
// RFC 5256 §2.2 sent date from a raw Date header value; nullopt when unparsable.
std::optional<std::int64_t> parseSentDate(std::string_view rawDate);

// The thread-list of a THREAD response, e.g. "(2)(3 6 (4 23)(44 7 96))".
std::string threadOrderedSubject(const std::vector<SortData>& messages);
std::string threadReferences(const std::vector<SortData>& messages);

}  // namespace plexus::imap
