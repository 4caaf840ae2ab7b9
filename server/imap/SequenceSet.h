// sequence-set (RFC 3501 §9): "1:4,7,10:*". Numbers are message sequence
// numbers or UIDs; "*" stands for the largest one in use.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

namespace plexus::imap {

class SequenceSet {
public:
    // nullopt when malformed (zero, junk, empty parts, numbers above 2^32-1).
    static std::optional<SequenceSet> parse(std::string_view text);

    // Whether n is in the set, "*" meaning `largest`. Ranges are unordered
    // (RFC 3501: 4:2 == 2:4); with an empty mailbox (`largest` 0) "*" matches nothing.
    bool contains(std::uint32_t n, std::uint32_t largest) const;
    // The ranges with "*" replaced by `largest`, each with first <= last, as given.
    std::vector<std::pair<std::uint32_t, std::uint32_t>> resolve(std::uint32_t largest) const;
    // Whether some element is "*".
    bool usesStar() const;

private:
    static constexpr std::uint32_t kStar = 0;
    std::vector<std::pair<std::uint32_t, std::uint32_t>> ranges_;  // kStar for "*"
};

// Writes ascending numbers compactly as a sequence set ("1:3,5"); empty input gives "".
std::string formatSequenceSet(const std::vector<std::uint32_t>& ascending);

}  // namespace plexus::imap
