#include "trust/Whitelist.h"

#include "PrintTrust.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <fstream>
#include <iostream>
#include <iterator>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace plexus::trust {
namespace {

const std::string kRealList = PLEXUS_SHARED_DIR "/data/mssante/listeblanche-2025-03-13.xml";
constexpr const char* kMipih = "CN=medimail-asip.mipih.fr,OU=318310021300028,O=GIP MIPIH,ST=Haute-Garonne (31),C=FR";
constexpr const char* kJeebop =
    "CN=mssante.jeebop.fr,OU=341518515600056,O=WRAPTOR LABORATORIES,ST=Bouches-du-Rhône (13),C=FR";

std::string readFile(const std::string& path)
{
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

struct Entry {
    std::string name;
    std::string dn;
};

std::string listXml(const std::vector<Entry>& entries)
{
    std::ostringstream xml;
    xml << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        << "<ListeBlancheMSSante xmlns=\"https://listeblanche.mssante.fr/schema\">\n"
        << "  <DateDeGeneration>2025-03-13T14:54:10Z</DateDeGeneration>\n"
        << "  <ListeDomaines>\n";
    for (const auto& entry : entries) {
        xml << "    <Domaine>\n      <Nom>" << entry.name << "</Nom>\n      <Description>test</Description>\n"
            << "      <DNCertificatOperateur>" << entry.dn << "</DNCertificatOperateur>\n"
            << "      <DateMAJ>2025-03-13T14:54:10Z</DateMAJ>\n    </Domaine>\n";
    }
    xml << "  </ListeDomaines>\n</ListeBlancheMSSante>\n";
    return xml.str();
}

std::string parseError(const std::string& xml)
{
    try {
        Whitelist::parse(xml);
    } catch (const WhitelistError& e) {
        return e.what();
    }
    ADD_FAILURE() << "accepted:\n" << xml;
    return {};
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

std::string replaceAll(std::string text, const std::string& from, const std::string& to)
{
    for (auto at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size()))
        text.replace(at, from.size(), to);
    return text;
}

class RealWhitelist : public testing::Test {
protected:
    // Loaded once, in SetUp rather than SetUpTestSuite: a missing file must fail the tests, not skip them.
    void SetUp() override
    {
        if (list) return;
        const auto start = std::chrono::steady_clock::now();
        list = std::make_unique<Whitelist>(Whitelist::loadFile(kRealList));
        const std::chrono::duration<double, std::milli> elapsed = std::chrono::steady_clock::now() - start;
        std::cout << "[ timing   ] real whitelist (" << list->entryCount() << " entries) loaded in " << elapsed.count()
                  << " ms\n";
    }
    static void TearDownTestSuite() { list.reset(); }
    static inline std::unique_ptr<Whitelist> list;
};

TEST_F(RealWhitelist, HasEveryDomaineEntryAndEveryDistinctName)
{
    const std::string text = readFile(kRealList);
    // Counted independently: every <Nom>…</Nom>, lower-cased (the list has no spaces around names).
    std::set<std::string> names;
    std::size_t entries = 0;
    for (auto open = text.find("<Nom>"); open != std::string::npos; open = text.find("<Nom>", open + 1)) {
        const auto start = open + std::string_view("<Nom>").size();
        std::string name = text.substr(start, text.find("</Nom>", start) - start);
        std::ranges::transform(name, name.begin(), [](unsigned char c) { return std::tolower(c); });
        names.insert(name);
        ++entries;
    }
    EXPECT_EQ(6554u, entries);
    EXPECT_EQ(6554u, list->entryCount());
    EXPECT_EQ(names.size(), list->domainCount());
    EXPECT_EQ("2025-03-13T14:54:10Z", list->generatedAt());
}

TEST_F(RealWhitelist, KnownDomainAllowsItsOperatorOnly)
{
    EXPECT_TRUE(list->containsDomain("adsea29.mssante.fr"));
    EXPECT_TRUE(list->allows("adsea29.mssante.fr", DistinguishedName::parse(kMipih)));
    EXPECT_FALSE(list->allows("adsea29.mssante.fr", DistinguishedName::parse(kJeebop)));
    EXPECT_TRUE(list->knowsOperator(DistinguishedName::parse(kJeebop)));
    EXPECT_EQ(std::vector<std::string>{kMipih}, list->operatorDns("adsea29.mssante.fr"));
}

TEST_F(RealWhitelist, DomainsCompareCaseInsensitivelyAndIgnoreATrailingDot)
{
    EXPECT_TRUE(list->containsDomain("ADSEA29.MSSante.fr."));
    EXPECT_TRUE(list->allows("ADSEA29.mssante.FR", DistinguishedName::parse(kMipih)));
    EXPECT_TRUE(list->containsDomain("uc-cmp.mssante.fr"));  // written UC-CMP in the list
    EXPECT_FALSE(list->containsDomain("adsea29.mssante.fr.."));
    EXPECT_FALSE(list->containsDomain("mssante.fr"));
    EXPECT_FALSE(list->allows("unknown.example.fr", DistinguishedName::parse(kMipih)));
    EXPECT_TRUE(list->operatorDns("unknown.example.fr").empty());
}

TEST_F(RealWhitelist, DomainListedWithSeveralOperators)
{
    const auto dns = list->operatorDns("dgs.mssante.fr");
    EXPECT_EQ(5u, dns.size());
    for (const char* dn :
         {"CN=dgs.mssante.fr,OU=313001653800014,O=MINISTERE DES AFFAIRES SOCIALES ET DE LA,ST=Paris (75),C=FR",
          "CN=smtp-2.mssante.adista.fr,OU=332315971500305,O=ADISTA,ST=Meurthe-et-Moselle (54),C=FR",
          "C=FR,ST=Gironde (33),O=DEDALUS HEALTHCARE FRANCE,OU=341459958900028,CN=smtp-1.sante.santnet.com"}) {
        EXPECT_TRUE(list->allows("dgs.mssante.fr", DistinguishedName::parse(dn))) << dn;
    }
    EXPECT_FALSE(list->allows("dgs.mssante.fr", DistinguishedName::parse(kMipih)));
}

TEST_F(RealWhitelist, DnWrittenWithSpacesMatchesTheCertificateForm)
{
    EXPECT_TRUE(list->allows("mssante.apicrypt.org",
                             DistinguishedName::parse("CN=mailin.interop-mssante.apicrypt.org,OU=343975235300037,"
                                                      "O=APICEM,ST=Nord (59),C=FR")));
}

TEST(Whitelist, DomainInSeveralEntriesCollectsTheirOperators)
{
    const auto list = Whitelist::parse(listXml({{"a.example.fr", "CN=mx1,O=A,C=FR"},
                                                {"A.example.fr", "CN=mx2,O=A,C=FR"},
                                                {"a.example.fr", "cn=MX1, o=a, c=fr"},
                                                {"b.example.fr", "CN=mx1,O=A,C=FR"}}));
    EXPECT_EQ(4u, list.entryCount());
    EXPECT_EQ(2u, list.domainCount());
    EXPECT_EQ((std::vector<std::string>{"CN=mx1,O=A,C=FR", "CN=mx2,O=A,C=FR"}), list.operatorDns("a.example.fr"));
    EXPECT_TRUE(list.allows("b.example.fr", DistinguishedName::parse("CN=mx1,O=A,C=FR")));
    EXPECT_FALSE(list.allows("b.example.fr", DistinguishedName::parse("CN=mx2,O=A,C=FR")));
    EXPECT_FALSE(list.knowsOperator(DistinguishedName::parse("CN=mx3,O=A,C=FR")));
    EXPECT_FALSE(list.knowsOperator(DistinguishedName()));
}

TEST(Whitelist, XmlEntitiesInTextAreDecoded)
{
    const auto list = Whitelist::parse(listXml({{"a.example.fr", "CN=mx,O=A &amp; B,C=FR"}}));
    EXPECT_TRUE(list.allows("a.example.fr", DistinguishedName::parse("CN=mx,O=A & B,C=FR")));
}

TEST(Whitelist, ElementsOfOtherNamespacesAreIgnored)
{
    std::string xml = listXml({{"a.example.fr", "CN=mx,O=A,C=FR"}});
    xml.replace(xml.find("<Description>"), 0, "<x:Nom xmlns:x=\"urn:other\">evil.example.fr</x:Nom>");
    const auto list = Whitelist::parse(xml);
    EXPECT_TRUE(list.containsDomain("a.example.fr"));
    EXPECT_FALSE(list.containsDomain("evil.example.fr"));
}

TEST(Whitelist, ExternalEntityIsRefusedWithoutReadingIt)
{
    const std::string passwdFirstLine = readFile("/etc/passwd").substr(0, 10);
    ASSERT_FALSE(passwdFirstLine.empty());
    const std::string list = listXml({{"&xxe;", "CN=mx,O=A,C=FR"}});
    const std::string body = list.substr(list.find('\n') + 1);  // without the XML declaration
    for (const std::string& doctype :
         {std::string("<!DOCTYPE ListeBlancheMSSante [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]>"),
          std::string("<!DOCTYPE ListeBlancheMSSante [<!ENTITY % p SYSTEM \"file:///etc/passwd\"> %p;]>"),
          std::string("<!DOCTYPE ListeBlancheMSSante SYSTEM \"file:///etc/passwd\">")}) {
        SCOPED_TRACE(doctype);
        const std::string error = parseError("<?xml version=\"1.0\"?>\n" + doctype + "\n" + body);
        EXPECT_TRUE(contains(error, "DOCTYPE declarations are not allowed")) << error;
        EXPECT_TRUE(contains(error, "line 2")) << error;
        EXPECT_FALSE(contains(error, passwdFirstLine)) << error;
    }
}

TEST(Whitelist, UndeclaredEntityIsRefused)
{
    EXPECT_FALSE(parseError(listXml({{"&xxe;", "CN=mx,O=A,C=FR"}})).empty());
}

TEST(Whitelist, BillionLaughsIsRefused)
{
    std::string doctype = "<!DOCTYPE ListeBlancheMSSante [<!ENTITY lol0 \"lol\">";
    for (int i = 1; i < 10; ++i) {
        doctype += "<!ENTITY lol" + std::to_string(i) + " \"";
        for (int k = 0; k < 10; ++k) doctype += "&lol" + std::to_string(i - 1) + ";";
        doctype += "\">";
    }
    doctype += "]>";
    std::string xml = listXml({{"&lol9;", "CN=mx,O=A,C=FR"}});
    xml.insert(xml.find('\n') + 1, doctype + "\n");
    const auto start = std::chrono::steady_clock::now();
    EXPECT_TRUE(contains(parseError(xml), "DOCTYPE declarations are not allowed"));
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(1));
}

TEST(Whitelist, WrongRootOrNamespaceIsRefused)
{
    const std::string good = listXml({{"a.example.fr", "CN=mx,O=A,C=FR"}});
    const std::string noNamespace = replaceAll(good, " xmlns=\"https://listeblanche.mssante.fr/schema\"", "");
    const std::string otherNamespace = replaceAll(good, "listeblanche.mssante.fr", "evil.example");
    const std::string otherRoot = replaceAll(good, "ListeBlancheMSSante", "ListeNoire");
    for (const auto* xml : {&noNamespace, &otherNamespace, &otherRoot}) {
        const std::string error = parseError(*xml);
        EXPECT_TRUE(contains(error, "root element is")) << error;
        EXPECT_TRUE(contains(error, "expected {https://listeblanche.mssante.fr/schema}ListeBlancheMSSante")) << error;
    }
}

TEST(Whitelist, DocumentTruncatedInTheDomainListIsRefused)
{
    const std::string good = listXml({{"a.example.fr", "CN=mx,O=A,C=FR"}, {"b.example.fr", "CN=mx,O=A,C=FR"}});
    const std::size_t listEnd = good.find("</ListeDomaines>");
    const std::vector<std::size_t> lengths = {listEnd, listEnd - 20, good.find("b.example.fr"), good.size() / 3, 0};
    for (const std::size_t length : lengths) {
        SCOPED_TRACE(length);
        EXPECT_FALSE(parseError(good.substr(0, length)).empty());
    }
}

// The published list (like the real file) stops after </ListeDomaines>.
TEST(Whitelist, RootEndTagMayBeMissingAfterTheDomainList)
{
    const std::string good = listXml({{"a.example.fr", "CN=mx,O=A,C=FR"}});
    const std::string withoutRootEnd = good.substr(0, good.find("</ListeBlancheMSSante>"));
    EXPECT_TRUE(Whitelist::parse(withoutRootEnd).containsDomain("a.example.fr"));
}

TEST(Whitelist, DocumentWithoutDomainListIsRefused)
{
    const std::string error =
        parseError("<ListeBlancheMSSante xmlns=\"https://listeblanche.mssante.fr/schema\"><DateDeGeneration>x"
                   "</DateDeGeneration></ListeBlancheMSSante>");
    EXPECT_EQ("whitelist (in memory), no ListeDomaines element", error);
}

TEST(Whitelist, EmptyListIsRefused)
{
    EXPECT_EQ("whitelist (in memory): ListeDomaines has no Domaine", parseError(listXml({})));
}

TEST(Whitelist, DomaineWithoutNomNamesItsLine)
{
    const std::string xml = listXml({{"a.example.fr", "CN=mx,O=A,C=FR"}, {"", "CN=mx,O=A,C=FR"}});
    const std::string error = parseError(xml);
    EXPECT_TRUE(contains(error, "Domaine entry (opened on line 11) has no Nom")) << error;
}

TEST(Whitelist, BadOperatorDnNamesTheDomain)
{
    const std::string error = parseError(listXml({{"a.example.fr", "CN=mx,O=A,C=FR"}, {"b.example.fr", "CN=mx,O"}}));
    EXPECT_TRUE(contains(error, "line 11: domain b.example.fr: invalid distinguished name \"CN=mx,O\"")) << error;
}

TEST(Whitelist, DomaineWithoutOperatorIsRefused)
{
    std::string xml = listXml({{"a.example.fr", "CN=mx,O=A,C=FR"}});
    xml = replaceAll(xml, "<DNCertificatOperateur>CN=mx,O=A,C=FR</DNCertificatOperateur>", "");
    EXPECT_TRUE(contains(parseError(xml), "Domaine a.example.fr has no DNCertificatOperateur"));
}

TEST(Whitelist, OversizedDocumentIsRefusedBeforeParsing)
{
    const std::string huge(Whitelist::kMaxDocumentBytes + 1, ' ');
    EXPECT_TRUE(contains(parseError(huge), "more than the limit"));
}

TEST(Whitelist, MissingFileGivesAClearError)
{
    try {
        Whitelist::loadFile("/nonexistent/listeblanche.xml");
        FAIL() << "loaded";
    } catch (const WhitelistError& e) {
        EXPECT_EQ(std::string("whitelist /nonexistent/listeblanche.xml: cannot read it: No such file or directory"),
                  e.what());
    }
}

TEST(Whitelist, ParsesConcurrentlyFromSeveralThreads)
{
    const std::string xml = listXml({{"a.example.fr", "CN=mx,O=A,C=FR"}});
    std::vector<std::jthread> threads;
    std::atomic<int> parsed = 0;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&] {
            for (int i = 0; i < 25; ++i) parsed += Whitelist::parse(xml).containsDomain("a.example.fr") ? 1 : 0;
        });
    }
    threads.clear();
    EXPECT_EQ(100, parsed.load());
}

}  // namespace
}  // namespace plexus::trust
