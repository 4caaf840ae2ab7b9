#include "accounts/AccountStore.h"
#include "directory/DirectoryStore.h"
#include "plugins/DirectoryService.h"
#include "plugins/SyncedDirectory.h"
#include "store/Schema.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <memory>

using namespace plexus;
using accounts::AccountType;
using plugins::DirectoryQuery;
using plugins::LocalDirectory;

class LocalDirectoryTest : public ::testing::Test {
protected:
    void SetUp() override
    {
        char pattern[] = "/tmp/plexus-directory-XXXXXX";
        dir_ = ::mkdtemp(pattern);
        store::Database db(dir_ + "/plexus.db");
        store::migrateSchema(db);
        add(db, "dr.martin@hopital.test", AccountType::PER, "810000000001");
        add(db, "dr.martel@clinique.test", AccountType::PER, "810000000002");
        add(db, "secretariat@hopital.test", AccountType::ORG, "750000001");
        add(db, "labo@hopital.test", AccountType::APP, "750000002");
        // Local parts may hold LIKE's metacharacters and quotes (RFC 5322 atext).
        add(db, "100%_sure@hopital.test", AccountType::PER, "810000000003");
        add(db, "o'brien@hopital.test", AccountType::PER, "810000000004");
        pool_ = std::make_unique<store::ConnectionPool>(dir_ + "/plexus.db");
        directory_ = std::make_unique<LocalDirectory>(*pool_);
    }
    void TearDown() override
    {
        directory_.reset();
        pool_.reset();
        std::filesystem::remove_all(dir_);
    }
    static void add(store::Database& db, const std::string& address, AccountType type, const std::string& id)
    {
        accounts::NewAccount account;
        account.address = address;
        account.type = type;
        (type == AccountType::PER ? account.nationalId : account.structureId) = id;
        account.quotaBytes = 1000;
        accounts::AccountStore::add(db, account);
    }
    std::vector<std::string> addresses(const DirectoryQuery& query)
    {
        std::vector<std::string> result;
        for (const auto& entry : directory_->search(query)) result.push_back(entry.address);
        return result;
    }
    std::vector<std::string> addresses(const std::string& text)
    {
        return addresses(DirectoryQuery{text, "", "", "", 50});
    }

    std::string dir_;
    std::unique_ptr<store::ConnectionPool> pool_;
    std::unique_ptr<LocalDirectory> directory_;
};

TEST_F(LocalDirectoryTest, LookupIsCaseInsensitiveAndSaysWhereTheEntryComesFrom)
{
    const auto entry = directory_->lookup("Dr.Martin@HOPITAL.test");
    ASSERT_TRUE(entry);
    EXPECT_EQ(entry->address, "dr.martin@hopital.test");
    EXPECT_EQ(entry->type, "PER");
    EXPECT_EQ(entry->nationalId, "810000000001");
    EXPECT_EQ(entry->structureId, "");
    EXPECT_EQ(entry->source, "local");
    const auto org = directory_->lookup("secretariat@hopital.test");
    ASSERT_TRUE(org);
    EXPECT_EQ(org->type, "ORG");
    EXPECT_EQ(org->structureId, "750000001");
    EXPECT_EQ(org->nationalId, "");
    EXPECT_FALSE(directory_->lookup("nobody@hopital.test"));
    EXPECT_FALSE(directory_->lookup("dr.martin@hopital"));
}

TEST_F(LocalDirectoryTest, SearchMatchesPrefixesOfTheLocalPartTheDomainOrTheNationalId)
{
    EXPECT_EQ(addresses("DR.MAR"), (std::vector<std::string>{"dr.martel@clinique.test", "dr.martin@hopital.test"}));
    EXPECT_EQ(addresses("clin"), std::vector<std::string>{"dr.martel@clinique.test"});
    EXPECT_EQ(addresses("8100000000"), (std::vector<std::string>{"100%_sure@hopital.test", "dr.martel@clinique.test",
                                                                  "dr.martin@hopital.test", "o'brien@hopital.test"}));
    EXPECT_EQ(addresses("martin"), std::vector<std::string>{});  // prefixes only
    EXPECT_EQ(addresses("").size(), 6u);
}

TEST_F(LocalDirectoryTest, MetacharactersInTheTextAreLiteral)
{
    EXPECT_EQ(addresses("%"), std::vector<std::string>{});
    EXPECT_EQ(addresses("_"), std::vector<std::string>{});
    EXPECT_EQ(addresses("100%_"), std::vector<std::string>{"100%_sure@hopital.test"});
    EXPECT_EQ(addresses("100_"), std::vector<std::string>{});
    EXPECT_EQ(addresses("o'"), std::vector<std::string>{"o'brien@hopital.test"});
    EXPECT_EQ(addresses("'"), std::vector<std::string>{});
    EXPECT_EQ(addresses("\\"), std::vector<std::string>{});
    EXPECT_EQ(addresses("' OR 1=1 --"), std::vector<std::string>{});
    EXPECT_FALSE(directory_->lookup("%@hopital.test"));
}

