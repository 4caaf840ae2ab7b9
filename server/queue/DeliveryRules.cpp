#include "queue/DeliveryRules.h"

#include <Poco/String.h>
#include <Poco/StringTokenizer.h>

#include <algorithm>
#include <vector>

namespace plexus::queue {

namespace {

const char* notifyKeyword(NoticeKind kind)
{
    switch (kind) {
    case NoticeKind::Delayed: return "DELAY";
    case NoticeKind::Failed: return "FAILURE";
    case NoticeKind::Delivered: return "SUCCESS";
    }
    return "";
}

const RecipientOutcome* outcomeFor(const AttemptResult& result, const std::string& address)
{
    const auto it = std::ranges::find_if(
        result.recipients, [&](const RecipientOutcome& o) { return Poco::icompare(o.address, address) == 0; });
    return it == result.recipients.end() ? nullptr : &*it;
}

}  // namespace

bool notifyAsks(const std::string& notify, NoticeKind kind)
{
    if (Poco::trim(notify).empty()) return kind != NoticeKind::Delivered;
    const Poco::StringTokenizer keywords(Poco::toUpper(notify), ",",
                                         Poco::StringTokenizer::TOK_TRIM | Poco::StringTokenizer::TOK_IGNORE_EMPTY);
    return keywords.has(notifyKeyword(kind));  // NEVER stands alone (RFC 3461 §4.1), so it matches nothing
}

std::chrono::milliseconds retryDelay(const RelaySettings& settings, std::int64_t failedAttempts)
{
    auto delay = settings.firstRetry;
    for (std::int64_t n = 1; n < failedAttempts && delay < settings.maxRetry; ++n) delay *= 2;
    return std::min(delay, settings.maxRetry);
}

std::int64_t expiryMs(const QueueEntry& entry, const RelaySettings& settings)
{
    return entry.createdAt * 1000 + settings.lifetime.count();
}

AttemptRecord afterAttempt(const QueueEntry& entry, const AttemptResult& result, const RelaySettings& settings,
                           std::int64_t nowMs)
{
    AttemptRecord record;
    record.attemptedAt = nowMs / 1000;
    record.delayNotified = entry.delayNotified;
    const bool expired = nowMs >= expiryMs(entry, settings);
    const std::int64_t delayNoticeMs = entry.createdAt * 1000 + settings.delayNotice.count();
    auto noticeIfAsked = [&](const RecipientStatus& r, NoticeKind kind) -> std::optional<NoticeKind> {
        if (entry.sender.empty() || !notifyAsks(r.recipient.notify, kind)) return std::nullopt;
        return kind;
    };

    bool stillPending = false;
    std::vector<const RecipientStatus*> attempted;  // in the order of record.recipients
    for (const auto& r : entry.recipients) {
        if (r.state != RecipientState::Pending) continue;
        const auto* outcome = outcomeFor(result, r.recipient.address);
        RecipientChange change{r.position, RecipientState::Pending,
                               outcome ? outcome->reply : "no outcome reported for this recipient", result.remoteHost,
                               r.notice};
        switch (outcome ? outcome->outcome : Outcome::Temporary) {
        case Outcome::Delivered:
            change.state = RecipientState::Delivered;
            change.notice = result.peerTookDsn ? std::nullopt : noticeIfAsked(r, NoticeKind::Delivered);
            break;
        case Outcome::Permanent:
            change.state = RecipientState::Failed;
            change.notice = noticeIfAsked(r, NoticeKind::Failed);
            break;
        case Outcome::Temporary:
            if (expired) {
                change.state = RecipientState::Expired;
                change.notice = noticeIfAsked(r, NoticeKind::Failed);
            } else {
                stillPending = true;
            }
            break;
        }
        if (change.state != RecipientState::Delivered && record.lastError.empty()) record.lastError = change.reply;
        record.recipients.push_back(std::move(change));
        attempted.push_back(&r);
    }

    if (!stillPending) {
        record.state = EntryState::Done;
        record.nextAttemptMs = nowMs;  // its notices are handed over at once
        return record;
    }
    if (!entry.delayNotified && nowMs >= delayNoticeMs) {
        record.delayNotified = true;
        for (std::size_t i = 0; i < record.recipients.size(); ++i) {
            auto& change = record.recipients[i];
            if (change.state != RecipientState::Pending) continue;
            if (auto delayed = noticeIfAsked(*attempted[i], NoticeKind::Delayed)) change.notice = delayed;
        }
    }
    record.state = EntryState::Queued;
    std::int64_t next = nowMs + retryDelay(settings, entry.attempts + 1).count();
    next = std::min(next, expiryMs(entry, settings));
    if (!record.delayNotified && delayNoticeMs > nowMs) next = std::min(next, delayNoticeMs);
    record.nextAttemptMs = next;
    return record;
}

}  // namespace plexus::queue
