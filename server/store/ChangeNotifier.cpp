#include "store/ChangeNotifier.h"

namespace plexus::store {

void ChangeNotifier::notify(std::int64_t folderId, std::uint32_t firstNewUid)
{
    {
        std::lock_guard lock(mutex_);
        ++generations_[folderId];
        // Known folders keep their mark; an unknown one starts at the new messages.
        if (firstNewUid != 0) recentFrom_.try_emplace(folderId, firstNewUid);
    }
    if (observer_) observer_(folderId);
}

std::uint64_t ChangeNotifier::generation(std::int64_t folderId) const
{
    std::lock_guard lock(mutex_);
    const auto it = generations_.find(folderId);
    return it == generations_.end() ? 0 : it->second;
}

std::uint32_t ChangeNotifier::claimRecent(std::int64_t folderId, std::uint32_t uidNext, bool peek)
{
    std::lock_guard lock(mutex_);
    const auto [it, fresh] = recentFrom_.try_emplace(folderId, uidNext);
    const std::uint32_t first = it->second;
    if (!peek && uidNext > first) it->second = uidNext;
    return first;
}

}  // namespace plexus::store
