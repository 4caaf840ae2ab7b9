#include "plugins/EventConsumers.h"
#include "store/Schema.h"

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <future>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

using namespace plexus;
using namespace std::chrono_literals;
using plugins::ConsumeOutcome;
using plugins::ConsumeResult;
using Clock = std::chrono::steady_clock;

namespace {

// The ids given to a consumer, in the order it got them.
class Calls {
public:
    void record(std::int64_t id)
    {
        {
            std::lock_guard lock(mutex_);
            ids_.push_back(id);
        }
        changed_.notify_all();
    }
    // True when `n` calls were made within `timeout`.
    bool waitFor(std::size_t n, std::chrono::milliseconds timeout = 5s)
    {
        std::unique_lock lock(mutex_);
        return changed_.wait_for(lock, timeout, [&] { return ids_.size() >= n; });
    }
    std::vector<std::int64_t> ids() const
    {
        std::lock_guard lock(mutex_);
        return ids_;
    }

private:
    mutable std::mutex mutex_;
    std::condition_variable changed_;
    std::vector<std::int64_t> ids_;
};

// Long enough for several polls: anything not delivered by then would not be.
constexpr auto kSettle = 150ms;

// Waits for something another thread sets without telling (metrics); true if it came.
template <typename Condition>
bool eventually(Condition condition, std::chrono::milliseconds timeout = 5s)
{
    const auto deadline = Clock::now() + timeout;
    while (!condition()) {
        if (Clock::now() > deadline) return false;
        std::this_thread::sleep_for(5ms);
    }
    return true;
}

std::string labels(const std::string& plugin, const std::string& consumer)
{
    return "plugin=\"" + plugin + "\",consumer=\"" + consumer + "\"";
}

std::int64_t gauge(const std::string& name, const std::string& plugin, const std::string& consumer)
{
    return metrics::Registry::instance().gauge(name, "", labels(plugin, consumer)).value();
}

std::uint64_t counter(const std::string& name, const std::string& plugin, const std::string& consumer)
{
    return metrics::Registry::instance().counter(name, "", labels(plugin, consumer)).value();
}

}  // namespace

class EventConsumersTest : public ::testing::Test {
protected:
    void SetUp() override
    {
        char pattern[] = "/tmp/plexus-consumers-XXXXXX";
        dir_ = mkdtemp(pattern);
        const auto path = dir_ + "/plexus.db";
        {
            store::Database db(path);
            store::migrateSchema(db);
        }
        commits_ = std::make_unique<store::CommitQueue>(path);
        reads_ = std::make_unique<store::ConnectionPool>(path);
        // Metrics are process-wide: a plugin name of this test's own keeps its series apart.
        plugin_ = std::string("t-") + ::testing::UnitTest::GetInstance()->current_test_info()->name();
    }
    void TearDown() override
    {
        commits_.reset();
        reads_.reset();
        std::filesystem::remove_all(dir_);
    }

    std::int64_t append(const std::string& type)
    {
        std::int64_t id = 0;
        commits_
            ->submit([&](store::Database& db) {
                events::EventLog::append(db, {type, "a@x.test", "192.0.2.1", "", "success", "{}"});
                id = db.lastInsertId();
            })
            .get();
        return id;
    }

    std::unique_ptr<plugins::EventConsumers> consumers(plugins::ConsumerTiming timing = {20ms, 10ms, 40ms, 64})
    {
        return std::make_unique<plugins::EventConsumers>(*reads_, *commits_, timing);
    }

    // A consumer of this test's plugin that records every call and answers with `answer`.
    plugins::ConsumerSpec spec(const std::string& name, Calls& calls,
                               std::function<ConsumeResult(const events::StoredEvent&)> answer = {})
    {
        plugins::ConsumerSpec s;
        s.plugin = plugin_;
        s.name = name;
        s.fromOldest = true;
        s.consume = [&calls, answer = std::move(answer)](const events::StoredEvent& stored) {
            calls.record(stored.id);
            return answer ? answer(stored) : ConsumeResult{};
        };
        return s;
    }

    std::optional<std::int64_t> cursor(const std::string& consumer)
    {
        auto db = reads_->acquire();
        auto stmt = db->prepare("SELECT last_event_id FROM plugin_cursors WHERE plugin = ? AND consumer = ?");
        stmt.bind(1, plugin_).bind(2, consumer);
        if (!stmt.step()) return std::nullopt;
        return stmt.int64(0);
    }

