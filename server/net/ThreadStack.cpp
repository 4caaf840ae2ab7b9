#include "net/ThreadStack.h"

#include <pthread.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>

namespace plexus::net {

void releaseUnusedStack()
{
    pthread_attr_t attr;
    if (pthread_getattr_np(pthread_self(), &attr) != 0) return;
    void* base = nullptr;
    std::size_t size = 0;
    const bool known = pthread_attr_getstack(&attr, &base, &size) == 0;
    pthread_attr_destroy(&attr);
    if (!known) return;
    // Stacks grow down: [base, here) is unused. Two pages are kept below the
    // current frame for the calls this function returns into.
    const auto page = static_cast<std::uintptr_t>(sysconf(_SC_PAGESIZE));
    volatile char marker = 0;
    const auto here = reinterpret_cast<std::uintptr_t>(&marker);
    const auto low = (reinterpret_cast<std::uintptr_t>(base) + page - 1) & ~(page - 1);
    const auto high = (here & ~(page - 1)) - 2 * page;
    if (high > low) madvise(reinterpret_cast<void*>(low), high - low, MADV_DONTNEED);
}

}  // namespace plexus::net
