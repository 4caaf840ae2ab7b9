#include "relay/SmtpRelayClient.h"

#include <Poco/AutoPtr.h>
#include <Poco/Util/IniFileConfiguration.h>

#include <gtest/gtest.h>

#include <sstream>
#include <string>

namespace plexus::relay {
namespace {

ClientSettings settingsOf(const std::string& ini)
{
    std::istringstream in(ini);
    Poco::AutoPtr<Poco::Util::IniFileConfiguration> config(new Poco::Util::IniFileConfiguration(in));
    return ClientSettings::fromConfig(*config);
}

TEST(ClientSettings, RfcTimeoutsByDefault)
{
    const auto settings = settingsOf("[server]\nhostname = mx.hopital.test\n[relay]\nlifetime_hours = 120\n");
    EXPECT_EQ(settings.hostname, "mx.hopital.test");
    EXPECT_EQ(settings.connectTimeout.count(), 30);
    EXPECT_EQ(settings.commandTimeout.count(), 300);
    EXPECT_EQ(settings.dataEndTimeout.count(), 600);
}

TEST(ClientSettings, TimeoutsFromTheRelaySection)
{
    const auto settings = settingsOf("[server]\nhostname = mx.hopital.test\n[relay]\nconnect_timeout_seconds = 2\n"
                                     "command_timeout_seconds = 3\ndata_timeout_seconds = 4\n");
    EXPECT_EQ(settings.connectTimeout.count(), 2);
    EXPECT_EQ(settings.commandTimeout.count(), 3);
    EXPECT_EQ(settings.dataEndTimeout.count(), 4);
}

TEST(ClientSettings, BadValuesNameTheirKey)
{
    EXPECT_THROW(settingsOf("[relay]\nconnect_timeout_seconds = 2\n"), RelayError);  // no hostname
    for (const char* bad : {"0", "-1", "2.5", "soon", ""}) {
        try {
            settingsOf(std::string("[server]\nhostname = h\n[relay]\ncommand_timeout_seconds = ") + bad + "\n");
            ADD_FAILURE() << "accepted " << bad;
        } catch (const RelayError& e) {
            EXPECT_EQ(std::string(e.what()), std::string("[relay] command_timeout_seconds must be a whole number of "
                                                         "seconds above 0, not \"") + bad + "\"");
        }
    }
}

}  // namespace
}  // namespace plexus::relay
