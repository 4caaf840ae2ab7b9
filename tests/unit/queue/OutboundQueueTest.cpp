#include "QueueFixture.h"

#include "metrics/Metrics.h"
#include "queue/OutboundQueue.h"

#include <Poco/AutoPtr.h>
#include <Poco/Channel.h>
#include <Poco/Logger.h>
#include <Poco/Message.h>

#include <algorithm>
#include <atomic>
#include <future>
#include <functional>
#include <map>
#include <mutex>

using namespace plexus;
using namespace plexus::queue;
using namespace plexus::queue::test;
using Clock = std::chrono::steady_clock;

namespace {

const std::string kX = std::string("dr.x@") + kPeer;
const std::string kY = std::string("dr.y@") + kPeer;
const std::string kZ = std::string("dr.z@") + kOtherPeer;

const std::string kAccepted = "250 2.0.0 Ok: queued as 7F3A";
const std::string kLater = "451 4.3.0 Try again later";
const std::string kUnknown = "550 5.1.1 <dr.x@clinique.mssante.test>: unknown user";
const std::string kHost = "mx.clinique.mssante.test [127.0.0.1]:26025";

using Answer = std::function<AttemptResult(const OutboundMessage&)>;

Answer everyone(Outcome outcome, const std::string& reply, bool peerTookDsn = true)
{
    return [=](const OutboundMessage& m) {
        auto result = AttemptResult::forAll(m, outcome, reply, kHost);
        result.peerTookDsn = peerTookDsn;
        return result;
    };
}

// A stand-in for the relay client (tested against real servers elsewhere):
// answers from a script and records what it was given.
class ScriptedTransport : public Transport {
public:
    struct Call {
        std::int64_t entry;
        std::string domain;
        std::vector<std::string> recipients;
        Clock::time_point at;
    };

    explicit ScriptedTransport(Answer answer) : answer_(std::move(answer)) {}

    AttemptResult deliver(const OutboundMessage& message) override
    {
        Call call{message.id, message.domain, {}, Clock::now()};
        for (const auto& r : message.recipients) call.recipients.push_back(r.address);
        {
            std::lock_guard lock(mutex_);
            calls_.push_back(std::move(call));
            lastMessage_ = message;
            content_ = message.openContent().readAll();
        }
        return answer_(message);
    }

    std::vector<Call> calls() const
    {
        std::lock_guard lock(mutex_);
        return calls_;
    }
    std::size_t count() const { return calls().size(); }
    OutboundMessage lastMessage() const
    {
        std::lock_guard lock(mutex_);
        return lastMessage_;
    }
    std::string content() const
    {
        std::lock_guard lock(mutex_);
        return content_;
    }

private:
    Answer answer_;
    mutable std::mutex mutex_;
    std::vector<Call> calls_;
    OutboundMessage lastMessage_;
    std::string content_;
};

// Records the notices, as the DSN builder would get them; throws for the first `failures` calls.
class RecordingNotifier : public Notifier {
public:
    struct Notice {
        NoticeKind kind;
        std::int64_t entry;
        std::vector<NoticeRecipient> recipients;
    };

    explicit RecordingNotifier(int failures = 0) : failures_(failures) {}

    void delayed(const OutboundMessage& m, const std::vector<NoticeRecipient>& r) override { record(NoticeKind::Delayed, m, r); }
    void failed(const OutboundMessage& m, const std::vector<NoticeRecipient>& r) override { record(NoticeKind::Failed, m, r); }
    void delivered(const OutboundMessage& m, const std::vector<NoticeRecipient>& r) override
    {
        record(NoticeKind::Delivered, m, r);
    }

    std::vector<Notice> notices(std::optional<NoticeKind> kind = std::nullopt) const
    {
        std::lock_guard lock(mutex_);
        std::vector<Notice> found;
        for (const auto& n : notices_)
            if (!kind || n.kind == *kind) found.push_back(n);
        return found;
    }
    int calls() const
    {
        std::lock_guard lock(mutex_);
        return calls_;
    }

private:
    void record(NoticeKind kind, const OutboundMessage& message, const std::vector<NoticeRecipient>& recipients)
    {
        std::lock_guard lock(mutex_);
        ++calls_;
        EXPECT_EQ(message.recipients.size(), recipients.size());
        if (failures_ > 0) {
            --failures_;
            throw std::runtime_error("the sender's mailbox is over quota");
        }
        notices_.push_back({kind, message.id, recipients});
    }

