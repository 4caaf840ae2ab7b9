// SEARCH (RFC 3501 §6.4.4) with CONDSTORE's MODSEQ key (RFC 7162 §3.1.5) and
// ESEARCH's RETURN options (RFC 4731): parsing the criteria into a tree and
// evaluating it against one message at a time. Strings match as substrings,
// ignoring case (i;unicode-casemap-like: ASCII and Latin letters folded);
// header values are matched after RFC 2047 decoding.
#pragma once

#include "imap/Command.h"
#include "imap/SequenceSet.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace plexus::imap {

struct SearchKey {
    enum class Kind {
        All, And, Or, Not,
        SequenceNumbers, Uids,
        Flag,          // flag set (flag holds "\Seen", a keyword, ...); also NEW/OLD/RECENT via Recent/New/Old
        NoFlag,        // flag unset
        Recent, New, Old,
        Before, On, Since,              // internal date vs date (UTC day)
        SentBefore, SentOn, SentSince,  // Date: header vs date
        Larger, Smaller,
        Header,        // field + value ("" matches any message having the field)
        Body, Text,    // full text (TEXT: header and body)
        ModSeq         // modseq >= number
    };
    Kind kind = Kind::All;
    std::vector<SearchKey> children;  // And (any count), Or (2), Not (1)
    std::optional<SequenceSet> set;   // SequenceNumbers, Uids
    std::string field;                // Header: field name; Flag/NoFlag: the flag
    std::string value;                // Header/Body/Text: the string (UTF-8)
    std::int64_t number = 0;          // dates (epoch seconds of the UTC day), sizes, modseq
};

// ESEARCH result options (RFC 4731 §3.1).
struct SearchReturn {
    bool esearch = false;  // RETURN was given: answer with ESEARCH
    bool min = false, max = false, all = false, count = false;
};

struct SearchQuery {
    SearchReturn ret;
    std::string charset = "US-ASCII";  // US-ASCII and UTF-8 are supported
    SearchKey root;                    // And of the top-level keys
    bool usesModSeq() const;           // the answer then carries (MODSEQ n)
};

// Parses SEARCH arguments from args[first]: [RETURN (...)] [CHARSET x] keys.
// Throws CommandError (empty tag) on malformed input, including unknown keys,
// nesting deeper than `maxDepth`, and a CHARSET other than US-ASCII/UTF-8
// (message starting "[BADCHARSET (US-ASCII UTF-8)]").
SearchQuery parseSearchQuery(const std::vector<Arg>& args, std::size_t first, std::size_t maxDepth = 32);
// SORT/THREAD take the charset as a fixed argument and then the keys.
SearchKey parseSearchKeys(const std::vector<Arg>& args, std::size_t first, std::size_t maxDepth = 32);

// One message as the evaluator sees it; the session implements it, loading
// only what a query needs.
class SearchSubject {
public:
    virtual ~SearchSubject() = default;
    virtual std::uint32_t sequenceNumber() const = 0;
    virtual std::uint32_t uid() const = 0;
    virtual std::uint32_t largestSequenceNumber() const = 0;  // "*" in sequence sets
    virtual std::uint32_t largestUid() const = 0;
    virtual bool hasFlag(std::string_view flag) const = 0;    // case-insensitive; "\Recent" included
    virtual std::int64_t internalDate() const = 0;            // epoch seconds
    virtual std::uint64_t size() const = 0;
    virtual std::uint64_t modseq() const = 0;
    // The raw header block of the top-level message (unfolding and RFC 2047
    // decoding are the evaluator's job).
    virtual const std::string& header() = 0;
    // Full-text match (substring, case-insensitive) of the decoded body text,
    // or of header and body for `withHeader`; the session answers from the
    // full-text index.
    virtual bool textContains(std::string_view needle, bool withHeader) = 0;
    // A cheap necessary condition for a header field to contain `needle` (the
    // full-text index), checked before header() is read; true when unsure.
    virtual bool headerMayContain(std::string_view) { return true; }
};

bool matches(const SearchKey& key, SearchSubject& message);

// The unfolded value of every occurrence of `field` in a header block.
std::vector<std::string> headerValues(std::string_view headerBlock, std::string_view field);
// Case-insensitive substring test on UTF-8 (ASCII and Latin-1 Supplement letters folded).
bool containsFolded(std::string_view haystack, std::string_view needle);

}  // namespace plexus::imap
