// [plugins] and [plugin.NAME] read into PluginSettings, and the errors an operator gets.
#include "plugins/PluginSettings.h"

#include <Poco/AutoPtr.h>
#include <Poco/Util/IniFileConfiguration.h>

#include <gtest/gtest.h>

#include <sstream>

namespace plexus::plugins {
namespace {

constexpr const char* kDataDir = "/var/lib/plexus";

std::vector<PluginSettings> load(const std::string& ini)
{
    std::istringstream in(ini);
    Poco::AutoPtr<Poco::Util::IniFileConfiguration> config(new Poco::Util::IniFileConfiguration(in));
    return loadPluginSettings(*config, kDataDir);
}

// The message loading `ini` is refused with.
std::string refusal(const std::string& ini)
{
    try {
        load(ini);
    } catch (const PluginConfigError& e) {
        return e.what();
    }
    ADD_FAILURE() << "accepted:\n" << ini;
    return "";
}

TEST(PluginSettings, NoneWhenNothingIsEnabled)
{
    EXPECT_TRUE(load("[server]\nhostname = x\n").empty());
    EXPECT_TRUE(load("[plugins]\nenabled =\n[plugin.a]\npath = /a.so\n").empty());
}

TEST(PluginSettings, InTheOrderOfEnabled)
{
    const auto plugins = load("[plugin.audit]\npath = /p/audit.so\n"
                              "[plugins]\nenabled = xds, audit,pseudo\n"
                              "[plugin.pseudo]\npath = /p/pseudo.so\n"
                              "[plugin.xds]\npath = /p/xds.so\n"
                              "[plugin.unused]\npath = /p/unused.so\n");
    ASSERT_EQ(plugins.size(), 3u);
    EXPECT_EQ(plugins[0].name, "xds");
    EXPECT_EQ(plugins[1].name, "audit");
    EXPECT_EQ(plugins[2].name, "pseudo");
    EXPECT_EQ(plugins[1].path, "/p/audit.so");
}

TEST(PluginSettings, Defaults)
{
    const auto plugins = load("[plugins]\nenabled = a\n[plugin.a]\npath = /p/a.so\n");
    ASSERT_EQ(plugins.size(), 1u);
    EXPECT_EQ(plugins[0].deadline, std::chrono::milliseconds(5000));
    EXPECT_EQ(plugins[0].eventMaxAttempts, 10);
    EXPECT_FALSE(plugins[0].submitAs);
    EXPECT_EQ(plugins[0].values, (std::map<std::string, std::string>{{"path", "/p/a.so"}}));
}

TEST(PluginSettings, RelativePathsAreUnderThePluginFolder)
{
    const std::string sections =
        "[plugin.a]\npath = a.so\n[plugin.b]\npath = ../lib/b.so\n[plugin.c]\npath = /opt/c.so\n";
    auto plugins = load("[plugins]\nenabled = a, b, c\n" + sections);
    EXPECT_EQ(plugins[0].path, "/var/lib/plexus/plugins/a.so");
    EXPECT_EQ(plugins[1].path, "/var/lib/plexus/lib/b.so");
    EXPECT_EQ(plugins[2].path, "/opt/c.so");
    plugins = load("[plugins]\nenabled = a, c\ndir = /usr/lib/plexus\n" + sections);
    EXPECT_EQ(plugins[0].path, "/usr/lib/plexus/a.so");
    EXPECT_EQ(plugins[1].path, "/opt/c.so");
    plugins = load("[plugins]\nenabled = a\ndir = vendor\n" + sections);
    EXPECT_EQ(plugins[0].path, "/var/lib/plexus/vendor/a.so");
}

TEST(PluginSettings, EveryKeyOfTheSectionForTheHost)
{
    const auto plugins = load("[plugins]\nenabled = pseudo\n"
                              "[plugin.pseudo]\npath = /p/pseudo.so\ndeadline_ms = 250\nevent_max_attempts = 3\n"
                              "submit_as = robot@hopital.mssante.fr\nsecret_key = ab${cd}\nroute.default = relay\n");
    ASSERT_EQ(plugins.size(), 1u);
    const auto& plugin = plugins[0];
    EXPECT_EQ(plugin.deadline, std::chrono::milliseconds(250));
    EXPECT_EQ(plugin.eventMaxAttempts, 3);
    EXPECT_EQ(plugin.submitAs, "robot@hopital.mssante.fr");
    EXPECT_EQ(plugin.values, (std::map<std::string, std::string>{{"path", "/p/pseudo.so"},
                                                                 {"deadline_ms", "250"},
                                                                 {"event_max_attempts", "3"},
                                                                 {"submit_as", "robot@hopital.mssante.fr"},
                                                                 {"secret_key", "ab${cd}"},
                                                                 {"route.default", "relay"}}));
}

TEST(PluginSettings, RefusesAnEnabledPluginWithoutSection)
{
    EXPECT_EQ(refusal("[plugins]\nenabled = a\n"),
              "plugin a is enabled in [plugins] but there is no [plugin.a] section with its path");
}

TEST(PluginSettings, RefusesAnEnabledPluginWithoutPath)
{
    EXPECT_EQ(refusal("[plugins]\nenabled = a\n[plugin.a]\ndeadline_ms = 10\n"),
              "[plugin.a] has no path (the plugin's .so file)");
    EXPECT_EQ(refusal("[plugins]\nenabled = a\n[plugin.a]\npath =\n"),
              "[plugin.a] has no path (the plugin's .so file)");
}

TEST(PluginSettings, RefusesAnInvalidName)
{
    EXPECT_EQ(refusal("[plugins]\nenabled = Audit\n"),
              "[plugins] enabled names \"Audit\", not a plugin name (1 to 32 of a-z, 0-9, '-')");
    EXPECT_NE(refusal("[plugins]\nenabled = a_b\n").find("\"a_b\""), std::string::npos);
}

TEST(PluginSettings, RefusesADuplicateName)
{
    EXPECT_EQ(refusal("[plugins]\nenabled = a, b, a\n[plugin.a]\npath = /a.so\n[plugin.b]\npath = /b.so\n"),
              "[plugins] enabled names a twice");
}

TEST(PluginSettings, RefusesBadNumbers)
{
    const std::string head = "[plugins]\nenabled = a\n[plugin.a]\npath = /a.so\n";
    EXPECT_EQ(refusal(head + "deadline_ms = soon\n"),
              "[plugin.a] deadline_ms must be a whole number from 1 to 600000, not \"soon\"");
    EXPECT_EQ(refusal(head + "deadline_ms = 0\n"),
              "[plugin.a] deadline_ms must be a whole number from 1 to 600000, not \"0\"");
    EXPECT_EQ(refusal(head + "deadline_ms = 600001\n"),
              "[plugin.a] deadline_ms must be a whole number from 1 to 600000, not \"600001\"");
    EXPECT_EQ(refusal(head + "deadline_ms = 5s\n"),
              "[plugin.a] deadline_ms must be a whole number from 1 to 600000, not \"5s\"");
    EXPECT_EQ(refusal(head + "event_max_attempts = 1001\n"),
              "[plugin.a] event_max_attempts must be a whole number from 1 to 1000, not \"1001\"");
    EXPECT_EQ(refusal(head + "event_max_attempts = -1\n"),
              "[plugin.a] event_max_attempts must be a whole number from 1 to 1000, not \"-1\"");
    EXPECT_EQ(load(head + "deadline_ms = 600000\nevent_max_attempts = 1\n")[0].eventMaxAttempts, 1);
}

}  // namespace
}  // namespace plexus::plugins
