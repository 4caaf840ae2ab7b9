#include "SyslogMessage.h"

#include <cstdio>
#include <ctime>
#include <stdexcept>

namespace plexus::atna {

namespace {

// RFC 5424 6: field lengths.
constexpr std::size_t kHostnameMax = 255;
constexpr std::size_t kAppNameMax = 48;
constexpr std::size_t kProcIdMax = 128;

constexpr int kSeverityWarning = 4;
constexpr int kSeverityNotice = 5;

constexpr std::string_view kNil = "-";
constexpr std::string_view kUtf8Bom = "\xEF\xBB\xBF";  // RFC 5424 6.4: MSG-UTF8 starts with it

// A header field: PRINTUSASCII (33..126), at most `limit` octets, NILVALUE when empty.
std::string headerField(std::string_view value, std::size_t limit)
{
    if (value.empty()) return std::string(kNil);
    std::string field(value.substr(0, limit));
    for (char& c : field)
        if (c < 33 || c > 126) c = '_';
    return field;
}

}  // namespace

std::string escapeSdParamValue(std::string_view value)
{
    std::string escaped;
    escaped.reserve(value.size());
    for (char c : value) {
        if (c == '"' || c == '\\' || c == ']') escaped += '\\';
        escaped += c;
    }
    return escaped;
}

std::string syslogTimestamp(std::chrono::system_clock::time_point time)
{
    const auto whole = std::chrono::floor<std::chrono::seconds>(time);
    const auto fraction = std::chrono::duration_cast<std::chrono::microseconds>(time - whole).count();
    const std::time_t seconds = std::chrono::system_clock::to_time_t(whole);
    std::tm utc{};
    gmtime_r(&seconds, &utc);
    char text[64];
    std::snprintf(text, sizeof text, "%04d-%02d-%02dT%02d:%02d:%02d.%06lldZ", utc.tm_year + 1900, utc.tm_mon + 1,
                  utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec, static_cast<long long>(fraction));
    return text;
}

std::string formatSyslogMessage(const AuditRecord& record, const SyslogOrigin& origin)
{
    if (origin.facility < 0 || origin.facility > 23)
        throw std::invalid_argument("syslog facility must be 0 to 23, not " + std::to_string(origin.facility));
    const int severity = record.outcome == 0 ? kSeverityNotice : kSeverityWarning;
    std::string message;
    message.reserve(record.xml.size() + 160);
    message.append("<").append(std::to_string(origin.facility * 8 + severity)).append(">1 ");
    message.append(syslogTimestamp(record.time)).append(" ");
    message.append(headerField(record.sourceId, kHostnameMax)).append(" ");
    message.append(headerField(origin.appName, kAppNameMax)).append(" ");
    message.append(headerField(origin.procId, kProcIdMax)).append(" ");
    message.append(kSyslogMsgId).append(" ");
    message.append("[").append(kSyslogSdId).append(" id=\"").append(escapeSdParamValue(record.uniqueId)).append("\"] ");
    message.append(kUtf8Bom).append(record.xml);
    return message;
}

std::string octetCountingFrame(std::string_view message)
{
    std::string frame = std::to_string(message.size());
    frame.reserve(frame.size() + 1 + message.size());
    frame.append(" ").append(message);
    return frame;
}

std::string_view truncateSyslogMessage(std::string_view message, std::size_t limit)
{
    if (message.size() <= limit) return message;
    std::size_t end = limit;
    while (end > 0 && (static_cast<unsigned char>(message[end]) & 0xC0) == 0x80) --end;
    return message.substr(0, end);
}

}  // namespace plexus::atna
