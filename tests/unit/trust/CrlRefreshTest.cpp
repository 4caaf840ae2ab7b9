#include "trust/CrlRefresh.h"

#include "CrlFiles.h"
#include "trust/DevPki.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace plexus::trust {
namespace {

namespace fs = std::filesystem;
using namespace crl_files;

TEST(CrlSources, ACommaSeparatedList)
{
    EXPECT_EQ(splitCrlSources(" https://a.test/ca1.crl ,/etc/plexus/ca2.crl,, "),
              (std::vector<std::string>{"https://a.test/ca1.crl", "/etc/plexus/ca2.crl"}));
    EXPECT_TRUE(splitCrlSources("").empty());
    EXPECT_EQ(joinCrlSources({"https://a.test/ca1.crl", "/etc/plexus/ca2.crl"}),
              "https://a.test/ca1.crl, /etc/plexus/ca2.crl");
}

class CrlRefreshTest : public ::testing::Test {
protected:
    static void SetUpTestSuite()
    {
        std::string pattern = (fs::temp_directory_path() / "plexus-crl-refresh-XXXXXX").string();
        ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
        pki_ = pattern;
        createRootCa({"CA one", "Plexus tests", "FR"}, pki_ / "one.key", pki_ / "one.crt");
        createRootCa({"CA two", "Plexus tests", "FR"}, pki_ / "two.key", pki_ / "two.crt");
        createRootCa({"Unknown CA", "Plexus tests", "FR"}, pki_ / "unknown.key", pki_ / "unknown.crt");
        issueClientCertificate(pki_ / "one.key", pki_ / "one.crt", {"mx.one.test", "", "One", "", "FR"},
                               pki_ / "leaf.key", pki_ / "leaf.crt");
    }
    static void TearDownTestSuite() { fs::remove_all(pki_); }

    void SetUp() override
    {
        dir_ = pki_ / ::testing::UnitTest::GetInstance()->current_test_info()->name();
        fs::create_directory(dir_);
        std::ofstream(dir_ / "anchors.pem") << readAll(pki_ / "one.crt") << readAll(pki_ / "two.crt");
        settings_.crlFile = dir_ / "crl.pem";
        settings_.trustAnchors = dir_ / "anchors.pem";
    }

    // The CRL of CA `ca` ("one", "two", "unknown") published at dir_/name.
    std::string publish(const std::string& ca, const std::string& name, const CrlSpec& spec = {})
    {
        writeCrl(pki_ / (ca + ".key"), pki_ / (ca + ".crt"), dir_ / name, spec);
        return (dir_ / name).string();
    }

    static inline fs::path pki_;
    fs::path dir_;
    CrlRefreshSettings settings_;
};

TEST_F(CrlRefreshTest, EachSourceSucceedsOrFailsOnItsOwn)
{
    settings_.sources = {publish("one", "one.crl", {{pki_ / "leaf.crt"}, -60, 7 * kDay, true}),
                         publish("unknown", "unknown.crl"), (dir_ / "missing.crl").string(),
                         publish("two", "two.crl")};
    const auto result = refreshRevocationLists(settings_);
    ASSERT_EQ(result.sources.size(), 4u);
    EXPECT_TRUE(result.sources[0].ok) << result.sources[0].error;
    ASSERT_EQ(result.sources[0].addition.installed.size(), 1u);
    EXPECT_EQ(result.sources[0].addition.installed[0].revokedCount, 1u);
    EXPECT_FALSE(result.sources[1].ok);
    EXPECT_NE(result.sources[1].error.find("CN=Unknown CA,O=Plexus tests,C=FR is not a trust anchor"),
              std::string::npos) << result.sources[1].error;
    EXPECT_FALSE(result.sources[2].ok);
    EXPECT_NE(result.sources[2].error.find("missing.crl"), std::string::npos) << result.sources[2].error;
    EXPECT_TRUE(result.sources[3].ok) << result.sources[3].error;
    EXPECT_EQ(result.failures(), 2u);
    EXPECT_TRUE(result.changed());
    EXPECT_EQ(readRevocationListFile(settings_.crlFile).size(), 2u);

    const auto again = refreshRevocationLists(settings_);
    EXPECT_FALSE(again.changed());
    EXPECT_EQ(again.sources[0].addition.unchanged.size(), 1u);
}

TEST_F(CrlRefreshTest, AFailingSourceKeepsTheLastGoodCrl)
{
    settings_.sources = {publish("one", "one.crl", {{pki_ / "leaf.crt"}, -60, 7 * kDay, false})};
    ASSERT_TRUE(refreshRevocationLists(settings_).changed());
    const std::string good = readAll(settings_.crlFile);

    const auto expectKept = [&](const std::string& why) {
        const auto result = refreshRevocationLists(settings_);
        ASSERT_EQ(result.failures(), 1u);
        EXPECT_NE(result.sources[0].error.find(why), std::string::npos) << result.sources[0].error;
        EXPECT_FALSE(result.changed());
        EXPECT_EQ(readAll(settings_.crlFile), good);
    };
    std::ofstream(dir_ / "one.crl") << "<html>502 Bad Gateway</html>";
    expectKept("holds no CRL");
    publish("one", "one.crl", {{}, -2 * kDay, 7 * kDay, false});  // older than the one held
    expectKept("more recent");
    publish("one", "one.crl", {{}, -10 * kDay, -kDay, false});
    expectKept("expired");
    fs::remove(dir_ / "one.crl");
    expectKept("one.crl");
}

TEST_F(CrlRefreshTest, CrlsHeldPastTheirNextUpdateAreReported)
{
    writeCrl(pki_ / "one.key", pki_ / "one.crt", settings_.crlFile, {{}, -10 * kDay, -kDay, false});
    const auto result = refreshRevocationLists(settings_);
    ASSERT_EQ(result.expired.size(), 1u);
    EXPECT_EQ(result.expired[0].issuer, "CN=CA one,O=Plexus tests,C=FR");
}

TEST_F(CrlRefreshTest, ACrlFileReplacedByPlexusctlCountsAsAChange)
{
    settings_.sources = {publish("two", "two.crl")};
    std::vector<bool> heard;
    CrlRefresher refresher(settings_, [&heard](const CrlRefreshResult& result) { heard.push_back(result.changed()); });
    EXPECT_TRUE(refresher.refreshNow().changed());
    EXPECT_FALSE(refresher.refreshNow().changed());
    addRevocationLists(settings_.crlFile, publish("one", "one.crl"), settings_.trustAnchors);  // plexusctl trust crl add
    EXPECT_TRUE(refresher.refreshNow().fileReplacedElsewhere);
    EXPECT_FALSE(refresher.refreshNow().changed());
    EXPECT_EQ(heard, (std::vector<bool>{true, false, true, false}));
}

TEST_F(CrlRefreshTest, WithoutACrlFileNothingIsFetched)
{
    settings_.crlFile.clear();
    settings_.sources = {publish("one", "one.crl")};
    const auto result = refreshRevocationLists(settings_);
    ASSERT_EQ(result.failures(), 1u);
    EXPECT_NE(result.sources[0].error.find("no CRL file"), std::string::npos);
}

}  // namespace
}  // namespace plexus::trust
