#include "store/FolderStore.h"
#include "store/MailboxStore.h"
#include "store/Schema.h"

#include <gtest/gtest.h>

#include <algorithm>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

using namespace plexus::store;
namespace fs = std::filesystem;
using Code = FolderError::Code;
using Uids = std::vector<std::int64_t>;

namespace {

// Accounts are inserted directly: unit_store does not link the accounts library.
constexpr std::int64_t kAlice = 1, kOrg = 2, kSmall = 3;

Uids uidsOf(const std::vector<MessageRow>& rows)
{
    Uids uids;
    for (const auto& row : rows) uids.push_back(row.uid);
    return uids;
}

std::int64_t scalar(Database& db, const std::string& sql)
{
    auto stmt = db.prepare(sql);
    stmt.step();
    return stmt.int64(0);
}

template <class F>
void expectCode(Code code, F&& call)
{
    try {
        call();
        ADD_FAILURE() << "no FolderError";
    } catch (const FolderError& e) {
        EXPECT_EQ(e.code(), code) << e.what();
    }
}

}  // namespace

class FolderStoreTest : public ::testing::Test {
protected:
    void SetUp() override
    {
        char pattern[] = "/tmp/plexus-folders-XXXXXX";
        dir_ = mkdtemp(pattern);
        db_ = std::make_unique<Database>(dir_ + "/plexus.db");
        migrateSchema(*db_);
        db_->execute("INSERT INTO accounts (id, address, type, quota_bytes, created_at) VALUES "
                     "(1, 'alice@x.test', 'PER', 1000000, 0), (2, 'service@x.test', 'ORG', 1000000, 0), "
                     "(3, 'small@x.test', 'PER', 100, 0)");
        for (const auto id : {kAlice, kOrg, kSmall}) MailboxStore::createDefaultFolders(*db_, id);
    }
    void TearDown() override
    {
        db_.reset();
        fs::remove_all(dir_);
    }

    Folder folder(std::int64_t account, const std::string& name) { return *FolderStore::find(*db_, account, name); }
    MessageRow append(const Folder& f, const std::string& path, std::int64_t size, std::string_view flags = "")
    {
        return FolderStore::append(*db_, f, StoredBlob{path, size, "{\"path\":\"" + path + "\"}"}, 1700000000, flags);
    }
    std::int64_t refcount(const std::string& path)
    {
        auto stmt = db_->prepare("SELECT refcount FROM blobs WHERE path = ?");
        stmt.bind(1, path);
        return stmt.step() ? stmt.int64(0) : 0;
    }
    std::int64_t used(std::int64_t account) { return FolderStore::quota(*db_, account).usedBytes; }

    std::string dir_;
    std::unique_ptr<Database> db_;
};

// ---- names, create, find

TEST_F(FolderStoreTest, CreateRefusesBadNames)
{
    const std::string level(250, 'x');
    const std::string tooLong = level + "/" + level + "/" + level + "/" + level + "/" + level;  // 1254 bytes
    const std::vector<std::string> bad{"", "/a", "a/", "a//b", "a*", "a%b", "a\tb", "a\x7f", std::string(256, 'x'),
                                       "a/" + std::string(256, 'x'), tooLong};
    for (const auto& name : bad) expectCode(Code::Cannot, [&] { FolderStore::create(*db_, kAlice, name); });
    EXPECT_NO_THROW(FolderStore::create(*db_, kAlice, std::string(255, 'x')));
    EXPECT_NO_THROW(FolderStore::create(*db_, kAlice, "Dossiers patients/Zoé Müller"));
}

TEST_F(FolderStoreTest, InboxIsCaseInsensitiveAndReserved)
{
    expectCode(Code::AlreadyExists, [&] { FolderStore::create(*db_, kAlice, "inbox"); });
    expectCode(Code::AlreadyExists, [&] { FolderStore::create(*db_, kAlice, "Sent"); });
    EXPECT_EQ(FolderStore::find(*db_, kAlice, "InBoX")->name, "INBOX");
    const auto child = FolderStore::create(*db_, kAlice, "inbox/Labo");
    EXPECT_EQ(child.name, "INBOX/Labo");
    EXPECT_EQ(FolderStore::find(*db_, kAlice, "Inbox/Labo")->id, child.id);
    EXPECT_FALSE(FolderStore::find(*db_, kAlice, "sent"));  // other names are case-sensitive
}

TEST_F(FolderStoreTest, CreateReturnsTheStoredFolder)
{
    const auto f = FolderStore::create(*db_, kAlice, "Comptes rendus", "\\Important");
    EXPECT_EQ(f.accountId, kAlice);
    EXPECT_EQ(f.specialUse, "\\Important");
    EXPECT_EQ(f.uidNext, 1);
    EXPECT_EQ(FolderStore::byId(*db_, f.id)->name, "Comptes rendus");
    EXPECT_FALSE(FolderStore::byId(*db_, 999999));
    std::vector<std::string> names;
    for (const auto& each : FolderStore::folders(*db_, kAlice)) names.push_back(each.name);
    EXPECT_EQ(names,
              (std::vector<std::string>{"Archive", "Comptes rendus", "Drafts", "INBOX", "Junk", "Sent", "Trash"}));
}

