#include "trust/TrustAnchors.h"

#include "trust/AtomicFile.h"
#include "trust/DistinguishedName.h"
#include "trust/OpenSsl.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <array>
#include <ctime>
#include <filesystem>
#include <set>

namespace plexus::trust {

namespace {

using namespace openssl;
using CrlPtr = Owned<X509_CRL, X509_CRL_free>;

// Bundles of a few hundred CAs and CRLs of large CAs stay well below this.
constexpr std::size_t kMaxTrustFileBytes = 64 * 1024 * 1024;

std::string readTrustFile(const std::string& path)
{
    try {
        return readFile(path, kMaxTrustFileBytes);
    } catch (const FileError& e) {
        throw TrustFileError(e.what());
    }
}

BioPtr memoryBio(const std::string& bytes)
{
    BioPtr bio(BIO_new_mem_buf(bytes.data(), static_cast<int>(bytes.size())));
    if (!bio) throw TrustFileError("out of memory: " + drainErrors());
    return bio;
}

// PEM_read_* ends with "no start line" after the last object; any other error is a damaged object.
void requireCleanPemEnd(const std::string& path)
{
    const unsigned long error = ERR_peek_last_error();
    if (error != 0 && !(ERR_GET_LIB(error) == ERR_LIB_PEM && ERR_GET_REASON(error) == PEM_R_NO_START_LINE))
        throw TrustFileError(path + ": damaged PEM data: " + drainErrors());
    ERR_clear_error();
}

std::vector<X509Ptr> parseCertificates(const std::string& bytes, const std::string& path)
{
    const auto bio = memoryBio(bytes);
    std::vector<X509Ptr> certificates;
    ERR_clear_error();
    while (X509* certificate = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr))
        certificates.emplace_back(certificate);
    requireCleanPemEnd(path);
    return certificates;
}

std::vector<CrlPtr> parseRevocationLists(const std::string& bytes, const std::string& path)
{
    std::vector<CrlPtr> lists;
    {
        const auto bio = memoryBio(bytes);
        ERR_clear_error();
        while (X509_CRL* crl = PEM_read_bio_X509_CRL(bio.get(), nullptr, nullptr, nullptr)) lists.emplace_back(crl);
        requireCleanPemEnd(path);
    }
    if (lists.empty()) {  // CAs usually publish their CRL in DER
        const auto bio = memoryBio(bytes);
        if (X509_CRL* crl = d2i_X509_CRL_bio(bio.get(), nullptr)) lists.emplace_back(crl);
        ERR_clear_error();
    }
    return lists;
}

TimePoint timeOf(const ASN1_TIME* time)
{
    std::tm fields{};
    if (time == nullptr || ASN1_TIME_to_tm(time, &fields) != 1) return {};
    return std::chrono::system_clock::from_time_t(timegm(&fields));
}

std::string nameText(const X509_NAME* name) { return DistinguishedName::fromX509Name(name).toString(); }
std::string subjectKey(const X509* certificate) { return DistinguishedName::fromX509(certificate).matchKey(); }

std::string fingerprint(const X509* certificate)
{
    std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
    unsigned int length = 0;
    if (X509_digest(certificate, EVP_sha256(), digest.data(), &length) != 1)
        throw TrustFileError("cannot hash a certificate: " + drainErrors());
    constexpr std::string_view kHex = "0123456789ABCDEF";
    std::string text;
    for (unsigned int i = 0; i < length; ++i) {
        if (i > 0) text += ':';
        text += kHex[digest[i] >> 4];
        text += kHex[digest[i] & 0x0f];
    }
    return text;
}

CertificateInfo describe(X509* certificate)
{
    CertificateInfo info;
    info.subject = nameText(X509_get_subject_name(certificate));
    info.issuer = nameText(X509_get_issuer_name(certificate));
    info.notBefore = timeOf(X509_get0_notBefore(certificate));
    info.notAfter = timeOf(X509_get0_notAfter(certificate));
    info.sha256Fingerprint = fingerprint(certificate);
    info.isCa = (X509_get_extension_flags(certificate) & EXFLAG_CA) != 0;
    info.selfSigned = X509_self_signed(certificate, 1) == 1;
    ERR_clear_error();
    return info;
}

RevocationListInfo describe(X509_CRL* crl)
{
    RevocationListInfo info;
    info.issuer = nameText(X509_CRL_get_issuer(crl));
    info.lastUpdate = timeOf(X509_CRL_get0_lastUpdate(crl));
    if (const ASN1_TIME* next = X509_CRL_get0_nextUpdate(crl)) info.nextUpdate = timeOf(next);
    const auto* revoked = X509_CRL_get_REVOKED(crl);
    info.revokedCount = revoked == nullptr ? 0 : static_cast<std::size_t>(sk_X509_REVOKED_num(revoked));
    return info;
}

std::string dateText(TimePoint time)
{
    const std::time_t seconds = std::chrono::system_clock::to_time_t(time);
    std::tm fields{};
    gmtime_r(&seconds, &fields);
    std::array<char, 32> text{};
    std::strftime(text.data(), text.size(), "%Y-%m-%d %H:%M:%S UTC", &fields);
    return text.data();
}

std::string derOf(X509_CRL* crl)
{
    unsigned char* bytes = nullptr;
    const int length = i2d_X509_CRL(crl, &bytes);
    if (length < 0) throw TrustFileError("cannot encode a CRL: " + drainErrors());
    std::string der(reinterpret_cast<const char*>(bytes), static_cast<std::size_t>(length));
    OPENSSL_free(bytes);
    return der;
}

template <class Write>
std::string pemOf(Write write)
{
    const BioPtr bio(BIO_new(BIO_s_mem()));
    if (!bio || write(bio.get()) != 1) throw TrustFileError("cannot encode PEM: " + drainErrors());
    char* data = nullptr;
    const long length = BIO_get_mem_data(bio.get(), &data);
    return std::string(data, static_cast<std::size_t>(length));
}

std::vector<X509Ptr> readAnchors(const std::string& bundlePath)
{
    auto anchors = parseCertificates(readTrustFile(bundlePath), bundlePath);
    if (anchors.empty()) throw TrustFileError(bundlePath + " holds no certificate: add a trust anchor first");
    return anchors;
}

// The anchor that issued and signed `crl`; throws with the reason when none did.
void requireSignedByAnchor(X509_CRL* crl, const std::vector<X509Ptr>& anchors, const std::string& bundlePath)
{
    const std::string issuer = nameText(X509_CRL_get_issuer(crl));
    bool issuerKnown = false;
    for (const auto& anchor : anchors) {
        if (X509_NAME_cmp(X509_get_subject_name(anchor.get()), X509_CRL_get_issuer(crl)) != 0) continue;
        issuerKnown = true;
        if (X509_CRL_verify(crl, X509_get0_pubkey(anchor.get())) == 1) return;
    }
    ERR_clear_error();
    if (issuerKnown)
        throw TrustFileError("the CRL of " + issuer + " is not signed by that trust anchor's key: refused");
    throw TrustFileError("the CRL issuer " + issuer + " is not a trust anchor (" + bundlePath +
                         "): refused; plexusctl trust add adds the CA first");
}

}  // namespace