    mutable std::mutex mutex_;
    int failures_;
    int calls_ = 0;
    std::vector<Notice> notices_;
};

// The lines logged by the queue while it lives.
class CapturedLog : public Poco::Channel {
public:
    static Poco::AutoPtr<CapturedLog> attach()
    {
        Poco::AutoPtr<CapturedLog> channel(new CapturedLog);  // Poco channels are reference-counted
        Poco::Logger::get("queue").setChannel(channel);
        return channel;
    }
    static void detach() { Poco::Logger::get("queue").setChannel(nullptr); }

    void log(const Poco::Message& message) override
    {
        std::lock_guard lock(mutex_);
        lines_.push_back(message.getText());
    }
    std::vector<std::string> lines() const
    {
        std::lock_guard lock(mutex_);
        return lines_;
    }

private:
    mutable std::mutex mutex_;
    std::vector<std::string> lines_;
};

RelaySettings fast()
{
    RelaySettings s;
    s.lifetime = 1h;
    s.delayNotice = 30min;
    s.firstRetry = 50ms;
    s.maxRetry = 200ms;
    s.scanInterval = 50ms;
    s.maxDeliveries = 4;
    s.maxPerDestination = 2;
    return s;
}

std::uint64_t deliveries(const std::string& outcome)
{
    return metrics::Registry::instance().counter("plexus_queue_deliveries_total", "", "outcome=\"" + outcome + "\"").value();
}

class OutboundQueueTest : public QueueFixture {
protected:
    // Held by the test after its transport and notifier, so that the queue stops
    // (its retries too) before they go, and before the store it commits to.
    [[nodiscard]] std::unique_ptr<OutboundQueue> start(ScriptedTransport& transport, RecordingNotifier& notifier,
                                                       RelaySettings settings = fast())
    {
        auto queue = std::make_unique<OutboundQueue>(settings, QueueServices{*reads_, *commits_, *mailboxes_},
                                                     transport, notifier);
        queue->start();
        return queue;
    }

    bool queueEmpty() { return scalar("SELECT count(*) FROM outbound") == 0; }
};

}  // namespace

TEST_F(OutboundQueueTest, DeliveredRecipientsAreRecordedWithTheirEventsAndTheBlobIsReleased)
{
    const auto relayedBefore = deliveries("delivered");
    const auto blob = submit({{kX, "", "rfc822;" + kX}, {kY, "", ""}});
    ScriptedTransport transport(everyone(Outcome::Delivered, kAccepted));
    RecordingNotifier notifier;
    const auto queue = start(transport, notifier);

    ASSERT_TRUE(eventually([&] { return queueEmpty(); }));
    ASSERT_EQ(transport.count(), 1u) << "one transaction for the domain, with all its recipients";
    EXPECT_EQ(transport.calls()[0].recipients, (std::vector<std::string>{kX, kY}));
    const auto message = transport.lastMessage();
    EXPECT_EQ(message.sender, kSender);
    EXPECT_EQ(message.domain, kPeer);
    EXPECT_EQ(message.envid, "QkNELTE=");
    EXPECT_EQ(message.ret, "HDRS");
    EXPECT_EQ(message.recipients[0].orcpt, "rfc822;" + kX);
    EXPECT_EQ(message.messageId, "<cr-1@hopital.mssante.test>");
    EXPECT_EQ(message.expiresAt, message.createdAt + 3600);
    EXPECT_EQ(transport.content().rfind("From: " + std::string(kSender), 0), 0u);
    EXPECT_EQ(message.size, transport.content().size());

    const auto relayed = eventsOfType("message.relayed");
    ASSERT_EQ(relayed.size(), 2u);
    EXPECT_EQ(relayed[0].actor, kSender);
    EXPECT_EQ(relayed[0].object, "<cr-1@hopital.mssante.test>");
    EXPECT_EQ(relayed[0].outcome, "success");
    EXPECT_NE(relayed[0].detailJson.find("\"recipient\":\"" + kX + "\""), std::string::npos);
    EXPECT_NE(relayed[0].detailJson.find("\"remote_host\":\"" + kHost + "\""), std::string::npos);
    EXPECT_NE(relayed[0].detailJson.find("\"reply\":\"" + kAccepted + "\""), std::string::npos);
    EXPECT_NE(relayed[0].detailJson.find("\"queue_id\":\"" + blob.substr(3, 12) + "\""), std::string::npos);
    EXPECT_EQ(deliveries("delivered") - relayedBefore, 2u);
    EXPECT_TRUE(notifier.notices().empty()) << "no notice asked for";
    EXPECT_EQ(scalar("SELECT count(*) FROM blobs"), 0);
    // The file is unlinked once the removal is committed, just after the queue row goes.
    EXPECT_TRUE(eventually([&] { return !blobFileExists(blob); })) << "no mailbox holds it: the file goes";
}

