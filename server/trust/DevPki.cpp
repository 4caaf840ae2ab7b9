#include "trust/DevPki.h"

#include "trust/OpenSsl.h"

#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/x509v3.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <filesystem>
#include <iterator>
#include <system_error>
#include <utility>

namespace plexus::trust {

namespace {

using namespace openssl;

constexpr int kRsaBits = 2048;
constexpr long kCaValidityDays = 3650;
constexpr long kLeafValidityDays = 825;
// Backdated a little so that a peer whose clock lags does not see "not yet valid".
constexpr long kBackdateSeconds = 300;
constexpr mode_t kPrivateMode = 0600;
constexpr mode_t kPublicMode = 0644;

using Extension = std::pair<int, std::string>;  // NID, OpenSSL configuration text

[[noreturn]] void fail(const std::string& what) { throw PkiError(what + ": " + drainErrors()); }

void require(bool ok, const std::string& what)
{
    if (!ok) fail(what);
}

std::string systemError(int code) { return std::error_code(code, std::generic_category()).message(); }

void refuseExisting(std::initializer_list<std::string> paths)
{
    for (const auto& path : paths) {
        if (std::filesystem::exists(std::filesystem::symlink_status(path)))
            throw PkiError(path + " already exists; refusing to overwrite it");
    }
}

// O_EXCL: never follows or replaces an existing file, even one created meanwhile.
void writeNewFile(const std::string& path, std::string_view content, mode_t mode)
{
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    if (fd < 0) throw PkiError("cannot create " + path + ": " + systemError(errno));
    int error = ::fchmod(fd, mode) == 0 ? 0 : errno;  // exactly `mode`, whatever the umask
    for (std::size_t written = 0; error == 0 && written < content.size();) {
        const ssize_t n = ::write(fd, content.data() + written, content.size() - written);
        if (n > 0)
            written += static_cast<std::size_t>(n);
        else if (n == 0 || errno != EINTR)
            error = n == 0 ? EIO : errno;
    }
    if (error == 0 && ::fsync(fd) != 0) error = errno;
    if (::close(fd) != 0 && error == 0) error = errno;
    if (error != 0) {
        ::unlink(path.c_str());
        throw PkiError("cannot write " + path + ": " + systemError(error));
    }
}

template <class Write>
std::string pem(Write write, const std::string& what)
{
    const BioPtr bio(BIO_new(BIO_s_mem()));
    require(bio && write(bio.get()) == 1, "cannot encode " + what);
    char* data = nullptr;
    const long length = BIO_get_mem_data(bio.get(), &data);
    return std::string(data, static_cast<std::size_t>(length));
}

void writePrivateKey(const EVP_PKEY* key, const std::string& path)
{
    const auto text = pem(
        [key](BIO* bio) { return PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr); },
        "private key");
    writeNewFile(path, text, kPrivateMode);
}

void writeCertificate(const X509* certificate, const std::string& path)
{
    writeNewFile(path, pem([certificate](BIO* bio) { return PEM_write_bio_X509(bio, certificate); }, "certificate"),
                 kPublicMode);
}

BioPtr openForReading(const std::string& path)
{
    BioPtr bio(BIO_new_file(path.c_str(), "r"));
    require(bio != nullptr, "cannot open " + path);
    return bio;
}

// Encrypted keys are refused rather than prompting on the terminal.
int noPassphrase(char*, int, int, void*) { return 0; }

KeyPtr readPrivateKey(const std::string& path)
{
    KeyPtr key(PEM_read_bio_PrivateKey(openForReading(path).get(), nullptr, noPassphrase, nullptr));
    require(key != nullptr, "cannot read a private key from " + path);
    return key;
}

X509Ptr readCertificate(const std::string& path)
{
    X509Ptr certificate(PEM_read_bio_X509(openForReading(path).get(), nullptr, noPassphrase, nullptr));
    require(certificate != nullptr, "cannot read a certificate from " + path);
    return certificate;
}

KeyPtr generateRsaKey()
{
    KeyPtr key(EVP_RSA_gen(kRsaBits));
    require(key != nullptr, "RSA key generation failed");
    return key;
}

// Attributes in X.500 order (most general first); empty values are left out.
X509NamePtr nameOf(std::initializer_list<std::pair<const char*, std::string_view>> attributes)
{
    X509NamePtr name(X509_NAME_new());
    require(name != nullptr, "cannot create a name");
    for (const auto& [type, value] : attributes) {
        if (value.empty()) continue;
        require(X509_NAME_add_entry_by_txt(name.get(), type, MBSTRING_UTF8,
                                           reinterpret_cast<const unsigned char*>(value.data()),
                                           static_cast<int>(value.size()), -1, 0) == 1,
                std::string("invalid ") + type + " \"" + std::string(value) + "\"");
    }
    return name;
}

// Random, positive, 128 bits wide.
void setRandomSerial(X509* certificate)
{
    std::array<unsigned char, 16> bytes{};
    require(RAND_bytes(bytes.data(), bytes.size()) == 1, "no random bytes for the serial number");
    bytes[0] &= 0x7F;
    const BigNumPtr serial(BN_bin2bn(bytes.data(), bytes.size(), nullptr));
    require(serial && BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(certificate)) != nullptr,
            "cannot set the serial number");
}

