#include "XercesSession.h"

#include <xercesc/util/PlatformUtils.hpp>
#include <xercesc/util/TransService.hpp>
#include <xercesc/util/XMLException.hpp>

#include <mutex>
#include <stdexcept>

namespace plexus::atna {

namespace {

std::mutex& initMutex()
{
    static std::mutex mutex;
    return mutex;
}

// Length of the valid UTF-8 sequence at `at`, 0 when it is not one (RFC 3629 §4).
std::size_t sequenceLength(std::string_view text, std::size_t at)
{
    const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(text[i]); };
    const unsigned char lead = byte(at);
    std::size_t length = 0;
    unsigned char low = 0x80, high = 0xBF;  // the second byte's range
    if (lead < 0x80) return 1;
    if (lead >= 0xC2 && lead <= 0xDF) length = 2;
    else if (lead >= 0xE0 && lead <= 0xEF) {
        length = 3;
        if (lead == 0xE0) low = 0xA0;
        if (lead == 0xED) high = 0x9F;  // no surrogates
    } else if (lead >= 0xF0 && lead <= 0xF4) {
        length = 4;
        if (lead == 0xF0) low = 0x90;
        if (lead == 0xF4) high = 0x8F;
    } else {
        return 0;
    }
    if (at + length > text.size()) return 0;
    if (byte(at + 1) < low || byte(at + 1) > high) return 0;
    for (std::size_t i = 2; i < length; ++i)
        if (byte(at + i) < 0x80 || byte(at + i) > 0xBF) return 0;
    // U+FFFE and U+FFFF are not XML characters.
    if (length == 3 && lead == 0xEF && byte(at + 1) == 0xBF && byte(at + 2) >= 0xBE) return 0;
    return length;
}

}  // namespace

XercesSession::XercesSession()
{
    std::lock_guard lock(initMutex());
    try {
        xercesc::XMLPlatformUtils::Initialize();
    } catch (const xercesc::XMLException& e) {
        throw std::runtime_error("Xerces-C++ could not start: " + toUtf8(e.getMessage()));
    }
}

XercesSession::~XercesSession()
{
    std::lock_guard lock(initMutex());
    xercesc::XMLPlatformUtils::Terminate();
}

std::string xmlSafe(std::string_view utf8)
{
    std::string safe;
    safe.reserve(utf8.size());
    for (std::size_t i = 0; i < utf8.size();) {
        const std::size_t length = sequenceLength(utf8, i);
        if (length == 0) {
            safe += "\xEF\xBF\xBD";
            ++i;
            continue;
        }
        const auto c = static_cast<unsigned char>(utf8[i]);
        if (length == 1 && (c < 0x20 || c == 0x7F)) safe += ' ';
        else safe.append(utf8.substr(i, length));
        i += length;
    }
    return safe;
}

std::u16string toXml16(std::string_view utf8)
{
    const std::string safe = xmlSafe(utf8);
    const xercesc::TranscodeFromStr transcoded(reinterpret_cast<const XMLByte*>(safe.data()), safe.size(), "UTF-8");
    return std::u16string(transcoded.str(), transcoded.length());
}

std::string toUtf8(const XMLCh* text)
{
    if (!text) return {};
    const xercesc::TranscodeToStr transcoded(text, "UTF-8");
    return std::string(reinterpret_cast<const char*>(transcoded.str()), transcoded.length());
}

}  // namespace plexus::atna
