#include "trust/TrustAnchors.h"

#include "CrlFiles.h"
#include "trust/DevPki.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

namespace plexus::trust {
namespace {

namespace fs = std::filesystem;
using namespace crl_files;

class TrustAnchorsTest : public ::testing::Test {
protected:
    // RSA key generation is the slow part: one set of CAs for the suite.
    static void SetUpTestSuite()
    {
        std::string pattern = (fs::temp_directory_path() / "plexus-anchors-XXXXXX").string();
        ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
        pki_ = pattern;
        createRootCa({"Plexus dev CA", "Plexus tests", "FR"}, pki_ / "dev.key", pki_ / "dev.crt");
        createRootCa({"Partner CA", "Partner", "FR"}, pki_ / "partner.key", pki_ / "partner.crt");
        // Same name as the partner CA, another key: an impostor.
        createRootCa({"Partner CA", "Partner", "FR"}, pki_ / "impostor.key", pki_ / "impostor.crt");
        issueClientCertificate(pki_ / "partner.key", pki_ / "partner.crt", {"mx.partner.test", "", "Partner", "", "FR"},
                               pki_ / "leaf.key", pki_ / "leaf.crt");
    }
    static void TearDownTestSuite() { fs::remove_all(pki_); }

    void SetUp() override
    {
        dir_ = pki_ / ::testing::UnitTest::GetInstance()->current_test_info()->name();
        fs::create_directory(dir_);
        bundle_ = dir_ / "anchors.pem";
        fs::copy_file(pki_ / "dev.crt", bundle_);
    }

