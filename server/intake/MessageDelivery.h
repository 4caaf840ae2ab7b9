// A received message made durable for its recipients, the one way every
// message enters the store (SMTP, and plugins' submissions): one blob, a row
// in each local recipient's INBOX, one outbound entry per remote domain, and
// its event, in one transaction; then IDLE sessions, the text indexer and the
// outbound queue are told.
#pragma once

#include "events/EventLog.h"
#include "intake/MessageReceiver.h"
#include "intake/TextIndexer.h"
#include "store/ChangeNotifier.h"
#include "store/CommitQueue.h"
#include "store/MailboxStore.h"

#include <Poco/JSON/Object.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace plexus::intake {

struct LocalRecipient {
    std::int64_t accountId;
    std::string address;
};

// RFC 3461 parameters travel with the recipient to the next hop.
struct RemoteRecipient {
    std::string address;
    std::string notify;
    std::string orcpt;
};

struct DeliveryEnvelope {
    std::string sender;
    std::string envid;  // RFC 3461 ENVID and RET; empty when not given
    std::string ret;
    std::vector<LocalRecipient> local;
    std::vector<RemoteRecipient> remote;
    std::size_t recipientCount() const { return local.size() + remote.size(); }
};

// Who delivers, for the event: message.received (local recipients only) or
// message.submitted; `detail` gets queue_id, size, sender, recipients and the
// stored copies (mailbox, folder, uid) added.
struct DeliveryOrigin {
    std::string actor;
    std::string client;
    Poco::JSON::Object detail;
};

struct DeliveryServices {
    store::MailboxStore& mailboxes;
    store::CommitQueue& commits;
    store::ChangeNotifier& changes;
    TextIndexer& indexer;
    // Called once outbound entries are durable, so that the queue runner sends them
    // at once rather than at its next scan; empty: nothing to tell.
    std::function<void()> outboundQueued;
};

// The queue id of a message: the blob's name, short enough for logs and replies.
std::string queueIdOf(const std::string& blobPath);
std::string queueIdOf(const MessageReceiver::Received& received);

// Returns once everything is durable. On failure the blob is unlinked and the
// exception propagates: nothing was stored.
void deliverMessage(DeliveryServices& services, const MessageReceiver::Received& received,
                    const DeliveryEnvelope& envelope, DeliveryOrigin origin);

}  // namespace plexus::intake