TEST_F(OutboundQueueTest, ABlobAMailboxStillHoldsStays)
{
    const auto durand = addAccount("ide.durand@hopital.mssante.test");
    const auto blob = submit({{kX, "", ""}}, {{durand, "ide.durand@hopital.mssante.test"}});
    ScriptedTransport transport(everyone(Outcome::Delivered, kAccepted));
    RecordingNotifier notifier;
    const auto queue = start(transport, notifier);
    ASSERT_TRUE(eventually([&] { return queueEmpty(); }));
    EXPECT_EQ(scalar("SELECT refcount FROM blobs"), 1);
    EXPECT_TRUE(blobFileExists(blob));
}

TEST_F(OutboundQueueTest, TemporaryFailuresAreRetriedAfterABackoffThatDoubles)
{
    std::atomic<int> attempts{0};
    ScriptedTransport transport([&](const OutboundMessage& m) {
        return ++attempts <= 2 ? AttemptResult::forAll(m, Outcome::Temporary, kLater, kHost)
                               : AttemptResult::forAll(m, Outcome::Delivered, kAccepted, kHost);
    });
    RecordingNotifier notifier;
    submit({{kX, "", ""}});
    const auto id = entries().at(0).id;
    const auto queue = start(transport, notifier);

    ASSERT_TRUE(eventually([&] { return queueEmpty(); }));
    const auto calls = transport.calls();
    ASSERT_EQ(calls.size(), 3u);
    EXPECT_GE(calls[1].at - calls[0].at, 50ms);
    EXPECT_GE(calls[2].at - calls[1].at, 100ms);
    const auto deferred = eventsOfType("message.deferred");
    ASSERT_EQ(deferred.size(), 2u);
    EXPECT_EQ(deferred[0].outcome, "failure");
    EXPECT_NE(deferred[0].detailJson.find("\"reply\":\"" + kLater + "\""), std::string::npos);
    const auto relayed = eventsOfType("message.relayed");
    ASSERT_EQ(relayed.size(), 1u);
    EXPECT_NE(relayed[0].detailJson.find("\"attempts\":3"), std::string::npos);
    EXPECT_NE(relayed[0].detailJson.find("\"entry\":" + std::to_string(id)), std::string::npos);
    EXPECT_TRUE(notifier.notices().empty());
}

TEST_F(OutboundQueueTest, APendingEntryShowsItsAttemptsAndLastError)
{
    ScriptedTransport transport(everyone(Outcome::Temporary, kLater));
    RecordingNotifier notifier;
    submit({{kX, "", ""}, {kY, "", ""}});
    const auto id = entries().at(0).id;
    auto settings = fast();
    settings.firstRetry = settings.maxRetry = 1h;
    settings.delayNotice = 2h;  // not before the retry
    const auto queue = start(transport, notifier, settings);
    ASSERT_TRUE(eventually([&] { return entry(id)->attempts == 1; }));
    const auto e = *entry(id);
    EXPECT_EQ(e.state, EntryState::Queued);
    EXPECT_EQ(e.lastError, kLater);
    EXPECT_GT(e.nextAttemptMs, e.lastAttempt * 1000 + 3'000'000);
    for (const auto& r : e.recipients) {
        EXPECT_EQ(r.state, RecipientState::Pending);
        EXPECT_EQ(r.reply, kLater);
        EXPECT_EQ(r.remoteHost, kHost);
    }
    // The gauges follow (refreshed once a second at most).
    auto& entriesGauge = metrics::Registry::instance().gauge("plexus_queue_entries", "");
    auto& recipientsGauge = metrics::Registry::instance().gauge("plexus_queue_recipients", "");
    EXPECT_TRUE(eventually([&] { return entriesGauge.value() == 1 && recipientsGauge.value() == 2; }));
}

