// The PKI files an operator maintains: the trust-anchor bundle (tls.trust_anchors:
// the CAs whose certificates peers and APP accounts may present, the IGC-Santé
// roots in production) and the CRL file (tls.crl). Additions are checked, then
// written atomically; the running plexusd reads them again on SIGHUP.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace plexus::trust {

class TrustFileError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

using TimePoint = std::chrono::system_clock::time_point;

struct CertificateInfo {
    std::string subject;  // RFC 4514, as the whitelist's DNCertificatOperateur writes it
    std::string issuer;
    TimePoint notBefore, notAfter;
    std::string sha256Fingerprint;  // "AB:CD:…", as openssl x509 -fingerprint -sha256 prints it
    bool isCa = false;              // basicConstraints CA:TRUE
    bool selfSigned = false;
};

struct RevocationListInfo {
    std::string issuer;  // RFC 4514
    TimePoint lastUpdate;
    std::optional<TimePoint> nextUpdate;
    std::size_t revokedCount = 0;
};

// Every certificate of a PEM file, in file order. Throws TrustFileError when
// the file cannot be read or holds no certificate.
std::vector<CertificateInfo> readCertificateFile(const std::string& path);

// Every CRL of a PEM or DER file. Throws TrustFileError when there is none.
std::vector<RevocationListInfo> readRevocationListFile(const std::string& path);

struct AnchorAddition {
    std::vector<CertificateInfo> added;
    std::vector<CertificateInfo> alreadyPresent;
    std::vector<std::string> warnings;  // e.g. an intermediate CA whose issuer is not an anchor
};

// Appends the certificates of `candidatePath` to the bundle, keeping its
// existing bytes. Refuses (TrustFileError, nothing written) a file with a
// certificate that is not a CA (basicConstraints CA:TRUE) or is outside its
// validity period, and a file whose certificates are all anchors already.
// The bundle is created when absent.
AnchorAddition addTrustAnchors(const std::string& bundlePath, const std::string& candidatePath);

struct RevocationListAddition {
    std::vector<RevocationListInfo> installed;  // from the candidate file
    std::vector<RevocationListInfo> replaced;   // older CRLs of the same issuers
    std::vector<RevocationListInfo> unchanged;  // from the candidate, identical to the CRL held
    // Anchors left without a CRL: with a CRL file, plexusd checks revocation
    // for every certificate of a chain, so what they issued will be refused.
    std::vector<std::string> anchorsWithoutCrl;
};

// Merges the CRLs of `candidatePath` (PEM or DER) into the PEM file `crlPath`
// (created when absent): each must be signed by one of the anchors of
// `bundlePath` and not expired; it replaces the CRL of the same issuer unless
// that one is more recent (refused). Throws TrustFileError; nothing written then.
RevocationListAddition addRevocationLists(const std::string& crlPath, const std::string& candidatePath,
                                          const std::string& bundlePath);
// The same for CRLs fetched from `sourceName` (PEM or DER bytes). The file is
// only written when a CRL is installed: one identical to the CRL held is `unchanged`.
RevocationListAddition addRevocationListData(const std::string& crlPath, const std::string& candidate,
                                             const std::string& sourceName, const std::string& bundlePath);

}  // namespace plexus::trust
