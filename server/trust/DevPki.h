// The development PKI written by `plexusctl init`: a test root CA standing in for
// IGC-Santé, the server's "SERV SSL"-like certificate, client certificates for APP
// accounts and test peer operators, and the development OpenID Connect signing
// key. RSA 2048 and SHA-256 as MSSanté requires. Files are PEM; private keys are
// written 0600; no file is ever overwritten. Errors throw PkiError with
// OpenSSL's reasons.
#pragma once

#include "trust/DistinguishedName.h"

#include <stdexcept>
#include <string>
#include <vector>

namespace plexus::trust {

class PkiError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

struct CaSpec {
    std::string commonName;
    std::string organization;
    std::string country = "FR";
};

// Subject of a client certificate; empty fields are left out.
struct DistinguishedNameSpec {
    std::string commonName;  // required; the mailbox address for APP accounts
    std::string organizationalUnit;
    std::string organization;
    std::string state;
    std::string country;
};

// Self-signed, 10 years, CA:TRUE (critical), keyCertSign + cRLSign.
void createRootCa(const CaSpec& spec, const std::string& keyPath, const std::string& certPath);

// Subject CN=hostName,O=organization; EKU serverAuth and clientAuth (MSSanté
// operators present one certificate both ways); SAN dNSName for hostName and each
// alt name, iPAddress for alt names that are IP literals (e.g. "127.0.0.1").
void issueServerCertificate(const std::string& caKeyPath, const std::string& caCertPath, const std::string& hostName,
                            const std::vector<std::string>& altNames, const std::string& organization,
                            const std::string& keyPath, const std::string& certPath);

// EKU clientAuth only.
void issueClientCertificate(const std::string& caKeyPath, const std::string& caCertPath,
                            const DistinguishedNameSpec& subject, const std::string& keyPath,
                            const std::string& certPath);

// RSA key pair for JWT RS256: PKCS#8 private key and SubjectPublicKeyInfo public key.
void createSigningKeyPair(const std::string& privateKeyPath, const std::string& publicKeyPath);

DistinguishedName subjectOfCertificateFile(const std::string& certPath);
std::string rfc4514SubjectOfCertificateFile(const std::string& certPath);

}  // namespace plexus::trust
