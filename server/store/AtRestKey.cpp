#include "store/AtRestKey.h"

#include "store/BlobIo.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/kdf.h>
#include <openssl/obj_mac.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <vector>

namespace plexus::store {

struct AtRestKey::Material {
    std::array<unsigned char, kSize> bytes{};
    Material() = default;
    Material(const Material&) = delete;
    Material& operator=(const Material&) = delete;
    ~Material() { OPENSSL_cleanse(bytes.data(), bytes.size()); }
};

namespace {

constexpr std::size_t kHexSize = 2 * AtRestKey::kSize;
constexpr std::string_view kIdInfo = "plexus at-rest key id v1";

// Wipes a stack buffer that held key material, on every exit path.
class WipeOnExit {
public:
    WipeOnExit(void* data, std::size_t size) : data_(data), size_(size) {}
    WipeOnExit(const WipeOnExit&) = delete;
    WipeOnExit& operator=(const WipeOnExit&) = delete;
    ~WipeOnExit() { OPENSSL_cleanse(data_, size_); }

private:
    void* data_;
    std::size_t size_;
};

std::string errnoMessage(const std::string& what, const std::string& path)
{
    return what + " at-rest key file " + path + ": " + io::errnoText(errno);
}

void toHex(std::span<const unsigned char> bytes, char* out)
{
    static constexpr char kDigits[] = "0123456789abcdef";
    for (const unsigned char b : bytes) {
        *out++ = kDigits[b >> 4];
        *out++ = kDigits[b & 0x0f];
    }
}

std::optional<unsigned char> hexDigitValue(char c)
{
    if (c >= '0' && c <= '9')
        return static_cast<unsigned char>(c - '0');
    if (c >= 'a' && c <= 'f')
        return static_cast<unsigned char>(c - 'a' + 10);
    if (c >= 'A' && c <= 'F')
        return static_cast<unsigned char>(c - 'A' + 10);
    return std::nullopt;
}

// False if text is not exactly 2 * out.size() hex digits.
bool fromHex(std::string_view text, std::span<unsigned char> out)
{
    if (text.size() != 2 * out.size())
        return false;
    for (std::size_t i = 0; i < out.size(); ++i) {
        const auto high = hexDigitValue(text[2 * i]);
        const auto low = hexDigitValue(text[2 * i + 1]);
        if (!high || !low)
            return false;
        out[i] = static_cast<unsigned char>(*high << 4 | *low);
    }
    return true;
}

std::string parentDirectory(const std::string& path)
{
    const auto parent = std::filesystem::path(path).parent_path();
    return parent.empty() ? "." : parent.string();
}

void requirePrivateRegularFile(int fd, const std::string& path)
{
    struct stat st {};
    if (::fstat(fd, &st) != 0)
        throw AtRestKeyError(errnoMessage("cannot stat", path));
    if (!S_ISREG(st.st_mode))
        throw AtRestKeyError("at-rest key file " + path + " is not a regular file");
    if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
        char mode[8];
        std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
        throw AtRestKeyError("at-rest key file " + path + " has mode " + mode +
                             "; it must not be accessible by group or others (chmod 600 " + path + ")");
    }
}

// Writes the key as hex text and makes it durable.
void writeKeyText(int fd, std::span<const unsigned char> bytes, const std::string& path)
{
    std::array<char, kHexSize + 1> text;
    WipeOnExit wipe(text.data(), text.size());
    toHex(bytes, text.data());
    text.back() = '\n';
    if (!io::writeAll(fd, text.data(), text.size()))
        throw AtRestKeyError(errnoMessage("cannot write", path));
    if (!io::fsyncFd(fd))
        throw AtRestKeyError(errnoMessage("cannot fsync", path));
}

// Reads 64 hex digits and an optional final newline into out.
void readKeyText(int fd, std::span<unsigned char, AtRestKey::kSize> out, const std::string& path)
{
    std::array<char, kHexSize + 2> text;  // one byte more than allowed, to detect longer files
    WipeOnExit wipe(text.data(), text.size());
    const ssize_t n = io::readAt(fd, text.data(), text.size(), 0);
    if (n < 0)
        throw AtRestKeyError(errnoMessage("cannot read", path));
    std::string_view content(text.data(), static_cast<std::size_t>(n));
    if (content.ends_with('\n'))
        content.remove_suffix(1);
    if (!fromHex(content, out))
        throw AtRestKeyError("at-rest key file " + path + " must contain exactly " + std::to_string(kHexSize) +
                             " hexadecimal characters (a " + std::to_string(AtRestKey::kSize) + "-byte key)");
}

}  // namespace

