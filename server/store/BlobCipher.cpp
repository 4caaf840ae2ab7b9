#include "store/BlobCipher.h"

#include "store/BlobError.h"

#include <openssl/crypto.h>
#include <openssl/err.h>

#include <array>
#include <memory>
#include <string_view>
#include <utility>

namespace plexus::store::blob {

namespace {

constexpr std::size_t kNonceSize = 12;
constexpr std::string_view kFileKeyInfo = "plexus blob file key v1";

// Writes value big-endian into the 8 bytes at out.
void putBigEndian64(std::uint64_t value, unsigned char* out)
{
    for (int i = 7; i >= 0; --i, value >>= 8)
        out[i] = static_cast<unsigned char>(value);
}

const unsigned char* bytes(const char* data)
{
    return reinterpret_cast<const unsigned char*>(data);
}

unsigned char* bytes(char* data)
{
    return reinterpret_cast<unsigned char*>(data);
}

// Fetched once: OpenSSL 3 looks a named algorithm up in its provider store,
// under a lock, each time EVP_aes_256_gcm() is used; every blob opened did.
const EVP_CIPHER* aes256Gcm()
{
    static const std::unique_ptr<EVP_CIPHER, decltype(&EVP_CIPHER_free)> cipher(
        EVP_CIPHER_fetch(nullptr, "AES-256-GCM", nullptr), EVP_CIPHER_free);
    return cipher.get();
}

}  // namespace

BlobCipher::BlobCipher(const AtRestKey& key, const Header& header, std::string path)
    : context_(EVP_CIPHER_CTX_new()), header_(encodeHeader(header)), path_(std::move(path))
{
    if (!context_)
        fail("EVP_CIPHER_CTX_new");
    std::array<unsigned char, AtRestKey::kSize> fileKey;
    key.deriveKey(header.salt, kFileKeyInfo, fileKey);
    const EVP_CIPHER* cipher = aes256Gcm();
    const int ok = cipher ? EVP_CipherInit_ex(context_.get(), cipher, nullptr, fileKey.data(), nullptr,
                                              static_cast<int>(Direction::encrypt))
                          : 0;
    OPENSSL_cleanse(fileKey.data(), fileKey.size());
    if (ok != 1)
        fail("EVP_CipherInit_ex");
}

void BlobCipher::start(std::uint64_t segment, bool last, Direction direction)
{
    // Nonce: 4 zero bytes, then the segment index.
    std::array<unsigned char, kNonceSize> nonce{};
    putBigEndian64(segment, &nonce[kNonceSize - 8]);
    if (EVP_CipherInit_ex(context_.get(), nullptr, nullptr, nullptr, nonce.data(), static_cast<int>(direction)) != 1)
        fail("EVP_CipherInit_ex");

    std::array<unsigned char, 9> position;
    putBigEndian64(segment, position.data());
    position[8] = last ? 1 : 0;
    int unused = 0;
    if (EVP_CipherUpdate(context_.get(), nullptr, &unused, header_.data(), static_cast<int>(header_.size())) != 1 ||
        EVP_CipherUpdate(context_.get(), nullptr, &unused, position.data(), static_cast<int>(position.size())) != 1)
        fail("EVP_CipherUpdate (AAD)");
}

void BlobCipher::seal(std::uint64_t segment, bool last, std::span<const char> plaintext, char* out)
{
    start(segment, last, Direction::encrypt);
    int written = 0;
    if (!plaintext.empty() && EVP_EncryptUpdate(context_.get(), bytes(out), &written, bytes(plaintext.data()),
                                                static_cast<int>(plaintext.size())) != 1)
        fail("EVP_EncryptUpdate");
    int finalWritten = 0;  // always 0 for GCM
    if (EVP_EncryptFinal_ex(context_.get(), bytes(out) + written, &finalWritten) != 1)
        fail("EVP_EncryptFinal_ex");
    if (EVP_CIPHER_CTX_ctrl(context_.get(), EVP_CTRL_AEAD_GET_TAG, kTagSize, out + plaintext.size()) != 1)
        fail("EVP_CTRL_AEAD_GET_TAG");
}

bool BlobCipher::open(std::uint64_t segment, bool last, std::span<const char> sealed, char* out)
{
    const auto ciphertext = sealed.first(sealed.size() - kTagSize);
    const auto tag = sealed.last(kTagSize);
    start(segment, last, Direction::decrypt);
    int written = 0;
    if (!ciphertext.empty() && EVP_DecryptUpdate(context_.get(), bytes(out), &written, bytes(ciphertext.data()),
                                                 static_cast<int>(ciphertext.size())) != 1)
        fail("EVP_DecryptUpdate");
    // The tag is only read, despite the non-const parameter.
    if (EVP_CIPHER_CTX_ctrl(context_.get(), EVP_CTRL_AEAD_SET_TAG, kTagSize, const_cast<char*>(tag.data())) != 1)
        fail("EVP_CTRL_AEAD_SET_TAG");
    int finalWritten = 0;
    if (EVP_DecryptFinal_ex(context_.get(), bytes(out) + written, &finalWritten) != 1) {
        ERR_clear_error();  // expected outcome, not a pending error for the next OpenSSL user on this thread
        return false;
    }
    return true;
}

void BlobCipher::fail(const char* operation) const
{
    std::array<char, 256> reason{};
    ERR_error_string_n(ERR_get_error(), reason.data(), reason.size());
    ERR_clear_error();
    throw BlobError("blob " + path_ + ": AES-256-GCM " + operation + " failed: " + reason.data());
}

}  // namespace plexus::store::blob