// `issuer` null: self-signed. Extensions are resolved against the issuer (AKI).
X509Ptr signedCertificate(const X509_NAME* subject, EVP_PKEY* subjectKey, X509* issuer, EVP_PKEY* issuerKey,
                          long validityDays, const std::vector<Extension>& extensions)
{
    X509Ptr certificate(X509_new());
    require(certificate != nullptr, "cannot create a certificate");
    X509* const cert = certificate.get();
    require(X509_set_version(cert, X509_VERSION_3) == 1 && X509_set_subject_name(cert, subject) == 1 &&
                X509_set_issuer_name(cert, issuer ? X509_get_subject_name(issuer) : subject) == 1 &&
                X509_set_pubkey(cert, subjectKey) == 1 &&
                X509_gmtime_adj(X509_getm_notBefore(cert), -kBackdateSeconds) != nullptr &&
                X509_time_adj_ex(X509_getm_notAfter(cert), static_cast<int>(validityDays), 0, nullptr) != nullptr,
            "cannot fill the certificate");
    setRandomSerial(cert);
    X509V3_CTX context;
    X509V3_set_ctx_nodb(&context);
    X509V3_set_ctx(&context, issuer ? issuer : cert, cert, nullptr, nullptr, 0);
    for (const auto& [nid, value] : extensions) {
        const X509ExtensionPtr extension(X509V3_EXT_conf_nid(nullptr, &context, nid, value.c_str()));
        require(extension && X509_add_ext(cert, extension.get(), -1) == 1,
                std::string("cannot add extension ") + OBJ_nid2sn(nid) + " = " + value);
    }
    require(X509_sign(cert, issuerKey, EVP_sha256()) > 0, "cannot sign the certificate");
    return certificate;
}

void issueLeafCertificate(const std::string& caKeyPath, const std::string& caCertPath, const X509_NAME* subject,
                          std::vector<Extension> profile, const std::string& keyPath, const std::string& certPath)
{
    refuseExisting({keyPath, certPath});
    const KeyPtr caKey = readPrivateKey(caKeyPath);
    const X509Ptr caCertificate = readCertificate(caCertPath);
    require(X509_check_private_key(caCertificate.get(), caKey.get()) == 1,
            caKeyPath + " is not the key of " + caCertPath);
    const KeyPtr key = generateRsaKey();
    std::vector<Extension> extensions = {
        {NID_basic_constraints, "critical,CA:FALSE"},
        {NID_subject_key_identifier, "hash"},
        {NID_authority_key_identifier, "keyid:always"},
    };
    std::ranges::move(profile, std::back_inserter(extensions));
    const X509Ptr certificate =
        signedCertificate(subject, key.get(), caCertificate.get(), caKey.get(), kLeafValidityDays, extensions);
    writePrivateKey(key.get(), keyPath);
    writeCertificate(certificate.get(), certPath);
}

