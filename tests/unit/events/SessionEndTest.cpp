#include "events/SessionEnd.h"

#include <Poco/Exception.h>

#include <gtest/gtest.h>

#include <stdexcept>
#include <utility>

using namespace plexus;
using events::SessionEnd;

TEST(SessionEnd, LogoutEventNamesTheUserTheClientTheServiceAndHowItEnded)
{
    const auto event = events::logoutEvent("dr.martin@x.test", "192.0.2.7", "imaps", SessionEnd::Timeout);
    EXPECT_EQ(event.type, "auth.logout");
    EXPECT_EQ(event.actor, "dr.martin@x.test");
    EXPECT_EQ(event.object, "dr.martin@x.test");
    EXPECT_EQ(event.client, "192.0.2.7");
    EXPECT_EQ(event.outcome, "success");
    EXPECT_EQ(event.detailJson, R"({"service":"imaps","reason":"timeout"})");
    const std::pair<SessionEnd, const char*> reasons[] = {
        {SessionEnd::Logout, "logout"}, {SessionEnd::Closed, "closed"}, {SessionEnd::Shutdown, "shutdown"}};
    for (const auto& [end, reason] : reasons)
        EXPECT_EQ(events::logoutEvent("a@x.test", "", "submission", end).detailJson,
                  std::string(R"({"service":"submission","reason":")") + reason + "\"}");
}

TEST(SessionEnd, AFailedConnectionEndsByTimeoutClosureOrShutdown)
{
    EXPECT_EQ(events::sessionEndAfter(Poco::TimeoutException("idle"), false), SessionEnd::Timeout);
    EXPECT_EQ(events::sessionEndAfter(Poco::IOException("connection reset by peer"), false), SessionEnd::Closed);
    EXPECT_EQ(events::sessionEndAfter(std::runtime_error("store"), false), SessionEnd::Closed);
    // A stopping server cuts stalled clients short with a timeout: that is the shutdown.
    EXPECT_EQ(events::sessionEndAfter(Poco::TimeoutException("server stopping"), true), SessionEnd::Shutdown);
    EXPECT_EQ(events::sessionEndAfter(Poco::IOException("connection reset by peer"), true), SessionEnd::Shutdown);
}