TEST_F(LocalDirectoryTest, NationalIdIsExactAndLocalEntriesHaveNoProfessionOrCity)
{
    EXPECT_EQ(addresses(DirectoryQuery{"", "810000000002", "", "", 50}),
              std::vector<std::string>{"dr.martel@clinique.test"});
    EXPECT_EQ(addresses(DirectoryQuery{"dr.", "81000000000", "", "", 50}), std::vector<std::string>{});
    EXPECT_EQ(addresses(DirectoryQuery{"", "", "Médecin", "", 50}), std::vector<std::string>{});
    EXPECT_EQ(addresses(DirectoryQuery{"", "", "", "Lyon", 50}), std::vector<std::string>{});
}

TEST_F(LocalDirectoryTest, LimitIsClampedAndZeroMeansTheDefault)
{
    EXPECT_EQ(addresses(DirectoryQuery{"", "", "", "", 2}),
              (std::vector<std::string>{"100%_sure@hopital.test", "dr.martel@clinique.test"}));
    EXPECT_EQ(addresses(DirectoryQuery{"", "", "", "", 0}).size(), 6u);
    {
        store::Database db(dir_ + "/plexus.db");
        store::Transaction transaction(db);
        for (int i = 0; i < 1005; ++i) add(db, "user" + std::to_string(i) + "@bulk.test", AccountType::PER, "9");
        transaction.commit();
    }
    EXPECT_EQ(addresses(DirectoryQuery{"user", "", "", "", 0}).size(), 50u);
    EXPECT_EQ(addresses(DirectoryQuery{"user", "", "", "", 5000}).size(), 1000u);
}

// The national directory's copy behind the local mailboxes.
class SyncedDirectoryTest : public LocalDirectoryTest {
protected:
    void SetUp() override
    {
        LocalDirectoryTest::SetUp();
        directory::DirectoryStore copy(dir_ + "/directory.db");
        auto batch = copy.begin();
        const std::string source = "file:test";
        batch.upsert(directory::Person{source, "810000000009", "810000000009", "DR", "Martinez", "Hélène", "10",
                                       "Médecin", "", "", "L"});
        batch.upsert(directory::Mailbox{source, "a", "helene.martinez@aphp.test", "PER", "810000000009", "", "", false});
        batch.upsert(directory::Mailbox{source, "b", "dr.martin@hopital.test", "PER", "", "", "", false});
        batch.upsert(directory::Mailbox{source, "c", "martin.secret@aphp.test", "PER", "", "", "", true});
        batch.commit();
        directoryPool_ = std::make_unique<store::ConnectionPool>(dir_ + "/directory.db");
        synced_ = std::make_unique<plugins::SyncedDirectory>(*directory_, *directoryPool_);
    }
    void TearDown() override
    {
        synced_.reset();
        directoryPool_.reset();
        LocalDirectoryTest::TearDown();
    }

    std::unique_ptr<store::ConnectionPool> directoryPool_;
    std::unique_ptr<plugins::SyncedDirectory> synced_;
};

TEST_F(SyncedDirectoryTest, LocalMailboxesAnswerFirstThenTheDirectory)
{
    EXPECT_EQ(synced_->lookup("dr.martin@hopital.test")->source, "local");
    const auto remote = synced_->lookup("Helene.Martinez@aphp.test");
    ASSERT_TRUE(remote);
    EXPECT_EQ(remote->source, "file:test");
    EXPECT_EQ(remote->displayName, "Hélène Martinez");
    EXPECT_EQ(remote->profession, "Médecin");
    EXPECT_TRUE(synced_->lookup("martin.secret@aphp.test"));  // an exact address, even hidden
    EXPECT_FALSE(synced_->lookup("nobody@aphp.test"));
}

TEST_F(SyncedDirectoryTest, SearchMergesWithoutTwinsNorHiddenEntries)
{
    const auto found = [this](const std::string& text) {
        std::vector<std::string> addresses;
        for (const auto& entry : synced_->search(DirectoryQuery{text, "", "", "", 50})) addresses.push_back(entry.address);
        return addresses;
    };
    // Local prefixes first; the directory's copy of a local address is not repeated.
    EXPECT_EQ(found("dr"), (std::vector<std::string>{"dr.martel@clinique.test", "dr.martin@hopital.test"}));
    // Free text in the directory, names first; the liste rouge never.
    EXPECT_EQ(found("martin"), (std::vector<std::string>{"helene.martinez@aphp.test", "dr.martin@hopital.test"}));
    EXPECT_EQ(synced_->search(DirectoryQuery{"", "810000000009", "", "", 50}).size(), 1u);
    EXPECT_EQ(synced_->search(DirectoryQuery{"martin", "", "", "", 1}).size(), 1u);
}
