#include "store/CommitQueue.h"
#include "store/ConnectionPool.h"
#include "store/MailboxStore.h"
#include "store/Schema.h"

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <thread>

using namespace plexus::store;
namespace fs = std::filesystem;

class StoreTest : public ::testing::Test {
protected:
    void SetUp() override
    {
        char pattern[] = "/tmp/plexus-store-XXXXXX";
        dir_ = mkdtemp(pattern);
        dbPath_ = dir_ + "/plexus.db";
        AtRestKey::generateFile(dir_ + "/key");
        Database db(dbPath_);
        migrateSchema(db);
        db.execute("INSERT INTO accounts (id, address, type, quota_bytes, created_at) VALUES "
                   "(1, 'a@x.test', 'PER', 1000000, 0), (2, 'b@x.test', 'PER', 1000000, 0)");
        MailboxStore::createDefaultFolders(db, 1);
        MailboxStore::createDefaultFolders(db, 2);
    }
    void TearDown() override { fs::remove_all(dir_); }

    std::string writeBlob(const MailboxStore& store, const std::string& content, std::string* directory = nullptr)
    {
        auto blob = store.createBlob();
        blob.writer.write(content.data(), content.size());
        blob.writer.commit();
        if (directory) *directory = blob.directory;
        return blob.relativePath;
    }

    std::string dir_;
    std::string dbPath_;
};

TEST_F(StoreTest, MigrationIsIdempotent)
{
    Database db(dbPath_);
    migrateSchema(db);
    auto stmt = db.prepare("PRAGMA user_version");
    ASSERT_TRUE(stmt.step());
    EXPECT_EQ(stmt.int64(0), 5);
}

TEST_F(StoreTest, StatementsBindParametersNeverSql)
{
    Database db(dbPath_);
    const std::string hostile = "x'); DROP TABLE accounts; --";
    db.prepare("INSERT INTO events (time, type, outcome) VALUES (0, ?, 'success')").bind(1, hostile).run();
    auto stmt = db.prepare("SELECT type FROM events WHERE type = ?");
    stmt.bind(1, hostile);
    ASSERT_TRUE(stmt.step());
    EXPECT_EQ(stmt.text(0), hostile);
    EXPECT_EQ(db.prepare("SELECT count(*) FROM accounts").step(), true);
}

TEST_F(StoreTest, OneBlobManyMailboxesAndAscendingUids)
{
    MailboxStore store(dir_ + "/blobs", AtRestKey::loadFile(dir_ + "/key"));
    Database db(dbPath_);
    Delivery d;
    d.blobPath = writeBlob(store, "Subject: hi\r\n\r\nbody\r\n");
    d.size = 21;
    d.structureJson = "{}";
    d.accountIds = {1, 2};
    const auto first = store.recordDelivery(db, d);
    d.blobPath = writeBlob(store, "Subject: again\r\n\r\nbody\r\n");
    d.accountIds = {1};
    const auto second = store.recordDelivery(db, d);
    ASSERT_EQ(first.size(), 2u);
    EXPECT_EQ(first[0].uid, 1);
    EXPECT_EQ(first[1].uid, 1);
    EXPECT_EQ(second[0].uid, 2);
    auto blobs = db.prepare("SELECT count(*), sum(refcount) FROM blobs");
    blobs.step();
    EXPECT_EQ(blobs.int64(0), 2);
    EXPECT_EQ(blobs.int64(1), 3);
    auto used = db.prepare("SELECT used_bytes FROM accounts WHERE id = 1");
    used.step();
    EXPECT_EQ(used.int64(0), 42);
    EXPECT_EQ(store.openBlob(MailboxStore::messages(db, first[0].mailboxId)[0].blobPath).readAll(),
              "Subject: hi\r\n\r\nbody\r\n");
}

