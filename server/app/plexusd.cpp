// plexusd --config FILE [--log-level LEVEL]: the Plexus server, in the foreground.
#include "app/Daemon.h"
#include "app/Logging.h"
#include "app/Settings.h"

#include <cstring>
#include <iostream>

int main(int argc, char** argv)
{
    std::string configPath;
    std::string level = "information";
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        if (arg == "--config" && i + 1 < argc) {
            configPath = argv[++i];
        } else if (arg == "--log-level" && i + 1 < argc) {
            level = argv[++i];
        } else if (arg == "--help" || arg == "-h") {
            std::cout << "usage: plexusd --config FILE [--log-level debug|information|warning|error]\n";
            return 0;
        } else {
            std::cerr << "plexusd: unknown argument " << arg << " (try --help)\n";
            return 2;
        }
    }
    if (configPath.empty()) {
        std::cerr << "plexusd: --config FILE is required\n";
        return 2;
    }
    try {
        plexus::app::setUpLogging(level);
        return plexus::app::runDaemon(plexus::app::loadSettings(configPath));
    } catch (const std::exception& e) {
        std::cerr << "plexusd: " << e.what() << '\n';
        return 1;
    }
}
