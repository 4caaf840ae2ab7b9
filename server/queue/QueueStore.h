// The outbound queue in the store (tables outbound and outbound_recipients,
// schema migrations 1 and 5): one entry per message and destination domain,
// written by intake::deliverMessage; its recipients' outcomes; the notices due.
// Every function runs on the Database it is given; writes are called inside
// CommitQueue jobs (the runner) or a Transaction (plexusctl).
//
// Each entry holds one reference on its blob (MailboxStore::recordDelivery
// counts it); removing the entry drops it, and the caller unlinks the file
// returned once the transaction has committed (the rule of expunge).
#pragma once

#include "queue/Notifier.h"
#include "queue/Transport.h"
#include "store/Sqlite.h"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace plexus::queue {

enum class EntryState {
    Queued,      // waiting for its next attempt
    Delivering,  // an attempt is running (or was, when plexusd died)
    Done         // no recipient pending; notices still to hand over, then the entry goes
};

enum class NoticeKind { Delayed, Failed, Delivered };

const char* toString(EntryState state);
const char* toString(RecipientState state);
const char* toString(NoticeKind kind);

struct RecipientStatus {
    int position = 0;  // order of the recipient in the entry
    OutboundRecipient recipient;
    RecipientState state = RecipientState::Pending;
    std::string reply;        // the last reply or reason; empty before the first attempt
    std::string remoteHost;   // who gave it
    std::int64_t lastAttempt = 0;      // seconds since the epoch; 0 before the first attempt
    std::optional<NoticeKind> notice;  // a notice due about this recipient, not yet handed over
};

struct QueueEntry {
    std::int64_t id = 0;
    EntryState state = EntryState::Queued;
    std::string queueId;    // the message's, as in its "queued as" reply and events
    std::string messageId;  // empty when the message has none
    std::string sender, domain, envid, ret;
    std::int64_t blobId = 0;
    std::string blobPath;
    std::uint64_t size = 0;
    std::int64_t createdAt = 0;      // seconds since the epoch
    std::int64_t nextAttemptMs = 0;  // milliseconds since the epoch
    std::int64_t lastAttempt = 0;    // seconds since the epoch; 0 before the first attempt
    std::int64_t attempts = 0;
    std::string lastError;           // empty when the last attempt delivered everyone
    bool delayNotified = false;
    std::vector<RecipientStatus> recipients;  // every recipient, by position

    std::size_t count(RecipientState state) const;
};

// What one attempt changed (DeliveryRules decides it).
struct RecipientChange {
    int position = 0;
    RecipientState state = RecipientState::Pending;
    std::string reply;
    std::string remoteHost;
    std::optional<NoticeKind> notice;  // the recipient's notice from now on (replaces the one it had)
};

struct AttemptRecord {
    std::int64_t attemptedAt = 0;  // seconds since the epoch
    std::vector<RecipientChange> recipients;
    EntryState state = EntryState::Queued;  // Queued or Done
    std::int64_t nextAttemptMs = 0;
    bool delayNotified = false;
    std::string lastError;
};

// What the due-entry queries leave out: domains at their limit, entries in hand.
struct Exclusions {
    std::vector<std::string> domains;  // lower case
    std::vector<std::int64_t> ids;
};

struct QueueStats {
    std::int64_t entries = 0;            // with recipients still pending
    std::int64_t pendingRecipients = 0;
    std::int64_t oldestCreatedAt = 0;    // seconds since the epoch, of those entries; 0 when none
};

class QueueStore {
public:
    static std::vector<QueueEntry> list(store::Database& db);
    static std::optional<QueueEntry> find(store::Database& db, std::int64_t id);
    // Up to `limit` entries whose time has come (Queued for an attempt, Done for
    // notices), earliest first.
    static std::vector<QueueEntry> due(store::Database& db, std::int64_t nowMs, std::size_t limit,
                                       const Exclusions& excluded);
    // The earliest next attempt of those entries, whatever the time; none when the queue is idle.
    static std::optional<std::int64_t> nextDue(store::Database& db, const Exclusions& excluded);
    static QueueStats stats(store::Database& db);

    // Queued -> Delivering; false when the entry is gone or not queued any more.
    static bool claim(store::Database& db, std::int64_t id);
    // Writes an attempt's outcome to a Delivering entry; false when it is gone (deleted meanwhile).
    static bool recordAttempt(store::Database& db, std::int64_t id, const AttemptRecord& record);
    // At start: entries left Delivering by a crash are queued again; returns how many.
    static std::size_t requeueInterrupted(store::Database& db);
    // Due now (plexusctl queue retry); false when the entry is gone or being delivered.
    static bool retryNow(store::Database& db, std::int64_t id, std::int64_t nowMs);
    static std::size_t retryAllNow(store::Database& db, std::int64_t nowMs);

    // The notice of `kind` was handed over for these recipients.
    static void clearNotices(store::Database& db, std::int64_t id, NoticeKind kind, const std::vector<int>& positions);
    // Notices could not be handed over: a Done entry comes again at `nextAttemptMs`.
    static void postponeNotices(store::Database& db, std::int64_t id, std::int64_t nextAttemptMs);

    struct Removed {
        std::optional<std::string> releasedBlob;  // to unlink after the commit: no mailbox or entry holds it any more
    };
    // Deletes the entry, whatever its state; none when there is no such entry.
    static std::optional<Removed> remove(store::Database& db, std::int64_t id);
    // Deletes the entry if it is Done with no notice left; none when it stays.
    static std::optional<Removed> removeIfFinished(store::Database& db, std::int64_t id);
};

}  // namespace plexus::queue