TEST_F(FolderStoreTest, UidValidityGrowsWhenANameIsReCreatedWithinTheSecond)
{
    const auto first = FolderStore::create(*db_, kAlice, "X");
    FolderStore::remove(*db_, first);
    const auto second = FolderStore::create(*db_, kAlice, "X");
    EXPECT_GT(second.uidValidity, first.uidValidity);
    FolderStore::rename(*db_, kAlice, "X", "Y");
    const auto third = FolderStore::create(*db_, kAlice, "X");
    EXPECT_GT(third.uidValidity, second.uidValidity);
    // A default folder, never given one by create, deleted and re-created.
    const auto trash = folder(kAlice, "Trash");
    FolderStore::remove(*db_, trash);
    EXPECT_GT(FolderStore::create(*db_, kAlice, "Trash").uidValidity, trash.uidValidity);
}

TEST_F(FolderStoreTest, CreateCopiesTheAclOfTheParentOrOfInbox)
{
    FolderStore::setAcl(*db_, folder(kOrg, "INBOX").id, "p@x.test", "lrs");
    const auto top = FolderStore::create(*db_, kOrg, "Labo");
    ASSERT_EQ(FolderStore::acl(*db_, top.id).size(), 1u);
    EXPECT_EQ(FolderStore::acl(*db_, top.id)[0].rights, "lrs");
    FolderStore::setAcl(*db_, top.id, "q@x.test", "lr");
    const auto child = FolderStore::create(*db_, kOrg, "Labo/2024");
    const auto acl = FolderStore::acl(*db_, child.id);
    ASSERT_EQ(acl.size(), 2u);
    EXPECT_EQ(acl[0].identifier, "p@x.test");
    EXPECT_EQ(acl[1].identifier, "q@x.test");
    // A missing parent: INBOX's.
    EXPECT_EQ(FolderStore::acl(*db_, FolderStore::create(*db_, kOrg, "None/Child").id).size(), 1u);
}

// A person who shares their INBOX does not share the top-level folders they make later.
TEST_F(FolderStoreTest, CreateAtTheTopOfAPersonalAccountTakesNoAcl)
{
    FolderStore::setAcl(*db_, folder(kAlice, "INBOX").id, "p@x.test", "lr");
    EXPECT_TRUE(FolderStore::acl(*db_, FolderStore::create(*db_, kAlice, "Perso").id).empty());
    EXPECT_EQ(FolderStore::acl(*db_, FolderStore::create(*db_, kAlice, "INBOX/Sub").id).size(), 1u);
    EXPECT_EQ(FolderStore::sharedWith(*db_, "p@x.test").size(), 2u);  // INBOX and INBOX/Sub
}

// ---- remove

TEST_F(FolderStoreTest, RemoveDeletesMessagesReleasesQuotaAndUnsharedBlobs)
{
    const auto f = FolderStore::create(*db_, kAlice, "Old");
    const auto shared = append(f, "aa/shared", 100);
    append(f, "aa/own", 50);
    FolderStore::copy(*db_, f, {shared.uid}, folder(kAlice, "INBOX"));
    FolderStore::setAcl(*db_, f.id, "p@x.test", "lr");
    FolderStore::subscribe(*db_, kAlice, "Old");
    ASSERT_EQ(used(kAlice), 250);

    EXPECT_EQ(FolderStore::remove(*db_, f), (std::vector<std::string>{"aa/own"}));
    EXPECT_FALSE(FolderStore::find(*db_, kAlice, "Old"));
    EXPECT_EQ(used(kAlice), 100);
    EXPECT_EQ(refcount("aa/shared"), 1);
    EXPECT_EQ(scalar(*db_, "SELECT count(*) FROM acl"), 0);
    const auto subscribed = FolderStore::subscriptions(*db_, kAlice);
    EXPECT_NE(std::find(subscribed.begin(), subscribed.end(), "Old"), subscribed.end());  // kept (RFC 3501 §6.3.6)
    expectCode(Code::NonExistent, [&] { FolderStore::remove(*db_, f); });
}

// RFC 3501 §6.3.4: a folder with children may be deleted; they stay.
TEST_F(FolderStoreTest, RemoveRefusesInboxButNotFoldersWithChildren)
{
    expectCode(Code::Cannot, [&] { FolderStore::remove(*db_, folder(kAlice, "INBOX")); });
    const auto parent = FolderStore::create(*db_, kAlice, "P");
    const auto child = FolderStore::create(*db_, kAlice, "P/C");
    FolderStore::create(*db_, kAlice, "PC");  // a sibling whose name only starts alike
    EXPECT_NO_THROW(FolderStore::remove(*db_, parent));
    EXPECT_FALSE(FolderStore::find(*db_, kAlice, "P"));
    EXPECT_TRUE(FolderStore::find(*db_, kAlice, "P/C"));
    EXPECT_TRUE(FolderStore::find(*db_, kAlice, "PC"));
    EXPECT_NO_THROW(FolderStore::remove(*db_, child));
}

// ---- rename

TEST_F(FolderStoreTest, RenameTakesChildrenAndKeepsUidValidityAndAcl)
{
    const auto a = FolderStore::create(*db_, kAlice, "A");
    const auto ab = FolderStore::create(*db_, kAlice, "A/B");
    FolderStore::create(*db_, kAlice, "AB");
    FolderStore::setAcl(*db_, a.id, "p@x.test", "lr");
    append(ab, "aa/1", 10);

    FolderStore::rename(*db_, kAlice, "A", "Z/A");
    EXPECT_FALSE(FolderStore::find(*db_, kAlice, "A"));
    const auto moved = folder(kAlice, "Z/A");
    EXPECT_EQ(moved.id, a.id);
    EXPECT_EQ(moved.uidValidity, a.uidValidity);
    EXPECT_EQ(FolderStore::acl(*db_, moved.id).size(), 1u);
    EXPECT_EQ(folder(kAlice, "Z/A/B").id, ab.id);
    EXPECT_EQ(FolderStore::messages(*db_, ab.id).size(), 1u);
    EXPECT_TRUE(FolderStore::find(*db_, kAlice, "AB"));  // not a child
}

