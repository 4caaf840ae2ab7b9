#include "accounts/AccountStore.h"
#include "store/FolderStore.h"
#include "store/Schema.h"

#include <gtest/gtest.h>

#include <filesystem>

using namespace plexus::accounts;
using plexus::store::Database;

class AccountStoreTest : public ::testing::Test {
protected:
    void SetUp() override
    {
        char pattern[] = "/tmp/plexus-accounts-XXXXXX";
        dir_ = mkdtemp(pattern);
        db_ = std::make_unique<Database>(dir_ + "/plexus.db");
        plexus::store::migrateSchema(*db_);
    }
    void TearDown() override
    {
        db_.reset();
        std::filesystem::remove_all(dir_);
    }
    Account add(const std::string& address, AccountType type, std::optional<std::string> id = {})
    {
        NewAccount a;
        a.address = address;
        a.type = type;
        (type == AccountType::PER ? a.nationalId : a.structureId) = id;
        a.quotaBytes = 1000;
        return AccountStore::add(*db_, a);
    }
    std::string dir_;
    std::unique_ptr<Database> db_;
};

TEST_F(AccountStoreTest, AddressValidation)
{
    EXPECT_TRUE(isValidAddress("dr.martin@hopital.mssante.fr"));
    EXPECT_TRUE(isValidAddress("a+b@x-y.fr"));
    for (const char* bad : {"", "nobody", "@x.fr", "a@", "a..b@x.fr", ".a@x.fr", "a@-x.fr", "a b@x.fr", "a@x..fr",
                            "a@x_y.fr"})
        EXPECT_FALSE(isValidAddress(bad)) << bad;
    EXPECT_FALSE(isValidAddress(std::string(65, 'a') + "@x.fr"));
    EXPECT_EQ(normaliseAddress("Dr.Martin@Hopital.FR"), "dr.martin@hopital.fr");
    EXPECT_THROW(normaliseAddress("bad"), AccountError);
}

TEST_F(AccountStoreTest, AddCreatesDefaultFoldersAndRefusesDuplicates)
{
    const auto a = add("Dr.Martin@h.fr", AccountType::PER, "810000000001");
    EXPECT_EQ(a.address, "dr.martin@h.fr");
    auto folders = db_->prepare("SELECT name, special_use FROM mailboxes WHERE account_id = ? ORDER BY id");
    folders.bind(1, a.id);
    std::vector<std::string> names;
    while (folders.step()) names.push_back(folders.text(0));
    EXPECT_EQ(names, (std::vector<std::string>{"INBOX", "Sent", "Drafts", "Trash", "Junk", "Archive"}));
    EXPECT_THROW(add("dr.martin@H.FR", AccountType::PER), AccountError);
    EXPECT_TRUE(AccountStore::find(*db_, "DR.MARTIN@h.fr"));
}

TEST_F(AccountStoreTest, DelegatesMaySendAsTheOrganizationOnly)
{
    const auto person = add("p@h.fr", AccountType::PER, "1");
    const auto other = add("o@h.fr", AccountType::PER, "2");
    const auto org = add("service@h.fr", AccountType::ORG, "750000001");
    add("labo@h.fr", AccountType::APP, "750000002");
    AccountStore::addDelegate(*db_, "service@h.fr", "p@h.fr");
    EXPECT_TRUE(AccountStore::maySendAs(*db_, person, "p@h.fr"));
    EXPECT_TRUE(AccountStore::maySendAs(*db_, person, "Service@h.fr"));
    EXPECT_FALSE(AccountStore::maySendAs(*db_, other, "service@h.fr"));
    EXPECT_FALSE(AccountStore::maySendAs(*db_, person, "o@h.fr"));
    EXPECT_FALSE(AccountStore::maySendAs(*db_, org, "p@h.fr"));
    EXPECT_THROW(AccountStore::addDelegate(*db_, "labo@h.fr", "p@h.fr"), AccountError);
    EXPECT_THROW(AccountStore::addDelegate(*db_, "service@h.fr", "labo@h.fr"), AccountError);
    EXPECT_THROW(AccountStore::addDelegate(*db_, "missing@h.fr", "p@h.fr"), AccountError);
    ASSERT_EQ(AccountStore::delegates(*db_, org.id).size(), 1u);
}

TEST_F(AccountStoreTest, PasswordHashIsStoredNotThePassword)
{
    add("p@h.fr", AccountType::PER, "1");
    EXPECT_FALSE(AccountStore::find(*db_, "p@h.fr")->hasPassword);
    AccountStore::setPasswordHash(*db_, "p@h.fr", "$scrypt$opaque");
    EXPECT_TRUE(AccountStore::find(*db_, "p@h.fr")->hasPassword);
    EXPECT_EQ(AccountStore::passwordHash(*db_, "p@h.fr"), "$scrypt$opaque");
    EXPECT_THROW(AccountStore::setPasswordHash(*db_, "none@h.fr", "x"), AccountError);
}

TEST_F(AccountStoreTest, DelegatesGetRightsOnEveryFolderOfTheOrganization)
{
    using plexus::store::FolderStore;
    const auto person = add("p@h.fr", AccountType::PER, "1");
    const auto org = add("service@h.fr", AccountType::ORG, "750000001");
    const auto labo = FolderStore::create(*db_, org.id, "Labo");
    FolderStore::setAcl(*db_, labo.id, "p@h.fr", "la");  // an "a" given before is kept
    AccountStore::addDelegate(*db_, "service@h.fr", "p@h.fr");
    AccountStore::addDelegate(*db_, "service@h.fr", "p@h.fr");  // idempotent
    for (const auto& folder : FolderStore::folders(*db_, org.id))
        EXPECT_EQ(FolderStore::rightsOf(*db_, folder, person.id, person.address),
                  folder.name == "Labo" ? "lrswipkxtea" : "lrswipkxte") << folder.name;
    EXPECT_EQ(FolderStore::sharedWith(*db_, "p@h.fr").size(), 7u);
    // Later folders inherit it from their parent, or from INBOX.
    const auto later = FolderStore::create(*db_, org.id, "Later");
    EXPECT_EQ(FolderStore::rightsOf(*db_, later, person.id, person.address), "lrswipkxte");
    EXPECT_TRUE(FolderStore::acl(*db_, FolderStore::find(*db_, person.id, "INBOX")->id).empty());
}
