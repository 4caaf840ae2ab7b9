#include "intake/TextIndexer.h"

#include "mime/StructureParser.h"
#include "store/FolderStore.h"
#include "store/Schema.h"

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <thread>

using namespace plexus;
namespace fs = std::filesystem;

class TextIndexerTest : public ::testing::Test {
protected:
    void SetUp() override
    {
        char pattern[] = "/tmp/plexus-indexer-XXXXXX";
        dir_ = mkdtemp(pattern);
        store::AtRestKey::generateFile(dir_ + "/key");
        store::Database db(dir_ + "/plexus.db");
        store::migrateSchema(db);
        db.execute("INSERT INTO accounts (id, address, type, quota_bytes, created_at) VALUES (1, 'a@x.test', 'PER', 1000000, 0)");
        store::MailboxStore::createDefaultFolders(db, 1);
        mailboxes_.emplace(dir_ + "/blobs", store::AtRestKey::loadFile(dir_ + "/key"));
        reads_.emplace(dir_ + "/plexus.db");
        commits_.emplace(dir_ + "/plexus.db");
    }
    void TearDown() override
    {
        commits_.reset();
        fs::remove_all(dir_);
    }

    // Stores a message in INBOX as APPEND does; returns the folder id.
    std::int64_t append(const std::string& message)
    {
        auto blob = mailboxes_->createBlob();
        blob.writer.write(message.data(), message.size());
        blob.writer.commit();
        const auto structure = mime::parseMessage(message).toJson();
        std::int64_t folderId = 0;
        commits_->submit([&](store::Database& db) {
            const auto inbox = *store::FolderStore::find(db, 1, "INBOX");
            store::FolderStore::append(db, inbox, {blob.relativePath, static_cast<std::int64_t>(message.size()), structure}, 0, "");
            folderId = inbox.id;
        }).get();
        return folderId;
    }

    std::vector<std::int64_t> found(std::int64_t folderId, const std::string& needle)
    {
        auto db = reads_->acquire();
        return store::FolderStore::textSearch(*db, folderId, needle, store::TextScope::Body);
    }

    std::string dir_;
    std::optional<store::MailboxStore> mailboxes_;
    std::optional<store::ConnectionPool> reads_;
    std::optional<store::CommitQueue> commits_;
};

TEST_F(TextIndexerTest, IndexesAScheduledFolderInTheBackground)
{
    intake::TextIndexer indexer(*mailboxes_, *reads_, *commits_);
    const auto folder = append("Subject: bilan\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nÉchographie abdominale normale.\r\n");
    EXPECT_TRUE(found(folder, "abdominale").empty());
    indexer.schedule(folder);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (found(folder, "abdominale").empty() && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    EXPECT_EQ(found(folder, "abdominale"), (std::vector<std::int64_t>{1}));
}

TEST_F(TextIndexerTest, IndexNowCoversEveryMessageBeyondOneBatch)
{
    std::int64_t folder = 0;
    for (int i = 0; i < 70; ++i)
        folder = append("Subject: n" + std::to_string(i) + "\r\n\r\nprotocole numero " + std::to_string(1000 + i) + "\r\n");
    intake::TextIndexer indexer(*mailboxes_, *reads_, *commits_);
    indexer.indexNow(folder);
    EXPECT_EQ(found(folder, "protocole").size(), 70u);
    EXPECT_EQ(found(folder, "numero 1069"), (std::vector<std::int64_t>{70}));
    auto db = reads_->acquire();
    EXPECT_TRUE(store::FolderStore::unindexedMessages(*db, folder, 100).empty());
}

// Messages left unindexed when the server stopped are indexed at the next start, unasked.
TEST_F(TextIndexerTest, ResumesWhatWasLeftUnindexedAtStart)
{
    const auto folder = append("Subject: suivi\r\n\r\nkinesitherapie hebdomadaire\r\n");
    intake::TextIndexer indexer(*mailboxes_, *reads_, *commits_);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (found(folder, "hebdomadaire").empty() && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    EXPECT_EQ(found(folder, "hebdomadaire"), (std::vector<std::int64_t>{1}));
}