TEST_F(FolderStoreTest, RenameErrors)
{
    FolderStore::create(*db_, kAlice, "A");
    FolderStore::create(*db_, kAlice, "A/C");
    FolderStore::create(*db_, kAlice, "B/C");
    expectCode(Code::NonExistent, [&] { FolderStore::rename(*db_, kAlice, "Missing", "M"); });
    expectCode(Code::AlreadyExists, [&] { FolderStore::rename(*db_, kAlice, "A", "Sent"); });
    expectCode(Code::AlreadyExists, [&] { FolderStore::rename(*db_, kAlice, "A", "inbox"); });
    expectCode(Code::AlreadyExists, [&] { FolderStore::rename(*db_, kAlice, "A", "A"); });
    expectCode(Code::AlreadyExists, [&] { FolderStore::rename(*db_, kAlice, "A", "B"); });  // B/C exists
    expectCode(Code::Cannot, [&] { FolderStore::rename(*db_, kAlice, "A", "A/D"); });
    expectCode(Code::Cannot, [&] { FolderStore::rename(*db_, kAlice, "A", "bad*"); });
    EXPECT_TRUE(FolderStore::find(*db_, kAlice, "A/C"));
}

// "A/B" renamed "A": "A/B/B/z" becomes "A/B/z", the old name of a sibling that
// is renamed too; it sorts before that sibling, yet must be renamed after it.
TEST_F(FolderStoreTest, RenameOntoTheOldNamesOfRenamedFolders)
{
    std::map<std::string, std::int64_t> ids;
    for (const char* name : {"A/B", "A/B/B", "A/B/z", "A/B/B/z"})
        ids[name] = FolderStore::create(*db_, kAlice, name).id;
    FolderStore::rename(*db_, kAlice, "A/B", "A");
    EXPECT_EQ(folder(kAlice, "A").id, ids["A/B"]);
    EXPECT_EQ(folder(kAlice, "A/B").id, ids["A/B/B"]);
    EXPECT_EQ(folder(kAlice, "A/z").id, ids["A/B/z"]);
    EXPECT_EQ(folder(kAlice, "A/B/z").id, ids["A/B/B/z"]);
}

TEST_F(FolderStoreTest, RenameInboxMovesItsMessagesToANewFolder)
{
    const auto inbox = folder(kAlice, "INBOX");
    const auto child = FolderStore::create(*db_, kAlice, "INBOX/Child");
    append(inbox, "aa/1", 10, "\\Seen");
    append(inbox, "aa/2", 20);
    const auto before = folder(kAlice, "INBOX");

    FolderStore::rename(*db_, kAlice, "inbox", "Old mail");
    const auto old = folder(kAlice, "Old mail");
    EXPECT_GT(old.uidValidity, inbox.uidValidity);
    const auto moved = FolderStore::messages(*db_, old.id);
    EXPECT_EQ(uidsOf(moved), (Uids{1, 2}));
    EXPECT_EQ(moved[0].flags, "\\Seen");
    EXPECT_EQ(moved[1].blobPath, "aa/2");

    const auto after = folder(kAlice, "INBOX");
    EXPECT_EQ(after.id, inbox.id);
    EXPECT_EQ(after.uidValidity, inbox.uidValidity);
    EXPECT_EQ(after.uidNext, 3);
    EXPECT_GT(after.highestModseq, before.highestModseq);
    EXPECT_TRUE(FolderStore::messages(*db_, inbox.id).empty());
    EXPECT_EQ(FolderStore::expungedSince(*db_, inbox.id, before.highestModseq), (Uids{1, 2}));
    EXPECT_EQ(folder(kAlice, "INBOX/Child").id, child.id);
    EXPECT_EQ(used(kAlice), 30);
    EXPECT_EQ(refcount("aa/1"), 1);
    EXPECT_EQ(append(inbox, "aa/3", 1).uid, 3);
    expectCode(Code::AlreadyExists, [&] { FolderStore::rename(*db_, kAlice, "INBOX", "Old mail"); });
}

// ---- subscriptions

TEST_F(FolderStoreTest, SubscriptionsAreNames)
{
    // New accounts start subscribed to their default folders.
    const std::vector<std::string> defaults{"Archive", "Drafts", "INBOX", "Junk", "Sent", "Trash"};
    EXPECT_EQ(FolderStore::subscriptions(*db_, kAlice), defaults);
    for (const auto& name : defaults) FolderStore::unsubscribe(*db_, kAlice, name);
    FolderStore::subscribe(*db_, kAlice, "inbox");
    FolderStore::subscribe(*db_, kAlice, "Not yet created");
    FolderStore::subscribe(*db_, kAlice, "Not yet created");
    FolderStore::subscribe(*db_, kOrg, "Other account");
    EXPECT_EQ(FolderStore::subscriptions(*db_, kAlice), (std::vector<std::string>{"INBOX", "Not yet created"}));
    FolderStore::unsubscribe(*db_, kAlice, "INBOX");
    FolderStore::unsubscribe(*db_, kAlice, "never subscribed");
    EXPECT_EQ(FolderStore::subscriptions(*db_, kAlice), (std::vector<std::string>{"Not yet created"}));
    expectCode(Code::Cannot, [&] { FolderStore::subscribe(*db_, kAlice, "a//b"); });
}