TEST_F(StoreTest, RemovingAnAccountReleasesOnlyUnsharedBlobs)
{
    MailboxStore store(dir_ + "/blobs", AtRestKey::loadFile(dir_ + "/key"));
    Database db(dbPath_);
    Delivery shared{writeBlob(store, "shared"), 6, "{}", 0, {1, 2}, {}};
    Delivery own{writeBlob(store, "own"), 3, "{}", 0, {1}, {}};
    store.recordDelivery(db, shared);
    store.recordDelivery(db, own);
    const auto released = MailboxStore::removeAccountContent(db, 1);
    ASSERT_EQ(released.size(), 1u);
    EXPECT_EQ(released[0], own.blobPath);
    store.unlinkBlobs(released);
    EXPECT_FALSE(fs::exists(dir_ + "/blobs/" + own.blobPath));
    EXPECT_TRUE(fs::exists(dir_ + "/blobs/" + shared.blobPath));
}

TEST_F(StoreTest, OrphanBlobsAreRemovedAtStart)
{
    MailboxStore store(dir_ + "/blobs", AtRestKey::loadFile(dir_ + "/key"));
    Database db(dbPath_);
    const std::string kept = writeBlob(store, "indexed");
    store.recordDelivery(db, Delivery{kept, 7, "{}", 0, {1}, {}});
    const std::string orphan = writeBlob(store, "never indexed");
    EXPECT_EQ(store.removeOrphanBlobs(db), 1u);
    EXPECT_TRUE(fs::exists(dir_ + "/blobs/" + kept));
    EXPECT_FALSE(fs::exists(dir_ + "/blobs/" + orphan));
}

TEST_F(StoreTest, CommitQueueGroupsConcurrentJobsAndIsolatesFailures)
{
    std::atomic<int> ok{0}, failed{0};
    {
        CommitQueue queue(dbPath_);
        std::vector<std::thread> threads;
        for (int t = 0; t < 8; ++t) {
            threads.emplace_back([&, t] {
                for (int i = 0; i < 50; ++i) {
                    const bool bad = i % 10 == 0;
                    auto done = queue.submit([&, t, i, bad](Database& db) {
                        db.prepare("INSERT INTO events (time, type, outcome) VALUES (?, 'test', 'success')")
                            .bind(1, static_cast<std::int64_t>(t * 1000 + i))
                            .run();
                        if (bad) throw std::runtime_error("job failure");
                    });
                    try {
                        done.get();
                        ++ok;
                    } catch (const std::runtime_error&) {
                        ++failed;
                    }
                }
            });
        }
        for (auto& thread : threads) thread.join();
    }
    EXPECT_EQ(ok, 360);
    EXPECT_EQ(failed, 40);
    Database db(dbPath_);
    auto count = db.prepare("SELECT count(*) FROM events WHERE type = 'test'");
    count.step();
    EXPECT_EQ(count.int64(0), 360);  // the failed jobs' rows were rolled back, no one else's
}

TEST_F(StoreTest, PostedJobsRunBeforeTheQueueStops)
{
    {
        CommitQueue queue(dbPath_);
        for (int i = 0; i < 100; ++i)
            queue.post([](Database& db) {
                db.prepare("INSERT INTO events (time, type, outcome) VALUES (0, 'posted', 'success')").run();
            });
    }
    Database db(dbPath_);
    auto count = db.prepare("SELECT count(*) FROM events WHERE type = 'posted'");
    count.step();
    EXPECT_EQ(count.int64(0), 100);
}

TEST_F(StoreTest, ConnectionPoolReusesConnections)
{
    ConnectionPool pool(dbPath_);
    Database* first = nullptr;
    {
        auto lease = pool.acquire();
        first = &*lease;
    }
    auto again = pool.acquire();
    EXPECT_EQ(&*again, first);
    auto other = pool.acquire();
    EXPECT_NE(&*other, first);
}

TEST_F(StoreTest, ConnectionPoolSetsUpEachNewConnectionOnce)
{
    int setUps = 0;
    ConnectionPool pool(dbPath_, ConnectionPool::kDefaultMaxIdle, [&setUps](Database& db) {
        ++setUps;
        db.execute("PRAGMA cache_size = -2048");
    });
    { auto lease = pool.acquire(); }
    auto reused = pool.acquire();
    auto other = pool.acquire();
    EXPECT_EQ(setUps, 2);
    auto cacheSize = other->prepare("PRAGMA cache_size");
    ASSERT_TRUE(cacheSize.step());
    EXPECT_EQ(cacheSize.int64(0), -2048);
}
