// Tells sessions in this process that a folder changed (delivery, append,
// flags, expunge), so that IMAP sessions with the folder selected, IDLE ones
// above all, look for changes without querying the database at every turn.
#pragma once

#include <cstdint>
#include <functional>
#include <mutex>
#include <unordered_map>

namespace plexus::store {

class ChangeNotifier {
public:
    // Called after the change has committed. `firstNewUid`: the first UID the
    // change added (APPEND, COPY, delivery), 0 when it added none; new messages
    // of a folder no session has looked at yet are then recent (RFC 3501
    // §2.3.2) for the first session to see them.
    void notify(std::int64_t folderId, std::uint32_t firstNewUid = 0);
    // Also told of every notify(), outside the lock (the daemon wakes idling
    // sessions with it). Set once, before sessions start.
    void setObserver(std::function<void(std::int64_t folderId)> observer) { observer_ = std::move(observer); }
    // Increases with every notify() of that folder; a session compares it with the last value it saw.
    std::uint64_t generation(std::int64_t folderId) const;

    // RFC 3501 \Recent: a new message is recent in exactly one session, the
    // first to see it. Returns the first UID that is recent for the caller and
    // marks every UID below `uidNext` as seen. With `peek` (EXAMINE) nothing is
    // marked. Kept in memory: after a restart no message is recent.
    std::uint32_t claimRecent(std::int64_t folderId, std::uint32_t uidNext, bool peek = false);

private:
    mutable std::mutex mutex_;
    std::unordered_map<std::int64_t, std::uint64_t> generations_;
    std::unordered_map<std::int64_t, std::uint32_t> recentFrom_;
    std::function<void(std::int64_t)> observer_;
};

}  // namespace plexus::store
