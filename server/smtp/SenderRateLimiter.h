// Outbound rate limit per authenticated sender: how many remote recipients an
// account may give in a window (a compromised account must not flood the
// trust space). Fixed windows, each starting at the sender's first recipient
// after the previous one ended; kept in memory, shared by all sessions.
#pragma once

#include <chrono>
#include <mutex>
#include <string>
#include <unordered_map>

namespace plexus::smtp {

// Remote recipients per hour; 0 = no limit. APP accounts (lab and hospital
// systems sending reports) get their own, larger limit.
struct SenderRateLimits {
    unsigned perHour = 1000;
    unsigned appPerHour = 10000;
};

class SenderRateLimiter {
public:
    using Clock = std::chrono::steady_clock;

    explicit SenderRateLimiter(Clock::duration window = std::chrono::hours(1)) : window_(window) {}

    struct Decision {
        bool allowed = true;
        Clock::duration retryAfter{};  // when refused: until the window ends
    };
    // Counts one recipient for `sender` if it stays within `limit` (0: no limit).
    Decision admit(const std::string& sender, unsigned limit, Clock::time_point now = Clock::now());

private:
    struct Window {
        Clock::time_point start;
        unsigned count = 0;
    };
    void forgetEndedWindows(Clock::time_point now);

    Clock::duration window_;
    std::mutex mutex_;
    std::unordered_map<std::string, Window> windows_;
    Clock::time_point lastSweep_{};
};

}  // namespace plexus::smtp
