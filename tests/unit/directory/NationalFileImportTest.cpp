#include "DirectoryFixture.h"

#include "directory/DirectoryQueries.h"
#include "directory/NationalFileImport.h"

#include <map>
#include <sstream>

namespace plexus::directory::test {

namespace {

// The 31 columns of Extraction_Correspondance_MSSante, in a shuffled order
// to prove that columns are found by name.
const std::vector<std::string> correspondanceHeader{
    "Adresse BAL", "Type BAL", "Type Identifiant PP", "Identifiant PP", "Identification nationale PP",
    "Type identifiant structure", "Identification Structure", "Service de rattachement", "Civilite exercice",
    "Nom d'exercice", "Prénom d'exercice", "Categorie professionnelle", "Libelle categorie professionnelle",
    "Code profession", "Libelle profession", "Code savoir-faire", "Libelle savoir-faire", "Dematerialisation",
    "Raison sociale structure BAL", "Enseigne commerciale structure BAL", "Complément localisation structure BAL",
    "Complément distribution structure BAL", "Numéro voie structure BAL", "Complément numéro voie structure BAL",
    "Type voie structure BAL", "Libellé voie structure BAL", "Lieu-dit structure BAL",
    "Ligne acheminement structure BAL", "Code postal structure BAL", "Département structure BAL",
    "Pays structure BAL"};

struct Line {
    std::string address, type, nationalId, lastName, firstName, structureId = "750000001";
};

std::string correspondanceLine(const Line& l)
{
    const std::map<std::string, std::string> values{{"Adresse BAL", l.address},
                                                    {"Type BAL", l.type},
                                                    {"Identification nationale PP", l.nationalId},
                                                    {"Identification Structure", l.structureId},
                                                    {"Nom d'exercice", l.lastName},
                                                    {"Prénom d'exercice", l.firstName},
                                                    {"Code profession", l.nationalId.empty() ? "" : "10"},
                                                    {"Libelle profession", l.nationalId.empty() ? "" : "Médecin"},
                                                    {"Raison sociale structure BAL", "Hôpital Saint-Louis"},
                                                    {"Ligne acheminement structure BAL", "75010 PARIS"},
                                                    {"Code postal structure BAL", "75010"},
                                                    {"Département structure BAL", "75"}};
    std::string line;
    for (const auto& column : correspondanceHeader) {
        const auto value = values.find(column);
        line += (value == values.end() ? "" : value->second) + "|";
    }
    return line + "\n";
}

std::string headerLine(const std::vector<std::string>& header)
{
    std::string line;
    for (const auto& column : header) line += column + "|";
    return line + "\n";
}

class NationalFileImportTest : public DirectoryFixture {
protected:
    ImportReport import(const std::string& content, ImportOptions options = {})
    {
        std::istringstream in(content);
        return importNationalFile(store(), NationalFileKind::correspondance, in, options);
    }

    std::string file(const std::vector<Line>& lines)
    {
        std::string content = headerLine(correspondanceHeader);
        for (const auto& line : lines) content += correspondanceLine(line);
        return content;
    }

