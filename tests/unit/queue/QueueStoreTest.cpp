#include "QueueFixture.h"

#include "store/FolderStore.h"

using namespace plexus;
using namespace plexus::queue;
using namespace plexus::queue::test;

namespace {

class QueueStoreTest : public QueueFixture {};

const std::string kX = std::string("dr.x@") + kPeer;
const std::string kY = std::string("dr.y@") + kPeer;
const std::string kZ = std::string("dr.z@") + kOtherPeer;

}  // namespace

// What intake writes comes back whole: one entry per destination domain, each
// with its recipients and their RFC 3461 parameters, all pending and due now.
TEST_F(QueueStoreTest, EntriesWrittenByIntakeComeBackOnePerDomain)
{
    const auto before = std::chrono::system_clock::now();
    const auto blob = submit({{kX, "SUCCESS,FAILURE", "rfc822;" + kX}, {kZ, "", ""}, {kY, "NEVER", ""}});
    const auto all = entries();
    ASSERT_EQ(all.size(), 2u);
    const auto& peer = all[0].domain == kPeer ? all[0] : all[1];
    const auto& other = all[0].domain == kPeer ? all[1] : all[0];
    EXPECT_EQ(peer.state, EntryState::Queued);
    EXPECT_EQ(peer.sender, kSender);
    EXPECT_EQ(peer.envid, "QkNELTE=");
    EXPECT_EQ(peer.ret, "HDRS");
    EXPECT_EQ(peer.blobPath, blob);
    EXPECT_EQ(peer.queueId, blob.substr(3, 12));
    EXPECT_EQ(peer.messageId, "<cr-1@hopital.mssante.test>");
    EXPECT_GT(peer.size, 0u);
    EXPECT_EQ(peer.attempts, 0);
    EXPECT_EQ(peer.lastAttempt, 0);
    EXPECT_TRUE(peer.lastError.empty());
    EXPECT_FALSE(peer.delayNotified);
    EXPECT_LE(peer.nextAttemptMs, std::chrono::duration_cast<std::chrono::milliseconds>(
                                      std::chrono::system_clock::now().time_since_epoch()).count());
    EXPECT_GE(peer.createdAt, std::chrono::system_clock::to_time_t(before) - 1);
    ASSERT_EQ(peer.recipients.size(), 2u);
    EXPECT_EQ(peer.recipients[0].recipient.address, kX);
    EXPECT_EQ(peer.recipients[0].recipient.notify, "SUCCESS,FAILURE");
    EXPECT_EQ(peer.recipients[0].recipient.orcpt, "rfc822;" + kX);
    EXPECT_EQ(peer.recipients[1].recipient.address, kY);
    EXPECT_EQ(peer.recipients[1].recipient.notify, "NEVER");
    for (const auto& r : peer.recipients) {
        EXPECT_EQ(r.state, RecipientState::Pending);
        EXPECT_FALSE(r.notice);
    }
    ASSERT_EQ(other.recipients.size(), 1u);
    EXPECT_EQ(other.recipients[0].recipient.address, kZ);
    EXPECT_EQ(other.blobId, peer.blobId);  // one blob, one reference per entry
    EXPECT_EQ(scalar("SELECT refcount FROM blobs WHERE id = " + std::to_string(peer.blobId)), 2);

    const auto found = entry(peer.id);
    ASSERT_TRUE(found);
    EXPECT_EQ(found->recipients.size(), 2u);
    EXPECT_FALSE(entry(peer.id + 100));
}