bool isIpAddress(const std::string& name)
{
    std::array<unsigned char, sizeof(in6_addr)> address{};
    return inet_pton(AF_INET, name.c_str(), address.data()) == 1 ||
           inet_pton(AF_INET6, name.c_str(), address.data()) == 1;
}

// Letters, digits, '-', '.', and a '*' label: also keeps ',' out of the extension text.
bool isDnsName(std::string_view name)
{
    return !name.empty() && std::ranges::all_of(name, [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
               c == '*';
    });
}

std::string subjectAltNames(const std::string& hostName, const std::vector<std::string>& altNames)
{
    std::vector<std::string> names{hostName};
    for (const auto& name : altNames)
        if (std::ranges::find(names, name) == names.end()) names.push_back(name);
    std::string text;
    for (const auto& name : names) {
        const bool ip = isIpAddress(name);
        if (!ip && !isDnsName(name)) throw PkiError("invalid host name \"" + name + "\"");
        if (!text.empty()) text += ',';
        text += (ip ? "IP:" : "DNS:") + name;
    }
    return text;
}

}  // namespace

void createRootCa(const CaSpec& spec, const std::string& keyPath, const std::string& certPath)
{
    if (spec.commonName.empty()) throw PkiError("the CA needs a common name");
    refuseExisting({keyPath, certPath});
    const KeyPtr key = generateRsaKey();
    const X509NamePtr subject = nameOf({{"C", spec.country}, {"O", spec.organization}, {"CN", spec.commonName}});
    const std::vector<Extension> extensions = {
        {NID_basic_constraints, "critical,CA:TRUE"},
        {NID_key_usage, "critical,keyCertSign,cRLSign"},
        {NID_subject_key_identifier, "hash"},
    };
    const X509Ptr certificate =
        signedCertificate(subject.get(), key.get(), nullptr, key.get(), kCaValidityDays, extensions);
    writePrivateKey(key.get(), keyPath);
    writeCertificate(certificate.get(), certPath);
}

void issueServerCertificate(const std::string& caKeyPath, const std::string& caCertPath, const std::string& hostName,
                            const std::vector<std::string>& altNames, const std::string& organization,
                            const std::string& keyPath, const std::string& certPath)
{
    const std::string sans = subjectAltNames(hostName, altNames);
    const X509NamePtr subject = nameOf({{"O", organization}, {"CN", hostName}});
    issueLeafCertificate(caKeyPath, caCertPath, subject.get(),
                         {{NID_key_usage, "critical,digitalSignature,keyEncipherment"},
                          {NID_ext_key_usage, "serverAuth,clientAuth"},
                          {NID_subject_alt_name, sans}},
                         keyPath, certPath);
}

void issueClientCertificate(const std::string& caKeyPath, const std::string& caCertPath,
                            const DistinguishedNameSpec& subject, const std::string& keyPath,
                            const std::string& certPath)
{
    if (subject.commonName.empty()) throw PkiError("a client certificate needs a common name");
    const X509NamePtr name = nameOf({{"C", subject.country},
                                     {"ST", subject.state},
                                     {"O", subject.organization},
                                     {"OU", subject.organizationalUnit},
                                     {"CN", subject.commonName}});
    issueLeafCertificate(caKeyPath, caCertPath, name.get(),
                         {{NID_key_usage, "critical,digitalSignature"}, {NID_ext_key_usage, "clientAuth"}}, keyPath,
                         certPath);
}

void createSigningKeyPair(const std::string& privateKeyPath, const std::string& publicKeyPath)
{
    refuseExisting({privateKeyPath, publicKeyPath});
    const KeyPtr key = generateRsaKey();
    const auto publicKey = pem([&key](BIO* bio) { return PEM_write_bio_PUBKEY(bio, key.get()); }, "public key");
    writePrivateKey(key.get(), privateKeyPath);
    writeNewFile(publicKeyPath, publicKey, kPublicMode);
}

DistinguishedName subjectOfCertificateFile(const std::string& certPath)
{
    return DistinguishedName::fromX509(readCertificate(certPath).get());
}

std::string rfc4514SubjectOfCertificateFile(const std::string& certPath)
{
    return subjectOfCertificateFile(certPath).toString();
}

}  // namespace plexus::trust