// ---- messages, flags, modseq

TEST_F(FolderStoreTest, AppendAssignsUidsModseqsAndNormalisedFlags)
{
    const auto inbox = folder(kAlice, "INBOX");
    const auto first = append(inbox, "aa/1", 10, "$label1 \\flagged \\Recent \\SEEN $Label1 Zeta \\seen");
    EXPECT_EQ(first.uid, 1);
    EXPECT_EQ(first.flags, "\\Seen \\Flagged $label1 Zeta");
    EXPECT_EQ(first.size, 10);
    EXPECT_EQ(first.internalDate, 1700000000);
    const auto second = append(inbox, "aa/2", 20);
    EXPECT_EQ(second.uid, 2);
    EXPECT_EQ(second.modseq, first.modseq + 1);
    const auto now = folder(kAlice, "INBOX");
    EXPECT_EQ(now.uidNext, 3);
    EXPECT_EQ(now.highestModseq, second.modseq);
    EXPECT_EQ(FolderStore::messages(*db_, inbox.id)[0].flags, first.flags);
    EXPECT_EQ(FolderStore::structure(*db_, second.blobId), "{\"path\":\"aa/2\"}");
    expectCode(Code::NonExistent, [&] { FolderStore::structure(*db_, 999999); });
    EXPECT_EQ(used(kAlice), 30);
}

TEST_F(FolderStoreTest, AppendToADeletedFolderFails)
{
    const auto f = FolderStore::create(*db_, kAlice, "Gone");
    FolderStore::remove(*db_, f);
    expectCode(Code::NonExistent, [&] { append(f, "aa/1", 1); });  // the job's savepoint undoes the rest
}

TEST_F(FolderStoreTest, UidsAreNeverReused)
{
    const auto inbox = folder(kAlice, "INBOX");
    for (const char* path : {"aa/1", "aa/2", "aa/3"}) append(inbox, path, 1);
    FolderStore::expunge(*db_, inbox, {2, 3});
    EXPECT_EQ(append(inbox, "aa/4", 1).uid, 4);
    FolderStore::expunge(*db_, inbox, {1, 4});
    EXPECT_EQ(append(inbox, "aa/5", 1).uid, 5);
    EXPECT_EQ(uidsOf(FolderStore::messages(*db_, inbox.id)), (Uids{5}));
}

TEST_F(FolderStoreTest, StoreFlagsAddRemoveReplace)
{
    const auto inbox = folder(kAlice, "INBOX");
    append(inbox, "aa/1", 1, "\\Seen");
    append(inbox, "aa/2", 1);
    const auto start = folder(kAlice, "INBOX").highestModseq;

    auto added = FolderStore::storeFlags(*db_, inbox, {2, 1, 99}, FlagChange::Add, {"\\seen", "$Urgent"});
    ASSERT_EQ(added.updated.size(), 2u);
    EXPECT_EQ(added.updated[0].uid, 1);
    EXPECT_EQ(added.updated[0].flags, "\\Seen $Urgent");
    EXPECT_EQ(added.updated[1].flags, "\\Seen $Urgent");
    // One modseq for the whole operation.
    EXPECT_EQ(added.updated[0].modseq, start + 1);
    EXPECT_EQ(added.updated[1].modseq, start + 1);
    EXPECT_EQ(folder(kAlice, "INBOX").highestModseq, start + 1);

    // Nothing changes: no new modseq.
    EXPECT_TRUE(FolderStore::storeFlags(*db_, inbox, {1}, FlagChange::Add, {"$urgent"}).updated.empty());
    EXPECT_TRUE(FolderStore::storeFlags(*db_, inbox, {1}, FlagChange::Replace, {"$URGENT", "\\SEEN"}).updated.empty());
    EXPECT_TRUE(FolderStore::storeFlags(*db_, inbox, {1}, FlagChange::Remove, {"\\Deleted"}).updated.empty());
    EXPECT_EQ(folder(kAlice, "INBOX").highestModseq, start + 1);

    const auto removed = FolderStore::storeFlags(*db_, inbox, {1}, FlagChange::Remove, {"$URGENT"});
    ASSERT_EQ(removed.updated.size(), 1u);
    EXPECT_EQ(removed.updated[0].flags, "\\Seen");
    EXPECT_EQ(removed.updated[0].modseq, start + 2);

    const auto replaced =
        FolderStore::storeFlags(*db_, inbox, {2}, FlagChange::Replace, {"\\Draft", "\\Recent", "\\Answered"});
    ASSERT_EQ(replaced.updated.size(), 1u);
    EXPECT_EQ(replaced.updated[0].flags, "\\Answered \\Draft");
    EXPECT_EQ(FolderStore::messages(*db_, inbox.id)[1].flags, "\\Answered \\Draft");
    EXPECT_EQ(FolderStore::messages(*db_, inbox.id)[1].modseq, start + 3);
}

