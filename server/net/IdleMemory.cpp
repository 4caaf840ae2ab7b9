#include "net/IdleMemory.h"

#include <malloc.h>

#include <atomic>
#include <chrono>

namespace plexus::net {

void releaseFreeHeap()
{
    using Clock = std::chrono::steady_clock;
    static std::atomic<Clock::rep> last{0};
    const auto now = Clock::now().time_since_epoch().count();
    auto previous = last.load();
    const auto second = std::chrono::duration_cast<Clock::duration>(std::chrono::seconds(1)).count();
    if (previous != 0 && now - previous < second) return;
    if (!last.compare_exchange_strong(previous, now)) return;  // another thread trims
    malloc_trim(0);
}

}  // namespace plexus::net