    std::int64_t poisonRows()
    {
        auto db = reads_->acquire();
        auto stmt = db->prepare("SELECT count(*) FROM plugin_poison WHERE plugin = ?");
        stmt.bind(1, plugin_);
        stmt.step();
        return stmt.int64(0);
    }

    std::string dir_;
    std::unique_ptr<store::CommitQueue> commits_;
    std::unique_ptr<store::ConnectionPool> reads_;
    std::string plugin_;
};

TEST_F(EventConsumersTest, EveryMatchingEventOnceInOrderAndNoneOfTheOthers)
{
    const auto received = append("message.received");
    const auto login = append("auth.login");
    const auto select = append("mailbox.select");
    const auto submitted = append("message.submitted");
    const auto failedLogin = append("auth.login");
    const auto lastSkipped = append("mailbox.created");

    Calls some, all;
    auto c = consumers();
    auto someSpec = spec("some", some);
    someSpec.typePrefixes = {"message.", "auth."};
    c->add(std::move(someSpec));
    c->add(spec("all", all));
    EXPECT_EQ(c->size(), 2u);
    const auto consumedBefore = counter("plexus_plugin_events_consumed_total", plugin_, "some");
    c->start();
    ASSERT_TRUE(some.waitFor(4));
    ASSERT_TRUE(all.waitFor(6));
    std::this_thread::sleep_for(kSettle);
    c->stop();

    EXPECT_EQ(some.ids(), (std::vector<std::int64_t>{received, login, submitted, failedLogin}));
    EXPECT_EQ(all.ids(), (std::vector<std::int64_t>{received, login, select, submitted, failedLogin, lastSkipped}));
    EXPECT_EQ(cursor("some"), lastSkipped);  // skipped events are passed, not waited for
    EXPECT_EQ(cursor("all"), lastSkipped);
    EXPECT_EQ(counter("plexus_plugin_events_consumed_total", plugin_, "some") - consumedBefore, 4u);
}

TEST_F(EventConsumersTest, ANewConsumerStartsAfterTheLastEventUnlessFromOldest)
{
    const auto old = append("message.received");
    append("message.received");
    const auto last = append("message.received");

    Calls fromNow, fromOldest;
    auto c = consumers();
    auto nowSpec = spec("from-now", fromNow);
    nowSpec.fromOldest = false;
    c->add(std::move(nowSpec));
    c->add(spec("from-oldest", fromOldest));
    c->start();
    // Written down at start, so that a restart before the first event would not move "now" on.
    EXPECT_EQ(cursor("from-now"), last);

    const auto next = append("message.received");
    c->nudge();
    ASSERT_TRUE(fromNow.waitFor(1));
    ASSERT_TRUE(fromOldest.waitFor(4));
    std::this_thread::sleep_for(kSettle);
    c->stop();
    EXPECT_EQ(fromNow.ids(), std::vector<std::int64_t>{next});
    EXPECT_EQ(fromOldest.ids().front(), old);
    EXPECT_EQ(fromOldest.ids().size(), 4u);
}

TEST_F(EventConsumersTest, ThePositionSurvivesAStopAndANewStart)
{
    for (int i = 0; i < 3; ++i) append("message.received");
    Calls first;
    {
        auto c = consumers();
        c->add(spec("archive", first));
        c->start();
        ASSERT_TRUE(first.waitFor(3));
        c->stop();
    }
    const auto fourth = append("message.received");
    const auto fifth = append("message.received");

    Calls second;
    auto c = consumers();
    c->add(spec("archive", second));
    c->start();
    ASSERT_TRUE(second.waitFor(2));
    std::this_thread::sleep_for(kSettle);
    c->stop();
    EXPECT_EQ(first.ids(), (std::vector<std::int64_t>{1, 2, 3}));
    EXPECT_EQ(second.ids(), (std::vector<std::int64_t>{fourth, fifth}));
}

