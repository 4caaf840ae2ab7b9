// queue list|show|retry|delete: the outbound queue as the running plexusd
// keeps it in the store. retry only moves the next attempt to now (plexusd
// reads due entries at least every [relay] scan_seconds); delete drops the
// entry and its reference on the message blob, unlinking the file when no
// mailbox holds it any more.
#include "cli/Commands.h"

#include "queue/QueueStore.h"
#include "store/MailboxStore.h"

#include <Poco/DateTimeFormatter.h>
#include <Poco/Timestamp.h>

#include <charconv>
#include <chrono>
#include <iomanip>
#include <iostream>

namespace plexus::cli {

namespace {

using queue::EntryState;
using queue::QueueEntry;
using queue::QueueStore;
using queue::RecipientState;

std::int64_t nowMs()
{
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

std::string formatTime(std::int64_t secondsSinceEpoch)
{
    return Poco::DateTimeFormatter::format(Poco::Timestamp::fromEpochTime(secondsSinceEpoch), "%Y-%m-%d %H:%M:%S");
}

// "42s", "17m", "5h", "3d": how long ago, to the largest unit.
std::string age(std::int64_t secondsSinceEpoch)
{
    const std::int64_t seconds = std::max<std::int64_t>(0, nowMs() / 1000 - secondsSinceEpoch);
    if (seconds < 60) return std::to_string(seconds) + "s";
    if (seconds < 3600) return std::to_string(seconds / 60) + "m";
    if (seconds < 86400) return std::to_string(seconds / 3600) + "h";
    return std::to_string(seconds / 86400) + "d";
}

std::string nextAttemptText(const QueueEntry& entry)
{
    switch (entry.state) {
    case EntryState::Delivering: return "delivering now";
    case EntryState::Done: return "notices to send";
    case EntryState::Queued: break;
    }
    return entry.nextAttemptMs <= nowMs() ? "now" : formatTime(entry.nextAttemptMs / 1000);
}

std::int64_t entryId(const Arguments& args)
{
    const std::string text = args.word(2, "ID (a queue entry, as queue list shows it)");
    std::int64_t id = 0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), id);
    if (error != std::errc() || end != text.data() + text.size() || id <= 0)
        throw UsageError("ID must be a queue entry number, as queue list shows it, not \"" + text + "\"");
    return id;
}

QueueEntry existing(store::Database& db, std::int64_t id)
{
    auto entry = QueueStore::find(db, id);
    if (!entry) throw std::runtime_error("no queue entry " + std::to_string(id));
    return std::move(*entry);
}

int listEntries(store::Database& db)
{
    const auto entries = QueueStore::list(db);
    if (entries.empty()) {
        std::cout << "the queue is empty\n";
        return 0;
    }
    // PENDING: recipients still to deliver, of the entry's.
    std::cout << std::left << std::setw(7) << "ID" << std::setw(14) << "QUEUE ID" << std::setw(6) << "AGE"
              << std::setw(30) << "DOMAIN" << std::setw(36) << "SENDER" << std::setw(9) << "PENDING" << std::setw(9)
              << "ATTEMPTS" << std::setw(21) << "NEXT ATTEMPT" << "LAST ERROR\n";
    for (const auto& e : entries) {
        const std::string pending =
            std::to_string(e.count(RecipientState::Pending)) + "/" + std::to_string(e.recipients.size());
        std::cout << std::setw(7) << e.id << std::setw(14) << e.queueId << std::setw(6) << age(e.createdAt)
                  << std::setw(30) << e.domain << std::setw(36) << (e.sender.empty() ? "<>" : e.sender) << std::setw(9)
                  << pending << std::setw(9) << e.attempts << std::setw(21) << nextAttemptText(e) << e.lastError
                  << '\n';
    }
    std::cout << entries.size() << (entries.size() == 1 ? " entry\n" : " entries\n");
    return 0;
}

int showEntry(store::Database& db, std::int64_t id)
{
    const auto e = existing(db, id);
    const auto line = [](const char* label, const std::string& value) {
        std::cout << std::left << std::setw(14) << label << value << '\n';
    };
    line("entry", std::to_string(e.id));
    line("queue id", e.queueId);
    line("message-id", e.messageId.empty() ? "(none)" : e.messageId);
    line("state", queue::toString(e.state));
    line("sender", e.sender.empty() ? "<>" : e.sender);
    line("domain", e.domain);
    line("size", std::to_string(e.size) + " bytes");
    line("envid", e.envid.empty() ? "(none)" : e.envid);
    line("ret", e.ret.empty() ? "(none)" : e.ret);
    line("created", formatTime(e.createdAt) + " (" + age(e.createdAt) + " ago)");
    line("attempts", std::to_string(e.attempts) + (e.lastAttempt ? ", last " + formatTime(e.lastAttempt) : ""));
    line("next attempt", nextAttemptText(e));
    line("last error", e.lastError.empty() ? "(none)" : e.lastError);
    line("delay notice", e.delayNotified ? "sent" : "not sent");
    std::cout << "recipients (" << e.count(RecipientState::Pending) << " of " << e.recipients.size() << " pending):\n";
    for (const auto& r : e.recipients) {
        std::cout << "  " << r.recipient.address << "  " << queue::toString(r.state);
        if (!r.recipient.notify.empty()) std::cout << "  NOTIFY=" << r.recipient.notify;
        if (!r.recipient.orcpt.empty()) std::cout << "  ORCPT=" << r.recipient.orcpt;
        std::cout << '\n';
        if (r.lastAttempt) {
            std::cout << "    " << formatTime(r.lastAttempt) << (r.remoteHost.empty() ? "" : " " + r.remoteHost) << ": "
                      << r.reply << '\n';
        }
        if (r.notice) std::cout << "    " << queue::toString(*r.notice) << " notice to send\n";
    }
    return 0;
}

int retry(store::Database& db, const Arguments& args)
{
    store::Transaction tx(db);
    if (args.flag("all")) {
        if (args.words.size() > 2) throw UsageError("queue retry takes an ID or --all, not both");
        const auto count = QueueStore::retryAllNow(db, nowMs());
        audit(db, "admin.queue.retried", "all");
        tx.commit();
        std::cout << count << (count == 1 ? " entry" : " entries") << " to be attempted now\n";
        return 0;
    }
    const auto id = entryId(args);
    const auto entry = existing(db, id);
    if (!QueueStore::retryNow(db, id, nowMs()))
        throw std::runtime_error("queue entry " + std::to_string(id) + " is being delivered now");
    audit(db, "admin.queue.retried", std::to_string(id) + " " + entry.queueId + " " + entry.domain);
    tx.commit();
    std::cout << "queue entry " << id << " to " << entry.domain << " to be attempted now\n";
    return 0;
}

int remove(const app::Settings& settings, store::Database& db, std::int64_t id)
{
    store::Transaction tx(db);
    const auto entry = existing(db, id);
    const auto removed = QueueStore::remove(db, id);
    audit(db, "admin.queue.deleted", std::to_string(id) + " " + entry.queueId + " " + entry.domain);
    tx.commit();
    if (removed && removed->releasedBlob)
        store::MailboxStore(settings.blobDir, store::AtRestKey::loadFile(settings.atRestKeyPath))
            .unlinkBlobs({*removed->releasedBlob});
    std::cout << "deleted queue entry " << id << " to " << entry.domain << " (" << entry.count(RecipientState::Pending)
              << " recipients pending, no notice sent)\n";
    return 0;
}

}  // namespace

int runQueueCommand(const app::Settings& settings, const Arguments& args)
{
    const std::string action = args.word(1, "queue action (list, show, retry, delete)");
    args.allowOnly(action == "retry" ? std::set<std::string>{"config", "all"} : std::set<std::string>{"config"});
    auto db = openDatabase(settings);
    if (action == "list") return listEntries(db);
    if (action == "show") return showEntry(db, entryId(args));
    if (action == "retry") return retry(db, args);
    if (action == "delete") return remove(settings, db, entryId(args));
    throw UsageError("unknown queue action " + action);
}

}  // namespace plexus::cli