void AtRestKey::generateFile(const std::string& path)
{
    io::UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, S_IRUSR | S_IWUSR));
    if (!fd.valid()) {
        if (errno == EEXIST)
            throw AtRestKeyError("refusing to overwrite existing at-rest key file " + path);
        throw AtRestKeyError(errnoMessage("cannot create", path));
    }
    try {
        Material material;
        if (RAND_bytes(material.bytes.data(), static_cast<int>(material.bytes.size())) != 1)
            throw AtRestKeyError("cannot get random bytes for at-rest key file " + path);
        writeKeyText(fd.get(), material.bytes, path);
        if (!fd.close())
            throw AtRestKeyError(errnoMessage("cannot close", path));
        if (!io::fsyncDirectory(parentDirectory(path)))
            throw AtRestKeyError(errnoMessage("cannot sync the directory of", path));
    } catch (...) {
        fd.reset();
        ::unlink(path.c_str());  // leave no key that was never durably written
        throw;
    }
}

AtRestKey AtRestKey::loadFile(const std::string& path)
{
    io::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd.valid())
        throw AtRestKeyError(errnoMessage("cannot open", path));
    requirePrivateRegularFile(fd.get(), path);
    auto material = std::make_unique<Material>();
    readKeyText(fd.get(), material->bytes, path);
    return AtRestKey(std::move(material));
}

AtRestKey::AtRestKey(std::unique_ptr<Material> material) : material_(std::move(material))
{
    std::array<unsigned char, kSize> derived;
    deriveKey({}, kIdInfo, derived);
    std::copy_n(derived.begin(), id_.size(), id_.begin());
}

AtRestKey::AtRestKey(AtRestKey&&) noexcept = default;
AtRestKey& AtRestKey::operator=(AtRestKey&&) noexcept = default;
AtRestKey::~AtRestKey() = default;

std::string AtRestKey::idHex(const Id& id)
{
    std::string hex(2 * id.size(), '\0');
    toHex(id, hex.data());
    return hex;
}

void AtRestKey::deriveKey(std::span<const unsigned char> salt, std::string_view info,
                          std::span<unsigned char, kSize> out) const
{
    if (!material_)
        throw AtRestKeyError("use of a moved-from at-rest key");
    // Fetched once: OpenSSL 3 looks it up in its provider store, under a lock,
    // at every fetch, and every blob opened derives its key.
    using Kdf = std::unique_ptr<EVP_KDF, decltype(&EVP_KDF_free)>;
    static const Kdf kdf(EVP_KDF_fetch(nullptr, OSSL_KDF_NAME_HKDF, nullptr), EVP_KDF_free);
    using KdfContext = std::unique_ptr<EVP_KDF_CTX, decltype(&EVP_KDF_CTX_free)>;
    KdfContext context(kdf ? EVP_KDF_CTX_new(kdf.get()) : nullptr, EVP_KDF_CTX_free);
    if (!context)
        throw AtRestKeyError("cannot set up HKDF key derivation");

    // OSSL_PARAM wants mutable pointers but only reads through them.
    std::vector<OSSL_PARAM> params{
        OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, const_cast<char*>(SN_sha256), 0),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, material_->bytes.data(), material_->bytes.size()),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, const_cast<char*>(info.data()), info.size()),
    };
    if (!salt.empty())  // an absent salt is HKDF's all-zero default
        params.push_back(OSSL_PARAM_construct_octet_string(
            OSSL_KDF_PARAM_SALT, const_cast<unsigned char*>(salt.data()), salt.size()));
    params.push_back(OSSL_PARAM_construct_end());

    if (EVP_KDF_derive(context.get(), out.data(), out.size(), params.data()) != 1) {
        OPENSSL_cleanse(out.data(), out.size());
        throw AtRestKeyError("HKDF key derivation failed");
    }
}

}  // namespace plexus::store