TEST_F(EventConsumersTest, TemporaryRetriesTheSameEventForAsLongAsItTakes)
{
    const auto first = append("message.received");
    const auto second = append("message.received");
    Calls calls;
    int temporaryLeft = 5;
    auto c = consumers();
    auto s = spec("publisher", calls, [&](const events::StoredEvent&) {
        if (temporaryLeft == 0) return ConsumeResult{};
        --temporaryLeft;
        return ConsumeResult{ConsumeOutcome::Temporary, "registry down"};
    });
    s.maxAttempts = 2;  // Temporary answers are not failures: never set aside
    c->add(std::move(s));
    const auto poisonedBefore = counter("plexus_plugin_events_poisoned_total", plugin_, "publisher");
    c->start();
    ASSERT_TRUE(calls.waitFor(7));
    std::this_thread::sleep_for(kSettle);
    c->stop();
    EXPECT_EQ(calls.ids(), (std::vector<std::int64_t>{first, first, first, first, first, first, second}));
    EXPECT_EQ(poisonRows(), 0);
    EXPECT_EQ(counter("plexus_plugin_events_poisoned_total", plugin_, "publisher"), poisonedBefore);
}

TEST_F(EventConsumersTest, FailedMaxAttemptsTimesIsSetAsideAndTheNextEventComes)
{
    const auto bad = append("message.received");
    const auto good = append("message.received");
    Calls calls;
    std::vector<std::tuple<std::string, std::string, std::int64_t, std::string>> reported;
    auto c = consumers();
    auto s = spec("publisher", calls, [&](const events::StoredEvent& stored) {
        return stored.id == bad ? ConsumeResult{ConsumeOutcome::Failed, "registry refused the document"}
                                : ConsumeResult{};
    });
    s.maxAttempts = 3;
    c->add(std::move(s));
    c->onPoison([&](const std::string& plugin, const std::string& consumer, std::int64_t id, const std::string& error) {
        reported.emplace_back(plugin, consumer, id, error);
    });
    const auto before = std::chrono::system_clock::now();
    const auto poisonedBefore = counter("plexus_plugin_events_poisoned_total", plugin_, "publisher");
    const auto consumedBefore = counter("plexus_plugin_events_consumed_total", plugin_, "publisher");
    c->start();
    ASSERT_TRUE(calls.waitFor(4));
    std::this_thread::sleep_for(kSettle);
    c->stop();

    EXPECT_EQ(calls.ids(), (std::vector<std::int64_t>{bad, bad, bad, good}));
    auto db = reads_->acquire();
    auto row = db->prepare("SELECT consumer, event_id, attempts, error, set_aside_at FROM plugin_poison "
                           "WHERE plugin = ?");
    row.bind(1, plugin_);
    ASSERT_TRUE(row.step());
    EXPECT_EQ(row.text(0), "publisher");
    EXPECT_EQ(row.int64(1), bad);
    EXPECT_EQ(row.int64(2), 3);
    EXPECT_EQ(row.text(3), "registry refused the document");
    EXPECT_GE(row.int64(4), std::chrono::duration_cast<std::chrono::seconds>(before.time_since_epoch()).count());
    EXPECT_FALSE(row.step());
    EXPECT_EQ(counter("plexus_plugin_events_poisoned_total", plugin_, "publisher") - poisonedBefore, 1u);
    EXPECT_EQ(counter("plexus_plugin_events_consumed_total", plugin_, "publisher") - consumedBefore, 1u);
    ASSERT_EQ(reported.size(), 1u);
    EXPECT_EQ(reported[0], std::make_tuple(plugin_, std::string("publisher"), bad,
                                           std::string("registry refused the document")));
}

TEST_F(EventConsumersTest, AnExceptionCountsAsFailed)
{
    const auto bad = append("message.received");
    const auto good = append("message.received");
    Calls calls;
    auto c = consumers();
    auto s = spec("thrower", calls, [&](const events::StoredEvent& stored) -> ConsumeResult {
        if (stored.id == bad) throw std::runtime_error("parser crashed");
        return {};
    });
    s.maxAttempts = 2;
    c->add(std::move(s));
    c->start();
    ASSERT_TRUE(calls.waitFor(3));
    std::this_thread::sleep_for(kSettle);
    c->stop();

    EXPECT_EQ(calls.ids(), (std::vector<std::int64_t>{bad, bad, good}));
    auto db = reads_->acquire();
    auto row = db->prepare("SELECT attempts, error FROM plugin_poison WHERE plugin = ? AND event_id = ?");
    row.bind(1, plugin_).bind(2, bad);
    ASSERT_TRUE(row.step());
    EXPECT_EQ(row.int64(0), 2);
    EXPECT_EQ(row.text(1), "parser crashed");
}

