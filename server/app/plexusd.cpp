// plexusd --config FILE [--log-level LEVEL]: the Plexus server, in the foreground.
#include "app/Daemon.h"
#include "app/Logging.h"
#include "app/Settings.h"

#include <cstring>
#include <malloc.h>
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
    // Large blocks (scrypt's 16 MiB per login, big literals) go back to the
    // system when freed: a fixed threshold stops glibc from raising it after
    // the first such free and keeping them in its heaps.
    mallopt(M_MMAP_THRESHOLD, 256 * 1024);
    try {
        plexus::app::setUpLogging(level);
        return plexus::app::runDaemon(plexus::app::loadSettings(configPath));
    } catch (const std::exception& e) {
        std::cerr << "plexusd: " << e.what() << '\n';
        return 1;
    }
}
