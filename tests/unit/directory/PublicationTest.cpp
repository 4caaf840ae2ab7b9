#include "DirectoryFixture.h"

#include "directory/DirectoryQueries.h"
#include "directory/LdapPublish.h"
#include "directory/NationalFileExport.h"
#include "directory/NationalFileImport.h"
#include "directory/Publication.h"

#include <Poco/AutoPtr.h>
#include <Poco/Util/MapConfiguration.h>

#include <algorithm>
#include <sstream>

using namespace plexus::directory;

namespace {

class PublicationTest : public test::DirectoryFixture {};

std::size_t fieldCount(const std::string& line) { return static_cast<std::size_t>(std::ranges::count(line, '|')) + 1; }

MappedEntry doctor()
{
    return MappedEntry{Mailbox{"local", "dr.house@hopital.test", "dr.house@hopital.test", "PER", "810001234567",
                               "750000001", "", false},
                       Person{"", "", "810001234567", "DR", "House", "Gregory", "10", "Médecin", "SM04",
                              "Néphrologie", "L"},
                       Structure{"", "", "750000001", "", "Hôpital Princeton", "12 rue de la Paix", "75002", "Paris",
                                 "75"}};
}

}  // namespace

TEST(Publication, PlanSeparatesAddsChangesRemovalsAndUnchanged)
{
    const PublicationState previous{{"same@x.test", {"h1", "mail=same@x.test,o=t"}},
                                    {"edited@x.test", {"h2", "mail=edited@x.test,o=t"}},
                                    {"moved@x.test", {"h3", "cn=old,o=t"}},
                                    {"gone@x.test", {"h4", "mail=gone@x.test,o=t"}}};
    const std::vector<PublicationItem> current{{"new@x.test", {"h5", "mail=new@x.test,o=t"}},
                                               {"same@x.test", {"h1", "mail=same@x.test,o=t"}},
                                               {"edited@x.test", {"h2b", "mail=edited@x.test,o=t"}},
                                               {"moved@x.test", {"h3", "cn=new,o=t"}}};
    const auto plan = planPublication(current, previous);
    EXPECT_EQ(plan.added, std::vector<std::size_t>{0});
    EXPECT_EQ(plan.changed, (std::vector<std::size_t>{2, 3}));
    ASSERT_EQ(plan.removed.size(), 1u);
    EXPECT_EQ(plan.removed[0].first, "gone@x.test");
    EXPECT_EQ(plan.removed[0].second.dn, "mail=gone@x.test,o=t");
    EXPECT_EQ(plan.unchanged, 1u);

    const auto again = planPublication(current, {{"new@x.test", current[0].state},
                                                 {"same@x.test", current[1].state},
                                                 {"edited@x.test", current[2].state},
                                                 {"moved@x.test", current[3].state}});
    EXPECT_TRUE(again.added.empty() && again.changed.empty() && again.removed.empty());
    EXPECT_EQ(again.unchanged, 4u);
}

TEST(Publication, HashTellsPartsApartAndIsStable)
{
    EXPECT_EQ(publicationHash({"ab", "c"}), publicationHash({"ab", "c"}));
    EXPECT_NE(publicationHash({"ab", "c"}), publicationHash({"a", "bc"}));
    EXPECT_NE(publicationHash({"abc"}), publicationHash({"ab", "c"}));
    EXPECT_EQ(publicationHash({}).size(), 64u);
}

TEST_F(PublicationTest, StateIsRecordedPerTarget)
{
    auto& db = store().database();
    recordPublished(db, "ldap a", "x@t", {"h", "mail=x@t,o=a"});
    recordPublished(db, "export", "x@t", {"e", ""});
    recordPublished(db, "ldap a", "x@t", {"h2", "mail=x@t,o=a"});
    EXPECT_EQ(publicationState(db, "ldap a"), (PublicationState{{"x@t", {"h2", "mail=x@t,o=a"}}}));
    forgetPublished(db, "ldap a", "x@t");
    EXPECT_TRUE(publicationState(db, "ldap a").empty());
    EXPECT_EQ(publicationState(db, "export").size(), 1u);
}