TEST_F(EventConsumersTest, PermanentIsSetAsideAtOnce)
{
    const auto bad = append("message.received");
    const auto good = append("message.received");
    Calls calls;
    auto c = consumers();
    c->add(spec("strict", calls, [&](const events::StoredEvent& stored) {
        return stored.id == bad ? ConsumeResult{ConsumeOutcome::Permanent, ""} : ConsumeResult{};
    }));
    c->start();
    ASSERT_TRUE(calls.waitFor(2));
    std::this_thread::sleep_for(kSettle);
    c->stop();

    EXPECT_EQ(calls.ids(), (std::vector<std::int64_t>{bad, good}));
    auto db = reads_->acquire();
    auto row = db->prepare("SELECT attempts, error FROM plugin_poison WHERE plugin = ? AND event_id = ?");
    row.bind(1, plugin_).bind(2, bad);
    ASSERT_TRUE(row.step());
    EXPECT_EQ(row.int64(0), 1);
    EXPECT_FALSE(row.text(1).empty());  // a reason is always written down
}

// Behaviour, not a speed target: without the nudge the event would wait for the 10 s poll.
TEST_F(EventConsumersTest, ANudgeDeliversBeforeThePoll)
{
    Calls calls;
    auto c = consumers({10s, 10ms, 40ms, 64});
    c->add(spec("prompt", calls));
    c->start();
    std::this_thread::sleep_for(100ms);  // the consumer has found nothing and waits for the poll
    const auto id = append("message.received");
    c->nudge();
    EXPECT_TRUE(calls.waitFor(1, 1s));
    c->stop();
    EXPECT_EQ(calls.ids(), std::vector<std::int64_t>{id});
}

TEST_F(EventConsumersTest, StopIsPromptDuringALongBackoffAndTheEventComesAgain)
{
    const auto id = append("message.received");
    Calls calls;
    const plugins::ConsumerTiming slow{20ms, 30s, 60s, 64};
    {
        auto c = consumers(slow);
        c->add(spec("stuck", calls, [](const events::StoredEvent&) {
            return ConsumeResult{ConsumeOutcome::Temporary, "registry down"};
        }));
        c->start();
        ASSERT_TRUE(calls.waitFor(1));
        const auto start = Clock::now();
        c->stop();
        EXPECT_LT(Clock::now() - start, 2s);
    }
    Calls again;
    auto c = consumers(slow);
    c->add(spec("stuck", again));
    c->start();
    ASSERT_TRUE(again.waitFor(1));
    c->stop();
    EXPECT_EQ(again.ids(), std::vector<std::int64_t>{id});
}

TEST_F(EventConsumersTest, TwoConsumersOfOnePluginKeepSeparatePositions)
{
    for (int i = 0; i < 3; ++i) append("message.received");
    Calls done, stuck;
    auto c = consumers({20ms, 30s, 60s, 64});
    c->add(spec("done", done));
    c->add(spec("stuck", stuck, [](const events::StoredEvent&) {
        return ConsumeResult{ConsumeOutcome::Temporary, "registry down"};
    }));
    c->start();
    ASSERT_TRUE(done.waitFor(3));
    ASSERT_TRUE(stuck.waitFor(1));
    c->stop();
    EXPECT_EQ(cursor("done"), 3);
    EXPECT_EQ(cursor("stuck"), 0);
    EXPECT_EQ(stuck.ids(), std::vector<std::int64_t>{1});
}

