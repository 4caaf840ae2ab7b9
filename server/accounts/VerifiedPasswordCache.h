// Remembers for a few minutes that a password matched an account's stored
// scrypt hash. Mail clients open several IMAP connections and reconnect all
// day; without this each login costs 55 ms and 16 MiB of scrypt. What is kept
// is an HMAC-SHA256, under a random key that lives only in this process, of
// the stored hash and the password: changing the password changes the stored
// hash, so old entries stop matching at once, and nothing kept is a password.
#pragma once

#include <chrono>
#include <cstddef>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace plexus::accounts {

class VerifiedPasswordCache {
public:
    using Clock = std::chrono::steady_clock;

    explicit VerifiedPasswordCache(std::chrono::seconds lifetime = std::chrono::minutes(10),
                                   std::size_t capacity = 100'000);

    bool contains(std::string_view storedHash, std::string_view password, Clock::time_point now);
    void remember(std::string_view storedHash, std::string_view password, Clock::time_point now);

private:
    std::string digest(std::string_view storedHash, std::string_view password) const;

    std::chrono::seconds lifetime_;
    std::size_t capacity_;
    std::string key_;
    std::mutex mutex_;
    std::unordered_map<std::string, Clock::time_point> expiries_;
    std::multimap<Clock::time_point, std::string> byExpiry_;  // to drop the oldest first
};

}  // namespace plexus::accounts
