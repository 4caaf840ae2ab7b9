#include "DirectoryFixture.h"

#include "directory/DirectoryQueries.h"

#include <algorithm>

namespace plexus::directory::test {

namespace {

using DirectoryStoreTest = DirectoryFixture;

TEST_F(DirectoryStoreTest, UpsertReportsAddedChangedUnchanged)
{
    auto batch = store().begin();
    auto p = person("810001234567", "Jeanne", "Dupont");
    EXPECT_EQ(batch.upsert(p), UpsertOutcome::added);
    EXPECT_EQ(batch.upsert(p), UpsertOutcome::unchanged);
    p.lastName = "Durand";
    EXPECT_EQ(batch.upsert(p), UpsertOutcome::changed);
    batch.commit();
    ASSERT_EQ(personsOf(store().database(), "810001234567").size(), 1u);
    EXPECT_EQ(personsOf(store().database(), "810001234567")[0].lastName, "Durand");
}

TEST_F(DirectoryStoreTest, AddInsertsAndFallsBackToTheUpsertForAKeyAlreadyThere)
{
    auto batch = store().begin();
    auto p = person("810001234567", "Jeanne", "Dupont");
    auto s = structure("750000001", "Hôpital Saint-Louis", "Paris");
    auto m = mailbox("Jeanne.Dupont@hopital.test", "PER", "810001234567", "750000001");
    EXPECT_EQ(batch.add(m), UpsertOutcome::added);
    EXPECT_EQ(batch.add(p), UpsertOutcome::added);
    EXPECT_EQ(batch.add(s), UpsertOutcome::added);
    EXPECT_EQ(batch.add(p), UpsertOutcome::unchanged);
    p.lastName = "Durand";
    s.city = "Lyon";
    m.service = "Cardiologie";
    EXPECT_EQ(batch.add(p), UpsertOutcome::changed);
    EXPECT_EQ(batch.add(s), UpsertOutcome::changed);
    EXPECT_EQ(batch.add(m), UpsertOutcome::changed);
    batch.commit();
    EXPECT_EQ(store().count(RecordKind::person, "ldap:test"), 1u);
    EXPECT_EQ(personsOf(store().database(), "810001234567").at(0).lastName, "Durand");
    const auto found = lookupAddress(store().database(), "jeanne.dupont@hopital.test");
    ASSERT_TRUE(found);
    EXPECT_EQ(found->mailbox.service, "Cardiologie");
    // The search row is built at commit, from the records as they ended.
    const auto hits = search(store().database(), {.text = "durand"});
    ASSERT_EQ(hits.size(), 1u);
    EXPECT_EQ(hits[0].mailbox.address, "jeanne.dupont@hopital.test");
}

TEST_F(DirectoryStoreTest, EveryFieldCountsForChangedStructuresAndMailboxes)
{
    auto batch = store().begin();
    auto s = structure("750000001", "Hôpital Saint-Louis", "Paris");
    EXPECT_EQ(batch.upsert(s), UpsertOutcome::added);
    EXPECT_EQ(batch.upsert(s), UpsertOutcome::unchanged);
    s.department = "92";
    EXPECT_EQ(batch.upsert(s), UpsertOutcome::changed);
    auto m = mailbox("Jeanne@Hopital.MSSante.fr", "PER", "810001234567", "750000001");
    EXPECT_EQ(batch.upsert(m), UpsertOutcome::added);
    EXPECT_EQ(batch.upsert(m), UpsertOutcome::unchanged);  // stored lower-case, compared lower-case
    m.hidden = true;
    EXPECT_EQ(batch.upsert(m), UpsertOutcome::changed);
    m.service = "Cardiologie";
    EXPECT_EQ(batch.upsert(m), UpsertOutcome::changed);
    EXPECT_EQ(batch.upsert(m), UpsertOutcome::unchanged);
    batch.commit();
    const auto hit = lookupAddress(store().database(), "jeanne@hopital.mssante.fr");
    ASSERT_TRUE(hit);
    EXPECT_TRUE(hit->mailbox.hidden);
    EXPECT_EQ(hit->mailbox.service, "Cardiologie");
    ASSERT_TRUE(hit->structure);
    EXPECT_EQ(hit->structure->department, "92");
}

TEST_F(DirectoryStoreTest, SourcesNeverOverwriteEachOther)
{
    auto batch = store().begin();
    batch.upsert(person("810001234567", "Jeanne", "Dupont", "ldap:a"));
    batch.upsert(person("810001234567", "Jeanne", "Dupond", "file:correspondance"));
    batch.commit();
    EXPECT_EQ(personsOf(store().database(), "810001234567").size(), 2u);
    auto removal = store().begin();
    EXPECT_TRUE(removal.remove(RecordKind::person, "ldap:a", "uuid-810001234567"));
    EXPECT_FALSE(removal.remove(RecordKind::person, "ldap:a", "uuid-810001234567"));
    removal.commit();
    const auto left = personsOf(store().database(), "810001234567");
    ASSERT_EQ(left.size(), 1u);
    EXPECT_EQ(left[0].source, "file:correspondance");
}

TEST_F(DirectoryStoreTest, UncommittedBatchLeavesNothing)
{
    {
        auto batch = store().begin();
        batch.upsert(person("810001234567", "Jeanne", "Dupont"));
        batch.setSyncState("ldap:test", "cookie-1");
    }
    EXPECT_EQ(store().count(RecordKind::person, "ldap:test"), 0u);
    EXPECT_FALSE(store().syncState("ldap:test"));
}

TEST_F(DirectoryStoreTest, KeysAndSyncStatePerSource)
{
    auto batch = store().begin();
    batch.upsert(mailbox("a@x.mssante.fr", "PER", "", ""));
    batch.upsert(mailbox("b@x.mssante.fr", "ORG", "", ""));
    batch.upsert(mailbox("c@x.mssante.fr", "ORG", "", "", "ldap:other"));
    batch.setSyncState("ldap:test", "rid=001,csn=1");
    batch.setSyncState("ldap:test", "rid=001,csn=2");
    batch.commit();
    auto keys = store().keys(RecordKind::mailbox, "ldap:test");
    std::ranges::sort(keys);
    EXPECT_EQ(keys, (std::vector<std::string>{"uuid-a@x.mssante.fr", "uuid-b@x.mssante.fr"}));
    EXPECT_EQ(store().syncState("ldap:test"), "rid=001,csn=2");
    EXPECT_FALSE(store().syncState("ldap:other"));
}

TEST_F(DirectoryStoreTest, LookupIsCaseInsensitiveAndJoinsTheOwner)
{
    auto batch = store().begin();
    batch.upsert(mailbox("Jeanne.Dupont@Hopital.MSSante.fr", "PER", "810001234567", "750000001"));
    batch.upsert(person("810001234567", "Jeanne", "Dupont"));
    batch.upsert(structure("750000001", "Hôpital Saint-Louis", "Paris"));
    batch.commit();
    const auto hit = lookupAddress(store().database(), "JEANNE.DUPONT@hopital.mssante.FR");
    ASSERT_TRUE(hit);
    EXPECT_EQ(hit->mailbox.type, "PER");
    EXPECT_EQ(hit->mailbox.address, "jeanne.dupont@hopital.mssante.fr");
    ASSERT_TRUE(hit->person);
    EXPECT_EQ(hit->displayName(), "Jeanne Dupont");
    ASSERT_TRUE(hit->structure);
    EXPECT_EQ(hit->structure->city, "Paris");
    EXPECT_FALSE(lookupAddress(store().database(), "nobody@hopital.mssante.fr"));
}

TEST_F(DirectoryStoreTest, MailboxesByNationalIdHideListeRougeUnlessAsked)
{
    auto batch = store().begin();
    batch.upsert(person("810001234567", "Jeanne", "Dupont"));
    batch.upsert(mailbox("jeanne@a.mssante.fr", "PER", "810001234567", ""));
    auto hidden = mailbox("jeanne@b.mssante.fr", "PER", "810001234567", "");
    hidden.hidden = true;
    batch.upsert(hidden);
    batch.commit();
    EXPECT_EQ(mailboxesOf(store().database(), "810001234567", false).size(), 1u);
    EXPECT_EQ(mailboxesOf(store().database(), "810001234567", true).size(), 2u);
    const auto exact = lookupAddress(store().database(), "jeanne@b.mssante.fr");
    ASSERT_TRUE(exact);
    EXPECT_TRUE(exact->mailbox.hidden);
}

TEST_F(DirectoryStoreTest, OnlyTheFourMailboxTypesAreStored)
{
    auto batch = store().begin();
    for (const char* type : {"PER", "ORG", "APP", "CAB"})
        EXPECT_EQ(batch.upsert(mailbox(std::string(type) + "@x.mssante.fr", type, "", "")), UpsertOutcome::added);
    EXPECT_THROW(batch.upsert(mailbox("bad@x.mssante.fr", "per", "", "")), store::SqliteError);
    EXPECT_THROW(batch.add(mailbox("bad@x.mssante.fr", "XYZ", "", "")), store::SqliteError);
    batch.commit();
    EXPECT_EQ(store().count(RecordKind::mailbox, "ldap:test"), 4u);
}

}  // namespace

}  // namespace plexus::directory::test
