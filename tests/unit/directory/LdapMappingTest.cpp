#include "directory/LdapMapping.h"
#include "directory/LdapSettings.h"

#include <Poco/AutoPtr.h>
#include <Poco/Util/MapConfiguration.h>

#include <gtest/gtest.h>

using namespace plexus::directory;

namespace {

LdapMapping testMapping()
{
    return LdapMapping::fromFields({{"mailbox", "mssanteAddress"},
                                    {"mailbox_type", "mssanteMailboxType"},
                                    {"national_id", "healthNationalId"},
                                    {"last_name", "sn"},
                                    {"first_name", "givenName"},
                                    {"finess", "structureFiness"},
                                    {"city", "structureCity"},
                                    {"hidden", "mssanteHidden"}});
}

}  // namespace

TEST(LdapMapping, RequestsEachMappedAttributeOnceInLowerCase)
{
    const auto attributes = testMapping().attributes();
    EXPECT_EQ(attributes.size(), 8u);
    EXPECT_NE(std::ranges::find(attributes, "mssanteaddress"), attributes.end());
    EXPECT_NE(std::ranges::find(attributes, "sn"), attributes.end());
}

TEST(LdapMapping, RefusesUnknownFieldsBadAttributesAndMissingMandatoryFields)
{
    EXPECT_THROW(LdapMapping::fromFields({{"mailbox", "mail"}, {"mailbox_type", "t"}, {"colour", "c"}}), MappingError);
    EXPECT_THROW(LdapMapping::fromFields({{"mailbox", "mail)(uid=*"}, {"mailbox_type", "t"}}), MappingError);
    EXPECT_THROW(LdapMapping::fromFields({{"mailbox", "mail"}}), MappingError);
}

TEST(LdapMapping, PersonalMailboxWithItsPersonAndStructure)
{
    const auto result = testMapping().map({{"mssanteaddress", " Dr.Martin@Sante.Test "},
                                           {"mssantemailboxtype", "per"},
                                           {"healthnationalid", "810001234567"},
                                           {"sn", "Martin"},
                                           {"givenname", "Anne"},
                                           {"structurefiness", "750000001"},
                                           {"structurecity", "Paris"},
                                           {"mssantehidden", "TRUE"}},
                                          "ldap:test", "uuid-1");
    ASSERT_TRUE(result.entry) << result.problem;
    const auto& entry = *result.entry;
    EXPECT_EQ(entry.mailbox.address, "dr.martin@sante.test");
    EXPECT_EQ(entry.mailbox.type, "PER");
    EXPECT_EQ(entry.mailbox.sourceKey, "uuid-1");
    EXPECT_EQ(entry.mailbox.ownerNationalId, "810001234567");
    EXPECT_EQ(entry.mailbox.ownerStructureId, "750000001");
    EXPECT_TRUE(entry.mailbox.hidden);
    ASSERT_TRUE(entry.person);
    EXPECT_EQ(entry.person->lastName, "Martin");
    EXPECT_EQ(entry.person->source, "ldap:test");
    ASSERT_TRUE(entry.structure);
    EXPECT_EQ(entry.structure->city, "Paris");
}

TEST(LdapMapping, ValuesByAttributePositionMapLikeNamedAttributes)
{
    const auto mapping = testMapping();
    const EntryAttributes named{{"mssanteaddress", "a@b.test"}, {"mssantemailboxtype", "PER"},
                                {"healthnationalid", " 810001234567"}, {"sn", "Martin"},
                                {"structurecity", "Paris"}, {"structurefiness", "750000001"}};
    AttributeValues values(mapping.attributes().size());
    for (std::size_t i = 0; i < values.size(); ++i)
        if (const auto found = named.find(mapping.attributes()[i]); found != named.end()) values[i] = found->second;
    const auto byName = mapping.map(named, "s", "k");
    const auto byPosition = mapping.mapValues(values, "s", "k");
    ASSERT_TRUE(byName.entry && byPosition.entry);
    EXPECT_EQ(byPosition.entry->mailbox, byName.entry->mailbox);
    EXPECT_EQ(byPosition.entry->person, byName.entry->person);
    EXPECT_EQ(byPosition.entry->structure, byName.entry->structure);
    EXPECT_EQ(byPosition.entry->person->nationalId, "810001234567");
    // Fewer values than attributes (an entry read short) map as absent attributes.
    EXPECT_EQ(mapping.mapValues(AttributeValues{}, "s", "k").problem, "no mailbox address");
}

