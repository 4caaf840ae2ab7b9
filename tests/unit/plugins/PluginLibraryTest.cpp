// Loading plugin libraries: the test plugins of tests/plugins, and files that are not plugins.
#include "plugins/PluginLibrary.h"

#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

namespace plexus::plugins {
namespace {

namespace fs = std::filesystem;

std::string testPlugin(const std::string& stem)
{
    return (fs::path(PLEXUS_TEST_PLUGIN_DIR) / ("plexus-test-" + stem + ".so")).string();
}

// The message PluginLibrary::open refuses `path` with.
std::string refusal(const std::string& path)
{
    try {
        PluginLibrary::open(path);
    } catch (const PluginError& e) {
        return e.what();
    }
    ADD_FAILURE() << path << " was loaded";
    return "";
}

TEST(PluginLibrary, LoadsAPluginOfThisAbi)
{
    const auto library = PluginLibrary::open(testPlugin("noop"));
    EXPECT_STREQ(library.descriptor().name, "noop");
    EXPECT_STREQ(library.descriptor().version, "1.0.0");
    EXPECT_EQ(library.abiVersion(), "1.0");
    EXPECT_EQ(library.path(), testPlugin("noop"));
    EXPECT_EQ(capabilityNames(library.descriptor().capabilities), "");
}

TEST(PluginLibrary, RefusesTheNextMajorNamingBothVersions)
{
    const auto message = refusal(testPlugin("abi_next_major"));
    EXPECT_NE(message.find("ABI 2.0"), std::string::npos) << message;
    EXPECT_NE(message.find("ABI 1.0"), std::string::npos) << message;
    EXPECT_NE(message.find(testPlugin("abi_next_major")), std::string::npos) << message;
}

TEST(PluginLibrary, RefusesANewerMinorNamingBothVersions)
{
    const auto message = refusal(testPlugin("abi_next_minor"));
    EXPECT_NE(message.find("ABI 1.1"), std::string::npos) << message;
    EXPECT_NE(message.find("ABI 1.0"), std::string::npos) << message;
}

TEST(PluginLibrary, RefusesAMissingFile)
{
    const auto message = refusal(testPlugin("no-such-plugin"));
    EXPECT_NE(message.find("does not exist"), std::string::npos) << message;
}

TEST(PluginLibrary, RefusesAFileThatIsNotASharedLibrary)
{
    const auto path = fs::temp_directory_path() / ("plexus-not-elf-" + std::to_string(::getpid()) + ".so");
    std::ofstream(path) << "not an ELF file\n";
    const auto message = refusal(path.string());
    fs::remove(path);
    EXPECT_NE(message.find("cannot load plugin " + path.string()), std::string::npos) << message;
}

TEST(PluginLibrary, RefusesALibraryWithoutTheEntryPoint)
{
    const auto message = refusal(testPlugin("not_a_plugin"));
    EXPECT_NE(message.find("is not a Plexus plugin"), std::string::npos) << message;
    EXPECT_NE(message.find(PLEXUS_PLUGIN_ENTRY_SYMBOL), std::string::npos) << message;
}

TEST(PluginLibrary, ValidatesNames)
{
    EXPECT_TRUE(isValidPluginName("xds-publisher2"));
    EXPECT_TRUE(isValidPluginName(std::string(32, 'a')));
    EXPECT_FALSE(isValidPluginName(""));
    EXPECT_FALSE(isValidPluginName(std::string(33, 'a')));
    EXPECT_FALSE(isValidPluginName("Audit"));
    EXPECT_FALSE(isValidPluginName("a_b"));
    EXPECT_FALSE(isValidPluginName("a.b"));
}

TEST(PluginLibrary, NamesCapabilities)
{
    EXPECT_EQ(capabilityNames(PLEXUS_CAP_MESSAGE_HOOK | PLEXUS_CAP_SUBMIT), "message_hook,submit");
}

}  // namespace
}  // namespace plexus::plugins
