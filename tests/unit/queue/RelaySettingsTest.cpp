#include "queue/RelaySettings.h"

#include <Poco/AutoPtr.h>
#include <Poco/Util/IniFileConfiguration.h>

#include <gtest/gtest.h>

#include <sstream>

using namespace plexus::queue;
using namespace std::chrono_literals;

namespace {

RelaySettings load(const std::string& relaySection)
{
    std::istringstream ini("[server]\nhostname = mail.test\n[relay]\n" + relaySection);
    Poco::AutoPtr<Poco::Util::IniFileConfiguration> config(new Poco::Util::IniFileConfiguration(ini));
    return loadRelaySettings(*config);
}

std::string errorOf(const std::string& relaySection)
{
    try {
        load(relaySection);
    } catch (const RelayConfigError& e) {
        return e.what();
    }
    return "no error";
}

}  // namespace

TEST(RelaySettingsTest, DefaultsAreFiveDaysFourHoursFiveMinutesToAnHour)
{
    const auto s = load("");
    EXPECT_EQ(s.lifetime, 120h);
    EXPECT_EQ(s.delayNotice, 4h);
    EXPECT_EQ(s.firstRetry, 300s);
    EXPECT_EQ(s.maxRetry, 3600s);
    EXPECT_EQ(s.scanInterval, 5s);
    EXPECT_EQ(s.maxDeliveries, 20u);
    EXPECT_EQ(s.maxPerDestination, 4u);
}

TEST(RelaySettingsTest, FractionalDurationsLetTestsRunInSeconds)
{
    const auto s = load(
        "lifetime_hours = 0.001\ndelay_notice_hours = 0.0005\nfirst_retry_seconds = 0.2\nmax_retry_seconds = 1.5\n"
        "scan_seconds = 0.25\nmax_deliveries = 3\nmax_per_destination = 2\n");
    EXPECT_EQ(s.lifetime, 3600ms);
    EXPECT_EQ(s.delayNotice, 1800ms);
    EXPECT_EQ(s.firstRetry, 200ms);
    EXPECT_EQ(s.maxRetry, 1500ms);
    EXPECT_EQ(s.scanInterval, 250ms);
    EXPECT_EQ(s.maxDeliveries, 3u);
    EXPECT_EQ(s.maxPerDestination, 2u);
}

TEST(RelaySettingsTest, AnUnsetPerDestinationLimitFollowsASmallOverallLimit)
{
    EXPECT_EQ(load("max_deliveries = 2\n").maxPerDestination, 2u);
}

TEST(RelaySettingsTest, ErrorsNameTheKeyAndTheValue)
{
    EXPECT_EQ(errorOf("lifetime_hours = five\n"),
              "[relay] lifetime_hours must be a number of hours above 0 and at most 2400 (fractions allowed, at least "
              "1 ms), not \"five\"");
    EXPECT_NE(errorOf("first_retry_seconds = 0\n").find("first_retry_seconds must be a number of seconds above 0"),
              std::string::npos);
    EXPECT_NE(errorOf("first_retry_seconds = -3\n").find("not \"-3\""), std::string::npos);
    EXPECT_NE(errorOf("first_retry_seconds = 0.0001\n").find("at least 1 ms"), std::string::npos);
    EXPECT_NE(errorOf("max_retry_seconds = 10s\n").find("not \"10s\""), std::string::npos);
    EXPECT_NE(errorOf("scan_seconds = nan\n").find("scan_seconds"), std::string::npos);
    EXPECT_EQ(errorOf("max_deliveries = 0\n"), "[relay] max_deliveries must be a whole number from 1 to 1000, not \"0\"");
    EXPECT_NE(errorOf("max_per_destination = 2.5\n").find("max_per_destination must be a whole number"),
              std::string::npos);
}

TEST(RelaySettingsTest, InconsistentValuesAreRefused)
{
    EXPECT_EQ(errorOf("lifetime_hours = 2\ndelay_notice_hours = 2\n"),
              "[relay] delay_notice_hours (7200 s) must be shorter than lifetime_hours (7200 s): the delay notice "
              "would never go");
    EXPECT_EQ(errorOf("first_retry_seconds = 600\nmax_retry_seconds = 300\n"),
              "[relay] first_retry_seconds (600 s) must not be above max_retry_seconds (300 s)");
    EXPECT_EQ(errorOf("max_deliveries = 2\nmax_per_destination = 3\n"),
              "[relay] max_per_destination (3) must not be above max_deliveries (2)");
}
