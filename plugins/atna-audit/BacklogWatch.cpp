#include "BacklogWatch.h"

#include <algorithm>

namespace plexus::atna {

void BacklogWatch::working(Clock::time_point eventTime)
{
    std::lock_guard lock(mutex_);
    if (!oldestUnsent_) oldestUnsent_ = eventTime;
}

void BacklogWatch::sent()
{
    std::lock_guard lock(mutex_);
    oldestUnsent_.reset();
}

BacklogWatch::State BacklogWatch::check(Clock::time_point now)
{
    std::lock_guard lock(mutex_);
    State state;
    if (oldestUnsent_)
        state.age = std::max(std::chrono::seconds(0), std::chrono::duration_cast<std::chrono::seconds>(now - *oldestUnsent_));
    state.alerting = oldestUnsent_ && state.age > alertAfter_;
    state.changed = state.alerting != alerting_;
    alerting_ = state.alerting;
    return state;
}

}  // namespace plexus::atna
