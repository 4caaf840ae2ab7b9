// The INS of an XDM package: METADATA.XML (the shape of the public
// SubmitObjectsRequest sample) zipped as IHE_XDM/SUBSET01/METADATA.XML.
#include "XdmPatients.h"
#include "XercesSession.h"

#include <Poco/Zip/Compress.h>

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

namespace plexus::atna {
namespace {

const std::string kIns = "2770763220829^^^&1.2.250.1.213.1.4.8&ISO";
const std::string kTestIns = "1234567890123^^^&1.2.250.1.213.1.4.10&ISO";

std::string sample()
{
    std::ifstream in(std::string(PLEXUS_SHARED_DIR) + "/data/xds-samples/SubmitObjectsRequest_ebrs30.xml");
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

void replaceAll(std::string& text, const std::string& from, const std::string& to)
{
    for (auto at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size())) text.replace(at, from.size(), to);
}

// The sample with INS patient ids (XML-escaped in the document).
std::string metadataWithIns()
{
    auto xml = sample();
    replaceAll(xml, "SELF-5^^^&amp;1.3.6.1.4.1.21367.2005.3.7&amp;ISO", "2770763220829^^^&amp;1.2.250.1.213.1.4.8&amp;ISO");
    replaceAll(xml, "ST-1000^^^&amp;1.3.6.1.4.1.21367.2003.3.9&amp;ISO", "1234567890123^^^&amp;1.2.250.1.213.1.4.10&amp;ISO");
    return xml;
}

std::string zipOf(const std::vector<std::pair<std::string, std::string>>& entries)
{
    std::ostringstream out;
    Poco::Zip::Compress zip(out, true);
    for (const auto& [name, content] : entries) {
        std::istringstream in(content);
        zip.addFile(in, Poco::DateTime(), Poco::Path(name, Poco::Path::PATH_UNIX));
    }
    zip.close();
    return out.str();
}

class XdmPatientsTest : public ::testing::Test {
protected:
    XercesSession xerces_;
};

TEST_F(XdmPatientsTest, InsFromTheDocumentEntryAndSourcePatientId)
{
    ASSERT_NE(sample().size(), 0u);
    EXPECT_EQ(insInMetadata(metadataWithIns()), (std::vector<std::string>{kIns, kTestIns}));
}

TEST_F(XdmPatientsTest, OtherAssigningAuthoritiesAreNotIns)
{
    EXPECT_TRUE(insInMetadata(sample()).empty());
    EXPECT_TRUE(isIns(kIns));
    EXPECT_TRUE(isIns("1^^^&1.2.250.1.213.1.4.11&ISO"));
    EXPECT_FALSE(isIns("1^^^&1.2.250.1.213.1.4.80&ISO"));
    EXPECT_FALSE(isIns("^^^&1.2.250.1.213.1.4.8&ISO"));
}

TEST_F(XdmPatientsTest, InsFromAGeneratedXdmZip)
{
    const auto zip = zipOf({{"INDEX.HTM", "<html></html>"},
                            {"README.TXT", "XDM"},
                            {"IHE_XDM/SUBSET01/METADATA.XML", metadataWithIns()},
                            {"IHE_XDM/SUBSET01/DOC0001.XML", "<ClinicalDocument/>"}});
    EXPECT_EQ(insInXdmZip(zip), (std::vector<std::string>{kIns, kTestIns}));
}

TEST_F(XdmPatientsTest, DoctypeAndEntitiesAreRefused)
{
    const std::string external = "<!DOCTYPE r [<!ENTITY x SYSTEM \"file:///etc/passwd\">]><r>&x;</r>";
    const std::string laughs = "<!DOCTYPE r [<!ENTITY a \"aaaa\"><!ENTITY b \"&a;&a;&a;&a;\">]><r>&b;</r>";
    EXPECT_THROW(insInMetadata(external), XdmError);
    EXPECT_THROW(insInMetadata(laughs), XdmError);
    EXPECT_THROW(insInXdmZip(zipOf({{"IHE_XDM/SUBSET01/METADATA.XML", external}})), XdmError);
}

TEST_F(XdmPatientsTest, BadZipAndOversizedMetadataAreErrors)
{
    EXPECT_THROW(insInXdmZip("PK\x03\x04 not a zip"), XdmError);
    EXPECT_THROW(insInMetadata("<not-closed"), XdmError);
    const std::string huge = "<r>" + std::string(kMaxMetadataBytes, ' ') + "</r>";
    EXPECT_THROW(insInXdmZip(zipOf({{"IHE_XDM/SUBSET01/METADATA.XML", huge}})), XdmError);
}

}  // namespace
}  // namespace plexus::atna
