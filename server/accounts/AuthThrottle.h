// Throttling of failed authentications per client address and per account:
// too many failures within a sliding window lock the key out for a while
// (DESIGN.md "Security baseline"). Memory is bounded: past the cap, the least
// recently failed key is forgotten.
#pragma once

#include <chrono>
#include <cstddef>
#include <deque>
#include <list>
#include <map>
#include <mutex>
#include <string>
#include <string_view>

namespace plexus::accounts {

struct ThrottlePolicy {
    unsigned maxFailuresPerIp = 20;
    unsigned maxFailuresPerAccount = 10;
    std::chrono::seconds window{300};
    std::chrono::seconds lockout{300};
    std::size_t maxTrackedKeys = 100'000;  // each for addresses and for accounts
};

// Failure times of one kind of key (addresses or accounts). Not thread-safe.
class FailureLedger {
public:
    using Clock = std::chrono::steady_clock;

    FailureLedger(unsigned maxFailures, std::chrono::seconds window, std::chrono::seconds lockout, std::size_t capacity);
    FailureLedger(const FailureLedger&) = delete;
    FailureLedger& operator=(const FailureLedger&) = delete;

    bool isLocked(std::string_view key, Clock::time_point now) const;
    void recordFailure(std::string_view key, Clock::time_point now);
    void forget(std::string_view key);
    std::size_t size() const { return entries_.size(); }

private:
    struct Entry {
        std::deque<Clock::time_point> failures;  // within the window, at most maxFailures_
        Clock::time_point lockedUntil{};
        std::list<const std::string*>::iterator age;  // position in recency_
    };

    Entry& entryFor(std::string_view key);
    void evictOldest();

    unsigned maxFailures_;
    std::chrono::seconds window_;
    std::chrono::seconds lockout_;
    std::size_t capacity_;
    std::map<std::string, Entry, std::less<>> entries_;
    std::list<const std::string*> recency_;  // keys of entries_, least recently failed first
};

class AuthThrottle {
public:
    using Clock = FailureLedger::Clock;

    explicit AuthThrottle(const ThrottlePolicy& policy);

    // True if the address or the account is locked out. Thread-safe, like the rest.
    bool isBlocked(std::string_view ip, std::string_view account, Clock::time_point now) const;
    // An empty ip or account is not counted.
    void recordFailure(std::string_view ip, std::string_view account, Clock::time_point now);
    // Clears the account's failures, not the address's: one valid login must
    // not excuse a password spray from the same address.
    void recordSuccess(std::string_view ip, std::string_view account, Clock::time_point now);

    std::size_t trackedAddresses() const;
    std::size_t trackedAccounts() const;

private:
    mutable std::mutex mutex_;
    FailureLedger byIp_;
    FailureLedger byAccount_;
};

}  // namespace plexus::accounts