TEST_F(FolderStoreTest, StoreFlagsUnchangedSince)
{
    const auto inbox = folder(kAlice, "INBOX");
    const auto one = append(inbox, "aa/1", 1);
    const auto two = append(inbox, "aa/2", 1);
    const auto result = FolderStore::storeFlags(*db_, inbox, {1, 2}, FlagChange::Add, {"\\Flagged"}, one.modseq);
    EXPECT_EQ(result.modifiedSince, (Uids{2}));
    ASSERT_EQ(result.updated.size(), 1u);
    EXPECT_EQ(result.updated[0].uid, 1);
    EXPECT_EQ(FolderStore::messages(*db_, inbox.id)[1].flags, "");
    EXPECT_EQ(FolderStore::messages(*db_, inbox.id)[1].modseq, two.modseq);
    EXPECT_EQ(FolderStore::storeFlags(*db_, inbox, {1, 2}, FlagChange::Add, {"$x"}, 0).modifiedSince, (Uids{1, 2}));
}

TEST_F(FolderStoreTest, ModseqIsMonotonicAndChangedSinceExpungedSinceFollowIt)
{
    const auto inbox = folder(kAlice, "INBOX");
    append(inbox, "aa/1", 1);
    append(inbox, "aa/2", 1);
    append(inbox, "aa/3", 1);
    const auto afterAppend = folder(kAlice, "INBOX").highestModseq;
    EXPECT_EQ(uidsOf(FolderStore::changedSince(*db_, inbox.id, 0)), (Uids{1, 2, 3}));
    EXPECT_TRUE(FolderStore::changedSince(*db_, inbox.id, afterAppend).empty());

    FolderStore::storeFlags(*db_, inbox, {2}, FlagChange::Add, {"\\Deleted"});
    const auto afterStore = folder(kAlice, "INBOX").highestModseq;
    EXPECT_GT(afterStore, afterAppend);
    const auto changed = FolderStore::changedSince(*db_, inbox.id, afterAppend);
    ASSERT_EQ(uidsOf(changed), (Uids{2}));
    EXPECT_EQ(changed[0].modseq, afterStore);

    FolderStore::expunge(*db_, inbox, {2, 3, 42});
    const auto afterExpunge = folder(kAlice, "INBOX").highestModseq;
    EXPECT_EQ(afterExpunge, afterStore + 1);
    EXPECT_EQ(FolderStore::expungedSince(*db_, inbox.id, afterAppend), (Uids{2, 3}));
    EXPECT_EQ(FolderStore::expungedSince(*db_, inbox.id, afterStore), (Uids{2, 3}));
    EXPECT_TRUE(FolderStore::expungedSince(*db_, inbox.id, afterExpunge).empty());
    EXPECT_TRUE(FolderStore::changedSince(*db_, inbox.id, afterStore).empty());

    // Expunging nothing known changes nothing.
    EXPECT_TRUE(FolderStore::expunge(*db_, inbox, {2, 77}).empty());
    EXPECT_EQ(folder(kAlice, "INBOX").highestModseq, afterExpunge);
}

TEST_F(FolderStoreTest, ExpungeReleasesQuotaAndUnreferencedBlobs)
{
    const auto inbox = folder(kAlice, "INBOX");
    const auto archive = folder(kAlice, "Archive");
    append(inbox, "aa/1", 100);
    append(inbox, "aa/2", 10);
    FolderStore::copy(*db_, inbox, {1}, archive);
    EXPECT_EQ(used(kAlice), 210);
    EXPECT_EQ(FolderStore::expunge(*db_, inbox, {1, 2}), (std::vector<std::string>{"aa/2"}));
    EXPECT_EQ(used(kAlice), 100);
    EXPECT_EQ(refcount("aa/1"), 1);
    EXPECT_EQ(refcount("aa/2"), 0);
    EXPECT_EQ(FolderStore::expunge(*db_, archive, {1}), (std::vector<std::string>{"aa/1"}));
    EXPECT_EQ(used(kAlice), 0);
    EXPECT_EQ(scalar(*db_, "SELECT count(*) FROM blobs"), 0);
}

TEST_F(FolderStoreTest, CopySharesBlobsKeepsFlagsAndOrder)
{
    const auto inbox = folder(kAlice, "INBOX");
    const auto orgInbox = folder(kOrg, "INBOX");
    append(inbox, "aa/1", 10, "\\Seen");
    append(inbox, "aa/2", 20, "$Label");
    append(orgInbox, "aa/0", 1);
    const auto before = folder(kOrg, "INBOX").highestModseq;

    EXPECT_EQ(FolderStore::copy(*db_, inbox, {2, 1}, orgInbox), (Uids{2, 3}));
    const auto rows = FolderStore::messages(*db_, orgInbox.id);
    ASSERT_EQ(rows.size(), 3u);
    EXPECT_EQ(rows[1].blobPath, "aa/2");
    EXPECT_EQ(rows[1].flags, "$Label");
    EXPECT_EQ(rows[2].blobPath, "aa/1");
    EXPECT_EQ(rows[1].modseq, before + 1);
    EXPECT_EQ(rows[2].modseq, before + 1);
    EXPECT_EQ(refcount("aa/1"), 2);
    EXPECT_EQ(used(kAlice), 30);
    EXPECT_EQ(used(kOrg), 31);

    // A UID no longer there refuses the whole copy.
    expectCode(Code::NonExistent, [&] { FolderStore::copy(*db_, inbox, {1, 9}, orgInbox); });
    EXPECT_EQ(FolderStore::messages(*db_, orgInbox.id).size(), 3u);
    EXPECT_TRUE(FolderStore::copy(*db_, inbox, {}, orgInbox).empty());
}

