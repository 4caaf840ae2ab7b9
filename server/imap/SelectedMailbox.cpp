#include "imap/SelectedMailbox.h"

#include <algorithm>

namespace plexus::imap {

std::optional<std::uint32_t> SelectedMailbox::sequenceOf(std::uint32_t uid) const
{
    const auto it = std::lower_bound(messages.begin(), messages.end(), uid,
                                     [](const ViewMessage& m, std::uint32_t u) { return m.uid < u; });
    if (it == messages.end() || it->uid != uid) return std::nullopt;
    return static_cast<std::uint32_t>(it - messages.begin() + 1);
}

}  // namespace plexus::imap
