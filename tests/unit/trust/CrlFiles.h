// CRL files for the trust tests, signed as `openssl ca -gencrl` signs them.
#pragma once

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

namespace crl_files {

namespace fs = std::filesystem;
using namespace openssl;
using CrlPtr = Owned<X509_CRL, X509_CRL_free>;
using RevokedPtr = Owned<X509_REVOKED, X509_REVOKED_free>;
using TimePtr = Owned<ASN1_TIME, ASN1_TIME_free>;

inline constexpr long kDay = 86400;

inline std::string readAll(const fs::path& path)
{
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

inline X509Ptr loadCertificate(const fs::path& path)
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
inline void writeCrl(const fs::path& caKey, const fs::path& caCert, const fs::path& out, const CrlSpec& spec)
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

}  // namespace crl_files

}  // namespace plexus::trust
