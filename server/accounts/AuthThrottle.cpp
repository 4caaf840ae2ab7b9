#include "accounts/AuthThrottle.h"

#include <stdexcept>

namespace plexus::accounts {

FailureLedger::FailureLedger(unsigned maxFailures, std::chrono::seconds window, std::chrono::seconds lockout,
                             std::size_t capacity)
    : maxFailures_(maxFailures), window_(window), lockout_(lockout), capacity_(capacity)
{
    if (maxFailures_ == 0 || capacity_ == 0) throw std::invalid_argument("throttle limits must be positive");
}

bool FailureLedger::isLocked(std::string_view key, Clock::time_point now) const
{
    const auto found = entries_.find(key);
    return found != entries_.end() && now < found->second.lockedUntil;
}

void FailureLedger::recordFailure(std::string_view key, Clock::time_point now)
{
    auto& entry = entryFor(key);
    if (now < entry.lockedUntil) return;  // already locked: the lockout runs from the first lock
    while (!entry.failures.empty() && entry.failures.front() <= now - window_) entry.failures.pop_front();
    entry.failures.push_back(now);
    if (entry.failures.size() < maxFailures_) return;
    entry.lockedUntil = now + lockout_;
    entry.failures.clear();
}

void FailureLedger::forget(std::string_view key)
{
    const auto found = entries_.find(key);
    if (found == entries_.end()) return;
    recency_.erase(found->second.age);
    entries_.erase(found);
}

// The key's entry, created if needed and moved to the young end of recency_.
FailureLedger::Entry& FailureLedger::entryFor(std::string_view key)
{
    auto found = entries_.find(key);
    if (found != entries_.end()) {
        recency_.splice(recency_.end(), recency_, found->second.age);
        return found->second;
    }
    if (entries_.size() >= capacity_) evictOldest();
    found = entries_.emplace(std::string(key), Entry{}).first;
    found->second.age = recency_.insert(recency_.end(), &found->first);
    return found->second;
}

void FailureLedger::evictOldest()
{
    const auto oldest = entries_.find(*recency_.front());
    recency_.pop_front();
    entries_.erase(oldest);
}

AuthThrottle::AuthThrottle(const ThrottlePolicy& policy)
    : byIp_(policy.maxFailuresPerIp, policy.window, policy.lockout, policy.maxTrackedKeys),
      byAccount_(policy.maxFailuresPerAccount, policy.window, policy.lockout, policy.maxTrackedKeys)
{
}

bool AuthThrottle::isBlocked(std::string_view ip, std::string_view account, Clock::time_point now) const
{
    const std::scoped_lock lock(mutex_);
    return byIp_.isLocked(ip, now) || byAccount_.isLocked(account, now);
}

void AuthThrottle::recordFailure(std::string_view ip, std::string_view account, Clock::time_point now)
{
    const std::scoped_lock lock(mutex_);
    if (!ip.empty()) byIp_.recordFailure(ip, now);
    if (!account.empty()) byAccount_.recordFailure(account, now);
}

void AuthThrottle::recordSuccess(std::string_view /*ip*/, std::string_view account, Clock::time_point /*now*/)
{
    const std::scoped_lock lock(mutex_);
    byAccount_.forget(account);
}

std::size_t AuthThrottle::trackedAddresses() const
{
    const std::scoped_lock lock(mutex_);
    return byIp_.size();
}

std::size_t AuthThrottle::trackedAccounts() const
{
    const std::scoped_lock lock(mutex_);
    return byAccount_.size();
}

}  // namespace plexus::accounts