    std::vector<Line> tenMailboxes()
    {
        std::vector<Line> lines;
        for (int i = 0; i < 10; ++i)
            lines.push_back({"dr" + std::to_string(i) + "@aphp.mssante.fr", "PER", "81000000000" + std::to_string(i),
                             "Lefèvre" + std::to_string(i), "Hélène"});
        return lines;
    }
};

TEST_F(NationalFileImportTest, FirstImportAddsEverything)
{
    auto lines = tenMailboxes();
    lines.push_back({"cardiologie@aphp.mssante.fr", "ORG", "", "", ""});
    const auto report = import(file(lines));
    EXPECT_EQ(report.lines, 11u);
    EXPECT_EQ(report.skipped, 0u);
    EXPECT_EQ(report.mailboxes.added, 11u);
    EXPECT_EQ(report.persons.added, 10u);
    EXPECT_EQ(report.structures.added, 1u);
    const auto hit = lookupAddress(store().database(), "dr3@aphp.mssante.fr");
    ASSERT_TRUE(hit);
    EXPECT_EQ(hit->mailbox.source, "file:correspondance");
    EXPECT_EQ(hit->displayName(), "Hélène Lefèvre3");
    ASSERT_TRUE(hit->structure);
    EXPECT_EQ(hit->structure->city, "PARIS");
    EXPECT_EQ(search(store().database(), {.text = "lefevre3"}).size(), 1u);
}

TEST_F(NationalFileImportTest, SecondImportIsADiff)
{
    import(file(tenMailboxes()));
    auto lines = tenMailboxes();
    lines[0].lastName = "Martin";                                      // a change
    lines.erase(lines.begin() + 9);                                    // a delete
    lines.push_back({"new@aphp.mssante.fr", "PER", "810000000099", "Neuf", "Paul"});  // an add
    const auto report = import(file(lines));
    EXPECT_EQ(report.mailboxes.added, 1u);
    EXPECT_EQ(report.mailboxes.deleted, 1u);
    EXPECT_EQ(report.mailboxes.unchanged, 9u);
    EXPECT_EQ(report.persons.changed, 1u);
    EXPECT_EQ(report.persons.deleted, 1u);
    EXPECT_FALSE(lookupAddress(store().database(), "dr9@aphp.mssante.fr"));
    EXPECT_EQ(search(store().database(), {.text = "martin"}).size(), 1u);
}

TEST_F(NationalFileImportTest, TooManyDeletesStopUnlessForced)
{
    import(file(tenMailboxes()));
    auto lines = tenMailboxes();
    lines.resize(5);
    EXPECT_THROW(import(file(lines)), ImportError);
    EXPECT_TRUE(lookupAddress(store().database(), "dr9@aphp.mssante.fr"));  // nothing changed
    const auto report = import(file(lines), {.force = true});
    EXPECT_EQ(report.mailboxes.deleted, 5u);
    EXPECT_FALSE(lookupAddress(store().database(), "dr9@aphp.mssante.fr"));
}

TEST_F(NationalFileImportTest, HeaderThatNoLongerMapsIsRefused)
{
    import(file(tenMailboxes()));
    auto header = correspondanceHeader;
    header[0] = "Adresse de la BAL";   // renamed
    header.erase(header.begin() + 1);  // "Type BAL" gone
    std::string content = headerLine(header) + "x|y\n";
    try {
        import(content);
        FAIL() << "imported";
    } catch (const ImportError& e) {
        EXPECT_NE(std::string(e.what()).find("Type BAL, Adresse BAL"), std::string::npos) << e.what();
    }
    EXPECT_EQ(store().count(RecordKind::mailbox, "file:correspondance"), 10u);
    EXPECT_THROW(import(""), ImportError);
}

TEST_F(NationalFileImportTest, MalformedLinesAreSkippedAndCounted)
{
    std::string content = file(tenMailboxes());
    content += "too|few|fields\n";
    content += correspondanceLine({"no-at-sign.aphp.mssante.fr", "PER", "810000000050", "X", "Y"});
    content += correspondanceLine({"x@aphp.mssante.fr", "BAD", "810000000051", "X", "Y"});
    content += std::string(20000, 'a') + "\n";
    content += correspondanceLine({"last@aphp.mssante.fr", "PER", "810000000052", "Dernier", "Z"});
    const auto report = import(content);
    EXPECT_EQ(report.lines, 15u);
    EXPECT_EQ(report.skipped, 4u);
    EXPECT_EQ(report.mailboxes.added, 11u);
    ASSERT_EQ(report.skipReasons.size(), 4u);
    EXPECT_EQ(report.skipReasons[0], "line 12: 3 fields instead of 31");
    EXPECT_EQ(report.skipReasons[3], "line 15: line too long");
    EXPECT_TRUE(lookupAddress(store().database(), "last@aphp.mssante.fr"));
}

TEST_F(NationalFileImportTest, PersonActivityFileFillsPersons)
{
    const std::string content =
        "Type d'identifiant PP|Identifiant PP|Identification nationale PP|Code civilité d'exercice|Nom d'exercice|"
        "Prénom d'exercice|Code profession|Libellé profession|Code savoir-faire|Libellé savoir-faire|"
        "Code mode exercice|\r\n"
        "8|10001234567|810001234567|DR|Dupont|Jeanne|10|Médecin|SM54|Médecine générale|L|\r\n"
        "8|10001234567|810001234567|DR|Dupont|Jeanne|10|Médecin|SM54|Médecine générale|S|\r\n"
        "0|751234567|0751234567|MME|Petit|Anne|60|Infirmier|||S|\r\n";
    std::istringstream in(content);
    const auto report = importNationalFile(store(), NationalFileKind::personneActivite, in);
    EXPECT_EQ(report.lines, 3u);
    EXPECT_EQ(report.persons.added, 2u);
    const auto persons = personsOf(store().database(), "810001234567");
    ASSERT_EQ(persons.size(), 1u);
    EXPECT_EQ(persons[0].practiceMode, "L");  // the first activity
    EXPECT_EQ(persons[0].source, "file:personne-activite");
}

TEST(NationalFileKindTest, FromTheFileName)
{
    EXPECT_EQ(nationalFileKindOf("/tmp/Extraction_Correspondance_MSSante_202612010400.txt"),
              NationalFileKind::correspondance);
    EXPECT_EQ(nationalFileKindOf("PS_LibreAcces_Personne_activite_202612010400.txt"),
              NationalFileKind::personneActivite);
    EXPECT_FALSE(nationalFileKindOf("annuaire.csv"));
}

}  // namespace

}  // namespace plexus::directory::test