std::vector<CertificateInfo> readCertificateFile(const std::string& path)
{
    std::vector<CertificateInfo> infos;
    for (const auto& certificate : parseCertificates(readTrustFile(path), path)) infos.push_back(describe(certificate.get()));
    if (infos.empty()) throw TrustFileError(path + " holds no PEM certificate");
    return infos;
}

std::vector<RevocationListInfo> readRevocationListFile(const std::string& path)
{
    std::vector<RevocationListInfo> infos;
    for (const auto& crl : parseRevocationLists(readTrustFile(path), path)) infos.push_back(describe(crl.get()));
    if (infos.empty()) throw TrustFileError(path + " holds no CRL (PEM or DER)");
    return infos;
}

AnchorAddition addTrustAnchors(const std::string& bundlePath, const std::string& candidatePath)
{
    const auto candidates = parseCertificates(readTrustFile(candidatePath), candidatePath);
    if (candidates.empty()) throw TrustFileError(candidatePath + " holds no PEM certificate");
    const bool bundleExists = std::filesystem::exists(bundlePath);
    const std::string bundle = bundleExists ? readTrustFile(bundlePath) : std::string();
    std::set<std::string> present;
    std::set<std::string> subjects;  // match keys of the anchors, to spot intermediates without their issuer
    for (const auto& anchor : parseCertificates(bundle, bundlePath)) {
        present.insert(fingerprint(anchor.get()));
        subjects.insert(subjectKey(anchor.get()));
    }

    AnchorAddition addition;
    std::vector<X509*> added;
    std::string appended;
    const auto now = std::chrono::system_clock::now();
    for (const auto& candidate : candidates) {
        auto info = describe(candidate.get());
        if (!info.isCa)
            throw TrustFileError(info.subject + " is not a CA certificate (no basicConstraints CA:TRUE): refused");
        if (now < info.notBefore)
            throw TrustFileError(info.subject + " is not valid before " + dateText(info.notBefore) + ": refused");
        if (now > info.notAfter)
            throw TrustFileError(info.subject + " expired on " + dateText(info.notAfter) + ": refused");
        if (!present.insert(info.sha256Fingerprint).second) {
            addition.alreadyPresent.push_back(std::move(info));
            continue;
        }
        subjects.insert(subjectKey(candidate.get()));
        appended += "# " + info.subject + "\n" +
                    pemOf([&candidate](BIO* bio) { return PEM_write_bio_X509(bio, candidate.get()); });
        added.push_back(candidate.get());
        addition.added.push_back(std::move(info));
    }
    if (added.empty()) throw TrustFileError("every certificate of " + candidatePath + " is a trust anchor already");
    for (std::size_t i = 0; i < added.size(); ++i) {
        const auto& info = addition.added[i];
        if (!info.selfSigned && !subjects.contains(DistinguishedName::fromX509Name(X509_get_issuer_name(added[i])).matchKey()))
            addition.warnings.push_back(info.subject + " is an intermediate CA and its issuer " + info.issuer +
                                        " is not a trust anchor: chains through it will not verify until it is added");
    }

    const std::string separator = bundle.empty() || bundle.ends_with('\n') ? "" : "\n";
    try {
        replaceFile(bundlePath, bundle + separator + appended);
    } catch (const FileError& e) {
        throw TrustFileError(e.what());
    }
    return addition;
}