TEST(LdapMapping, MalformedEntriesSayWhy)
{
    const auto mapping = testMapping();
    EXPECT_EQ(mapping.map({{"mssantemailboxtype", "PER"}}, "s", "k").problem, "no mailbox address");
    EXPECT_FALSE(mapping.map({{"mssanteaddress", "a@b"}, {"mssantemailboxtype", "XYZ"}}, "s", "k").entry);
    EXPECT_EQ(mapping.map({{"mssanteaddress", "a@b"}, {"mssantemailboxtype", "PER"}}, "s", "k").problem,
              "PER mailbox without a national id");
    EXPECT_EQ(mapping.map({{"mssanteaddress", "a@b"}, {"mssantemailboxtype", "ORG"}}, "s", "k").problem,
              "ORG mailbox without a FINESS or SIRET");
    EXPECT_TRUE(mapping.map({{"mssanteaddress", "a@b"}, {"mssantemailboxtype", "ORG"}, {"structurefiness", "1"}},
                            "s", "k")
                    .entry);
}

TEST(LdapSettings, ReadsTheSectionAndItsMapping)
{
    Poco::AutoPtr<Poco::Util::MapConfiguration> config(new Poco::Util::MapConfiguration);
    EXPECT_FALSE(hasLdapSource(*config));
    config->setString("directory.ldap.uri", "ldaps://ldap.test:636");
    config->setString("directory.ldap.base", "ou=people,dc=test");
    config->setString("directory.ldap.name", "region");
    config->setString("directory.ldap.scope", "one");
    config->setString("directory.ldap.max_delete_share", "0.5");
    config->setString("directory.ldap.map.mailbox", "mail");
    config->setString("directory.ldap.map.mailbox_type", "mailboxType");
    ASSERT_TRUE(hasLdapSource(*config));
    const auto settings = loadLdapSettings(*config);
    EXPECT_EQ(settings.source(), "ldap:region");
    EXPECT_TRUE(settings.oneLevel);
    EXPECT_EQ(settings.filter, "(objectClass=*)");
    EXPECT_DOUBLE_EQ(settings.maxDeleteShare, 0.5);
    EXPECT_EQ(settings.mapping.fields().at("mailbox_type"), "mailboxtype");
    EXPECT_EQ(settings.mode, SyncMode::RefreshOnly);
    EXPECT_EQ(settings.syncInterval, std::chrono::minutes(60));

    config->setString("directory.ldap.mode", "refreshAndPersist");
    config->setString("directory.ldap.sync_interval_minutes", "0.5");
    EXPECT_EQ(loadLdapSettings(*config).mode, SyncMode::RefreshAndPersist);
    EXPECT_EQ(loadLdapSettings(*config).syncInterval, std::chrono::seconds(30));
    config->setString("directory.ldap.mode", "persist");
    EXPECT_THROW(loadLdapSettings(*config), std::invalid_argument);
    config->setString("directory.ldap.mode", "refreshOnly");
    config->setString("directory.ldap.sync_interval_minutes", "0");
    EXPECT_THROW(loadLdapSettings(*config), std::invalid_argument);
    config->setString("directory.ldap.sync_interval_minutes", "60");

    config->setString("directory.ldap.uri", "http://ldap.test");
    EXPECT_THROW(loadLdapSettings(*config), std::invalid_argument);
    config->setString("directory.ldap.uri", "ldap://ldap.test");
    config->setString("directory.ldap.bind_dn", "cn=reader");
    EXPECT_THROW(loadLdapSettings(*config), std::invalid_argument);  // no password_file
}
