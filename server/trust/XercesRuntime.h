// Xerces-C++ must be initialised before any of its objects exists and terminated
// after the last one is gone, and XMLPlatformUtils::Initialize/Terminate are not
// thread-safe. Every user of Xerces in the process (this module, XML validation
// elsewhere) holds a XercesRuntime for as long as it uses Xerces objects and never
// calls Initialize/Terminate itself: the first live guard initialises Xerces, the
// last one to go terminates it, under one process-wide mutex. Holding a guard for
// the life of the program (e.g. in main) avoids re-initialising on every parse.
#pragma once

namespace plexus::trust {

class XercesRuntime {
public:
    XercesRuntime();  // throws std::runtime_error when Xerces cannot start
    ~XercesRuntime();
    XercesRuntime(const XercesRuntime&) = delete;
    XercesRuntime& operator=(const XercesRuntime&) = delete;
};

}  // namespace plexus::trust
