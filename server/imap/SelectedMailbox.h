// The selected mailbox as one session sees it (RFC 3501 §2.3.1.2): message
// sequence numbers are positions in `messages`, which changes only when the
// session tells its client (EXISTS, EXPUNGE/VANISHED). Changes made by other
// sessions are found by modification sequence (RFC 7162) and turned into
// untagged responses by ImapSession::refresh().
#pragma once

#include "store/FolderStore.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace plexus::imap {

struct ViewMessage {
    std::uint32_t uid = 0;
    std::int64_t modseq = 0;
    std::string flags;
    bool recent = false;
};

struct SelectedMailbox {
    store::Folder folder;
    std::string name;     // as the user sees it
    std::string rights;   // RFC 4314
    bool examined = false;  // EXAMINE (RFC 3501 §6.3.2)
    bool readOnly = false;  // examined, or no right to change anything
    std::vector<ViewMessage> messages;  // by UID: index + 1 is the sequence number
    std::int64_t knownModseq = 0;       // every change up to this one has been reported
    std::uint64_t generation = 0;       // ChangeNotifier value when last refreshed

    std::uint32_t exists() const { return static_cast<std::uint32_t>(messages.size()); }
    std::uint32_t largestUid() const { return messages.empty() ? 0 : messages.back().uid; }
    // Sequence number of a UID, or nullopt when the view does not hold it.
    std::optional<std::uint32_t> sequenceOf(std::uint32_t uid) const;
    bool may(char right) const { return rights.find(right) != std::string::npos; }
};

}  // namespace plexus::imap
