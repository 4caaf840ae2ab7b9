#include "trust/DevPki.h"

#include "trust/OpenSsl.h"

#include "PrintTrust.h"

#include <gtest/gtest.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <arpa/inet.h>
#include <stdlib.h>

#include <chrono>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <string>

namespace plexus::trust {
namespace {

namespace fs = std::filesystem;

using X509StorePtr = openssl::Owned<X509_STORE, X509_STORE_free>;
using X509StoreContextPtr = openssl::Owned<X509_STORE_CTX, X509_STORE_CTX_free>;
using GeneralNamesPtr = openssl::Owned<GENERAL_NAMES, GENERAL_NAMES_free>;

std::string readFile(const fs::path& path)
{
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

openssl::X509Ptr loadCertificate(const fs::path& path)
{
    const openssl::BioPtr bio(BIO_new_file(path.c_str(), "r"));
    EXPECT_TRUE(bio) << path;
    return openssl::X509Ptr(bio ? PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr) : nullptr);
}

openssl::KeyPtr loadPrivateKey(const fs::path& path)
{
    const openssl::BioPtr bio(BIO_new_file(path.c_str(), "r"));
    return openssl::KeyPtr(bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr) : nullptr);
}

fs::perms permissionsOf(const fs::path& path) { return fs::status(path).permissions() & fs::perms::all; }

// X509_verify_cert against `ca` alone, for the given purpose (which checks the EKU).
bool verifies(const X509* leaf, const X509* ca, int purpose)
{
    const X509StorePtr store(X509_STORE_new());
    EXPECT_EQ(1, X509_STORE_add_cert(store.get(), const_cast<X509*>(ca)));
    const X509StoreContextPtr context(X509_STORE_CTX_new());
    EXPECT_EQ(1, X509_STORE_CTX_init(context.get(), store.get(), const_cast<X509*>(leaf), nullptr));
    EXPECT_EQ(1, X509_STORE_CTX_set_purpose(context.get(), purpose));
    return X509_verify_cert(context.get()) == 1;
}

std::set<std::string> subjectAltNames(const X509* certificate)
{
    std::set<std::string> names;
    const GeneralNamesPtr sans(
        static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(certificate, NID_subject_alt_name, nullptr, nullptr)));
    for (int i = 0; sans && i < sk_GENERAL_NAME_num(sans.get()); ++i) {
        const GENERAL_NAME* name = sk_GENERAL_NAME_value(sans.get(), i);
        if (name->type == GEN_DNS) {
            const auto* text = name->d.dNSName;
            names.insert("DNS:" + std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(text)),
                                              static_cast<std::size_t>(ASN1_STRING_length(text))));
        } else if (name->type == GEN_IPADD && ASN1_STRING_length(name->d.iPAddress) == 4) {
            char text[INET_ADDRSTRLEN] = {};
            inet_ntop(AF_INET, ASN1_STRING_get0_data(name->d.iPAddress), text, sizeof text);
            names.insert(std::string("IP:") + text);
        }
    }
    return names;
}

// One CA for the suite (RSA key generation is the slow part); files per test.
class DevPki : public testing::Test {
protected:
    static void SetUpTestSuite()
    {
        std::string pattern = (fs::temp_directory_path() / "plexus-devpki-XXXXXX").string();
        ASSERT_NE(nullptr, ::mkdtemp(pattern.data()));
        root = pattern;
        caKey = root / "ca.key";
        caCert = root / "ca.crt";
        createRootCa({"Plexus test CA", "Plexus development PKI", "FR"}, caKey, caCert);
    }
    static void TearDownTestSuite() { fs::remove_all(root); }

    void SetUp() override
    {
        dir = root / testing::UnitTest::GetInstance()->current_test_info()->name();
        fs::create_directory(dir);
    }

    static void issueServer(const fs::path& key, const fs::path& cert)
    {
        issueServerCertificate(caKey, caCert, "mx.example.fr", {"example.fr", "mx.example.fr", "127.0.0.1"},
                               "Plexus example.fr", key, cert);
    }

    static inline fs::path root, caKey, caCert;
    fs::path dir;
};