TEST_F(QueueStoreTest, AnAttemptIsRecordedPerRecipientAndCountsOnlyOnADeliveringEntry)
{
    submit({{kX, "", ""}, {kY, "", ""}});
    const auto id = entries().at(0).id;
    AttemptRecord record;
    record.attemptedAt = 1'700'000'000;
    record.recipients = {{0, RecipientState::Delivered, "250 2.0.0 ok", "mx.clinique [127.0.0.1]:25", std::nullopt},
                         {1, RecipientState::Pending, "451 4.3.0 later", "mx.clinique [127.0.0.1]:25",
                          NoticeKind::Delayed}};
    record.nextAttemptMs = 1'700'000'300'000;
    record.delayNotified = true;
    record.lastError = "451 4.3.0 later";

    bool recorded = true;
    write([&](store::Database& db) { recorded = QueueStore::recordAttempt(db, id, record); });
    EXPECT_FALSE(recorded) << "an entry that was not claimed takes no results";

    bool claimed = false;
    write([&](store::Database& db) { claimed = QueueStore::claim(db, id); });
    EXPECT_TRUE(claimed);
    EXPECT_EQ(entry(id)->state, EntryState::Delivering);
    write([&](store::Database& db) { claimed = QueueStore::claim(db, id); });
    EXPECT_FALSE(claimed) << "claimed once only";

    write([&](store::Database& db) { recorded = QueueStore::recordAttempt(db, id, record); });
    EXPECT_TRUE(recorded);
    const auto e = *entry(id);
    EXPECT_EQ(e.state, EntryState::Queued);
    EXPECT_EQ(e.attempts, 1);
    EXPECT_EQ(e.lastAttempt, 1'700'000'000);
    EXPECT_EQ(e.nextAttemptMs, 1'700'000'300'000);
    EXPECT_EQ(e.lastError, "451 4.3.0 later");
    EXPECT_TRUE(e.delayNotified);
    EXPECT_EQ(e.recipients[0].state, RecipientState::Delivered);
    EXPECT_EQ(e.recipients[0].reply, "250 2.0.0 ok");
    EXPECT_EQ(e.recipients[0].remoteHost, "mx.clinique [127.0.0.1]:25");
    EXPECT_EQ(e.recipients[0].lastAttempt, 1'700'000'000);
    EXPECT_FALSE(e.recipients[0].notice);
    EXPECT_EQ(e.recipients[1].state, RecipientState::Pending);
    EXPECT_EQ(e.recipients[1].notice, NoticeKind::Delayed);
    EXPECT_EQ(e.count(RecipientState::Pending), 1u);

    write([&](store::Database& db) { QueueStore::clearNotices(db, id, NoticeKind::Failed, {1}); });
    EXPECT_EQ(entry(id)->recipients[1].notice, NoticeKind::Delayed) << "only the kind handed over is cleared";
    write([&](store::Database& db) { QueueStore::clearNotices(db, id, NoticeKind::Delayed, {1}); });
    EXPECT_FALSE(entry(id)->recipients[1].notice);
}

TEST_F(QueueStoreTest, DueEntriesAreTheQueuedOnesWhoseTimeHasComeMinusExclusions)
{
    submit({{kX, "", ""}, {kZ, "", ""}});
    const auto all = entries();
    const auto& peer = all[0].domain == kPeer ? all[0] : all[1];
    const auto& other = all[0].domain == kPeer ? all[1] : all[0];
    const std::int64_t now = peer.nextAttemptMs + 1;
    write([&](store::Database& db) {
        db.prepare("UPDATE outbound SET next_attempt_ms = ? WHERE id = ?").bind(1, now + 60'000).bind(2, other.id).run();
    });
    auto db = reads_->acquire();
    auto due = QueueStore::due(*db, now, 10, {});
    ASSERT_EQ(due.size(), 1u);
    EXPECT_EQ(due[0].id, peer.id);
    EXPECT_EQ(due[0].recipients.size(), 1u);
    EXPECT_TRUE(QueueStore::due(*db, now, 10, {{kPeer}, {}}).empty());
    EXPECT_TRUE(QueueStore::due(*db, now, 10, {{}, {peer.id}}).empty());
    EXPECT_EQ(QueueStore::due(*db, now + 60'000, 10, {}).size(), 2u);
    EXPECT_EQ(QueueStore::due(*db, now + 60'000, 1, {}).size(), 1u);
    EXPECT_EQ(QueueStore::nextDue(*db, {}), peer.nextAttemptMs);
    EXPECT_EQ(QueueStore::nextDue(*db, {{kPeer}, {}}), now + 60'000);
    EXPECT_FALSE(QueueStore::nextDue(*db, {{kPeer, kOtherPeer}, {}}));
}

TEST_F(QueueStoreTest, RetryMakesEntriesDueNowAndCrashRecoveryRequeuesDeliveringOnes)
{
    submit({{kX, "", ""}, {kZ, "", ""}});
    const auto all = entries();
    const std::int64_t later = all[0].nextAttemptMs + 3'600'000;
    write([&](store::Database& db) { db.prepare("UPDATE outbound SET next_attempt_ms = ?").bind(1, later).run(); });
    bool retried = false;
    write([&](store::Database& db) { retried = QueueStore::retryNow(db, all[0].id, 1000); });
    EXPECT_TRUE(retried);
    EXPECT_EQ(entry(all[0].id)->nextAttemptMs, 1000);
    EXPECT_EQ(entry(all[1].id)->nextAttemptMs, later);
    write([&](store::Database& db) { retried = QueueStore::retryNow(db, all[0].id + 100, 1000); });
    EXPECT_FALSE(retried);

    std::size_t count = 0;
    write([&](store::Database& db) { count = QueueStore::retryAllNow(db, 2000); });
    EXPECT_EQ(count, 1u) << "the entry already due stays as it is";
    EXPECT_EQ(entry(all[1].id)->nextAttemptMs, 2000);

    write([&](store::Database& db) { QueueStore::claim(db, all[0].id); });
    write([&](store::Database& db) { retried = QueueStore::retryNow(db, all[0].id, 500); });
    EXPECT_FALSE(retried) << "an entry being delivered is not rescheduled";
    write([&](store::Database& db) { count = QueueStore::requeueInterrupted(db); });
    EXPECT_EQ(count, 1u);
    EXPECT_EQ(entry(all[0].id)->state, EntryState::Queued);
}

// The blob rule of expunge: the last reference gone, the row goes and the file is to be unlinked.
TEST_F(QueueStoreTest, RemovingEntriesReleasesTheBlobOnceNothingHoldsIt)
{
    const auto durand = addAccount("ide.durand@hopital.mssante.test");
    const auto blob = submit({{kX, "", ""}, {kZ, "", ""}}, {{durand, "ide.durand@hopital.mssante.test"}});
    const auto all = entries();
    const auto blobId = all[0].blobId;
    EXPECT_EQ(scalar("SELECT refcount FROM blobs WHERE id = " + std::to_string(blobId)), 3);

    std::optional<QueueStore::Removed> removed;
    write([&](store::Database& db) { removed = QueueStore::remove(db, all[0].id); });
    ASSERT_TRUE(removed);
    EXPECT_FALSE(removed->releasedBlob);
    EXPECT_EQ(scalar("SELECT count(*) FROM outbound_recipients WHERE entry_id = " + std::to_string(all[0].id)), 0);
    write([&](store::Database& db) { removed = QueueStore::remove(db, all[0].id); });
    EXPECT_FALSE(removed) << "no such entry any more";

    // The mailbox copy goes: the second entry is the last holder.
    std::vector<std::string> released;
    write([&](store::Database& db) { released = store::MailboxStore::removeAccountContent(db, durand); });
    EXPECT_TRUE(released.empty());
    EXPECT_EQ(scalar("SELECT refcount FROM blobs WHERE id = " + std::to_string(blobId)), 1);

    write([&](store::Database& db) { removed = QueueStore::removeIfFinished(db, all[1].id); });
    EXPECT_FALSE(removed) << "a queued entry is not finished";
    write([&](store::Database& db) { removed = QueueStore::remove(db, all[1].id); });
    ASSERT_TRUE(removed && removed->releasedBlob);
    EXPECT_EQ(*removed->releasedBlob, blob);
    EXPECT_EQ(scalar("SELECT count(*) FROM blobs WHERE id = " + std::to_string(blobId)), 0);
    EXPECT_EQ(scalar("SELECT count(*) FROM blob_structures WHERE blob_id = " + std::to_string(blobId)), 0);
    EXPECT_TRUE(blobFileExists(blob));
    mailboxes_->unlinkBlobs({*removed->releasedBlob});
    EXPECT_FALSE(blobFileExists(blob));
}

TEST_F(QueueStoreTest, AFinishedEntryGoesOnlyOnceItsNoticesAreHandedOver)
{
    submit({{kX, "", ""}});
    const auto id = entries().at(0).id;
    write([&](store::Database& db) { QueueStore::claim(db, id); });
    AttemptRecord record;
    record.state = EntryState::Done;
    record.recipients = {{0, RecipientState::Failed, "550 5.1.1 unknown", "", NoticeKind::Failed}};
    write([&](store::Database& db) { QueueStore::recordAttempt(db, id, record); });

    std::optional<QueueStore::Removed> removed;
    write([&](store::Database& db) { removed = QueueStore::removeIfFinished(db, id); });
    EXPECT_FALSE(removed);
    write([&](store::Database& db) { QueueStore::postponeNotices(db, id, 42); });
    EXPECT_EQ(entry(id)->nextAttemptMs, 42);
    write([&](store::Database& db) {
        QueueStore::clearNotices(db, id, NoticeKind::Failed, {0});
        removed = QueueStore::removeIfFinished(db, id);
    });
    ASSERT_TRUE(removed);
    EXPECT_TRUE(removed->releasedBlob);
}

TEST_F(QueueStoreTest, StatsCountEntriesAndRecipientsStillPending)
{
    auto db0 = reads_->acquire();
    EXPECT_EQ(QueueStore::stats(*db0).entries, 0);
    EXPECT_EQ(QueueStore::stats(*db0).oldestCreatedAt, 0);
    submit({{kX, "", ""}, {kY, "", ""}, {kZ, "", ""}});
    const auto all = entries();
    const auto& peer = all[0].domain == kPeer ? all[0] : all[1];
    write([&](store::Database& db) {
        db.prepare("UPDATE outbound_recipients SET state = 'delivered' WHERE entry_id = ? AND position = 0")
            .bind(1, peer.id)
            .run();
    });
    auto db = reads_->acquire();
    const auto stats = QueueStore::stats(*db);
    EXPECT_EQ(stats.entries, 2);
    EXPECT_EQ(stats.pendingRecipients, 2);
    EXPECT_EQ(stats.oldestCreatedAt, peer.createdAt);
}

// Migration 5 keeps the entries an older plexusd queued: their recipients get
// their rows, and their next attempt its milliseconds.
TEST(QueueSchemaTest, Migration5KeepsEntriesQueuedBefore)
{
    char pattern[] = "/tmp/plexus-queue-schema-XXXXXX";
    const std::string dir = mkdtemp(pattern);
    {
        store::Database db(dir + "/plexus.db");
        store::migrateSchema(db);
        db.execute("PRAGMA user_version = 4");
        // Back to version 4's outbound table, as a database of that version has it.
        db.execute(
            "DROP TRIGGER outbound_recipients_insert; DROP TABLE outbound_recipients; DROP INDEX outbound_due;"
            "ALTER TABLE outbound DROP COLUMN state; ALTER TABLE outbound DROP COLUMN delay_notified;"
            "ALTER TABLE outbound DROP COLUMN last_attempt;"
            "ALTER TABLE outbound RENAME COLUMN next_attempt_ms TO next_attempt;"
            "INSERT INTO blobs (id, path, size, refcount) VALUES (7, 'aa/7', 10, 1);"
            "INSERT INTO outbound (id, blob_id, sender, domain, recipients, created_at, next_attempt, attempts) VALUES "
            "(3, 7, 's@h.test', 'c.test', '[{\"address\":\"a@c.test\",\"notify\":\"NEVER\"},"
            "{\"address\":\"b@c.test\",\"orcpt\":\"rfc822;b@c.test\"}]', 100, 160, 2);");
        store::migrateSchema(db);
        auto version = db.prepare("PRAGMA user_version");
        version.step();
        EXPECT_EQ(version.int64(0), 5);
        const auto e = QueueStore::find(db, 3);
        ASSERT_TRUE(e);
        EXPECT_EQ(e->state, EntryState::Queued);
        EXPECT_EQ(e->nextAttemptMs, 160'000);
        EXPECT_EQ(e->attempts, 2);
        ASSERT_EQ(e->recipients.size(), 2u);
        EXPECT_EQ(e->recipients[0].recipient.address, "a@c.test");
        EXPECT_EQ(e->recipients[0].recipient.notify, "NEVER");
        EXPECT_EQ(e->recipients[1].recipient.orcpt, "rfc822;b@c.test");
        EXPECT_EQ(e->recipients[1].state, RecipientState::Pending);
    }
    std::filesystem::remove_all(dir);
}
