#include "net/ThreadStack.h"

#include <gtest/gtest.h>

#include <pthread.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <thread>
#include <vector>

namespace {

// Resident pages of the calling thread's stack (mincore).
std::size_t residentStackPages()
{
    pthread_attr_t attr;
    pthread_getattr_np(pthread_self(), &attr);
    void* base = nullptr;
    std::size_t size = 0;
    pthread_attr_getstack(&attr, &base, &size);
    pthread_attr_destroy(&attr);
    const auto page = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
    std::vector<unsigned char> resident((size + page - 1) / page);
    if (mincore(base, size, resident.data()) != 0) return 0;
    std::size_t n = 0;
    for (const auto r : resident) n += r & 1;
    return n;
}

// Touches about 128 KiB of stack below the caller's frame.
__attribute__((noinline)) void useDeepStack()
{
    volatile char buffer[128 * 1024];
    for (std::size_t i = 0; i < sizeof buffer; i += 512) buffer[i] = 1;
}

}  // namespace

TEST(ThreadStackTest, GivesBackThePagesBelowTheCurrentFrame)
{
    std::size_t deep = 0, released = 0;
    std::thread worker([&] {
        useDeepStack();
        deep = residentStackPages();
        plexus::net::releaseUnusedStack();
        released = residentStackPages();
        useDeepStack();  // the pages come back, zeroed, when used again
    });
    worker.join();
    EXPECT_GE(deep, 32u);               // the 128 KiB were resident
    EXPECT_LE(released + 24, deep);     // most of them went back
}