TEST_F(OutboundQueueTest, OneRecipientRefusedAndOneAcceptedInOneAttemptAreBothRecorded)
{
    ScriptedTransport transport([](const OutboundMessage& m) {
        AttemptResult result;
        result.remoteHost = kHost;
        result.recipients = {{kX, Outcome::Permanent, kUnknown}, {kY, Outcome::Delivered, kAccepted}};
        EXPECT_EQ(m.recipients.size(), 2u);
        return result;
    });
    RecordingNotifier notifier;
    const auto blob = submit({{kX, "", ""}, {kY, "", ""}});
    const auto queue = start(transport, notifier);

    ASSERT_TRUE(eventually([&] { return queueEmpty(); }));
    EXPECT_EQ(transport.count(), 1u);
    const auto failed = notifier.notices(NoticeKind::Failed);
    ASSERT_EQ(failed.size(), 1u);
    ASSERT_EQ(failed[0].recipients.size(), 1u);
    EXPECT_EQ(failed[0].recipients[0].recipient.address, kX);
    EXPECT_EQ(failed[0].recipients[0].state, RecipientState::Failed);
    EXPECT_EQ(failed[0].recipients[0].reply, kUnknown);
    EXPECT_EQ(failed[0].recipients[0].remoteHost, kHost);
    EXPECT_GT(failed[0].recipients[0].lastAttempt, 0);
    EXPECT_EQ(notifier.notices().size(), 1u);
    const auto bounced = eventsOfType("message.bounced");
    ASSERT_EQ(bounced.size(), 1u);
    EXPECT_EQ(bounced[0].outcome, "failure");
    EXPECT_NE(bounced[0].detailJson.find("\"recipient\":\"" + kX + "\""), std::string::npos);
    EXPECT_NE(bounced[0].detailJson.find("\"expired\":false"), std::string::npos);
    EXPECT_EQ(eventsOfType("message.relayed").size(), 1u);
    EXPECT_FALSE(blobFileExists(blob));
}

TEST_F(OutboundQueueTest, AtExpiryPendingRecipientsFailWithOneFailureNotice)
{
    ScriptedTransport transport(everyone(Outcome::Temporary, kLater));
    RecordingNotifier notifier;
    auto settings = fast();
    settings.lifetime = 1500ms;  // from the arrival second: 0.5 to 1.5 s from now
    settings.delayNotice = 1h;
    submit({{kX, "", ""}});
    const auto queue = start(transport, notifier, settings);

    ASSERT_TRUE(eventually([&] { return queueEmpty(); }));
    const auto failed = notifier.notices(NoticeKind::Failed);
    ASSERT_EQ(failed.size(), 1u);
    EXPECT_EQ(failed[0].recipients[0].state, RecipientState::Expired);
    EXPECT_EQ(failed[0].recipients[0].reply, kLater);
    EXPECT_GE(transport.count(), 2u);
    std::this_thread::sleep_for(200ms);
    EXPECT_EQ(notifier.notices().size(), 1u) << "once";
    const auto bounced = eventsOfType("message.bounced");
    ASSERT_EQ(bounced.size(), 1u);
    EXPECT_NE(bounced[0].detailJson.find("\"expired\":true"), std::string::npos);
}