RevocationListAddition addRevocationLists(const std::string& crlPath, const std::string& candidatePath,
                                          const std::string& bundlePath)
{
    return addRevocationListData(crlPath, readTrustFile(candidatePath), candidatePath, bundlePath);
}

RevocationListAddition addRevocationListData(const std::string& crlPath, const std::string& candidate,
                                             const std::string& sourceName, const std::string& bundlePath)
{
    auto candidates = parseRevocationLists(candidate, sourceName);
    if (candidates.empty()) throw TrustFileError(sourceName + " holds no CRL (PEM or DER)");
    const auto anchors = readAnchors(bundlePath);
    const auto now = std::chrono::system_clock::now();
    for (const auto& crl : candidates) {
        requireSignedByAnchor(crl.get(), anchors, bundlePath);
        const auto info = describe(crl.get());
        if (info.nextUpdate && *info.nextUpdate < now)
            throw TrustFileError("the CRL of " + info.issuer + " expired on " + dateText(*info.nextUpdate) +
                                 " (nextUpdate): plexusd would refuse every certificate of that CA; get a current one");
    }

    RevocationListAddition addition;
    std::vector<CrlPtr> kept;
    if (std::filesystem::exists(crlPath)) {
        for (auto& existing : parseRevocationLists(readTrustFile(crlPath), crlPath)) {
            const auto sameIssuer = std::ranges::find_if(candidates, [&existing](const CrlPtr& crl) {
                return crl && X509_NAME_cmp(X509_CRL_get_issuer(crl.get()), X509_CRL_get_issuer(existing.get())) == 0;
            });
            if (sameIssuer == candidates.end()) {
                kept.push_back(std::move(existing));
                continue;
            }
            const auto installed = describe(existing.get());
            if (derOf(existing.get()) == derOf(sameIssuer->get())) {
                addition.unchanged.push_back(installed);
                sameIssuer->reset();  // nothing to install for that issuer
                kept.push_back(std::move(existing));
                continue;
            }
            if (installed.lastUpdate > describe(sameIssuer->get()).lastUpdate)
                throw TrustFileError("the installed CRL of " + installed.issuer + " (" + dateText(installed.lastUpdate) +
                                     ") is more recent than the one of " + sourceName + ": refused");
            addition.replaced.push_back(installed);
        }
    }
    for (auto& crl : candidates) {
        if (!crl) continue;
        addition.installed.push_back(describe(crl.get()));
        kept.push_back(std::move(crl));
    }
    for (const auto& anchor : anchors) {
        const bool covered = std::ranges::any_of(kept, [&anchor](const CrlPtr& crl) {
            return X509_NAME_cmp(X509_CRL_get_issuer(crl.get()), X509_get_subject_name(anchor.get())) == 0;
        });
        if (!covered) addition.anchorsWithoutCrl.push_back(nameText(X509_get_subject_name(anchor.get())));
    }
    if (addition.installed.empty()) return addition;
    std::string content;
    for (const auto& crl : kept) content += pemOf([&crl](BIO* bio) { return PEM_write_bio_X509_CRL(bio, crl.get()); });
    try {
        replaceFile(crlPath, content);
    } catch (const FileError& e) {
        throw TrustFileError(e.what());
    }
    return addition;
}

}  // namespace plexus::trust
