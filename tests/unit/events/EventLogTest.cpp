#include "events/EventLog.h"
#include "store/Schema.h"

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <memory>

using namespace plexus;

class EventLogTest : public ::testing::Test {
protected:
    void SetUp() override
    {
        char pattern[] = "/tmp/plexus-events-XXXXXX";
        dir_ = mkdtemp(pattern);
        db_ = std::make_unique<store::Database>(dir_ + "/plexus.db");
        store::migrateSchema(*db_);
    }
    void TearDown() override
    {
        db_.reset();
        std::filesystem::remove_all(dir_);
    }

    void append(const std::string& type, const std::string& object = "")
    {
        events::EventLog::append(*db_, {type, "a@x.test", "192.0.2.1", object, "success", R"({"n":1})"});
    }

    std::string dir_;
    std::unique_ptr<store::Database> db_;
};

TEST_F(EventLogTest, EmptyLog)
{
    EXPECT_EQ(events::EventLog::lastId(*db_), 0);
    EXPECT_TRUE(events::EventLog::readAfter(*db_, 0, 10).empty());
}

TEST_F(EventLogTest, ReadsInIdOrderAfterAnIdUpToALimit)
{
    for (int i = 1; i <= 5; ++i) append("message.received", "m" + std::to_string(i));
    EXPECT_EQ(events::EventLog::lastId(*db_), 5);

    const auto all = events::EventLog::readAfter(*db_, 0, 100);
    ASSERT_EQ(all.size(), 5u);
    for (std::size_t i = 0; i < all.size(); ++i) {
        EXPECT_EQ(all[i].id, static_cast<std::int64_t>(i + 1));
        EXPECT_EQ(all[i].event.object, "m" + std::to_string(i + 1));
    }

    const auto page = events::EventLog::readAfter(*db_, 2, 2);
    ASSERT_EQ(page.size(), 2u);
    EXPECT_EQ(page[0].id, 3);
    EXPECT_EQ(page[1].id, 4);
    EXPECT_TRUE(events::EventLog::readAfter(*db_, 5, 10).empty());
}

TEST_F(EventLogTest, ReadsEveryField)
{
    const auto before = std::chrono::duration_cast<std::chrono::microseconds>(
                            std::chrono::system_clock::now().time_since_epoch()).count();
    append("auth.login", "a@x.test");
    const auto read = events::EventLog::readAfter(*db_, 0, 1);
    ASSERT_EQ(read.size(), 1u);
    const auto& e = read[0];
    EXPECT_GE(e.timeMicros, before);
    EXPECT_EQ(e.event.type, "auth.login");
    EXPECT_EQ(e.event.actor, "a@x.test");
    EXPECT_EQ(e.event.client, "192.0.2.1");
    EXPECT_EQ(e.event.object, "a@x.test");
    EXPECT_EQ(e.event.outcome, "success");
    EXPECT_EQ(e.event.detailJson, R"({"n":1})");
}

TEST_F(EventLogTest, NullColumnsReadAsEmpty)
{
    db_->execute("INSERT INTO events (time, type, outcome) VALUES (7, 'mailbox.select', 'success')");
    const auto read = events::EventLog::readAfter(*db_, 0, 1);
    ASSERT_EQ(read.size(), 1u);
    EXPECT_EQ(read[0].timeMicros, 7);
    EXPECT_EQ(read[0].event.actor, "");
    EXPECT_EQ(read[0].event.object, "");
    EXPECT_EQ(read[0].event.detailJson, "{}");
}

// AUTOINCREMENT: ids of deleted events are never given again, so a saved
// position stays meaningful when old events are pruned.
TEST_F(EventLogTest, IdsNeverComeBackAfterPruning)
{
    append("a");
    append("b");
    db_->execute("DELETE FROM events");
    EXPECT_EQ(events::EventLog::lastId(*db_), 0);
    append("c");
    const auto read = events::EventLog::readAfter(*db_, 0, 10);
    ASSERT_EQ(read.size(), 1u);
    EXPECT_EQ(read[0].id, 3);
}
