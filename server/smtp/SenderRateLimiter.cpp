#include "smtp/SenderRateLimiter.h"

namespace plexus::smtp {

SenderRateLimiter::Decision SenderRateLimiter::admit(const std::string& sender, unsigned limit, Clock::time_point now)
{
    if (limit == 0) return {};
    std::lock_guard lock(mutex_);
    forgetEndedWindows(now);
    auto& window = windows_[sender];
    if (window.count == 0 || now - window.start >= window_) window = Window{now, 0};
    if (window.count >= limit) return {false, window.start + window_ - now};
    ++window.count;
    return {};
}

// At most once a window, so that memory follows the senders of the last window.
void SenderRateLimiter::forgetEndedWindows(Clock::time_point now)
{
    if (now - lastSweep_ < window_) return;
    lastSweep_ = now;
    std::erase_if(windows_, [&](const auto& entry) { return now - entry.second.start >= window_; });
}

}  // namespace plexus::smtp
