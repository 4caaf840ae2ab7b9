#include "DirectoryFixture.h"

#include "directory/DirectoryQueries.h"

#include <algorithm>
#include <set>

namespace plexus::directory::test {

namespace {

class SearchFixture : public DirectoryFixture {
protected:
    std::vector<std::string> addresses(const SearchQuery& query)
    {
        std::vector<std::string> found;
        for (const auto& hit : search(store().database(), query)) found.push_back(hit.mailbox.address);
        return found;
    }
};

class DirectorySearchTest : public SearchFixture {
protected:
    void SetUp() override
    {
        SearchFixture::SetUp();
        auto batch = store().begin();
        batch.upsert(person("810000000001", "Hélène", "Lefèvre"));
        batch.upsert(person("810000000002", "Léon", "Lefebvre"));
        auto nurse = person("810000000003", "Marc", "Martin");
        nurse.professionCode = "60";
        nurse.professionLabel = "Infirmier";
        nurse.specialtyCode = "";
        nurse.specialtyLabel = "";
        batch.upsert(nurse);
        batch.upsert(person("810000000004", "Claire", "Lefèvre-Secret"));
        batch.upsert(structure("750000001", "Hôpital Saint-Louis", "Paris"));
        batch.upsert(structure("130000001", "Clinique du Parc", "Marseille"));
        batch.upsert(mailbox("helene.lefevre@aphp.mssante.fr", "PER", "810000000001", "750000001"));
        batch.upsert(mailbox("leon.lefebvre@parc.mssante.fr", "PER", "810000000002", "130000001"));
        batch.upsert(mailbox("marc.martin@aphp.mssante.fr", "PER", "810000000003", "750000001"));
        batch.upsert(mailbox("cardiologie@aphp.mssante.fr", "ORG", "", "750000001"));
        auto secret = mailbox("claire@aphp.mssante.fr", "PER", "810000000004", "750000001");
        secret.hidden = true;
        batch.upsert(secret);
        batch.commit();
    }
};

TEST_F(DirectorySearchTest, NamePrefixIgnoresAccentsAndCase)
{
    EXPECT_EQ(addresses({.text = "lefev"}), (std::vector<std::string>{"helene.lefevre@aphp.mssante.fr"}));
    EXPECT_EQ(addresses({.text = "HELENE LEF"}), (std::vector<std::string>{"helene.lefevre@aphp.mssante.fr"}));
    EXPECT_EQ(addresses({.text = "Lefèbvre"}), (std::vector<std::string>{"leon.lefebvre@parc.mssante.fr"}));
}

TEST_F(DirectorySearchTest, HiddenMailboxesAreNeverFound)
{
    EXPECT_TRUE(addresses({.text = "claire"}).empty());
    EXPECT_TRUE(addresses({.text = "secret"}).empty());
    const auto all = addresses({.city = "paris"});
    EXPECT_EQ(all.size(), 3u);
    EXPECT_EQ(std::ranges::count(all, std::string("claire@aphp.mssante.fr")), 0);
}

TEST_F(DirectorySearchTest, NameMatchesRankAboveOtherFields)
{
    // "martin" is Marc Martin's name; "lefevre" etc. do not hold it. A structure
    // named after it would rank below the person.
    auto batch = store().begin();
    batch.upsert(structure("750000002", "Centre Martin Luther", "Paris"));
    batch.upsert(mailbox("accueil@luther.mssante.fr", "ORG", "", "750000002"));
    batch.upsert(mailbox("martin.guerin@aphp.mssante.fr", "PER", "810000000002", ""));
    batch.commit();
    const auto found = addresses({.text = "martin"});
    ASSERT_GE(found.size(), 2u);
    EXPECT_EQ(found[0], "marc.martin@aphp.mssante.fr");
}

TEST_F(DirectorySearchTest, FiltersNarrowTheResult)
{
    EXPECT_EQ(addresses({.profession = "infirmier"}), (std::vector<std::string>{"marc.martin@aphp.mssante.fr"}));
    EXPECT_EQ(addresses({.text = "le", .city = "marseille"}),
              (std::vector<std::string>{"leon.lefebvre@parc.mssante.fr"}));
    EXPECT_EQ(addresses({.text = "cardio", .structure = "saint louis"}),
              (std::vector<std::string>{"cardiologie@aphp.mssante.fr"}));
    EXPECT_EQ(addresses({.specialty = "SM54", .city = "Paris"}),
              (std::vector<std::string>{"helene.lefevre@aphp.mssante.fr"}));
    EXPECT_EQ(addresses({.text = "lef", .limit = 1}).size(), 1u);
}

TEST_F(DirectorySearchTest, QueryWithoutWordsFindsNothing)
{
    EXPECT_TRUE(addresses({}).empty());
    EXPECT_TRUE(addresses({.text = " -*^ "}).empty());
}

TEST_F(DirectorySearchTest, Fts5SyntaxInInputIsOnlyText)
{
    for (const std::string hostile :
         {"\"", "lef*", "lef\" OR \"martin", "name:martin", "NEAR(lefevre martin)", "^lef", "-lefevre", "(lef",
          "lef)", "martin OR", "AND", "NOT martin", "lef'; DROP TABLE mailboxes; --", "{name}: x", "\"\"\"*"}) {
        SCOPED_TRACE(hostile);
        EXPECT_NO_THROW(search(store().database(), {.text = hostile, .city = hostile}));
    }
    // Operators are plain words: "OR" is not a disjunction, so both words must match.
    EXPECT_TRUE(addresses({.text = "lefevre OR martin"}).empty());
    // A column filter in the text is two words, not a filter: nobody is named "name".
    EXPECT_TRUE(addresses({.text = "name:martin"}).empty());
    EXPECT_EQ(addresses({.text = "(lefev*"}), (std::vector<std::string>{"helene.lefevre@aphp.mssante.fr"}));
    const NameFolder folder(store().database());
    EXPECT_EQ(tierExpressions(folder, {.text = "a\"b OR c", .city = "x*"}).back(), R"("a"* "b"* "or"* "c"* city : "x")");
    EXPECT_EQ(lookupAddress(store().database(), "x' OR '1'='1"), std::nullopt);
}

TEST_F(DirectorySearchTest, WordsWithNonAsciiPunctuationAreSeveralWords)
{
    // U+2019 is a word break for the index: "d’Artagnan" is the words d and
    // artagnan, each matched on its own (the index keeps no positions for phrases).
    auto batch = store().begin();
    batch.upsert(person("810000000005", "Charles", "d\u2019Artagnan"));
    batch.upsert(mailbox("charles.dartagnan@aphp.mssante.fr", "PER", "810000000005", "750000001"));
    batch.commit();
    const std::vector<std::string> found{"charles.dartagnan@aphp.mssante.fr"};
    EXPECT_EQ(addresses({.text = "d\u2019Artagnan"}), found);
    EXPECT_EQ(addresses({.text = "D\u2019art"}), found);
    EXPECT_EQ(addresses({.text = "artagnan charles"}), found);
    EXPECT_EQ(addresses({.text = "Chàrles", .city = "Paris\u2019"}), found);
    const NameFolder folder(store().database());
    EXPECT_EQ(tierExpressions(folder, {.text = "d\u2019Art"}).front(), R"(name : "d" name : "art")");
    // Punctuation alone holds a criterion by its bytes but no word: nothing found, no error.
    EXPECT_TRUE(hasCriteria({.text = "\u2019\u2019"}));
    EXPECT_FALSE(hasCriteria({.text = "*:-()", .city = " "}));
    EXPECT_TRUE(addresses({.text = "\u2019\u2019"}).empty());
}

TEST_F(DirectorySearchTest, AddressStatusKnowsHiddenMailboxesAndAnEmptyCopy)
{
    auto& db = store().database();
    EXPECT_EQ(addressStatus(db, "Helene.Lefevre@APHP.mssante.fr"), AddressStatus::listed);
    EXPECT_EQ(addressStatus(db, "claire@aphp.mssante.fr"), AddressStatus::listed);  // liste rouge: exists
    EXPECT_EQ(addressStatus(db, "nobody@aphp.mssante.fr"), AddressStatus::unlisted);
    EXPECT_EQ(addressStatus(db, "x' OR '1'='1"), AddressStatus::unlisted);
    auto batch = store().begin();
    for (const auto& key : store().keys(RecordKind::mailbox, "ldap:test"))
        batch.remove(RecordKind::mailbox, "ldap:test", key);
    batch.commit();
    EXPECT_EQ(addressStatus(db, "helene.lefevre@aphp.mssante.fr"), AddressStatus::notLoaded);
}

TEST_F(DirectorySearchTest, ReadConnectionsMapTheFile)
{
    auto& db = store().database();
    mapForReads(db);
    auto mmapSize = db.prepare("PRAGMA mmap_size");
    ASSERT_TRUE(mmapSize.step());
    EXPECT_GT(mmapSize.int64(0), 0);
    EXPECT_EQ(addresses({.text = "lefev"}), (std::vector<std::string>{"helene.lefevre@aphp.mssante.fr"}));
}

TEST_F(DirectorySearchTest, TooLongFieldIsRefused)
{
    EXPECT_THROW(search(store().database(), {.text = std::string(300, 'a')}), InvalidQuery);
}

TEST_F(DirectorySearchTest, OwnerChangesReachTheIndex)
{
    auto batch = store().begin();
    auto renamed = person("810000000003", "Marc", "Martin-Durand");
    renamed.professionCode = "60";
    renamed.professionLabel = "Infirmier";
    renamed.specialtyCode = "";
    renamed.specialtyLabel = "";
    batch.upsert(renamed);
    batch.remove(RecordKind::person, "ldap:test", "uuid-810000000001");
    batch.commit();
    EXPECT_EQ(addresses({.text = "durand"}), (std::vector<std::string>{"marc.martin@aphp.mssante.fr"}));
    // Hélène's person record is gone: her mailbox no longer matches her name,
    // only its address.
    EXPECT_TRUE(addresses({.text = "helene", .profession = "medecin"}).empty());
    auto unhide = store().begin();
    unhide.upsert(mailbox("claire@aphp.mssante.fr", "PER", "810000000004", "750000001"));
    unhide.commit();
    EXPECT_EQ(addresses({.text = "claire"}), (std::vector<std::string>{"claire@aphp.mssante.fr"}));
}

TEST_F(DirectorySearchTest, NationalIdChangeMovesTheOwnerToOtherMailboxes)
{
    auto batch = store().begin();
    batch.upsert(mailbox("l.lefebvre@ville.mssante.fr", "PER", "810000000009", ""));
    auto moved = person("810000000002", "Léon", "Lefebvre");  // same record (key), new national id
    moved.nationalId = "810000000009";
    EXPECT_EQ(batch.upsert(moved), UpsertOutcome::changed);
    batch.commit();
    // The mailbox of the old id lost its owner (only its address says "leon"), the one of the new id has it.
    EXPECT_EQ(addresses({.text = "leon", .profession = "medecin"}),
              (std::vector<std::string>{"l.lefebvre@ville.mssante.fr"}));
}

TEST_F(DirectorySearchTest, StructureChangesReachTheIndex)
{
    auto batch = store().begin();
    batch.upsert(structure("130000001", "Clinique du Parc", "Aubagne"));
    batch.commit();
    EXPECT_EQ(addresses({.text = "leon", .city = "aubagne"}), (std::vector<std::string>{"leon.lefebvre@parc.mssante.fr"}));
    EXPECT_TRUE(addresses({.text = "leon", .city = "marseille"}).empty());
}

TEST_F(DirectorySearchTest, HiddenOrRemovedMailboxesLeaveTheIndex)
{
    auto batch = store().begin();
    auto hidden = mailbox("marc.martin@aphp.mssante.fr", "PER", "810000000003", "750000001");
    hidden.hidden = true;
    EXPECT_EQ(batch.upsert(hidden), UpsertOutcome::changed);
    EXPECT_TRUE(batch.remove(RecordKind::mailbox, "ldap:test", "uuid-cardiologie@aphp.mssante.fr"));
    batch.commit();
    EXPECT_TRUE(addresses({.text = "martin"}).empty());
    EXPECT_TRUE(addresses({.text = "cardiologie"}).empty());
    EXPECT_EQ(addresses({.city = "paris"}), (std::vector<std::string>{"helene.lefevre@aphp.mssante.fr"}));
    auto rows = store().database().prepare("SELECT count(*) FROM mailbox_search");
    rows.step();
    EXPECT_EQ(rows.int64(0), 2);  // one per visible mailbox, nothing left behind
}

TEST_F(DirectorySearchTest, RolledBackBatchLeavesTheIndexAsItWas)
{
    {
        auto batch = store().begin();
        batch.upsert(person("810000000001", "Hélène", "Renamed"));
        batch.remove(RecordKind::mailbox, "ldap:test", "uuid-leon.lefebvre@parc.mssante.fr");
    }
    auto batch = store().begin();
    batch.upsert(mailbox("new@aphp.mssante.fr", "ORG", "", "750000001"));
    batch.commit();
    EXPECT_EQ(addresses({.text = "lefev"}), (std::vector<std::string>{"helene.lefevre@aphp.mssante.fr"}));
    EXPECT_EQ(addresses({.text = "leon"}), (std::vector<std::string>{"leon.lefebvre@parc.mssante.fr"}));
    EXPECT_TRUE(addresses({.text = "renamed"}).empty());
}

TEST_F(DirectorySearchTest, SchemaFourMigrationRebuildsTheSearchRowsFromTheBaseTables)
{
    // A database left at version 3 with its search rows gone: opening it runs
    // migration 4, which recreates mailbox_search from the records (and 5).
    store().database().execute("DELETE FROM mailbox_search; PRAGMA user_version = 3;");
    EXPECT_TRUE(addresses({.text = "lefev"}).empty());
    store_ = std::make_unique<DirectoryStore>((dir_ / "directory.db").string());
    auto version = store().database().prepare("PRAGMA user_version");
    ASSERT_TRUE(version.step());
    EXPECT_EQ(version.int64(0), 5);
    EXPECT_EQ(addresses({.text = "le"}), (std::vector<std::string>{"leon.lefebvre@parc.mssante.fr",
                                                                   "helene.lefevre@aphp.mssante.fr"}));
    EXPECT_EQ(addresses({.city = "paris"}).size(), 3u);  // hidden mailbox still left out
}

// Persons with a mailbox each, stored in the order given (so the id order is not the name order).
class DirectoryRankingTest : public SearchFixture {
protected:
    void addPersons(const std::vector<std::pair<std::string, std::string>>& firstAndLastNames)
    {
        auto batch = store().begin();
        for (const auto& [first, last] : firstAndLastNames) {
            const std::string id = "8" + std::to_string(10000000000 + ++persons_);
            batch.upsert(person(id, first, last));
            batch.upsert(mailbox("p" + std::to_string(persons_) + "@x.mssante.fr", "PER", id, ""));
        }
        batch.commit();
    }

