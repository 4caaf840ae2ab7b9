#include "accounts/VerifiedPasswordCache.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <stdexcept>

namespace plexus::accounts {

VerifiedPasswordCache::VerifiedPasswordCache(std::chrono::seconds lifetime, std::size_t capacity)
    : lifetime_(lifetime), capacity_(capacity), key_(32, '\0')
{
    if (RAND_bytes(reinterpret_cast<unsigned char*>(key_.data()), static_cast<int>(key_.size())) != 1)
        throw std::runtime_error("RAND_bytes failed");
}

std::string VerifiedPasswordCache::digest(std::string_view storedHash, std::string_view password) const
{
    std::string input;
    input.reserve(storedHash.size() + 1 + password.size());
    input.append(storedHash).append(1, '\0').append(password);
    std::string out(EVP_MAX_MD_SIZE, '\0');
    unsigned int length = 0;
    if (!HMAC(EVP_sha256(), key_.data(), static_cast<int>(key_.size()), reinterpret_cast<const unsigned char*>(input.data()),
              input.size(), reinterpret_cast<unsigned char*>(out.data()), &length))
        throw std::runtime_error("HMAC failed");
    out.resize(length);
    OPENSSL_cleanse(input.data(), input.size());
    return out;
}

bool VerifiedPasswordCache::contains(std::string_view storedHash, std::string_view password, Clock::time_point now)
{
    const std::string key = digest(storedHash, password);
    std::lock_guard lock(mutex_);
    const auto it = expiries_.find(key);
    return it != expiries_.end() && it->second > now;
}

void VerifiedPasswordCache::remember(std::string_view storedHash, std::string_view password, Clock::time_point now)
{
    std::string key = digest(storedHash, password);
    std::lock_guard lock(mutex_);
    while (!byExpiry_.empty() && (byExpiry_.begin()->first <= now || expiries_.size() >= capacity_)) {
        const auto oldest = byExpiry_.begin();
        const auto entry = expiries_.find(oldest->second);
        if (entry != expiries_.end() && entry->second == oldest->first) expiries_.erase(entry);
        byExpiry_.erase(oldest);
    }
    const auto expiry = now + lifetime_;
    expiries_[key] = expiry;
    byExpiry_.emplace(expiry, std::move(key));
}

}  // namespace plexus::accounts
