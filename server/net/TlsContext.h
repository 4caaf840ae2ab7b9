// TLS contexts: TLS 1.2 or newer, strong ciphers, certificates of clients and
// of relay peers checked against the configured trust anchors (and CRLs).
// Contexts are replaced as a whole on reload (SIGHUP); sessions keep the one
// they started with.
#pragma once

#include <Poco/Net/Context.h>

#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace plexus::net {

struct TlsFiles {
    std::string certificate;   // PEM chain of this server
    std::string privateKey;
    std::string trustAnchors;  // PEM CA bundle for client and peer certificates
    std::string crl;           // optional PEM CRL file
};

enum class ClientCertificates {
    NotRequested,
    Optional,  // requested; an invalid one fails the handshake, none is allowed
};

Poco::Net::Context::Ptr makeServerContext(const TlsFiles& files, ClientCertificates clientCertificates);

// For relaying to other operators: our certificate presented as client
// certificate, the peer's chain verified (an invalid one fails the handshake),
// no host name check: MSSanté recognises a peer by its subject DN in the whitelist.
Poco::Net::Context::Ptr makeClientContext(const TlsFiles& files);

// The contexts every listener takes its TLS context from; swapped on reload.
class TlsContexts {
public:
    explicit TlsContexts(TlsFiles files);
    // Rebuilds the contexts from the files; on error keeps the current ones and throws.
    void reload();
    // The same from other files (the configuration changed, e.g. a first CRL file).
    void reload(TlsFiles files);
    Poco::Net::Context::Ptr withClientCertificates() const;
    Poco::Net::Context::Ptr withoutClientCertificates() const;
    Poco::Net::Context::Ptr forRelay() const;

private:
    void rebuild(const TlsFiles& files);

    std::mutex reloading_;  // reloads come from SIGHUP and the CRL refresh; guards files_
    TlsFiles files_;
    mutable std::mutex mutex_;
    Poco::Net::Context::Ptr requesting_;
    Poco::Net::Context::Ptr plain_;
    Poco::Net::Context::Ptr relay_;
};

// The CN and e-mail addresses (subject emailAddress, SAN rfc822Name) of a certificate.
std::vector<std::string> identitiesOf(const X509* certificate);

}  // namespace plexus::net
