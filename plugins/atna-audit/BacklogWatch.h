// How far behind one transport is: the time of the oldest event it has not
// sent (the one it is working on or retrying), and whether that is older than
// alert_after_seconds. Thread-safe: the transport's consumer reports, the
// plugin's timer checks.
#pragma once

#include <chrono>
#include <mutex>
#include <optional>

namespace plexus::atna {

class BacklogWatch {
public:
    using Clock = std::chrono::system_clock;

    explicit BacklogWatch(std::chrono::seconds alertAfter) : alertAfter_(alertAfter) {}

    void working(Clock::time_point eventTime);  // an event is about to be sent, or failed to be
    void sent();  // it went: nothing is waiting until the next working()

    struct State {
        std::chrono::seconds age{0};  // of the oldest unsent event; 0 when none
        bool alerting = false;
        bool changed = false;  // alerting differs from the previous check
    };
    State check(Clock::time_point now);

private:
    const std::chrono::seconds alertAfter_;
    std::mutex mutex_;
    std::optional<Clock::time_point> oldestUnsent_;
    bool alerting_ = false;
};

}  // namespace plexus::atna
