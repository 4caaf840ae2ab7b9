// Xerces-C++ for the plugin: initialised while a XercesSession lives (the
// plugin holds one for its lifetime, tests for theirs), and the UTF-8 <-> XMLCh
// conversions the plugin needs. XMLPlatformUtils::Initialize/Terminate count
// their calls, so the host's own use of Xerces is undisturbed.
#pragma once

#include <xercesc/util/XercesDefs.hpp>

#include <string>
#include <string_view>

namespace plexus::atna {

class XercesSession {
public:
    XercesSession();  // throws std::runtime_error when Xerces cannot start
    ~XercesSession();
    XercesSession(const XercesSession&) = delete;
    XercesSession& operator=(const XercesSession&) = delete;
};

// UTF-8 made fit for XML 1.0 text and attributes on one line: invalid UTF-8
// sequences become U+FFFD, control characters (line breaks included) a space.
std::string xmlSafe(std::string_view utf8);

std::u16string toXml16(std::string_view utf8);  // of xmlSafe(utf8)
std::string toUtf8(const XMLCh* text);

}  // namespace plexus::atna