    static inline fs::path pki_;
    fs::path dir_;
    fs::path bundle_;
};

TEST_F(TrustAnchorsTest, CertificatesAreDescribed)
{
    const auto ca = readCertificateFile(pki_ / "partner.crt");
    ASSERT_EQ(ca.size(), 1u);
    EXPECT_EQ(ca[0].subject, "CN=Partner CA,O=Partner,C=FR");
    EXPECT_EQ(ca[0].issuer, ca[0].subject);
    EXPECT_TRUE(ca[0].isCa);
    EXPECT_TRUE(ca[0].selfSigned);
    EXPECT_EQ(ca[0].sha256Fingerprint.size(), 32u * 3 - 1);
    EXPECT_LT(ca[0].notBefore, std::chrono::system_clock::now());
    EXPECT_GT(ca[0].notAfter, std::chrono::system_clock::now());

    const auto leaf = readCertificateFile(pki_ / "leaf.crt");
    EXPECT_EQ(leaf[0].subject, "CN=mx.partner.test,O=Partner,C=FR");
    EXPECT_EQ(leaf[0].issuer, "CN=Partner CA,O=Partner,C=FR");
    EXPECT_FALSE(leaf[0].isCa);
    EXPECT_FALSE(leaf[0].selfSigned);

    EXPECT_THROW(readCertificateFile(pki_ / "partner.key"), TrustFileError);
    EXPECT_THROW(readCertificateFile(dir_ / "missing.pem"), TrustFileError);
}

TEST_F(TrustAnchorsTest, ACaIsAppendedOnce)
{
    const std::string before = readAll(bundle_);
    const auto addition = addTrustAnchors(bundle_, pki_ / "partner.crt");
    ASSERT_EQ(addition.added.size(), 1u);
    EXPECT_EQ(addition.added[0].subject, "CN=Partner CA,O=Partner,C=FR");
    EXPECT_TRUE(addition.warnings.empty());
    const std::string after = readAll(bundle_);
    EXPECT_TRUE(after.starts_with(before));  // the existing anchors are kept byte for byte
    EXPECT_EQ(readCertificateFile(bundle_).size(), 2u);

    try {
        addTrustAnchors(bundle_, pki_ / "partner.crt");
        FAIL() << "a CA was added twice";
    } catch (const TrustFileError& e) {
        EXPECT_NE(std::string(e.what()).find("trust anchor already"), std::string::npos) << e.what();
    }
    EXPECT_EQ(readAll(bundle_), after);
}

TEST_F(TrustAnchorsTest, ACertificateThatIsNotACaIsRefused)
{
    const std::string before = readAll(bundle_);
    try {
        addTrustAnchors(bundle_, pki_ / "leaf.crt");
        FAIL() << "a leaf certificate became a trust anchor";
    } catch (const TrustFileError& e) {
        EXPECT_NE(std::string(e.what()).find("not a CA certificate"), std::string::npos) << e.what();
    }
    EXPECT_EQ(readAll(bundle_), before);
    EXPECT_THROW(addTrustAnchors(bundle_, pki_ / "partner.key"), TrustFileError);  // no certificate at all
}

TEST_F(TrustAnchorsTest, ACrlSignedByAnAnchorIsInstalled)
{
    addTrustAnchors(bundle_, pki_ / "partner.crt");
    writeCrl(pki_ / "partner.key", pki_ / "partner.crt", dir_ / "partner.crl", {{pki_ / "leaf.crt"}, -60, 7 * kDay, true});
    const auto crlFile = dir_ / "crl.pem";
    const auto addition = addRevocationLists(crlFile, dir_ / "partner.crl", bundle_);  // DER in, PEM out
    ASSERT_EQ(addition.installed.size(), 1u);
    EXPECT_EQ(addition.installed[0].issuer, "CN=Partner CA,O=Partner,C=FR");
    EXPECT_EQ(addition.installed[0].revokedCount, 1u);
    EXPECT_TRUE(addition.replaced.empty());
    EXPECT_EQ(addition.anchorsWithoutCrl, std::vector<std::string>{"CN=Plexus dev CA,O=Plexus tests,C=FR"});
    EXPECT_NE(readAll(crlFile).find("-----BEGIN X509 CRL-----"), std::string::npos);

    writeCrl(pki_ / "dev.key", pki_ / "dev.crt", dir_ / "dev.crl", {});
    const auto second = addRevocationLists(crlFile, dir_ / "dev.crl", bundle_);
    EXPECT_TRUE(second.anchorsWithoutCrl.empty());
    EXPECT_EQ(readRevocationListFile(crlFile).size(), 2u);  // merged
}

TEST_F(TrustAnchorsTest, ACrlNotSignedByAnAnchorIsRefused)
{
    const auto crlFile = dir_ / "crl.pem";
    writeCrl(pki_ / "partner.key", pki_ / "partner.crt", dir_ / "partner.crl", {});
    try {
        addRevocationLists(crlFile, dir_ / "partner.crl", bundle_);
        FAIL() << "a CRL of an unknown CA was installed";
    } catch (const TrustFileError& e) {
        EXPECT_NE(std::string(e.what()).find("is not a trust anchor"), std::string::npos) << e.what();
    }
    addTrustAnchors(bundle_, pki_ / "partner.crt");
    writeCrl(pki_ / "impostor.key", pki_ / "impostor.crt", dir_ / "impostor.crl", {});
    try {
        addRevocationLists(crlFile, dir_ / "impostor.crl", bundle_);
        FAIL() << "a CRL with a forged signature was installed";
    } catch (const TrustFileError& e) {
        EXPECT_NE(std::string(e.what()).find("not signed by that trust anchor's key"), std::string::npos) << e.what();
    }
    EXPECT_FALSE(fs::exists(crlFile));
}

TEST_F(TrustAnchorsTest, ANewerCrlReplacesTheOlderOneAndNotTheOtherWayRound)
{
    const auto crlFile = dir_ / "crl.pem";
    writeCrl(pki_ / "dev.key", pki_ / "dev.crt", dir_ / "old.crl", {{}, -2 * kDay, 7 * kDay, false});
    writeCrl(pki_ / "dev.key", pki_ / "dev.crt", dir_ / "new.crl", {{}, -60, 7 * kDay, false});
    addRevocationLists(crlFile, dir_ / "old.crl", bundle_);
    const auto replacing = addRevocationLists(crlFile, dir_ / "new.crl", bundle_);
    EXPECT_EQ(replacing.replaced.size(), 1u);
    EXPECT_EQ(readRevocationListFile(crlFile).size(), 1u);
    const std::string installed = readAll(crlFile);
    try {
        addRevocationLists(crlFile, dir_ / "old.crl", bundle_);
        FAIL() << "an older CRL replaced a newer one";
    } catch (const TrustFileError& e) {
        EXPECT_NE(std::string(e.what()).find("more recent"), std::string::npos) << e.what();
    }
    EXPECT_EQ(readAll(crlFile), installed);
}

TEST_F(TrustAnchorsTest, TheSameCrlAgainLeavesTheFileAlone)
{
    const auto crlFile = dir_ / "crl.pem";
    writeCrl(pki_ / "dev.key", pki_ / "dev.crt", dir_ / "dev.crl", {{}, -60, 7 * kDay, true});
    addRevocationLists(crlFile, dir_ / "dev.crl", bundle_);
    const auto written = fs::last_write_time(crlFile);
    const auto again = addRevocationListData(crlFile, readAll(dir_ / "dev.crl"), "https://ca.test/dev.crl", bundle_);
    EXPECT_TRUE(again.installed.empty());
    ASSERT_EQ(again.unchanged.size(), 1u);
    EXPECT_EQ(again.unchanged[0].issuer, "CN=Plexus dev CA,O=Plexus tests,C=FR");
    EXPECT_EQ(fs::last_write_time(crlFile), written);
    try {
        addRevocationListData(crlFile, "<html>not found</html>", "https://ca.test/dev.crl", bundle_);
        FAIL() << "garbage was taken for a CRL";
    } catch (const TrustFileError& e) {
        EXPECT_EQ(std::string(e.what()), "https://ca.test/dev.crl holds no CRL (PEM or DER)");
    }
}

TEST_F(TrustAnchorsTest, AnExpiredCrlIsRefused)
{
    writeCrl(pki_ / "dev.key", pki_ / "dev.crt", dir_ / "expired.crl", {{}, -10 * kDay, -kDay, false});
    try {
        addRevocationLists(dir_ / "crl.pem", dir_ / "expired.crl", bundle_);
        FAIL() << "an expired CRL was installed";
    } catch (const TrustFileError& e) {
        EXPECT_NE(std::string(e.what()).find("expired"), std::string::npos) << e.what();
    }
    EXPECT_THROW(addRevocationLists(dir_ / "crl.pem", pki_ / "dev.crt", bundle_), TrustFileError);  // not a CRL
}

}  // namespace
}  // namespace plexus::trust