TEST_F(FolderStoreTest, QuotaRefusesAppendAndCopy)
{
    const auto small = folder(kSmall, "INBOX");
    append(small, "aa/1", 60);
    expectCode(Code::OverQuota, [&] { append(small, "aa/2", 41); });
    EXPECT_EQ(scalar(*db_, "SELECT count(*) FROM blobs WHERE path = 'aa/2'"), 0);
    append(small, "aa/3", 40);
    EXPECT_EQ(FolderStore::quota(*db_, kSmall).usedBytes, 100);
    EXPECT_EQ(FolderStore::quota(*db_, kSmall).limitBytes, 100);

    const auto alice = folder(kAlice, "INBOX");
    append(alice, "aa/4", 1);
    expectCode(Code::OverQuota, [&] { FolderStore::copy(*db_, alice, {1}, small); });
    expectCode(Code::OverQuota, [&] { FolderStore::copy(*db_, small, {1}, folder(kSmall, "Archive")); });
    EXPECT_EQ(refcount("aa/1"), 1);
    EXPECT_NO_THROW(FolderStore::copy(*db_, small, {1}, alice));
    expectCode(Code::NonExistent, [&] { FolderStore::quota(*db_, 42); });
}

TEST_F(FolderStoreTest, Counts)
{
    const auto inbox = folder(kAlice, "INBOX");
    EXPECT_EQ(FolderStore::counts(*db_, inbox.id).messages, 0);
    append(inbox, "aa/1", 10, "\\Seen");
    append(inbox, "aa/2", 20, "$Seen \\Flagged");
    append(inbox, "aa/3", 30, "\\Answered \\Seen");
    const auto counts = FolderStore::counts(*db_, inbox.id);
    EXPECT_EQ(counts.messages, 3);
    EXPECT_EQ(counts.unseen, 1);
    EXPECT_EQ(counts.size, 60);
}

// ---- access control

TEST_F(FolderStoreTest, RightsOfOwnerAndOthers)
{
    const auto orgInbox = folder(kOrg, "INBOX");
    EXPECT_EQ(FolderStore::rightsOf(*db_, orgInbox, kOrg, "service@x.test"), "lrswipkxtea");
    EXPECT_EQ(FolderStore::rightsOf(*db_, orgInbox, kAlice, "alice@x.test"), "");
    FolderStore::setAcl(*db_, orgInbox.id, "anyone", "rl");
    FolderStore::setAcl(*db_, orgInbox.id, "Alice@X.test", "wsl");
    EXPECT_EQ(FolderStore::rightsOf(*db_, orgInbox, kAlice, "alice@x.test"), "lrsw");
    EXPECT_EQ(FolderStore::rightsOf(*db_, orgInbox, kSmall, "small@x.test"), "lr");
}

TEST_F(FolderStoreTest, SetAclValidatesAndNormalisesRights)
{
    const auto id = folder(kOrg, "INBOX").id;
    FolderStore::setAcl(*db_, id, "p@x.test", "adcrl");
    ASSERT_EQ(FolderStore::acl(*db_, id).size(), 1u);
    EXPECT_EQ(FolderStore::acl(*db_, id)[0].rights, "lrkxtea");  // c → k, d → xte (RFC 4314 §2.1.1)
    FolderStore::setAcl(*db_, id, "P@X.TEST", "l");               // identifiers are case-insensitive
    ASSERT_EQ(FolderStore::acl(*db_, id).size(), 1u);
    EXPECT_EQ(FolderStore::acl(*db_, id)[0].rights, "l");
    expectCode(Code::Cannot, [&] { FolderStore::setAcl(*db_, id, "p@x.test", "lz"); });
    expectCode(Code::Cannot, [&] { FolderStore::setAcl(*db_, id, "p@x.test", "+l"); });
    expectCode(Code::NonExistent, [&] { FolderStore::setAcl(*db_, 999999, "p@x.test", "l"); });
    FolderStore::setAcl(*db_, id, "p@x.test", "");
    EXPECT_TRUE(FolderStore::acl(*db_, id).empty());
}

TEST_F(FolderStoreTest, SharedWithListsVisibleFoldersOfOthers)
{
    const auto orgInbox = folder(kOrg, "INBOX");
    const auto orgSent = folder(kOrg, "Sent");
    const auto small = folder(kSmall, "Archive");
    FolderStore::setAcl(*db_, orgInbox.id, "alice@x.test", "lr");
    FolderStore::setAcl(*db_, orgSent.id, "alice@x.test", "r");  // no "l": not listed...
    FolderStore::setAcl(*db_, small.id, "anyone", "l");
    FolderStore::setAcl(*db_, folder(kAlice, "INBOX").id, "anyone", "lr");  // her own: not "shared with" her
    const auto shared = FolderStore::sharedWith(*db_, "ALICE@x.test");
    ASSERT_EQ(shared.size(), 2u);
    EXPECT_EQ(shared[0].folder.id, orgInbox.id);
    EXPECT_EQ(shared[0].ownerAddress, "service@x.test");
    EXPECT_EQ(shared[0].ownerType, "ORG");
    EXPECT_EQ(shared[0].rights, "lr");
    EXPECT_EQ(shared[1].folder.id, small.id);
    EXPECT_EQ(shared[1].ownerType, "PER");
    EXPECT_EQ(shared[1].rights, "l");
    FolderStore::setAcl(*db_, orgSent.id, "anyone", "l");  // ...until "anyone" gives it
    const auto again = FolderStore::sharedWith(*db_, "alice@x.test");
    ASSERT_EQ(again.size(), 3u);
    EXPECT_EQ(again[1].folder.name, "Sent");
    EXPECT_EQ(again[1].rights, "lr");
}

