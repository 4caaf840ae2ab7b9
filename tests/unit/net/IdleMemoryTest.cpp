#include "net/IdleMemory.h"

#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace {

std::size_t residentKiB()
{
    std::ifstream status("/proc/self/status");
    for (std::string line; std::getline(status, line);)
        if (line.rfind("VmRSS:", 0) == 0) return std::stoul(line.substr(6));
    return 0;
}

}  // namespace

// 64 MiB of small blocks, all freed but one in 64: no free space at the top of
// the heap to give back, only whole free pages between the blocks still live.
TEST(IdleMemoryTest, GivesBackFreeHeapPagesBetweenLiveBlocks)
{
#if defined(__SANITIZE_ADDRESS__)
    GTEST_SKIP() << "AddressSanitizer replaces glibc's allocator, which is what malloc_trim acts on";
#endif
    std::vector<std::unique_ptr<char[]>> blocks(64 * 1024 * 1024 / 1024);
    for (auto& block : blocks) {
        block = std::make_unique<char[]>(1000);
        block[0] = 1;
        block[999] = 1;
    }
    for (std::size_t i = 0; i < blocks.size(); ++i)
        if (i % 64 != 63) blocks[i].reset();
    const auto before = residentKiB();
    std::this_thread::sleep_for(std::chrono::milliseconds(1100));  // past any earlier call's second
    plexus::net::releaseFreeHeap();
    const auto after = residentKiB();
    EXPECT_GT(before, after + 32 * 1024) << before << " KiB before, " << after << " KiB after";
    plexus::net::releaseFreeHeap();  // within the second: does nothing, harmlessly
}