TEST_F(OutboundQueueTest, ADelayNoticeGoesOnceToRecipientsThatAskForIt)
{
    ScriptedTransport transport(everyone(Outcome::Temporary, kLater));
    RecordingNotifier notifier;
    auto settings = fast();
    settings.delayNotice = 300ms;
    settings.maxRetry = 100ms;
    submit({{kX, "", ""}, {kY, "NEVER", ""}});
    const auto id = entries().at(0).id;
    const auto queue = start(transport, notifier, settings);

    ASSERT_TRUE(eventually([&] { return !notifier.notices(NoticeKind::Delayed).empty(); }));
    const auto callsThen = transport.count();
    ASSERT_TRUE(eventually([&] { return transport.count() >= callsThen + 3; }));
    const auto delayed = notifier.notices(NoticeKind::Delayed);
    ASSERT_EQ(delayed.size(), 1u);
    ASSERT_EQ(delayed[0].recipients.size(), 1u);
    EXPECT_EQ(delayed[0].recipients[0].recipient.address, kX);
    EXPECT_EQ(delayed[0].recipients[0].state, RecipientState::Pending);
    EXPECT_EQ(delayed[0].recipients[0].reply, kLater);
    EXPECT_EQ(notifier.notices().size(), 1u);
    const auto e = *entry(id);
    EXPECT_TRUE(e.delayNotified);
    EXPECT_FALSE(e.recipients[0].notice) << "handed over";
}

TEST_F(OutboundQueueTest, NotifyNeverMeansNoNotice)
{
    ScriptedTransport transport(everyone(Outcome::Permanent, kUnknown));
    RecordingNotifier notifier;
    submit({{kX, "NEVER", ""}});
    const auto queue = start(transport, notifier);
    ASSERT_TRUE(eventually([&] { return queueEmpty(); }));
    EXPECT_EQ(notifier.calls(), 0);
    EXPECT_EQ(eventsOfType("message.bounced").size(), 1u);
}

TEST_F(OutboundQueueTest, ASuccessNoticeOnlyWhenAskedAndThePeerDidNotTakeTheRequest)
{
    ScriptedTransport transport([](const OutboundMessage& m) {
        auto result = AttemptResult::forAll(m, Outcome::Delivered, kAccepted, kHost);
        result.peerTookDsn = m.recipients[0].address == kY;
        return result;
    });
    RecordingNotifier notifier;
    submit({{kX, "SUCCESS", ""}});
    submit({{kY, "SUCCESS", ""}}, {}, kSender, "<cr-2@hopital.mssante.test>");
    submit({{kZ, "", ""}}, {}, kSender, "<cr-3@hopital.mssante.test>");
    const auto queue = start(transport, notifier);
    ASSERT_TRUE(eventually([&] { return queueEmpty(); }));
    const auto notices = notifier.notices();
    ASSERT_EQ(notices.size(), 1u);
    EXPECT_EQ(notices[0].kind, NoticeKind::Delivered);
    EXPECT_EQ(notices[0].recipients[0].recipient.address, kX);
    EXPECT_EQ(notices[0].recipients[0].state, RecipientState::Delivered);
    EXPECT_EQ(notices[0].recipients[0].reply, kAccepted);
}

TEST_F(OutboundQueueTest, NoticesThatCannotBeSentYetComeAgain)
{
    ScriptedTransport transport(everyone(Outcome::Permanent, kUnknown));
    RecordingNotifier notifier(1);
    submit({{kX, "", ""}});
    const auto queue = start(transport, notifier);
    ASSERT_TRUE(eventually([&] { return queueEmpty(); }));
    EXPECT_EQ(notifier.calls(), 2);
    EXPECT_EQ(notifier.notices(NoticeKind::Failed).size(), 1u);
    EXPECT_EQ(transport.count(), 1u) << "the peer is not asked again";
}

TEST_F(OutboundQueueTest, ATransportExceptionIsATemporaryFailure)
{
    ScriptedTransport transport([](const OutboundMessage&) -> AttemptResult { throw std::runtime_error("boom"); });
    RecordingNotifier notifier;
    auto settings = fast();
    settings.firstRetry = settings.maxRetry = 1h;
    submit({{kX, "", ""}});
    const auto id = entries().at(0).id;
    const auto queue = start(transport, notifier, settings);
    ASSERT_TRUE(eventually([&] { return entry(id)->attempts == 1; }));
    EXPECT_EQ(entry(id)->lastError, "delivery error: boom");
    EXPECT_EQ(entry(id)->recipients[0].state, RecipientState::Pending);
}