// ---- full-text index

class FolderTextTest : public FolderStoreTest {
protected:
    void SetUp() override
    {
        FolderStoreTest::SetUp();
        inbox_ = folder(kAlice, "INBOX");
        append(inbox_, "aa/1", 1);
        append(inbox_, "aa/2", 1);
        append(inbox_, "aa/3", 1);
        EXPECT_EQ(FolderStore::unindexedMessages(*db_, inbox_.id, 10).size(), 3u);
        EXPECT_EQ(FolderStore::foldersToIndex(*db_), std::vector<std::int64_t>{inbox_.id});
        FolderStore::indexText(*db_, inbox_.id, 1, "Subject: Résultats d'échographie",
                               "Bonjour, le compte rendu de Zoé est joint. 100% \"urgent\" x_y");
        FolderStore::indexText(*db_, inbox_.id, 2, "Subject: RDV", "ÉCHOGRAPHIE prévue; a b");
        FolderStore::indexText(*db_, inbox_.id, 3, "From: labo@x.test", "rien");
    }
    Uids search(std::string_view needle, TextScope scope = TextScope::Anywhere)
    {
        return FolderStore::textSearch(*db_, inbox_.id, needle, scope);
    }
    Folder inbox_;
};

TEST_F(FolderTextTest, IndexingMarksMessagesIndexed)
{
    EXPECT_TRUE(FolderStore::unindexedMessages(*db_, inbox_.id, 10).empty());
    EXPECT_TRUE(FolderStore::foldersToIndex(*db_).empty());
    const auto four = append(inbox_, "aa/4", 1);
    const auto five = append(inbox_, "aa/5", 1);
    EXPECT_EQ(FolderStore::unindexedMessages(*db_, inbox_.id, 1),
              (std::vector<UnindexedMessage>{{4, four.blobId, "aa/4"}}));  // at most `limit`, by UID
    EXPECT_EQ(FolderStore::unindexedMessages(*db_, inbox_.id, 10).size(), 2u);
    FolderStore::indexText(*db_, inbox_.id, 4, "", "premier");
    FolderStore::indexText(*db_, inbox_.id, 4, "", "second");  // replaced
    EXPECT_EQ(search("premier"), Uids{});
    EXPECT_EQ(search("second"), Uids{4});
    EXPECT_EQ(FolderStore::unindexedMessages(*db_, inbox_.id, 10),
              (std::vector<UnindexedMessage>{{5, five.blobId, "aa/5"}}));
    FolderStore::indexText(*db_, inbox_.id, 99, "", "nothing");  // no such message: ignored
    EXPECT_EQ(scalar(*db_, "SELECT count(*) FROM message_text"), 4);
}

TEST_F(FolderTextTest, TrigramSearchInBodyOrEverywhere)
{
    EXPECT_EQ(search("compte rendu"), Uids{1});
    EXPECT_EQ(search("COMPTE"), Uids{1});
    EXPECT_EQ(search("Subject"), (Uids{1, 2}));
    EXPECT_EQ(search("Subject", TextScope::Body), Uids{});
    EXPECT_EQ(search("Subject", TextScope::Header), (Uids{1, 2}));
    EXPECT_EQ(search("compte", TextScope::Header), Uids{});  // in a body only
    EXPECT_EQ(search("labo@x", TextScope::Header), Uids{3});
    EXPECT_EQ(search("labo@x"), Uids{3});
    EXPECT_EQ(search("\"urgent\""), Uids{1});  // quotes are text, not FTS5 syntax
    EXPECT_EQ(search("urgent OR rien"), Uids{});
    EXPECT_EQ(search("NEAR(a b)"), Uids{});
    EXPECT_EQ(search("absent"), Uids{});
}

// Trigram folding is Unicode-aware for 3+ characters; accents are never ignored;
// 1–2 character needles (LIKE) fold ASCII letters only.
TEST_F(FolderTextTest, FrenchAccents)
{
    EXPECT_EQ(search("échographie"), (Uids{1, 2}));
    EXPECT_EQ(search("ÉCHOGRAPHIE"), (Uids{1, 2}));
    EXPECT_EQ(search("Zoé"), Uids{1});
    EXPECT_EQ(search("ZOÉ"), Uids{1});
    EXPECT_EQ(search("echographie"), Uids{});
    EXPECT_EQ(search("é"), (Uids{1, 2}));  // "é" in 1 ("Zoé") and 2 ("prévue")
    EXPECT_EQ(search("É", TextScope::Body), Uids{2});  // only the capital one
    EXPECT_EQ(search("oé"), Uids{1});
}

TEST_F(FolderTextTest, ShortNeedles)
{
    EXPECT_EQ(search("Zo"), Uids{1});
    EXPECT_EQ(search("zO"), Uids{1});
    EXPECT_EQ(search("RD"), Uids{2});
    EXPECT_EQ(search("RD", TextScope::Body), Uids{});
    EXPECT_EQ(search("RD", TextScope::Header), Uids{2});
    EXPECT_EQ(search("Zo", TextScope::Header), Uids{});
    EXPECT_EQ(search("%"), Uids{1});  // a literal percent sign
    EXPECT_EQ(search("_"), Uids{1});
    EXPECT_EQ(search("0%"), Uids{1});
    EXPECT_EQ(search("x_"), Uids{1});
    EXPECT_EQ(search("y_"), Uids{});
    EXPECT_EQ(search("\\"), Uids{});
    EXPECT_EQ(search(""), (Uids{1, 2, 3}));
}