TEST_F(DevPki, RootCaIsASelfSignedCaWithAPrivateKey)
{
    EXPECT_EQ(fs::perms::owner_read | fs::perms::owner_write, permissionsOf(caKey));
    const auto ca = loadCertificate(caCert);
    ASSERT_TRUE(ca);
    EXPECT_EQ(1, X509_check_ca(ca.get()));
    EXPECT_TRUE(X509_get_extension_flags(ca.get()) & EXFLAG_SS);
    EXPECT_EQ(KU_KEY_CERT_SIGN | KU_CRL_SIGN, X509_get_key_usage(ca.get()));
    EXPECT_NE(nullptr, X509_get0_subject_key_id(ca.get()));
    EXPECT_EQ(2048, EVP_PKEY_get_bits(X509_get0_pubkey(ca.get())));
    EXPECT_EQ(NID_sha256WithRSAEncryption, X509_get_signature_nid(ca.get()));
    EXPECT_TRUE(verifies(ca.get(), ca.get(), X509_PURPOSE_ANY));
    EXPECT_EQ(DistinguishedName::parse("CN=Plexus test CA,O=Plexus development PKI,C=FR"),
              subjectOfCertificateFile(caCert));
    std::time_t almostTenYears = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now() +
                                                                       std::chrono::days(3649));
    EXPECT_GT(X509_cmp_time(X509_get0_notAfter(ca.get()), &almostTenYears), 0);
}

TEST_F(DevPki, ServerCertificateServesBothWaysWithItsNames)
{
    issueServer(dir / "server.key", dir / "server.crt");
    const auto server = loadCertificate(dir / "server.crt");
    const auto ca = loadCertificate(caCert);
    ASSERT_TRUE(server && ca);
    EXPECT_TRUE(verifies(server.get(), ca.get(), X509_PURPOSE_SSL_SERVER));
    EXPECT_TRUE(verifies(server.get(), ca.get(), X509_PURPOSE_SSL_CLIENT));
    EXPECT_EQ(static_cast<uint32_t>(XKU_SSL_SERVER | XKU_SSL_CLIENT), X509_get_extended_key_usage(server.get()));
    EXPECT_EQ((std::set<std::string>{"DNS:mx.example.fr", "DNS:example.fr", "IP:127.0.0.1"}),
              subjectAltNames(server.get()));
    EXPECT_EQ(0, X509_check_ca(server.get()));
    EXPECT_EQ(0, ASN1_OCTET_STRING_cmp(X509_get0_authority_key_id(server.get()), X509_get0_subject_key_id(ca.get())));
    EXPECT_EQ(NID_sha256WithRSAEncryption, X509_get_signature_nid(server.get()));
    EXPECT_EQ("CN=mx.example.fr,O=Plexus example.fr", rfc4514SubjectOfCertificateFile(dir / "server.crt"));
    EXPECT_EQ(fs::perms::owner_read | fs::perms::owner_write, permissionsOf(dir / "server.key"));

    const openssl::BigNumPtr serial(ASN1_INTEGER_to_BN(X509_get0_serialNumber(server.get()), nullptr));
    EXPECT_GT(BN_num_bits(serial.get()), 100);
    const auto key = loadPrivateKey(dir / "server.key");
    ASSERT_TRUE(key);
    EXPECT_EQ(1, X509_check_private_key(server.get(), key.get()));
    EXPECT_EQ(0u, ERR_peek_error()) << "OpenSSL errors left for the next TLS call on this thread";
}

TEST_F(DevPki, ClientCertificateIsForClientsOnlyAndKeepsItsSubject)
{
    const DistinguishedNameSpec subject{"mssante.peer.example", "341518515600056", "WRAPTOR LABORATORIES",
                                        "Bouches-du-Rhône (13)", "FR"};
    issueClientCertificate(caKey, caCert, subject, dir / "peer.key", dir / "peer.crt");
    const auto client = loadCertificate(dir / "peer.crt");
    const auto ca = loadCertificate(caCert);
    ASSERT_TRUE(client && ca);
    EXPECT_TRUE(verifies(client.get(), ca.get(), X509_PURPOSE_SSL_CLIENT));
    EXPECT_FALSE(verifies(client.get(), ca.get(), X509_PURPOSE_SSL_SERVER));
    EXPECT_EQ(static_cast<uint32_t>(XKU_SSL_CLIENT), X509_get_extended_key_usage(client.get()));

    const std::string expected =
        "CN=mssante.peer.example,OU=341518515600056,O=WRAPTOR LABORATORIES,ST=Bouches-du-Rhône (13),C=FR";
    EXPECT_EQ(expected, rfc4514SubjectOfCertificateFile(dir / "peer.crt"));
    EXPECT_EQ(DistinguishedName::parse(expected), subjectOfCertificateFile(dir / "peer.crt"));
    EXPECT_EQ(fs::perms::owner_read | fs::perms::owner_write, permissionsOf(dir / "peer.key"));
}

TEST_F(DevPki, CertificateOfAnotherCaDoesNotVerify)
{
    createRootCa({"Other CA", "Elsewhere", "FR"}, dir / "other.key", dir / "other.crt");
    issueClientCertificate(dir / "other.key", dir / "other.crt", {"intruder", "", "", "", ""}, dir / "c.key",
                           dir / "c.crt");
    const auto client = loadCertificate(dir / "c.crt");
    const auto ca = loadCertificate(caCert);
    ASSERT_TRUE(client && ca);
    EXPECT_FALSE(verifies(client.get(), ca.get(), X509_PURPOSE_SSL_CLIENT));
    EXPECT_EQ("CN=intruder", rfc4514SubjectOfCertificateFile(dir / "c.crt"));
}