TEST_F(PublicationTest, LocalMailboxIsCompletedFromTheDirectoryCopy)
{
    auto batch = store().begin();
    batch.upsert(person("810001234567", "Jeanne", "Dupont"));
    batch.upsert(structure("750000001", "Clinique du Parc", "Lyon"));
    batch.commit();

    const auto known = describeLocalMailbox(store().database(), {"j.dupont@h.test", "PER", "810001234567", ""});
    EXPECT_EQ(known.mailbox.address, "j.dupont@h.test");
    EXPECT_EQ(known.mailbox.ownerNationalId, "810001234567");
    ASSERT_TRUE(known.person);
    EXPECT_EQ(known.person->lastName, "Dupont");
    EXPECT_FALSE(known.structure);

    const auto org = describeLocalMailbox(store().database(), {"accueil@h.test", "ORG", "", "750000001"});
    ASSERT_TRUE(org.structure);
    EXPECT_EQ(org.structure->city, "Lyon");
    EXPECT_EQ(org.mailbox.ownerStructureId, "750000001");

    const auto unknown = describeLocalMailbox(store().database(), {"app@h.test", "APP", "", "12345678901234"});
    ASSERT_TRUE(unknown.structure);
    EXPECT_EQ(unknown.structure->siret, "12345678901234");
    EXPECT_TRUE(unknown.structure->name.empty());
}

TEST(Publication, MappingAttributesAreTheInverseOfTheSyncMapping)
{
    const auto mapping = LdapMapping::fromFields({{"mailbox", "mssanteAddress"},
                                                  {"mailbox_type", "mssanteMailboxType"},
                                                  {"national_id", "healthNationalId"},
                                                  {"last_name", "sn"},
                                                  {"first_name", "givenName"},
                                                  {"finess", "structureFiness"},
                                                  {"city", "structureCity"},
                                                  {"service", "mssanteService"},
                                                  {"hidden", "mssanteHidden"}});
    const auto attributes = mapping.attributesOf(doctor());
    EXPECT_EQ(attributes.at("sn"), "House");
    EXPECT_EQ(attributes.at("mssantehidden"), "FALSE");
    EXPECT_FALSE(attributes.contains("mssanteservice"));  // no value: no attribute
    const auto back = mapping.map(attributes, "ldap:x", "k");
    ASSERT_TRUE(back.entry) << back.problem;
    EXPECT_EQ(back.entry->mailbox.address, "dr.house@hopital.test");
    EXPECT_EQ(back.entry->person->firstName, "Gregory");
    EXPECT_EQ(back.entry->structure->finess, "750000001");
}

TEST(Publication, DnValuesAreEscapedByLibldap)
{
    EXPECT_EQ(entryDn("mail", "dr.house@h.test", "ou=p,dc=t"), "mail=dr.house@h.test,ou=p,dc=t");
    // Special characters as hex pairs (RFC 4514 §2.4 allows either form).
    EXPECT_EQ(entryDn("mail", "a+b,c=\"d\"@h.test", "ou=p,dc=t"), R"(mail=a\2Bb\2Cc\3D\22d\22@h.test,ou=p,dc=t)");
    EXPECT_EQ(entryDn("cn", " lead#", "o=t"), R"(cn=\20lead#,o=t)");
}

TEST(Publication, SettingsNeedObjectClassesAndAMappedRdn)
{
    Poco::AutoPtr<Poco::Util::MapConfiguration> config(new Poco::Util::MapConfiguration);
    EXPECT_FALSE(hasPublishTarget(*config));
    config->setString("directory.publish.uri", "ldap://ldap.test");
    config->setString("directory.publish.base", "ou=mssante,dc=test");
    config->setString("directory.publish.map.mailbox", "mail");
    config->setString("directory.publish.map.mailbox_type", "mailboxType");
    EXPECT_THROW(loadPublishSettings(*config), std::invalid_argument);  // no object_class
    config->setString("directory.publish.object_class", "top, mssanteEntry");
    const auto settings = loadPublishSettings(*config);
    EXPECT_EQ(settings.objectClasses, (std::vector<std::string>{"top", "mssanteEntry"}));
    EXPECT_EQ(settings.rdnAttribute, "mail");  // the mailbox's attribute by default
    config->setString("directory.publish.rdn", "cn");
    EXPECT_THROW(loadPublishSettings(*config), std::invalid_argument);  // not mapped
    config->setString("directory.publish.object_class", "top, bad)(class");
    config->setString("directory.publish.rdn", "mail");
    EXPECT_THROW(loadPublishSettings(*config), std::invalid_argument);
}

