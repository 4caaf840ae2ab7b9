#include "queue/DeliveryRules.h"

#include <gtest/gtest.h>

using namespace plexus::queue;
using namespace std::chrono_literals;

namespace {

constexpr std::int64_t kCreated = 1'700'000'000;  // seconds
constexpr std::int64_t kCreatedMs = kCreated * 1000;

RelaySettings settings()
{
    RelaySettings s;
    s.lifetime = 10h;
    s.delayNotice = 4h;
    s.firstRetry = 300s;
    s.maxRetry = 3600s;
    return s;
}

QueueEntry entryWith(std::vector<std::pair<std::string, std::string>> recipients, std::string sender = "s@h.test")
{
    QueueEntry e;
    e.id = 1;
    e.state = EntryState::Delivering;
    e.sender = std::move(sender);
    e.domain = "c.test";
    e.createdAt = kCreated;
    for (const auto& [address, notify] : recipients) {
        RecipientStatus r;
        r.position = static_cast<int>(e.recipients.size());
        r.recipient = {address, notify, ""};
        e.recipients.push_back(r);
    }
    return e;
}

AttemptResult results(std::vector<std::pair<std::string, Outcome>> outcomes, bool peerTookDsn = false)
{
    AttemptResult result;
    result.remoteHost = "mx.c.test [192.0.2.7]:25";
    result.peerTookDsn = peerTookDsn;
    for (const auto& [address, outcome] : outcomes)
        result.recipients.push_back({address, outcome, outcome == Outcome::Delivered ? "250 ok"
                                                       : outcome == Outcome::Permanent ? "550 5.1.1 unknown"
                                                                                       : "451 4.4.0 later"});
    return result;
}

}  // namespace

TEST(DeliveryRulesTest, NotifyDefaultsToFailureAndDelay)
{
    EXPECT_TRUE(notifyAsks("", NoticeKind::Failed));
    EXPECT_TRUE(notifyAsks("", NoticeKind::Delayed));
    EXPECT_FALSE(notifyAsks("", NoticeKind::Delivered));
    EXPECT_FALSE(notifyAsks("NEVER", NoticeKind::Failed));
    EXPECT_FALSE(notifyAsks("NEVER", NoticeKind::Delayed));
    EXPECT_TRUE(notifyAsks("SUCCESS", NoticeKind::Delivered));
    EXPECT_FALSE(notifyAsks("SUCCESS", NoticeKind::Failed));
    EXPECT_TRUE(notifyAsks("success,Delay", NoticeKind::Delayed));
    EXPECT_FALSE(notifyAsks("FAILURE", NoticeKind::Delayed));
}

TEST(DeliveryRulesTest, RetryDelayDoublesUpToTheMaximum)
{
    const auto s = settings();
    EXPECT_EQ(retryDelay(s, 1), 300s);
    EXPECT_EQ(retryDelay(s, 2), 600s);
    EXPECT_EQ(retryDelay(s, 3), 1200s);
    EXPECT_EQ(retryDelay(s, 4), 2400s);
    EXPECT_EQ(retryDelay(s, 5), 3600s);
    EXPECT_EQ(retryDelay(s, 1'000'000), 3600s);
}

TEST(DeliveryRulesTest, OutcomesOfOneAttemptAreRecordedTogether)
{
    auto entry = entryWith({{"a@c.test", ""}, {"b@c.test", "SUCCESS"}, {"c@c.test", ""}, {"d@c.test", "NEVER"}});
    entry.recipients[2].state = RecipientState::Delivered;  // by an earlier attempt: not attempted again
    const auto now = kCreatedMs + 60'000;
    const auto record = afterAttempt(
        entry, results({{"a@c.test", Outcome::Permanent}, {"B@C.test", Outcome::Delivered}, {"d@c.test", Outcome::Permanent}}),
        settings(), now);
    ASSERT_EQ(record.recipients.size(), 3u);
    EXPECT_EQ(record.recipients[0].position, 0);
    EXPECT_EQ(record.recipients[0].state, RecipientState::Failed);
    EXPECT_EQ(record.recipients[0].reply, "550 5.1.1 unknown");
    EXPECT_EQ(record.recipients[0].remoteHost, "mx.c.test [192.0.2.7]:25");
    EXPECT_EQ(record.recipients[0].notice, NoticeKind::Failed);
    EXPECT_EQ(record.recipients[1].state, RecipientState::Delivered);
    EXPECT_EQ(record.recipients[1].notice, NoticeKind::Delivered) << "SUCCESS asked, peer without DSN: relayed";
    EXPECT_EQ(record.recipients[2].position, 3);
    EXPECT_FALSE(record.recipients[2].notice) << "NEVER";
    EXPECT_EQ(record.state, EntryState::Done);
    EXPECT_EQ(record.nextAttemptMs, now);
    EXPECT_EQ(record.attemptedAt, now / 1000);
    EXPECT_EQ(record.lastError, "550 5.1.1 unknown");
}

TEST(DeliveryRulesTest, APeerThatTookTheDsnRequestSendsTheSuccessNoticeItself)
{
    const auto record = afterAttempt(entryWith({{"b@c.test", "SUCCESS"}}),
                                     results({{"b@c.test", Outcome::Delivered}}, true), settings(), kCreatedMs);
    EXPECT_FALSE(record.recipients[0].notice);
    EXPECT_TRUE(record.lastError.empty());
}

