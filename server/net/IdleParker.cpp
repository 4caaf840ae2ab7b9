#include "net/IdleParker.h"

#include <Poco/Exception.h>
#include <Poco/Logger.h>

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

namespace plexus::net {

namespace {

constexpr int kStackSize = 256 * 1024;  // as the listeners' session threads

int checked(int fd, const char* what)
{
    if (fd < 0) throw std::runtime_error(std::string("idle parker: ") + what + ": " + std::strerror(errno));
    return fd;
}

}  // namespace

IdleParker::IdleParker(std::size_t maxParked, int maxRunning)
    : maxParked_(maxParked),
      epoll_(checked(epoll_create1(EPOLL_CLOEXEC), "epoll_create1")),
      wakeFd_(checked(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK), "eventfd")),
      pool_("idle", 1, maxRunning, 60, kStackSize),
      parkedGauge_(metrics::Registry::instance().gauge("plexus_imap_sessions_parked",
                                                       "IMAP sessions idling without a thread"))
{
    epoll_event event{};
    event.events = EPOLLIN;
    event.data.fd = wakeFd_;
    checked(epoll_ctl(epoll_, EPOLL_CTL_ADD, wakeFd_, &event), "epoll_ctl");
    watcher_ = std::thread([this] { run(); });
}

IdleParker::~IdleParker()
{
    stop();
    ::close(wakeFd_);
    ::close(epoll_);
}

bool IdleParker::park(std::shared_ptr<Parked> session, int fd, std::int64_t key, Clock::time_point deadline)
{
    std::lock_guard lock(mutex_);
    if (stopping_ || parked_.size() >= maxParked_) return false;
    epoll_event event{};
    event.events = EPOLLIN | EPOLLRDHUP;
    event.data.fd = fd;
    if (epoll_ctl(epoll_, EPOLL_CTL_ADD, fd, &event) != 0) return false;
    parked_.emplace(fd, Entry{std::move(session), key, deadline});
    byKey_.emplace(key, fd);
    parkedGauge_.add(1);
    return true;
}

void IdleParker::wake(std::int64_t key)
{
    {
        std::lock_guard lock(mutex_);
        if (stopping_ || !byKey_.contains(key)) return;
        wokenKeys_.push_back(key);
    }
    signal();
}

void IdleParker::stop()
{
    {
        std::lock_guard lock(mutex_);
        if (stopping_) return;
        stopping_ = true;
    }
    signal();
    watcher_.join();
    pool_.joinAll();
}

std::size_t IdleParker::parkedCount() const
{
    std::lock_guard lock(mutex_);
    return parked_.size();
}

void IdleParker::signal()
{
    const std::uint64_t one = 1;
    // A full counter (never, in practice) still leaves the watcher signalled.
    [[maybe_unused]] const auto written = ::write(wakeFd_, &one, sizeof one);
}

std::shared_ptr<IdleParker::Parked> IdleParker::takeLocked(int fd)
{
    const auto found = parked_.find(fd);
    if (found == parked_.end()) return nullptr;
    epoll_ctl(epoll_, EPOLL_CTL_DEL, fd, nullptr);
    auto [first, last] = byKey_.equal_range(found->second.key);
    for (auto it = first; it != last; ++it)
        if (it->second == fd) {
            byKey_.erase(it);
            break;
        }
    auto session = std::move(found->second.session);
    parked_.erase(found);
    parkedGauge_.add(-1);
    return session;
}

void IdleParker::resume(std::shared_ptr<Parked> session)
{
    Parked& target = *session;
    target.resumed(session);
    try {
        pool_.start(target);
    } catch (const Poco::NoThreadAvailableException&) {
        // Every resuming thread is busy: the session runs a little later.
        target.resumed(nullptr);
        retry_.push_back(std::move(session));
    }
}

void IdleParker::run()
{
    std::array<epoll_event, 64> events{};
    auto nextDeadlineCheck = Clock::now();
    for (;;) {
        const int timeout = retry_.empty() ? 1000 : 50;
        const int n = epoll_wait(epoll_, events.data(), static_cast<int>(events.size()), timeout);
        if (n < 0 && errno != EINTR)
            Poco::Logger::get("idle").error("epoll_wait failed: %s", std::string(std::strerror(errno)));
        std::vector<std::shared_ptr<Parked>> ready;
        ready.swap(retry_);
        bool stopping = false;
        {
            std::lock_guard lock(mutex_);
            const auto take = [&](int fd) {
                if (auto session = takeLocked(fd)) ready.push_back(std::move(session));
            };
            for (int i = 0; i < n; ++i) {
                const int fd = events[static_cast<std::size_t>(i)].data.fd;
                if (fd == wakeFd_) {
                    std::uint64_t count = 0;
                    [[maybe_unused]] const auto got = ::read(wakeFd_, &count, sizeof count);
                } else {
                    take(fd);
                }
            }
            for (const auto key : wokenKeys_) {
                std::vector<int> fds;
                auto [first, last] = byKey_.equal_range(key);
                for (auto it = first; it != last; ++it) fds.push_back(it->second);
                for (const int fd : fds) take(fd);
            }
            wokenKeys_.clear();
            const auto now = Clock::now();
            if (now >= nextDeadlineCheck) {
                std::vector<int> expired;
                for (const auto& [fd, entry] : parked_)
                    if (entry.deadline <= now) expired.push_back(fd);
                for (const int fd : expired) take(fd);
                nextDeadlineCheck = now + std::chrono::seconds(1);
            }
            if (stopping_) {
                stopping = true;
                std::vector<int> all;
                for (const auto& [fd, entry] : parked_) all.push_back(fd);
                for (const int fd : all) take(fd);
            }
        }
        for (auto& session : ready) resume(std::move(session));
        if (stopping && retry_.empty()) return;
    }
}

}  // namespace plexus::net