TEST(NationalFileExport, FieldsCannotBreakLinesOrColumns)
{
    EXPECT_EQ(exportField("Cardiologie | Rythmologie"), "Cardiologie   Rythmologie");
    EXPECT_EQ(exportField("ligne 1\r\nligne 2\tfin"), "ligne 1  ligne 2 fin");
    EXPECT_EQ(exportField("  Hôpital  "), "Hôpital");
    EXPECT_EQ(exportField("|\n"), "");

    auto entry = doctor();
    entry.mailbox.service = "Urgences|Nuit\nGarde";
    const auto line = exportLine(entry);
    EXPECT_EQ(line.find('\n'), std::string::npos);
    EXPECT_EQ(fieldCount(line), fieldCount(exportHeader()));
    EXPECT_NE(line.find("|Urgences Nuit Garde|"), std::string::npos);
    EXPECT_TRUE(line.starts_with("PER|dr.house@hopital.test|||810001234567||750000001|"));
    EXPECT_TRUE(line.ends_with("|N"));
}

TEST(NationalFileExport, HeaderHasTheImportersColumnNames)
{
    const auto header = exportHeader();
    EXPECT_TRUE(header.starts_with("Type BAL|Adresse BAL|Type Identifiant PP|Identifiant PP|"
                                   "Identification nationale PP|"));
    EXPECT_TRUE(header.ends_with("|Département structure BAL|Pays structure BAL|Liste rouge"));
    EXPECT_EQ(fieldCount(header), 32u);
}

TEST_F(PublicationTest, ExportReadsBackThroughTheImporter)
{
    auto org = doctor();
    org.mailbox = Mailbox{"local", "accueil@hopital.test", "accueil@hopital.test", "ORG", "", "750000001",
                          "Accueil", false};
    org.person.reset();
    std::string file = exportHeader() + "\n" + exportLine(doctor()) + "\n" + exportLine(org) + "\n";
    std::istringstream in(file);
    const auto report = importNationalFile(store(), NationalFileKind::correspondance, in);
    EXPECT_EQ(report.skipped, 0u);
    EXPECT_EQ(report.mailboxes.added, 2u);

    const auto hit = lookupAddress(store().database(), "dr.house@hopital.test");
    ASSERT_TRUE(hit);
    EXPECT_EQ(hit->mailbox.type, "PER");
    EXPECT_EQ(hit->mailbox.ownerNationalId, "810001234567");
    EXPECT_EQ(hit->mailbox.ownerStructureId, "750000001");
    ASSERT_TRUE(hit->person);
    EXPECT_EQ(hit->person->lastName, "House");
    EXPECT_EQ(hit->person->specialtyLabel, "Néphrologie");
    ASSERT_TRUE(hit->structure);
    EXPECT_EQ(hit->structure->name, "Hôpital Princeton");
    EXPECT_EQ(hit->structure->address, "12 rue de la Paix");
    EXPECT_EQ(hit->structure->city, "Paris");
    const auto accueil = lookupAddress(store().database(), "accueil@hopital.test");
    ASSERT_TRUE(accueil);
    EXPECT_EQ(accueil->mailbox.type, "ORG");
    EXPECT_EQ(accueil->mailbox.service, "Accueil");
}

TEST_F(PublicationTest, ExportCountsWhatChangedSinceTheLastOne)
{
    const auto path = (dir_ / "export.txt").string();
    auto second = doctor();
    second.mailbox.address = "second@hopital.test";
    auto first = exportNationalFile(store().database(), {doctor(), second}, path, false);
    EXPECT_EQ(first.added, 2u);
    auto dry = exportNationalFile(store().database(), {doctor()}, path, true);
    EXPECT_EQ(dry.removed, 1u);
    auto edited = doctor();
    edited.person->lastName = "Wilson";
    const auto next = exportNationalFile(store().database(), {edited}, path, false);
    EXPECT_EQ(next.mailboxes, 1u);
    EXPECT_EQ(next.changed, 1u);
    EXPECT_EQ(next.removed, 1u);
    EXPECT_EQ(next.added, 0u);
    const auto same = exportNationalFile(store().database(), {edited}, path, false);
    EXPECT_EQ(same.unchanged, 1u);
    EXPECT_EQ(same.added + same.changed + same.removed, 0u);
}
