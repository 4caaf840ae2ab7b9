// Internal to the trust module: owning pointers for OpenSSL objects and the
// text of OpenSSL's error queue.
#pragma once

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <memory>
#include <string>

namespace plexus::trust::openssl {

template <auto Free>
struct Deleter {
    template <class T>
    void operator()(T* object) const { Free(object); }
};

template <class T, auto Free>
using Owned = std::unique_ptr<T, Deleter<Free>>;

using Asn1ObjectPtr = Owned<ASN1_OBJECT, ASN1_OBJECT_free>;
using Asn1TypePtr = Owned<ASN1_TYPE, ASN1_TYPE_free>;
using BigNumPtr = Owned<BIGNUM, BN_free>;
using BioPtr = Owned<BIO, BIO_free_all>;
using KeyPtr = Owned<EVP_PKEY, EVP_PKEY_free>;
using X509Ptr = Owned<X509, X509_free>;
using X509ExtensionPtr = Owned<X509_EXTENSION, X509_EXTENSION_free>;
using X509NamePtr = Owned<X509_NAME, X509_NAME_free>;

// Empties the calling thread's OpenSSL error queue into "reason; reason…".
std::string drainErrors();

}  // namespace plexus::trust::openssl
