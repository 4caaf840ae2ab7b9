#include "trust/XercesRuntime.h"

#include <xercesc/util/PlatformUtils.hpp>
#include <xercesc/util/XMLException.hpp>

#include <cstddef>
#include <mutex>
#include <stdexcept>

namespace plexus::trust {

namespace {

std::mutex& runtimeMutex()
{
    static std::mutex mutex;
    return mutex;
}

std::size_t liveGuards = 0;  // guarded by runtimeMutex()

}  // namespace

XercesRuntime::XercesRuntime()
{
    const std::lock_guard lock(runtimeMutex());
    if (liveGuards == 0) {
        try {
            xercesc::XMLPlatformUtils::Initialize();
        } catch (const xercesc::XMLException&) {
            throw std::runtime_error("Xerces-C++ cannot be initialised");
        }
    }
    ++liveGuards;
}

XercesRuntime::~XercesRuntime()
{
    const std::lock_guard lock(runtimeMutex());
    if (--liveGuards == 0) xercesc::XMLPlatformUtils::Terminate();
}

}  // namespace plexus::trust
