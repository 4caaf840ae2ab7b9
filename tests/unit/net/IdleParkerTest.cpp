#include "net/IdleParker.h"

#include <gtest/gtest.h>

#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <thread>

using plexus::net::IdleParker;
using namespace std::chrono_literals;

namespace {

class FakeSession : public IdleParker::Parked {
public:
    FakeSession()
    {
        int fds[2];
        EXPECT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
        mine = fds[0];
        peer = fds[1];
    }
    ~FakeSession() override
    {
        ::close(mine);
        ::close(peer);
    }
    void resumed(std::shared_ptr<Parked> self) override { keepAlive = std::move(self); }
    void run() override
    {
        const auto self = std::move(keepAlive);
        runs.fetch_add(1);
    }
    // Waits until run() has been called `n` times in all.
    bool ranTimes(int n, std::chrono::milliseconds within = 3000ms) const
    {
        const auto deadline = std::chrono::steady_clock::now() + within;
        while (runs.load() < n && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(5ms);
        return runs.load() == n;
    }

    int mine = -1, peer = -1;
    std::atomic<int> runs{0};
    std::shared_ptr<Parked> keepAlive;
};

auto later() { return IdleParker::Clock::now() + 1h; }

}  // namespace

TEST(IdleParkerTest, InputResumesTheSessionOnce)
{
    IdleParker parker(10, 4);
    auto a = std::make_shared<FakeSession>();
    auto b = std::make_shared<FakeSession>();
    ASSERT_TRUE(parker.park(a, a->mine, 1, later()));
    ASSERT_TRUE(parker.park(b, b->mine, 1, later()));
    EXPECT_EQ(parker.parkedCount(), 2u);
    ASSERT_EQ(::write(a->peer, "x", 1), 1);
    EXPECT_TRUE(a->ranTimes(1));
    std::this_thread::sleep_for(100ms);
    EXPECT_EQ(a->runs.load(), 1);  // once, although the byte is still unread
    EXPECT_EQ(b->runs.load(), 0);
    EXPECT_EQ(parker.parkedCount(), 1u);
    EXPECT_EQ(a->keepAlive, nullptr);  // run() took the parker's reference
}

TEST(IdleParkerTest, WakeResumesTheSessionsOfThatKeyOnly)
{
    IdleParker parker(10, 4);
    auto a = std::make_shared<FakeSession>();
    auto b = std::make_shared<FakeSession>();
    auto c = std::make_shared<FakeSession>();
    ASSERT_TRUE(parker.park(a, a->mine, 7, later()));
    ASSERT_TRUE(parker.park(b, b->mine, 7, later()));
    ASSERT_TRUE(parker.park(c, c->mine, 8, later()));
    parker.wake(7);
    parker.wake(7);  // twice: still one run each
    parker.wake(99);
    EXPECT_TRUE(a->ranTimes(1));
    EXPECT_TRUE(b->ranTimes(1));
    std::this_thread::sleep_for(100ms);
    EXPECT_EQ(a->runs.load(), 1);
    EXPECT_EQ(c->runs.load(), 0);
    // Parked again, it is woken again.
    ASSERT_TRUE(parker.park(a, a->mine, 7, later()));
    parker.wake(7);
    EXPECT_TRUE(a->ranTimes(2));
}

TEST(IdleParkerTest, DeadlineResumesTheSession)
{
    IdleParker parker(10, 4);
    auto a = std::make_shared<FakeSession>();
    auto b = std::make_shared<FakeSession>();
    ASSERT_TRUE(parker.park(a, a->mine, 1, IdleParker::Clock::now() + 300ms));
    ASSERT_TRUE(parker.park(b, b->mine, 1, later()));
    EXPECT_TRUE(a->ranTimes(1, 2500ms));
    EXPECT_EQ(b->runs.load(), 0);
}

TEST(IdleParkerTest, RefusesBeyondItsBoundAndAfterStop)
{
    IdleParker parker(2, 4);
    auto a = std::make_shared<FakeSession>();
    auto b = std::make_shared<FakeSession>();
    auto c = std::make_shared<FakeSession>();
    ASSERT_TRUE(parker.park(a, a->mine, 1, later()));
    ASSERT_TRUE(parker.park(b, b->mine, 2, later()));
    EXPECT_FALSE(parker.park(c, c->mine, 3, later()));
    EXPECT_EQ(c.use_count(), 1);  // not kept
    parker.stop();                // resumes every parked session, and waits for them
    EXPECT_EQ(a->runs.load(), 1);
    EXPECT_EQ(b->runs.load(), 1);
    EXPECT_EQ(parker.parkedCount(), 0u);
    EXPECT_FALSE(parker.park(c, c->mine, 3, later()));
}

TEST(IdleParkerTest, APeerThatHangsUpResumesTheSession)
{
    IdleParker parker(10, 4);
    auto a = std::make_shared<FakeSession>();
    ASSERT_TRUE(parker.park(a, a->mine, 1, later()));
    ::shutdown(a->peer, SHUT_RDWR);
    EXPECT_TRUE(a->ranTimes(1));
}