TEST_F(DevPki, RefusesToOverwriteAnyFile)
{
    std::ofstream(dir / "taken.crt") << "keep me";
    EXPECT_THROW(issueServer(dir / "new.key", dir / "taken.crt"), PkiError);
    EXPECT_FALSE(fs::exists(dir / "new.key"));
    EXPECT_EQ("keep me", readFile(dir / "taken.crt"));

    std::ofstream(dir / "taken.key") << "keep me";
    EXPECT_THROW(createRootCa({"CA", "O", "FR"}, dir / "taken.key", dir / "new.crt"), PkiError);
    EXPECT_THROW(createSigningKeyPair(dir / "taken.key", dir / "new.pub"), PkiError);
    EXPECT_EQ("keep me", readFile(dir / "taken.key"));
    EXPECT_FALSE(fs::exists(dir / "new.crt"));
    EXPECT_FALSE(fs::exists(dir / "new.pub"));

    fs::create_symlink(dir / "elsewhere", dir / "dangling.key");
    EXPECT_THROW(createSigningKeyPair(dir / "dangling.key", dir / "x.pub"), PkiError);
    EXPECT_FALSE(fs::exists(dir / "elsewhere"));
}

TEST_F(DevPki, RefusesAKeyThatIsNotTheCas)
{
    createSigningKeyPair(dir / "stray.key", dir / "stray.pub");
    try {
        issueServerCertificate(dir / "stray.key", caCert, "mx.example.fr", {}, "O", dir / "s.key", dir / "s.crt");
        FAIL() << "issued";
    } catch (const PkiError& e) {
        EXPECT_NE(std::string::npos, std::string(e.what()).find("is not the key of")) << e.what();
    }
    EXPECT_FALSE(fs::exists(dir / "s.crt"));
}

TEST_F(DevPki, RefusesMalformedNamesWithOpenSslsReason)
{
    EXPECT_THROW(issueServerCertificate(caKey, caCert, "mx.example.fr", {"a,DNS:evil.example"}, "O", dir / "s.key",
                                        dir / "s.crt"),
                 PkiError);
    try {
        issueClientCertificate(caKey, caCert, {"cn", "", "", "", "FRANCE"}, dir / "c.key", dir / "c.crt");
        FAIL() << "issued";
    } catch (const PkiError& e) {
        EXPECT_NE(std::string::npos, std::string(e.what()).find("invalid C \"FRANCE\": ")) << e.what();
        EXPECT_NE(std::string::npos, std::string(e.what()).find("string too long")) << e.what();
    }
    EXPECT_THROW(issueClientCertificate(caKey, caCert, {}, dir / "c.key", dir / "c.crt"), PkiError);
    EXPECT_FALSE(fs::exists(dir / "c.key"));
}

TEST_F(DevPki, MissingCaFileGivesOpenSslsReason)
{
    try {
        issueClientCertificate(dir / "none.key", caCert, {"cn", "", "", "", ""}, dir / "c.key", dir / "c.crt");
        FAIL() << "issued";
    } catch (const PkiError& e) {
        EXPECT_NE(std::string::npos, std::string(e.what()).find("cannot open " + (dir / "none.key").string() + ": "))
            << e.what();
        EXPECT_NE(std::string::npos, std::string(e.what()).find("No such file or directory")) << e.what();
    }
}

TEST_F(DevPki, SigningKeyPairMatchesAndOnlyThePrivateHalfIsSecret)
{
    createSigningKeyPair(dir / "oidc.key", dir / "oidc.pub");
    EXPECT_EQ(fs::perms::owner_read | fs::perms::owner_write, permissionsOf(dir / "oidc.key"));
    EXPECT_EQ(fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read | fs::perms::others_read,
              permissionsOf(dir / "oidc.pub"));
    const auto privateKey = loadPrivateKey(dir / "oidc.key");
    const openssl::BioPtr bio(BIO_new_file((dir / "oidc.pub").c_str(), "r"));
    const openssl::KeyPtr publicKey(PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr));
    ASSERT_TRUE(privateKey && publicKey);
    EXPECT_EQ(1, EVP_PKEY_eq(privateKey.get(), publicKey.get()));
    EXPECT_EQ(2048, EVP_PKEY_get_bits(publicKey.get()));
    EXPECT_TRUE(EVP_PKEY_is_a(publicKey.get(), "RSA"));
    EXPECT_EQ(std::string::npos, readFile(dir / "oidc.pub").find("PRIVATE"));
}

}  // namespace
}  // namespace plexus::trust
