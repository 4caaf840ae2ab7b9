#include "imap/SequenceSet.h"

#include <algorithm>
#include <charconv>
#include <string>

namespace plexus::imap {
namespace {

// seq-number = nz-number / "*" (RFC 3501 §9); nz-number has no leading zero.
std::optional<std::uint32_t> parseSeqNumber(std::string_view text, std::uint32_t star)
{
    if (text == "*") return star;
    if (text.empty() || text.front() < '1' || text.front() > '9') return std::nullopt;
    std::uint32_t value = 0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (error != std::errc() || end != text.data() + text.size()) return std::nullopt;
    return value;
}

}  // namespace

std::optional<SequenceSet> SequenceSet::parse(std::string_view text)
{
    SequenceSet set;
    for (;;) {
        const auto comma = text.find(',');
        const std::string_view part = text.substr(0, comma);
        const auto colon = part.find(':');
        const auto first = parseSeqNumber(part.substr(0, colon), kStar);
        const auto last = colon == std::string_view::npos ? first : parseSeqNumber(part.substr(colon + 1), kStar);
        if (!first || !last) return std::nullopt;
        set.ranges_.emplace_back(*first, *last);
        if (comma == std::string_view::npos) return set;
        text.remove_prefix(comma + 1);
    }
}

bool SequenceSet::contains(std::uint32_t n, std::uint32_t largest) const
{
    for (const auto& [first, last] : resolve(largest))
        if (n >= first && n <= last) return true;
    return false;
}

std::vector<std::pair<std::uint32_t, std::uint32_t>> SequenceSet::resolve(std::uint32_t largest) const
{
    std::vector<std::pair<std::uint32_t, std::uint32_t>> resolved;
    resolved.reserve(ranges_.size());
    for (auto [first, last] : ranges_) {
        if (largest == 0 && (first == kStar || last == kStar)) continue;  // "*" names no message
        if (first == kStar) first = largest;
        if (last == kStar) last = largest;
        resolved.emplace_back(std::min(first, last), std::max(first, last));
    }
    return resolved;
}

bool SequenceSet::usesStar() const
{
    return std::ranges::any_of(ranges_, [](const auto& range) { return range.first == kStar || range.second == kStar; });
}

std::string formatSequenceSet(const std::vector<std::uint32_t>& ascending)
{
    std::string text;
    std::size_t i = 0;
    while (i < ascending.size()) {
        std::size_t end = i;
        while (end + 1 < ascending.size() && ascending[end + 1] <= ascending[end] + 1) ++end;
        if (!text.empty()) text += ',';
        text += std::to_string(ascending[i]);
        if (ascending[end] != ascending[i]) text += ':' + std::to_string(ascending[end]);
        i = end + 1;
    }
    return text;
}

}  // namespace plexus::imap
