#include "queue/OutboundQueue.h"

#include "events/EventLog.h"
#include "queue/DeliveryRules.h"

#include <Poco/JSON/Object.h>
#include <Poco/Format.h>
#include <Poco/Logger.h>
#include <Poco/String.h>

#include <algorithm>
#include <array>

namespace plexus::queue {

namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

Poco::Logger& log()
{
    return Poco::Logger::get("queue");
}

std::int64_t nowMs()
{
    return std::chrono::duration_cast<milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::string destinationKey(const std::string& domain) { return Poco::toLower(domain); }

AttemptResult deliverCatching(Transport& transport, const OutboundMessage& message)
{
    try {
        return transport.deliver(message);
    } catch (const std::exception& e) {
        return AttemptResult::forAll(message, Outcome::Temporary, std::string("delivery error: ") + e.what());
    } catch (...) {
        return AttemptResult::forAll(message, Outcome::Temporary, "delivery error of unknown type");
    }
}

// The event of one recipient's outcome (message.relayed, .bounced or .deferred), for audit consumers.
events::Event outcomeEvent(const QueueEntry& entry, const RecipientStatus& recipient, const RecipientChange& change)
{
    Poco::JSON::Object detail;
    detail.set("queue_id", entry.queueId);
    detail.set("entry", entry.id);
    detail.set("domain", entry.domain);
    detail.set("recipient", recipient.recipient.address);
    detail.set("remote_host", change.remoteHost);
    detail.set("reply", change.reply);
    detail.set("attempts", entry.attempts + 1);
    const char* type = "message.deferred";
    if (change.state == RecipientState::Delivered) type = "message.relayed";
    if (change.state == RecipientState::Failed || change.state == RecipientState::Expired) {
        type = "message.bounced";
        detail.set("expired", change.state == RecipientState::Expired);
    }
    return {type,
            entry.sender,
            "",
            entry.messageId.empty() ? entry.queueId : entry.messageId,
            change.state == RecipientState::Delivered ? "success" : "failure",
            events::detailJson(detail)};
}

const RecipientStatus& recipientAt(const QueueEntry& entry, int position)
{
    return *std::ranges::find(entry.recipients, position, &RecipientStatus::position);
}

}  // namespace

OutboundQueue::Metrics::Metrics()
    : entries(metrics::Registry::instance().gauge("plexus_queue_entries",
                                                  "Outbound queue entries (message and domain) with recipients pending")),
      recipients(metrics::Registry::instance().gauge("plexus_queue_recipients",
                                                     "Recipients waiting in the outbound queue")),
      oldestAge(metrics::Registry::instance().gauge("plexus_queue_oldest_age_seconds",
                                                    "Age of the oldest outbound queue entry with recipients pending")),
      delivered(metrics::Registry::instance().counter("plexus_queue_deliveries_total",
                                                      "Recipients' outcomes of relay attempts", "outcome=\"delivered\"")),
      deferred(metrics::Registry::instance().counter("plexus_queue_deliveries_total",
                                                     "Recipients' outcomes of relay attempts", "outcome=\"deferred\"")),
      failed(metrics::Registry::instance().counter("plexus_queue_deliveries_total",
                                                   "Recipients' outcomes of relay attempts", "outcome=\"failed\"")),
      attemptSeconds(metrics::Registry::instance().histogram("plexus_queue_attempt_seconds",
                                                             "Duration of relay attempts (one SMTP transaction)"))
{
}

OutboundQueue::OutboundQueue(RelaySettings settings, QueueServices services, Transport& transport, Notifier& notifier)
    : services_(services), transport_(transport), notifier_(notifier), settings_(settings)
{
}

OutboundQueue::~OutboundQueue()
{
    stop();
}

void OutboundQueue::start()
{
    if (scheduler_.joinable()) throw std::logic_error("the outbound queue is started twice");
    std::size_t interrupted = 0;
    services_.commits.submit([&](store::Database& db) { interrupted = QueueStore::requeueInterrupted(db); }).get();
    if (interrupted > 0)
        log().warning("%z queue entries were being delivered when plexusd stopped: their pending recipients are "
                      "attempted again",
                      interrupted);
    startWorkers(currentSettings().maxDeliveries);
    scheduler_ = std::jthread([this](std::stop_token stop) { schedule(stop); });
}

void OutboundQueue::startWorkers(std::size_t count)
{
    while (workers_.size() < count) workers_.emplace_back([this](std::stop_token stop) { work(stop); });
}

void OutboundQueue::reconfigure(const RelaySettings& settings)
{
    {
        std::lock_guard lock(mutex_);
        settings_ = settings;
        ++changes_;
    }
    if (scheduler_.joinable()) startWorkers(settings.maxDeliveries);
    changed_.notify_all();
}

RelaySettings OutboundQueue::currentSettings()
{
    std::lock_guard lock(mutex_);
    return settings_;
}

void OutboundQueue::wake()
{
    {
        std::lock_guard lock(mutex_);
        ++changes_;
    }
    changed_.notify_all();
}

void OutboundQueue::stop()
{
    scheduler_.request_stop();
    for (auto& worker : workers_) worker.request_stop();
    scheduler_ = {};   // joins
    workers_.clear();  // joins, once the attempts in progress are recorded
    std::lock_guard lock(mutex_);
    readyEntries_.clear();  // not claimed yet: they stay queued in the store
    inHand_.clear();
    perDomain_.clear();
}

void OutboundQueue::schedule(const std::stop_token& stop)
{
    while (!stop.stop_requested()) {
        std::uint64_t seen = 0;
        {
            std::lock_guard lock(mutex_);
            seen = changes_;
        }
        milliseconds wait = currentSettings().scanInterval;
        try {
            wait = dispatchDue();
            refreshGauges();
        } catch (const std::exception& e) {
            log().error("outbound queue: %s", std::string(e.what()));
        }
        std::unique_lock lock(mutex_);
        changed_.wait_for(lock, stop, wait, [&] { return changes_ != seen; });
    }
}

// Hands due entries to the workers as long as slots are free; returns how long
// to wait before the next one is due (at most the scan interval, so that
// plexusctl queue retry and entries of other processes are seen).
milliseconds OutboundQueue::dispatchDue()
{
    auto db = services_.reads.acquire();
    for (;;) {
        Exclusions excluded;
        std::size_t freeSlots = 0;
        RelaySettings settings;
        {
            std::lock_guard lock(mutex_);
            settings = settings_;
            // Fewer than in hand after a reconfigure: none until enough have finished.
            freeSlots = settings.maxDeliveries - std::min(settings.maxDeliveries, inHand_.size());
            excluded.ids.assign(inHand_.begin(), inHand_.end());
            for (const auto& [domain, running] : perDomain_)
                if (running >= settings.maxPerDestination) excluded.domains.push_back(domain);
        }
        if (freeSlots == 0) return settings.scanInterval;  // a finished attempt wakes us first
        const std::int64_t now = nowMs();
        auto due = QueueStore::due(*db, now, freeSlots, excluded);
        if (due.empty()) {
            const auto next = QueueStore::nextDue(*db, excluded);
            if (!next) return settings.scanInterval;
            return std::clamp(milliseconds(*next - now), milliseconds(0), settings.scanInterval);
        }
        {
            std::lock_guard lock(mutex_);
            for (auto& entry : due) {
                auto& running = perDomain_[destinationKey(entry.domain)];
                if (running >= settings.maxPerDestination) continue;  // the next round leaves its domain out
                ++running;
                inHand_.insert(entry.id);
                readyEntries_.push_back(std::move(entry));
            }
        }
        ready_.notify_all();
    }
}

void OutboundQueue::refreshGauges()
{
    // Once a second at most: finished attempts wake the scheduler far more often under load.
    if (Clock::now() - gaugesRefreshed_ < std::chrono::seconds(1)) return;
    gaugesRefreshed_ = Clock::now();
    auto db = services_.reads.acquire();
    const auto stats = QueueStore::stats(*db);
    metrics_.entries.set(stats.entries);
    metrics_.recipients.set(stats.pendingRecipients);
    metrics_.oldestAge.set(stats.entries == 0 ? 0 : std::max<std::int64_t>(0, nowMs() / 1000 - stats.oldestCreatedAt));
}

void OutboundQueue::work(const std::stop_token& stop)
{
    for (;;) {
        QueueEntry entry;
        {
            std::unique_lock lock(mutex_);
            // Stopping: what is left in readyEntries_ is not claimed yet and stays queued.
            if (!ready_.wait(lock, stop, [&] { return !readyEntries_.empty(); }) || stop.stop_requested()) return;
            entry = std::move(readyEntries_.front());
            readyEntries_.pop_front();
        }
        try {
            serve(entry, stop);
        } catch (const std::exception& e) {
            // Whatever was not recorded is attempted again: at the next start if the entry stays Delivering.
            log().error("queue entry %Ld to %s: %s", entry.id, entry.domain, std::string(e.what()));
        }
        finished(entry);
    }
}

void OutboundQueue::finished(const QueueEntry& entry)
{
    {
        std::lock_guard lock(mutex_);
        inHand_.erase(entry.id);
        const auto it = perDomain_.find(destinationKey(entry.domain));
        if (it != perDomain_.end() && --it->second == 0) perDomain_.erase(it);
        ++changes_;
    }
    changed_.notify_all();
}

void OutboundQueue::serve(const QueueEntry& entry, const std::stop_token& stop)
{
    if (entry.state == EntryState::Queued) {
        bool claimed = false;
        services_.commits.submit([&](store::Database& db) { claimed = QueueStore::claim(db, entry.id); }).get();
        if (!claimed) return;  // deleted or retried by plexusctl since it was read
        attempt(entry);
    }
    if (!stop.stop_requested()) handNotices(entry.id);
}

OutboundMessage OutboundQueue::messageFor(const QueueEntry& entry, std::vector<OutboundRecipient> recipients,
                                          const RelaySettings& settings) const
{
    OutboundMessage message;
    message.id = entry.id;
    message.queueId = entry.queueId;
    message.messageId = entry.messageId;
    message.sender = entry.sender;
    message.envid = entry.envid;
    message.ret = entry.ret;
    message.domain = entry.domain;
    message.recipients = std::move(recipients);
    message.createdAt = entry.createdAt;
    message.expiresAt = expiryMs(entry, settings) / 1000;
    message.size = entry.size;
    message.openContent = [&mailboxes = services_.mailboxes, path = entry.blobPath] { return mailboxes.openBlob(path); };
    return message;
}

void OutboundQueue::attempt(const QueueEntry& entry)
{
    std::vector<OutboundRecipient> pending;
    for (const auto& r : entry.recipients)
        if (r.state == RecipientState::Pending) pending.push_back(r.recipient);
    const auto settings = currentSettings();
    const auto message = messageFor(entry, std::move(pending), settings);
    const auto started = Clock::now();
    const auto result = message.recipients.empty() ? AttemptResult{} : deliverCatching(transport_, message);
    metrics_.attemptSeconds.observe(std::chrono::duration<double>(Clock::now() - started).count());

    const auto record = afterAttempt(entry, result, settings, nowMs());
    bool recorded = false;
    // The results and their events in one commit, before anything else is done about them.
    services_.commits
        .submit([&](store::Database& db) {
            recorded = QueueStore::recordAttempt(db, entry.id, record);
            if (!recorded) return;
            for (const auto& change : record.recipients)
                events::EventLog::append(db, outcomeEvent(entry, recipientAt(entry, change.position), change));
        })
        .get();
    if (!recorded) {
        log().warning("queue entry %Ld to %s was deleted during its attempt: its results are dropped", entry.id,
                      entry.domain);
        return;
    }
    std::array<std::size_t, 4> counts{};  // by RecipientState
    for (const auto& change : record.recipients) ++counts[static_cast<std::size_t>(change.state)];
    const auto count = [&](RecipientState state) { return counts[static_cast<std::size_t>(state)]; };
    metrics_.delivered.add(count(RecipientState::Delivered));
    metrics_.deferred.add(count(RecipientState::Pending));
    metrics_.failed.add(count(RecipientState::Failed) + count(RecipientState::Expired));
    const std::string summary = Poco::format(
        "queue entry %Ld (%s) to %s via %s: %z delivered, %z deferred, %z failed, %z expired", entry.id, entry.queueId,
        entry.domain, result.remoteHost.empty() ? std::string("no host") : result.remoteHost,
        count(RecipientState::Delivered), count(RecipientState::Pending), count(RecipientState::Failed),
        count(RecipientState::Expired));
    if (record.lastError.empty()) log().information(summary);
    else log().warning(summary + ": " + record.lastError);
}

void OutboundQueue::handNotices(std::int64_t entryId)
{
    std::optional<QueueEntry> entry;
    {
        auto db = services_.reads.acquire();
        entry = QueueStore::find(*db, entryId);
    }
    if (!entry) return;
    const auto settings = currentSettings();

    struct Handed {
        NoticeKind kind;
        std::vector<int> positions;
    };
    std::vector<Handed> handed;
    bool allHanded = true;
    for (const auto kind : {NoticeKind::Failed, NoticeKind::Delayed, NoticeKind::Delivered}) {
        std::vector<NoticeRecipient> concerned;
        std::vector<OutboundRecipient> addresses;
        Handed done{kind, {}};
        for (const auto& r : entry->recipients) {
            if (r.notice != kind) continue;
            concerned.push_back({r.recipient, r.state, r.reply, r.remoteHost, r.lastAttempt});
            addresses.push_back(r.recipient);
            done.positions.push_back(r.position);
        }
        if (concerned.empty()) continue;
        const auto message = messageFor(*entry, std::move(addresses), settings);
        try {
            if (kind == NoticeKind::Failed) notifier_.failed(message, concerned);
            else if (kind == NoticeKind::Delayed) notifier_.delayed(message, concerned);
            else notifier_.delivered(message, concerned);
            handed.push_back(std::move(done));
        } catch (const std::exception& e) {
            allHanded = false;
            log().error("queue entry %Ld (%s): %s notice to %s not sent: %s", entry->id, entry->queueId,
                        std::string(toString(kind)), entry->sender, std::string(e.what()));
        }
    }

    if (handed.empty() && allHanded && entry->state != EntryState::Done) return;  // nothing was due
    const std::int64_t now = nowMs();
    // A notice that cannot be sent for a whole lifetime after the last attempt is given up.
    const bool giveUp = !allHanded && entry->state == EntryState::Done &&
                        now >= entry->lastAttempt * 1000 + settings.lifetime.count();
    if (giveUp) log().error("queue entry %Ld (%s): notices given up", entry->id, entry->queueId);
    std::optional<QueueStore::Removed> removed;
    services_.commits
        .submit([&](store::Database& db) {
            for (const auto& done : handed) QueueStore::clearNotices(db, entry->id, done.kind, done.positions);
            if (giveUp) {
                for (const auto& r : entry->recipients)
                    if (r.notice) QueueStore::clearNotices(db, entry->id, *r.notice, {r.position});
            } else if (!allHanded) {
                QueueStore::postponeNotices(db, entry->id, now + settings.firstRetry.count());
            }
            removed = QueueStore::removeIfFinished(db, entry->id);
        })
        .get();
    if (removed && removed->releasedBlob) services_.mailboxes.unlinkBlobs({*removed->releasedBlob});
}

}  // namespace plexus::queue
