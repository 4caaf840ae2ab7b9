#include "queue/QueueStore.h"

#include "intake/MessageDelivery.h"
#include "mime/MessageStructure.h"
#include "store/FolderStore.h"

#include <Poco/JSON/Array.h>

#include <algorithm>
#include <array>
#include <sstream>
#include <stdexcept>
#include <string_view>

namespace plexus::queue {

namespace {

using store::Database;
using store::Statement;

template <typename Enum, std::size_t N>
Enum parse(const std::array<const char*, N>& names, const std::string& text)
{
    for (std::size_t i = 0; i < N; ++i)
        if (text == names[i]) return static_cast<Enum>(i);
    throw std::runtime_error("unknown queue state \"" + text + "\" in the store");
}

// Indexed by the enums' values; the words are those of the schema's CHECK constraints.
constexpr std::array<const char*, 3> kEntryStates{"queued", "delivering", "done"};
constexpr std::array<const char*, 4> kRecipientStates{"pending", "delivered", "failed", "expired"};
constexpr std::array<const char*, 3> kNoticeKinds{"delayed", "failed", "delivered"};

constexpr std::string_view kEntryColumns =
    "o.id, o.state, o.sender, o.domain, o.envid, o.ret, o.created_at, o.next_attempt_ms, o.last_attempt, "
    "o.attempts, o.last_error, o.delay_notified, o.blob_id, b.path, b.size, s.structure "
    "FROM outbound o JOIN blobs b ON b.id = o.blob_id LEFT JOIN blob_structures s ON s.blob_id = o.blob_id ";

// Only what the due queries may pick: entries waiting for an attempt or for their notices.
constexpr std::string_view kWaiting =
    "o.state IN ('queued', 'done') AND lower(o.domain) NOT IN (SELECT value FROM json_each(?1)) "
    "AND o.id NOT IN (SELECT value FROM json_each(?2)) ";

std::string messageIdOf(const std::optional<std::string>& structureJson)
{
    if (!structureJson) return {};
    try {
        return mime::MessageStructure::fromJson(*structureJson).envelope.messageId;
    } catch (const std::exception&) {
        return {};  // the queue works without it: events then name the queue id
    }
}

QueueEntry entryFrom(const Statement& row)
{
    QueueEntry e;
    e.id = row.int64(0);
    e.state = parse<EntryState>(kEntryStates, row.text(1));
    e.sender = row.text(2);
    e.domain = row.text(3);
    e.envid = row.text(4);
    e.ret = row.text(5);
    e.createdAt = row.int64(6);
    e.nextAttemptMs = row.int64(7);
    e.lastAttempt = row.int64(8);
    e.attempts = row.int64(9);
    e.lastError = row.text(10);
    e.delayNotified = row.int64(11) != 0;
    e.blobId = row.int64(12);
    e.blobPath = row.text(13);
    e.size = static_cast<std::uint64_t>(row.int64(14));
    e.queueId = intake::queueIdOf(e.blobPath);
    e.messageId = messageIdOf(row.optionalText(15));
    return e;
}

void loadRecipients(Database& db, QueueEntry& entry)
{
    auto row = db.prepare(
        "SELECT position, address, notify, orcpt, state, reply, remote_host, last_attempt, notice "
        "FROM outbound_recipients WHERE entry_id = ? ORDER BY position");
    row.bind(1, entry.id);
    while (row.step()) {
        RecipientStatus r;
        r.position = static_cast<int>(row.int64(0));
        r.recipient = {row.text(1), row.text(2), row.text(3)};
        r.state = parse<RecipientState>(kRecipientStates, row.text(4));
        r.reply = row.text(5);
        r.remoteHost = row.text(6);
        r.lastAttempt = row.int64(7);
        if (!row.isNull(8)) r.notice = parse<NoticeKind>(kNoticeKinds, row.text(8));
        entry.recipients.push_back(std::move(r));
    }
}

std::vector<QueueEntry> entries(Database& db, Statement& query)
{
    std::vector<QueueEntry> result;
    while (query.step()) result.push_back(entryFrom(query));
    for (auto& entry : result) loadRecipients(db, entry);
    return result;
}

template <typename T>
std::string jsonArray(const std::vector<T>& values)
{
    Poco::JSON::Array array;
    for (const auto& value : values) array.add(value);
    std::ostringstream text;
    array.stringify(text);
    return text.str();
}

Statement& bindExclusions(Statement& query, const Exclusions& excluded)
{
    return query.bind(1, jsonArray(excluded.domains)).bind(2, jsonArray(excluded.ids));
}

std::optional<QueueStore::Removed> releaseIfDeleted(Database& db, Statement& deleteReturningBlob)
{
    if (!deleteReturningBlob.step()) return std::nullopt;
    const std::int64_t blobId = deleteReturningBlob.int64(0);
    deleteReturningBlob.reset();
    return QueueStore::Removed{store::FolderStore::releaseBlob(db, blobId)};
}

}  // namespace

const char* toString(EntryState state) { return kEntryStates[static_cast<std::size_t>(state)]; }
const char* toString(RecipientState state) { return kRecipientStates[static_cast<std::size_t>(state)]; }
const char* toString(NoticeKind kind) { return kNoticeKinds[static_cast<std::size_t>(kind)]; }

std::size_t QueueEntry::count(RecipientState state) const
{
    return static_cast<std::size_t>(
        std::ranges::count_if(recipients, [state](const RecipientStatus& r) { return r.state == state; }));
}

std::vector<QueueEntry> QueueStore::list(Database& db)
{
    auto query = db.prepare(std::string("SELECT ").append(kEntryColumns).append("ORDER BY o.id"));
    return entries(db, query);
}

std::optional<QueueEntry> QueueStore::find(Database& db, std::int64_t id)
{
    auto query = db.prepare(std::string("SELECT ").append(kEntryColumns).append("WHERE o.id = ?"));
    query.bind(1, id);
    auto found = entries(db, query);
    if (found.empty()) return std::nullopt;
    return std::move(found.front());
}

std::vector<QueueEntry> QueueStore::due(Database& db, std::int64_t nowMs, std::size_t limit, const Exclusions& excluded)
{
    auto query = db.prepare(std::string("SELECT ")
                                .append(kEntryColumns)
                                .append("WHERE ")
                                .append(kWaiting)
                                .append("AND o.next_attempt_ms <= ?3 ORDER BY o.next_attempt_ms, o.id LIMIT ?4"));
    bindExclusions(query, excluded).bind(3, nowMs).bind(4, static_cast<std::int64_t>(limit));
    return entries(db, query);
}

std::optional<std::int64_t> QueueStore::nextDue(Database& db, const Exclusions& excluded)
{
    auto query = db.prepare(std::string("SELECT min(o.next_attempt_ms) FROM outbound o WHERE ").append(kWaiting));
    bindExclusions(query, excluded);
    if (!query.step() || query.isNull(0)) return std::nullopt;
    return query.int64(0);
}

QueueStats QueueStore::stats(Database& db)
{
    QueueStats stats;
    auto query = db.prepare(
        "SELECT count(DISTINCT o.id), count(*), min(o.created_at) FROM outbound o "
        "JOIN outbound_recipients r ON r.entry_id = o.id WHERE r.state = 'pending'");
    if (query.step()) {
        stats.entries = query.int64(0);
        stats.pendingRecipients = query.int64(1);
        stats.oldestCreatedAt = query.int64(2);
    }
    return stats;
}

bool QueueStore::claim(Database& db, std::int64_t id)
{
    db.prepare("UPDATE outbound SET state = 'delivering' WHERE id = ? AND state = 'queued'").bind(1, id).run();
    return db.changes() > 0;
}

bool QueueStore::recordAttempt(Database& db, std::int64_t id, const AttemptRecord& record)
{
    auto entry = db.prepare(
        "UPDATE outbound SET state = ?, attempts = attempts + 1, last_attempt = ?, next_attempt_ms = ?, "
        "last_error = ?, delay_notified = ? WHERE id = ? AND state = 'delivering'");
    entry.bind(1, toString(record.state))
        .bind(2, record.attemptedAt)
        .bind(3, record.nextAttemptMs)
        .bindOptional(4, record.lastError.empty() ? std::nullopt : std::optional(record.lastError))
        .bind(5, std::int64_t{record.delayNotified})
        .bind(6, id)
        .run();
    if (db.changes() == 0) return false;
    auto recipient = db.prepare(
        "UPDATE outbound_recipients SET state = ?, reply = ?, remote_host = ?, last_attempt = ?, notice = ? "
        "WHERE entry_id = ? AND position = ?");
    for (const auto& change : record.recipients) {
        recipient.bind(1, toString(change.state))
            .bind(2, change.reply)
            .bindOptional(3, change.remoteHost.empty() ? std::nullopt : std::optional(change.remoteHost))
            .bind(4, record.attemptedAt)
            .bindOptional(5, change.notice ? std::optional<std::string>(toString(*change.notice)) : std::nullopt)
            .bind(6, id)
            .bind(7, std::int64_t{change.position})
            .run();
    }
    return true;
}

std::size_t QueueStore::requeueInterrupted(Database& db)
{
    db.prepare("UPDATE outbound SET state = 'queued' WHERE state = 'delivering'").run();
    return static_cast<std::size_t>(db.changes());
}

bool QueueStore::retryNow(Database& db, std::int64_t id, std::int64_t nowMs)
{
    db.prepare("UPDATE outbound SET next_attempt_ms = min(next_attempt_ms, ?) WHERE id = ? AND state IN ('queued', 'done')")
        .bind(1, nowMs)
        .bind(2, id)
        .run();
    return db.changes() > 0;
}

std::size_t QueueStore::retryAllNow(Database& db, std::int64_t nowMs)
{
    db.prepare("UPDATE outbound SET next_attempt_ms = ?1 WHERE state IN ('queued', 'done') AND next_attempt_ms > ?1")
        .bind(1, nowMs)
        .run();
    return static_cast<std::size_t>(db.changes());
}

void QueueStore::clearNotices(Database& db, std::int64_t id, NoticeKind kind, const std::vector<int>& positions)
{
    db.prepare("UPDATE outbound_recipients SET notice = NULL WHERE entry_id = ? AND notice = ? "
               "AND position IN (SELECT value FROM json_each(?))")
        .bind(1, id)
        .bind(2, toString(kind))
        .bind(3, jsonArray(positions))
        .run();
}

void QueueStore::postponeNotices(Database& db, std::int64_t id, std::int64_t nextAttemptMs)
{
    db.prepare("UPDATE outbound SET next_attempt_ms = ? WHERE id = ? AND state = 'done'")
        .bind(1, nextAttemptMs)
        .bind(2, id)
        .run();
}

std::optional<QueueStore::Removed> QueueStore::remove(Database& db, std::int64_t id)
{
    auto drop = db.prepare("DELETE FROM outbound WHERE id = ? RETURNING blob_id");
    drop.bind(1, id);
    return releaseIfDeleted(db, drop);
}

std::optional<QueueStore::Removed> QueueStore::removeIfFinished(Database& db, std::int64_t id)
{
    auto drop = db.prepare(
        "DELETE FROM outbound WHERE id = ?1 AND state = 'done' "
        "AND NOT EXISTS (SELECT 1 FROM outbound_recipients WHERE entry_id = ?1 AND notice IS NOT NULL) "
        "RETURNING blob_id");
    drop.bind(1, id);
    return releaseIfDeleted(db, drop);
}

}  // namespace plexus::queue
