#include "trust/TrustAnchors.h"

#include "trust/DevPki.h"
#include "trust/OpenSsl.h"

#include <openssl/pem.h>
#include <openssl/x509.h>

#include <gtest/gtest.h>

#include <ctime>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace plexus::trust {
namespace {

namespace fs = std::filesystem;
using namespace openssl;
using CrlPtr = Owned<X509_CRL, X509_CRL_free>;
using RevokedPtr = Owned<X509_REVOKED, X509_REVOKED_free>;
using TimePtr = Owned<ASN1_TIME, ASN1_TIME_free>;

constexpr long kDay = 86400;

std::string readAll(const fs::path& path)
{
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

X509Ptr loadCertificate(const fs::path& path)
{
    const BioPtr bio(BIO_new_file(path.c_str(), "r"));
    return X509Ptr(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
}

struct CrlSpec {
    std::vector<fs::path> revoked;  // certificate files
    long lastUpdate = -60;          // seconds from now
    long nextUpdate = 7 * kDay;
    bool der = false;
};

// A CRL signed by the CA's key, as `openssl ca -gencrl` would write it.
void writeCrl(const fs::path& caKey, const fs::path& caCert, const fs::path& out, const CrlSpec& spec)
{
    const BioPtr keyBio(BIO_new_file(caKey.c_str(), "r"));
    const KeyPtr key(PEM_read_bio_PrivateKey(keyBio.get(), nullptr, nullptr, nullptr));
    const auto ca = loadCertificate(caCert);
    ASSERT_TRUE(key && ca);
    const CrlPtr crl(X509_CRL_new());
    const TimePtr last(ASN1_TIME_adj(nullptr, std::time(nullptr), 0, spec.lastUpdate));
    const TimePtr next(ASN1_TIME_adj(nullptr, std::time(nullptr), 0, spec.nextUpdate));
    ASSERT_EQ(X509_CRL_set_version(crl.get(), 1), 1);
    ASSERT_EQ(X509_CRL_set_issuer_name(crl.get(), X509_get_subject_name(ca.get())), 1);
    ASSERT_EQ(X509_CRL_set1_lastUpdate(crl.get(), last.get()), 1);
    ASSERT_EQ(X509_CRL_set1_nextUpdate(crl.get(), next.get()), 1);
    for (const auto& path : spec.revoked) {
        RevokedPtr entry(X509_REVOKED_new());
        const auto revoked = loadCertificate(path);
        ASSERT_EQ(X509_REVOKED_set_serialNumber(entry.get(), X509_get_serialNumber(revoked.get())), 1);
        ASSERT_EQ(X509_REVOKED_set_revocationDate(entry.get(), last.get()), 1);
        ASSERT_EQ(X509_CRL_add0_revoked(crl.get(), entry.get()), 1);
        static_cast<void>(entry.release());  // the CRL owns it now
    }
    ASSERT_EQ(X509_CRL_sort(crl.get()), 1);
    ASSERT_GT(X509_CRL_sign(crl.get(), key.get(), EVP_sha256()), 0);
    const BioPtr outBio(BIO_new_file(out.c_str(), "w"));
    ASSERT_EQ(spec.der ? i2d_X509_CRL_bio(outBio.get(), crl.get()) : PEM_write_bio_X509_CRL(outBio.get(), crl.get()), 1);
}

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