TEST_F(FolderTextTest, SearchIsPerFolderAndForgetsExpungedMessages)
{
    const auto archive = folder(kAlice, "Archive");
    FolderStore::copy(*db_, inbox_, {2}, archive);
    EXPECT_EQ(FolderStore::textSearch(*db_, archive.id, "prévue", TextScope::Body), Uids{});  // the copy is not indexed yet
    EXPECT_EQ(FolderStore::foldersToIndex(*db_), std::vector<std::int64_t>{archive.id});
    FolderStore::indexText(*db_, archive.id, 1, "Subject: RDV", "ÉCHOGRAPHIE prévue; a b");
    EXPECT_EQ(FolderStore::textSearch(*db_, archive.id, "prévue", TextScope::Body), Uids{1});
    EXPECT_EQ(FolderStore::textSearch(*db_, archive.id, "a", TextScope::Body), Uids{1});  // short needles too
    EXPECT_EQ(search("prévue"), Uids{2});
    EXPECT_EQ(FolderStore::expunge(*db_, inbox_, {1}), (std::vector<std::string>{"aa/1"}));
    EXPECT_EQ(scalar(*db_, "SELECT count(*) FROM message_text"), 3);
    EXPECT_EQ(search("compte"), Uids{});
    // A deleted folder takes its index entries and its pending ones with it.
    append(archive, "aa/6", 1);
    FolderStore::remove(*db_, archive);
    EXPECT_EQ(scalar(*db_, "SELECT count(*) FROM message_text"), 2);
    EXPECT_TRUE(FolderStore::foldersToIndex(*db_).empty());
    EXPECT_EQ(scalar(*db_, "SELECT count(*) FROM blob_structures"), 2);  // went with their blobs
}

// ---- migrations 2 and 3

namespace {

// Entry 1 of the migrations, as shipped (entries are never edited).
std::string schemaVersion1()
{
    std::ifstream in(std::string(PLEXUS_SOURCE_DIR) + "/server/store/Schema.cpp");
    std::stringstream source;
    source << in.rdbuf();
    const std::string text = source.str();
    const std::string open = "R\"sql(", close = ")sql\"";
    const auto start = text.find(open) + open.size();
    return text.substr(start, text.find(close, start) - start);
}

}  // namespace

TEST(FolderSchemaTest, MigrationsUpgradeAVersion1DatabaseWithADelegationAndMessages)
{
    char pattern[] = "/tmp/plexus-schema-XXXXXX";
    const std::string dir = mkdtemp(pattern);
    {
        Database db(dir + "/v1.db");
        db.execute(schemaVersion1());
        db.execute("PRAGMA user_version = 1");
        db.execute(
            "INSERT INTO accounts (id, address, type, quota_bytes, created_at) VALUES "
            "(1, 'service@x.test', 'ORG', 1000, 0), (2, 'P@x.test', 'PER', 1000, 0), (3, 'q@x.test', 'PER', 1000, 0);"
            "INSERT INTO mailboxes (id, account_id, name, uidvalidity, subscribed) VALUES "
            "(10, 1, 'INBOX', 5, 1), (11, 1, 'Sent', 5, 0), (12, 2, 'INBOX', 5, 1), (13, 3, 'INBOX', 5, 1);"
            "INSERT INTO delegations (org_id, person_id) VALUES (1, 2);"
            "INSERT INTO blobs (id, path, size, structure, refcount) VALUES (7, 'aa/7', 10, '{}', 2);"
            "INSERT INTO messages (mailbox_id, uid, blob_id, internal_date, size, flags, modseq) VALUES "
            "(12, 1, 7, 0, 10, '', 1), (12, 2, 7, 0, 10, '', 1);");
        migrateSchema(db);
        EXPECT_EQ(scalar(db, "PRAGMA user_version"), 5);
        // Migration 3: every stored message is to be indexed (again).
        EXPECT_EQ(FolderStore::foldersToIndex(db), std::vector<std::int64_t>{12});
        EXPECT_EQ(FolderStore::unindexedMessages(db, 12, 10).size(), 2u);
        EXPECT_EQ(FolderStore::structure(db, 7), "{}");  // moved to its own table
        EXPECT_EQ(FolderStore::subscriptions(db, 1), (std::vector<std::string>{"INBOX"}));
        EXPECT_EQ(FolderStore::subscriptions(db, 2), (std::vector<std::string>{"INBOX"}));
        EXPECT_EQ(scalar(db, "SELECT count(*) FROM acl"), 2);
        for (const auto* name : {"INBOX", "Sent"}) {
            const auto f = *FolderStore::find(db, 1, name);
            EXPECT_EQ(FolderStore::rightsOf(db, f, 2, "p@x.test"), "lrswipkxte") << name;
            EXPECT_EQ(FolderStore::rightsOf(db, f, 3, "q@x.test"), "") << name;
        }
        EXPECT_EQ(FolderStore::sharedWith(db, "p@x.test").size(), 2u);
        EXPECT_GT(FolderStore::create(db, 1, "New").uidValidity, 5);
        EXPECT_EQ(FolderStore::acl(db, FolderStore::find(db, 1, "New")->id).size(), 1u);
        migrateSchema(db);  // idempotent
        EXPECT_EQ(scalar(db, "PRAGMA user_version"), 5);
    }
    fs::remove_all(dir);
}