TEST_F(OutboundQueueTest, OneSlowDestinationGetsItsLimitAndDoesNotStarveTheOthers)
{
    std::mutex mutex;
    std::map<std::string, int> running;
    std::map<std::string, int> most;
    int runningAll = 0, mostAll = 0;
    std::atomic<int> peerDone{0};
    std::atomic<int> peerDoneWhenOtherCame{-1};
    ScriptedTransport transport([&](const OutboundMessage& m) {
        {
            std::lock_guard lock(mutex);
            most[m.domain] = std::max(most[m.domain], ++running[m.domain]);
            mostAll = std::max(mostAll, ++runningAll);
        }
        if (m.domain == kPeer) {
            std::this_thread::sleep_for(150ms);
            ++peerDone;
        } else {
            peerDoneWhenOtherCame = peerDone.load();
        }
        {
            std::lock_guard lock(mutex);
            --running[m.domain];
            --runningAll;
        }
        return AttemptResult::forAll(m, Outcome::Delivered, kAccepted, kHost);
    });
    RecordingNotifier notifier;
    for (int i = 0; i < 6; ++i) submit({{kX, "", ""}}, {}, kSender, "<slow-" + std::to_string(i) + "@test>");
    submit({{kZ, "", ""}});
    auto settings = fast();
    settings.maxDeliveries = 3;
    settings.maxPerDestination = 2;
    const auto queue = start(transport, notifier, settings);

    ASSERT_TRUE(eventually([&] { return queueEmpty(); }));
    std::lock_guard lock(mutex);
    EXPECT_EQ(most[kPeer], 2);
    EXPECT_LE(mostAll, 3);
    EXPECT_GE(peerDoneWhenOtherCame.load(), 0);
    EXPECT_LT(peerDoneWhenOtherCame.load(), 6) << "the other domain waited for the slow one";
}

// A crash during an attempt leaves the entry Delivering: at the next start its
// pending recipients are attempted again, those recorded as delivered are not.
TEST_F(OutboundQueueTest, EntriesACrashLeftDeliveringAreAttemptedAgainForTheirPendingRecipients)
{
    submit({{kX, "", ""}, {kY, "", ""}});
    const auto id = entries().at(0).id;
    write([&](store::Database& db) {
        QueueStore::claim(db, id);
        db.prepare("UPDATE outbound_recipients SET state = 'delivered' WHERE entry_id = ? AND position = 0")
            .bind(1, id)
            .run();
    });
    ScriptedTransport transport(everyone(Outcome::Delivered, kAccepted));
    RecordingNotifier notifier;
    const auto queue = start(transport, notifier);
    ASSERT_TRUE(eventually([&] { return queueEmpty(); }));
    ASSERT_EQ(transport.count(), 1u);
    EXPECT_EQ(transport.calls()[0].recipients, std::vector<std::string>{kY});
}

TEST_F(OutboundQueueTest, StopIsPromptDuringALongBackoff)
{
    ScriptedTransport transport(everyone(Outcome::Temporary, kLater));
    RecordingNotifier notifier;
    auto settings = fast();
    settings.firstRetry = settings.maxRetry = 1h;
    settings.scanInterval = 10s;
    submit({{kX, "", ""}});
    const auto id = entries().at(0).id;
    const auto queue = start(transport, notifier, settings);
    ASSERT_TRUE(eventually([&] { return entry(id)->attempts == 1; }));
    const auto before = Clock::now();
    queue->stop();
    EXPECT_LT(Clock::now() - before, 1s);
    EXPECT_EQ(entry(id)->state, EntryState::Queued);
}

TEST_F(OutboundQueueTest, ARetryWrittenByPlexusctlIsSeenWithinTheScanInterval)
{
    ScriptedTransport transport(everyone(Outcome::Temporary, kLater));
    RecordingNotifier notifier;
    auto settings = fast();
    settings.firstRetry = settings.maxRetry = 1h;
    settings.scanInterval = 100ms;
    submit({{kX, "", ""}});
    const auto id = entries().at(0).id;
    const auto queue = start(transport, notifier, settings);
    ASSERT_TRUE(eventually([&] { return entry(id)->attempts == 1; }));
    write([&](store::Database& db) { QueueStore::retryNow(db, id, 0); });
    EXPECT_TRUE(eventually([&] { return transport.count() == 2; }, 3s));
}