// A crash (kill -9) loses what was done since the last saved position, never
// more: while consuming each event, the saved position is the end of the
// previous batch, never this event or a later one.
TEST_F(EventConsumersTest, ThePositionIsSavedAfterEachBatch)
{
    constexpr std::int64_t kBatch = 3;
    for (int i = 0; i < 10; ++i) append("message.received");
    Calls calls;
    std::vector<std::pair<std::int64_t, std::int64_t>> savedWhenConsuming;  // (event, cursor)
    auto c = consumers({20ms, 10ms, 40ms, static_cast<std::size_t>(kBatch)});
    c->add(spec("batched", calls, [&](const events::StoredEvent& stored) {
        savedWhenConsuming.emplace_back(stored.id, cursor("batched").value_or(-1));
        return ConsumeResult{};
    }));
    c->start();
    ASSERT_TRUE(calls.waitFor(10));
    c->stop();

    ASSERT_EQ(savedWhenConsuming.size(), 10u);
    for (const auto& [event, saved] : savedWhenConsuming) {
        EXPECT_EQ(saved, (event - 1) / kBatch * kBatch) << "while consuming event " << event;
    }
    EXPECT_EQ(cursor("batched"), 10);
}

TEST_F(EventConsumersTest, BacklogAndItsAgeWhileStuckThenZero)
{
    // Two events logged two minutes ago.
    const auto twoMinutesAgo = std::chrono::duration_cast<std::chrono::microseconds>(
                                   (std::chrono::system_clock::now() - 120s).time_since_epoch()).count();
    commits_
        ->submit([&](store::Database& db) {
            for (int i = 0; i < 2; ++i) {
                db.prepare("INSERT INTO events (time, type, outcome) VALUES (?, 'message.received', 'success')")
                    .bind(1, static_cast<std::int64_t>(twoMinutesAgo))
                    .run();
            }
        })
        .get();
    const plugins::ConsumerTiming slow{20ms, 30s, 60s, 64};
    Calls stuck;
    {
        auto c = consumers(slow);
        c->add(spec("watched", stuck, [](const events::StoredEvent&) {
            return ConsumeResult{ConsumeOutcome::Temporary, "registry down"};
        }));
        c->start();
        ASSERT_TRUE(stuck.waitFor(1));
        EXPECT_EQ(gauge("plexus_plugin_event_backlog", plugin_, "watched"), 2);
        const auto age = gauge("plexus_plugin_event_backlog_age_seconds", plugin_, "watched");
        EXPECT_GE(age, 119);
        EXPECT_LT(age, 200);
        c->stop();
    }
    Calls done;
    auto c = consumers(slow);
    c->add(spec("watched", done));
    const auto consumedBefore = counter("plexus_plugin_events_consumed_total", plugin_, "watched");
    c->start();
    ASSERT_TRUE(done.waitFor(2));
    EXPECT_TRUE(eventually([&] {
        return gauge("plexus_plugin_event_backlog", plugin_, "watched") == 0 &&
               gauge("plexus_plugin_event_backlog_age_seconds", plugin_, "watched") == 0;
    }));
    c->stop();
    EXPECT_EQ(counter("plexus_plugin_events_consumed_total", plugin_, "watched") - consumedBefore, 2u);
}

TEST_F(EventConsumersTest, BacklogGrowsWithEventsLoggedWhileOneIsRetried)
{
    const auto logEvents = [&](int count) {
        commits_
            ->submit([&](store::Database& db) {
                for (int i = 0; i < count; ++i)
                    db.prepare("INSERT INTO events (time, type, outcome) VALUES (0, 'message.received', 'success')").run();
            })
            .get();
    };
    logEvents(1);
    Calls stuck;
    auto c = consumers();  // retries every few milliseconds
    c->add(spec("growing", stuck, [](const events::StoredEvent&) {
        return ConsumeResult{ConsumeOutcome::Temporary, "repository down"};
    }));
    c->start();
    ASSERT_TRUE(stuck.waitFor(1));
    logEvents(3);
    EXPECT_TRUE(eventually([&] { return gauge("plexus_plugin_event_backlog", plugin_, "growing") == 4; }));
    c->stop();
}

TEST_F(EventConsumersTest, RefusesAConsumerTwiceOrWithoutAFunction)
{
    Calls calls;
    auto c = consumers();
    c->add(spec("once", calls));
    EXPECT_THROW(c->add(spec("once", calls)), std::invalid_argument);
    plugins::ConsumerSpec empty;
    empty.plugin = plugin_;
    empty.name = "empty";
    EXPECT_THROW(c->add(std::move(empty)), std::invalid_argument);
    auto never = spec("never", calls);
    never.maxAttempts = 0;
    EXPECT_THROW(c->add(std::move(never)), std::invalid_argument);
    EXPECT_EQ(c->size(), 1u);
}
