#include "net/TlsContext.h"

#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <memory>
#include <stdexcept>

namespace plexus::net {

namespace {

// Mozilla "intermediate" profile for TLS 1.2; TLS 1.3 suites are OpenSSL's defaults.
constexpr const char* cipherList =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
    "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:"
    "DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384";

void loadCrl(SSL_CTX* ctx, const std::string& path)
{
    std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new_file(path.c_str(), "r"), BIO_free);
    if (!bio) throw std::runtime_error("cannot read CRL file " + path);
    X509_STORE* store = SSL_CTX_get_cert_store(ctx);
    int loaded = 0;
    while (X509_CRL* crl = PEM_read_bio_X509_CRL(bio.get(), nullptr, nullptr, nullptr)) {
        X509_STORE_add_crl(store, crl);
        X509_CRL_free(crl);
        ++loaded;
    }
    if (loaded == 0) throw std::runtime_error("no CRL in " + path);
    X509_STORE_set_flags(store, X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL);
}

Poco::Net::Context::Ptr makeContext(Poco::Net::Context::Usage usage, const TlsFiles& files,
                                    Poco::Net::Context::VerificationMode mode)
{
    Poco::Net::Context::Params params;
    params.certificateFile = files.certificate;
    params.privateKeyFile = files.privateKey;
    params.caLocation = files.trustAnchors;
    params.verificationMode = mode;
    params.verificationDepth = 9;
    params.loadDefaultCAs = false;
    params.cipherList = cipherList;
    params.dhUse2048Bits = true;
    Poco::Net::Context::Ptr context = new Poco::Net::Context(usage, params);
    context->requireMinimumProtocol(Poco::Net::Context::PROTO_TLSV1_2);
    // Idle connections (IMAP IDLE) give their 34 KiB of record buffers back.
    SSL_CTX_set_mode(context->sslContext(), SSL_MODE_RELEASE_BUFFERS);
    if (!files.crl.empty()) loadCrl(context->sslContext(), files.crl);
    return context;
}

}  // namespace

Poco::Net::Context::Ptr makeServerContext(const TlsFiles& files, ClientCertificates clientCertificates)
{
    auto context = makeContext(Poco::Net::Context::TLS_SERVER_USE, files,
                               clientCertificates == ClientCertificates::Optional ? Poco::Net::Context::VERIFY_RELAXED
                                                                                  : Poco::Net::Context::VERIFY_NONE);
    context->enableSessionCache(true, "plexus");
    if (clientCertificates == ClientCertificates::Optional) {
        // Tell clients which CAs we accept, so they pick the right certificate.
        if (STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(files.trustAnchors.c_str()))
            SSL_CTX_set_client_CA_list(context->sslContext(), names);
    }
    return context;
}

Poco::Net::Context::Ptr makeClientContext(const TlsFiles& files)
{
    auto context = makeContext(Poco::Net::Context::TLS_CLIENT_USE, files, Poco::Net::Context::VERIFY_RELAXED);
    context->enableExtendedCertificateVerification(false);
    return context;
}

TlsContexts::TlsContexts(TlsFiles files) : files_(std::move(files)) { reload(); }

void TlsContexts::reload()
{
    std::lock_guard reloading(reloading_);
    rebuild(files_);
}

void TlsContexts::reload(TlsFiles files)
{
    std::lock_guard reloading(reloading_);
    rebuild(files);
    files_ = std::move(files);  // only once every context is built from them
}

void TlsContexts::rebuild(const TlsFiles& files)
{
    auto requesting = makeServerContext(files, ClientCertificates::Optional);
    auto plain = makeServerContext(files, ClientCertificates::NotRequested);
    auto relay = makeClientContext(files);
    std::lock_guard lock(mutex_);
    requesting_ = requesting;
    plain_ = plain;
    relay_ = relay;
}

Poco::Net::Context::Ptr TlsContexts::withClientCertificates() const
{
    std::lock_guard lock(mutex_);
    return requesting_;
}

Poco::Net::Context::Ptr TlsContexts::withoutClientCertificates() const
{
    std::lock_guard lock(mutex_);
    return plain_;
}

Poco::Net::Context::Ptr TlsContexts::forRelay() const
{
    std::lock_guard lock(mutex_);
    return relay_;
}

std::vector<std::string> identitiesOf(const X509* certificate)
{
    std::vector<std::string> identities;
    const X509_NAME* subject = X509_get_subject_name(certificate);
    for (int nid : {NID_commonName, NID_pkcs9_emailAddress}) {
        for (int i = X509_NAME_get_index_by_NID(subject, nid, -1); i >= 0; i = X509_NAME_get_index_by_NID(subject, nid, i)) {
            unsigned char* utf8 = nullptr;
            const int len = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, i)));
            if (len >= 0) identities.emplace_back(reinterpret_cast<char*>(utf8), static_cast<std::size_t>(len));
            OPENSSL_free(utf8);
        }
    }
    using Names = std::unique_ptr<GENERAL_NAMES, decltype(&GENERAL_NAMES_free)>;
    Names names(static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(certificate, NID_subject_alt_name, nullptr, nullptr)),
                GENERAL_NAMES_free);
    for (int i = 0; names && i < sk_GENERAL_NAME_num(names.get()); ++i) {
        const GENERAL_NAME* name = sk_GENERAL_NAME_value(names.get(), i);
        if (name->type == GEN_EMAIL)
            identities.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(name->d.rfc822Name)),
                                    static_cast<std::size_t>(ASN1_STRING_length(name->d.rfc822Name)));
    }
    return identities;
}

}  // namespace plexus::net
