// A store in a temporary folder with messages written to the outbound queue
// the way production writes them (intake::deliverMessage), for the queue tests.
#pragma once

#include "events/EventLog.h"
#include "intake/MessageDelivery.h"
#include "intake/MessageReceiver.h"
#include "intake/TextIndexer.h"
#include "queue/QueueStore.h"
#include "store/ChangeNotifier.h"
#include "store/CommitQueue.h"
#include "store/ConnectionPool.h"
#include "store/MailboxStore.h"
#include "store/Schema.h"

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace plexus::queue::test {

using namespace std::chrono_literals;

constexpr const char* kSender = "dr.martin@hopital.mssante.test";
constexpr const char* kPeer = "clinique.mssante.test";
constexpr const char* kOtherPeer = "autre-operateur.mssante.test";

// Waits for something another thread does; true if it came within `timeout`.
template <typename Condition>
bool eventually(Condition condition, std::chrono::milliseconds timeout = 10s)
{
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!condition()) {
        if (std::chrono::steady_clock::now() > deadline) return false;
        std::this_thread::sleep_for(5ms);
    }
    return true;
}

class QueueFixture : public ::testing::Test {
protected:
    void SetUp() override
    {
        char pattern[] = "/tmp/plexus-queue-XXXXXX";
        dir_ = mkdtemp(pattern);
        const auto path = dir_ + "/plexus.db";
        {
            store::Database db(path);
            store::migrateSchema(db);
        }
        store::AtRestKey::generateFile(dir_ + "/key");
        mailboxes_.emplace(dir_ + "/blobs", store::AtRestKey::loadFile(dir_ + "/key"));
        commits_ = std::make_unique<store::CommitQueue>(path);
        reads_ = std::make_unique<store::ConnectionPool>(path);
        indexer_ = std::make_unique<intake::TextIndexer>(*mailboxes_, *reads_, *commits_);
    }
    void TearDown() override
    {
        indexer_.reset();
        commits_.reset();
        reads_.reset();
        std::filesystem::remove_all(dir_);
    }

    // A local mailbox (with its INBOX), for messages that also stay here.
    std::int64_t addAccount(const std::string& address)
    {
        std::int64_t id = 0;
        commits_
            ->submit([&](store::Database& db) {
                db.prepare("INSERT INTO accounts (address, type, quota_bytes, created_at) VALUES (?, 'PER', 1000000000, 0)")
                    .bind(1, address)
                    .run();
                id = db.lastInsertId();
                store::MailboxStore::createDefaultFolders(db, id);
            })
            .get();
        return id;
    }

    // Submits a message as SMTP does; returns its blob path. `remote`: the
    // recipients in other domains, each with its NOTIFY.
    std::string submit(const std::vector<intake::RemoteRecipient>& remote,
                       const std::vector<intake::LocalRecipient>& local = {}, const std::string& sender = kSender,
                       const std::string& messageId = "<cr-1@hopital.mssante.test>")
    {
        intake::MessageReceiver receiver(*mailboxes_, 1 << 20, 64 << 10);
        receiver.append("From: " + sender + "\r\nTo: dr.x@" + kPeer + "\r\nSubject: compte rendu\r\n" +
                        (messageId.empty() ? "" : "Message-ID: " + messageId + "\r\n") + "\r\nBonjour.\r\n");
        const auto received = receiver.finish();
        intake::DeliveryEnvelope envelope;
        envelope.sender = sender;
        envelope.envid = "QkNELTE=";
        envelope.ret = "HDRS";
        envelope.local = local;
        envelope.remote = remote;
        intake::DeliveryServices services{*mailboxes_, *commits_, changes_, *indexer_, {}};
        intake::deliverMessage(services, received, envelope, {sender, "192.0.2.1", Poco::JSON::Object()});
        return received.blobPath;
    }

    bool blobFileExists(const std::string& blobPath) const
    {
        return std::filesystem::exists(std::filesystem::path(dir_) / "blobs" / blobPath);
    }

    std::vector<QueueEntry> entries()
    {
        auto db = reads_->acquire();
        return QueueStore::list(*db);
    }

    std::optional<QueueEntry> entry(std::int64_t id)
    {
        auto db = reads_->acquire();
        return QueueStore::find(*db, id);
    }

    std::int64_t scalar(const std::string& sql)
    {
        auto db = reads_->acquire();
        auto stmt = db->prepare(sql);
        return stmt.step() ? stmt.int64(0) : -1;
    }

    std::vector<events::Event> eventsOfType(const std::string& type)
    {
        auto db = reads_->acquire();
        std::vector<events::Event> found;
        for (const auto& stored : events::EventLog::readAfter(*db, 0, 10000))
            if (stored.event.type == type) found.push_back(stored.event);
        return found;
    }

    template <typename Job>
    void write(Job job)
    {
        commits_->submit([&](store::Database& db) { job(db); }).get();
    }

    std::string dir_;
    std::optional<store::MailboxStore> mailboxes_;
    std::unique_ptr<store::CommitQueue> commits_;
    std::unique_ptr<store::ConnectionPool> reads_;
    store::ChangeNotifier changes_;
    std::unique_ptr<intake::TextIndexer> indexer_;
};

}  // namespace plexus::queue::test