    // Display names of what a search finds, in its order.
    std::vector<std::string> names(const SearchQuery& query)
    {
        std::vector<std::string> found;
        for (const auto& hit : search(store().database(), query)) found.push_back(hit.displayName());
        return found;
    }

private:
    int persons_ = 0;
};

TEST_F(DirectoryRankingTest, WholeNameWordsRankAbovePrefixes)
{
    addPersons({{"Paul", "Martineau"}, {"Zoé", "Martin"}, {"Anne", "Martinez"}, {"Anne", "Martin"}});
    EXPECT_EQ(names({.text = "martin"}),
              (std::vector<std::string>{"Anne Martin", "Zoé Martin", "Paul Martineau", "Anne Martinez"}));
    // Every word whole: "anne martin" is Anne Martin first, though both Annes start with it.
    EXPECT_EQ(names({.text = "martin anne"}), (std::vector<std::string>{"Anne Martin", "Anne Martinez"}));
}

TEST_F(DirectoryRankingTest, EqualMatchesAreOrderedByLastThenFirstNameIgnoringCase)
{
    addPersons({{"Alice", "DURAND"}, {"zoé", "Dupont"}, {"Anne", "dupuis"}, {"Bruno", "DUPONT"}});
    EXPECT_EQ(names({.text = "du"}),
              (std::vector<std::string>{"Bruno DUPONT", "zoé Dupont", "Anne dupuis", "Alice DURAND"}));
    EXPECT_EQ(names({.text = "DU", .limit = 2}), (std::vector<std::string>{"Bruno DUPONT", "zoé Dupont"}));
}

TEST_F(DirectoryRankingTest, NameMatchesRankAboveMatchesInOtherFields)
{
    // "Cardio" is Zoé Cardiot's name and Anne Roux's specialty label's first word.
    addPersons({{"Anne", "Roux"}, {"Zoé", "Cardiot"}});
    auto batch = store().begin();
    auto cardiologist = person("810000000001", "Anne", "Roux");
    cardiologist.specialtyLabel = "Cardiologie";
    batch.upsert(cardiologist);
    batch.commit();
    EXPECT_EQ(names({.text = "cardio"}), (std::vector<std::string>{"Zoé Cardiot", "Anne Roux"}));
}

TEST_F(DirectoryRankingTest, AccentedNamesSortWithTheirLetter)
{
    // Byte order would put É after Z, and after F among first names.
    addPersons({{"Anne", "Zola"}, {"Anne", "Éluard"}, {"Anne", "Eiffel"}, {"Fanny", "Faure"}, {"Émilie", "Faure"}});
    EXPECT_EQ(names({.text = "anne"}), (std::vector<std::string>{"Anne Eiffel", "Anne Éluard", "Anne Zola"}));
    EXPECT_EQ(names({.text = "faure"}), (std::vector<std::string>{"Émilie Faure", "Fanny Faure"}));
}

TEST_F(DirectoryRankingTest, OneLetterWordsArePrefixesRankedLikeLongerOnes)
{
    // "Le Goff" cut after four letters: "le g", its "g" a one-letter prefix.
    addPersons({{"Yann", "Le Goff"}, {"Paul", "Legrand"}, {"Léa", "Guérin"}, {"Anne", "Le Gall"}, {"Marc", "Leroy"}});
    auto batch = store().begin();
    batch.upsert(structure("380000001", "Clinique des Alpes", "Grenoble"));
    auto leroy = person("810000000005", "Marc", "Leroy");
    batch.upsert(leroy);
    batch.upsert(mailbox("marc.leroy@alpes.mssante.fr", "PER", "810000000005", "380000001"));
    batch.commit();
    // Names first (by last name, folded: Guérin before Le ...), then the
    // entries whose "g" is in another field: the specialty "Médecine générale"
    // of Paul Legrand's and Marc Leroy's mailboxes, the city of Marc Leroy's second.
    const std::vector<std::string> expected{"Léa Guérin",   "Anne Le Gall", "Yann Le Goff",
                                            "Paul Legrand", "Marc Leroy",   "Marc Leroy"};
    EXPECT_EQ(names({.text = "le g"}), expected);
    EXPECT_EQ(names({.text = "G"}), expected);
    EXPECT_EQ(names({.text = "l g", .limit = 2}), (std::vector<std::string>{"Léa Guérin", "Anne Le Gall"}));
}

TEST_F(DirectoryRankingTest, FiltersApplyToEveryTierOfAShortPrefix)
{
    addPersons({{"Yann", "Le Goff"}, {"Anne", "Le Gall"}});
    auto batch = store().begin();
    auto nurse = person("810000000001", "Yann", "Le Goff");
    nurse.professionCode = "60";
    nurse.professionLabel = "Infirmier";
    batch.upsert(nurse);
    batch.commit();
    EXPECT_EQ(names({.text = "le g", .profession = "infirmier"}), (std::vector<std::string>{"Yann Le Goff"}));
    EXPECT_EQ(names({.text = "l", .profession = "60"}), (std::vector<std::string>{"Yann Le Goff"}));
    EXPECT_EQ(names({.text = "le g", .profession = "médecin"}), (std::vector<std::string>{"Anne Le Gall"}));
}

TEST_F(DirectoryRankingTest, AManyTimesSharedNameStillYieldsTheLimitInNameOrder)
{
    // More whole-name matches than a tier ranks (100): the result is still
    // full, of the best tier, sorted and without repeats.
    std::vector<std::pair<std::string, std::string>> many;
    for (int i = 0; i < 600; ++i) many.emplace_back("P" + std::to_string(1000 - i), i % 3 ? "Martin" : "Martinez");
    addPersons(many);
    const auto found = names({.text = "martin", .limit = 60});
    ASSERT_EQ(found.size(), 60u);
    EXPECT_TRUE(std::ranges::is_sorted(found));
    EXPECT_EQ(std::ranges::count_if(found, [](const std::string& name) { return name.ends_with(" Martin"); }), 60);
    const auto all = names({.text = "martin", .limit = 1000});
    ASSERT_EQ(all.size(), 600u);
    EXPECT_EQ(std::set<std::string>(all.begin(), all.end()).size(), 600u);
    EXPECT_TRUE(std::ranges::all_of(all.begin(), all.begin() + 400,
                                    [](const std::string& name) { return name.ends_with(" Martin"); }));
}

}  // namespace

}  // namespace plexus::directory::test