TEST_F(OutboundQueueTest, WakeDeliversANewEntryAtOnce)
{
    ScriptedTransport transport(everyone(Outcome::Delivered, kAccepted));
    RecordingNotifier notifier;
    auto settings = fast();
    settings.scanInterval = 1h;
    const auto queue = start(transport, notifier, settings);
    std::this_thread::sleep_for(50ms);  // the scheduler is waiting
    submit({{kX, "", ""}});
    queue->wake();
    EXPECT_TRUE(eventually([&] { return queueEmpty(); }, 5s));
}

TEST_F(OutboundQueueTest, AnEntryDeletedDuringItsAttemptDropsItsResults)
{
    std::promise<void> deleted;
    auto deletedFuture = deleted.get_future().share();
    std::atomic<bool> called{false};
    ScriptedTransport transport([&](const OutboundMessage& m) {
        called = true;
        deletedFuture.wait();
        return AttemptResult::forAll(m, Outcome::Delivered, kAccepted, kHost);
    });
    RecordingNotifier notifier;
    const auto blob = submit({{kX, "", ""}});
    const auto id = entries().at(0).id;
    const auto queue = start(transport, notifier);
    ASSERT_TRUE(eventually([&] { return called.load(); }));
    std::optional<QueueStore::Removed> removed;
    write([&](store::Database& db) { removed = QueueStore::remove(db, id); });
    ASSERT_TRUE(removed && removed->releasedBlob);
    mailboxes_->unlinkBlobs({*removed->releasedBlob});
    deleted.set_value();
    std::this_thread::sleep_for(200ms);
    EXPECT_TRUE(eventsOfType("message.relayed").empty());
    EXPECT_TRUE(queueEmpty());
    EXPECT_FALSE(blobFileExists(blob));
}

TEST_F(OutboundQueueTest, EachAttemptIsLoggedWithItsOutcomes)
{
    const auto log = CapturedLog::attach();
    ScriptedTransport transport([](const OutboundMessage&) {
        AttemptResult result;
        result.remoteHost = kHost;
        result.recipients = {{kX, Outcome::Permanent, kUnknown}, {kY, Outcome::Delivered, kAccepted}};
        return result;
    });
    RecordingNotifier notifier;
    const auto blob = submit({{kX, "", ""}, {kY, "", ""}});
    const auto id = entries().at(0).id;
    const auto queue = start(transport, notifier);
    ASSERT_TRUE(eventually([&] { return queueEmpty(); }));
    queue->stop();
    CapturedLog::detach();
    const auto lines = log->lines();
    ASSERT_EQ(lines.size(), 1u);
    EXPECT_EQ(lines[0], "queue entry " + std::to_string(id) + " (" + blob.substr(3, 12) + ") to " + kPeer + " via " +
                            kHost + ": 1 delivered, 0 deferred, 1 failed, 0 expired: " + kUnknown);
}

// SIGHUP hands new [relay] settings to the running queue: more deliveries at
// once (more threads), and the new schedule, without a restart.
TEST_F(OutboundQueueTest, ReconfiguredSettingsApplyWithoutARestart)
{
    std::mutex mutex;
    int running = 0, most = 0;
    ScriptedTransport transport([&](const OutboundMessage& m) {
        {
            std::lock_guard lock(mutex);
            most = std::max(most, ++running);
        }
        std::this_thread::sleep_for(100ms);
        std::lock_guard lock(mutex);
        --running;
        return AttemptResult::forAll(m, Outcome::Delivered, kAccepted, kHost);
    });
    RecordingNotifier notifier;
    auto settings = fast();
    settings.maxDeliveries = 1;
    settings.maxPerDestination = 1;
    submit({{kX, "", ""}});
    submit({{kZ, "", ""}});
    const auto queue = start(transport, notifier, settings);
    ASSERT_TRUE(eventually([&] { return queueEmpty(); }));
    EXPECT_EQ(most, 1);

    settings.maxDeliveries = 2;
    settings.scanInterval = 1h;
    queue->reconfigure(settings);
    {
        std::lock_guard lock(mutex);
        most = 0;
    }
    submit({{kX, "", ""}});
    submit({{kZ, "", ""}});
    queue->wake();
    ASSERT_TRUE(eventually([&] { return queueEmpty(); }));
    std::lock_guard lock(mutex);
    EXPECT_EQ(most, 2);
}