TEST(DeliveryRulesTest, NoNoticeForTheNullSender)
{
    const auto record = afterAttempt(entryWith({{"a@c.test", ""}}, ""), results({{"a@c.test", Outcome::Permanent}}),
                                     settings(), kCreatedMs);
    EXPECT_EQ(record.recipients[0].state, RecipientState::Failed);
    EXPECT_FALSE(record.recipients[0].notice);
}

TEST(DeliveryRulesTest, TemporaryFailuresAreRetriedWithBackoff)
{
    auto entry = entryWith({{"a@c.test", ""}, {"b@c.test", ""}});
    entry.attempts = 2;  // this is the third
    const auto now = kCreatedMs + 60'000;
    // b is left out by the transport: temporary too.
    const auto record = afterAttempt(entry, results({{"a@c.test", Outcome::Temporary}}), settings(), now);
    EXPECT_EQ(record.state, EntryState::Queued);
    EXPECT_EQ(record.nextAttemptMs, now + 1'200'000);
    EXPECT_EQ(record.recipients[0].state, RecipientState::Pending);
    EXPECT_EQ(record.recipients[1].state, RecipientState::Pending);
    EXPECT_NE(record.recipients[1].reply.find("no outcome"), std::string::npos);
    EXPECT_FALSE(record.recipients[0].notice);
    EXPECT_EQ(record.lastError, "451 4.4.0 later");
    EXPECT_FALSE(record.delayNotified);
}

TEST(DeliveryRulesTest, TheNextAttemptComesAtTheDelayNoticeTimeAndAtExpiry)
{
    auto entry = entryWith({{"a@c.test", ""}});
    entry.attempts = 10;  // backoff at its maximum: one hour
    const auto s = settings();
    const auto beforeNotice = kCreatedMs + 4 * 3'600'000 - 60'000;
    EXPECT_EQ(afterAttempt(entry, results({{"a@c.test", Outcome::Temporary}}), s, beforeNotice).nextAttemptMs,
              kCreatedMs + 4 * 3'600'000);
    entry.delayNotified = true;
    const auto beforeExpiry = kCreatedMs + 10 * 3'600'000 - 60'000;
    EXPECT_EQ(afterAttempt(entry, results({{"a@c.test", Outcome::Temporary}}), s, beforeExpiry).nextAttemptMs,
              kCreatedMs + 10 * 3'600'000);
}

TEST(DeliveryRulesTest, ADelayNoticeIsDueOnceForRecipientsThatAskForIt)
{
    auto entry = entryWith({{"a@c.test", ""}, {"b@c.test", "FAILURE"}, {"c@c.test", "DELAY"}, {"d@c.test", ""}});
    const auto now = kCreatedMs + 4 * 3'600'000;
    const auto record = afterAttempt(entry,
                                     results({{"a@c.test", Outcome::Temporary},
                                              {"b@c.test", Outcome::Temporary},
                                              {"c@c.test", Outcome::Temporary},
                                              {"d@c.test", Outcome::Delivered}}),
                                     settings(), now);
    EXPECT_TRUE(record.delayNotified);
    EXPECT_EQ(record.recipients[0].notice, NoticeKind::Delayed);
    EXPECT_FALSE(record.recipients[1].notice);
    EXPECT_EQ(record.recipients[2].notice, NoticeKind::Delayed);
    EXPECT_FALSE(record.recipients[3].notice);

    entry.delayNotified = true;
    const auto again = afterAttempt(entry, results({{"a@c.test", Outcome::Temporary}}), settings(), now + 3'600'000);
    EXPECT_FALSE(again.recipients[0].notice);
}

TEST(DeliveryRulesTest, AnOutstandingDelayNoticeIsKeptWhilePendingAndReplacedOnceFinal)
{
    auto entry = entryWith({{"a@c.test", ""}, {"b@c.test", ""}});
    entry.delayNotified = true;
    for (auto& r : entry.recipients) r.notice = NoticeKind::Delayed;
    const auto record = afterAttempt(
        entry, results({{"a@c.test", Outcome::Temporary}, {"b@c.test", Outcome::Delivered}}), settings(), kCreatedMs);
    EXPECT_EQ(record.recipients[0].notice, NoticeKind::Delayed);
    EXPECT_FALSE(record.recipients[1].notice) << "a delay notice after delivery would mislead";
}

TEST(DeliveryRulesTest, TemporaryFailuresAtExpiryAreGivenUpWithAFailureNotice)
{
    const auto now = kCreatedMs + 10 * 3'600'000;
    const auto record = afterAttempt(entryWith({{"a@c.test", ""}, {"b@c.test", "NEVER"}}),
                                     results({{"a@c.test", Outcome::Temporary}, {"b@c.test", Outcome::Temporary}}),
                                     settings(), now);
    EXPECT_EQ(record.state, EntryState::Done);
    EXPECT_EQ(record.recipients[0].state, RecipientState::Expired);
    EXPECT_EQ(record.recipients[0].reply, "451 4.4.0 later");
    EXPECT_EQ(record.recipients[0].notice, NoticeKind::Failed);
    EXPECT_EQ(record.recipients[1].state, RecipientState::Expired);
    EXPECT_FALSE(record.recipients[1].notice);
}
