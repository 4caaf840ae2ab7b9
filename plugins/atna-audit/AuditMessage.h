// An IHE ATNA audit message (DICOM PS3.15 A.5 AuditMessage, RFC 3881 lineage)
// as plain data, and its XML form. The element order follows the DICOM 2024d
// schema: EventIdentification, ActiveParticipant+, AuditSourceIdentification,
// ParticipantObjectIdentification*.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace plexus::atna {

// A coded value: csd-code, codeSystemName, originalText (all three required by the schema).
struct Code {
    std::string code;
    std::string system;
    std::string text;
};

// EventOutcomeIndicator (A.5.3, RFC 3881 §5.1.4).
enum class Outcome { Success = 0, MinorFailure = 4, SeriousFailure = 8, MajorFailure = 12 };

enum class NetworkAccessPointType { None = 0, MachineName = 1, IpAddress = 2 };

struct ActiveParticipant {
    std::string userId;
    std::string alternativeUserId;  // e.g. the RPPS of a health professional
    std::string userName;
    bool isRequestor = false;
    std::string networkAccessPointId;
    NetworkAccessPointType networkAccessPointType = NetworkAccessPointType::None;
    std::vector<Code> roles;
};

struct ParticipantObject {
    std::string id;
    Code idType;
    std::string name;  // the schema wants a name (or a query) in every object
    int type = 2;  // ParticipantObjectTypeCode: 1 person, 2 system object
    int role = 0;  // ParticipantObjectTypeCodeRole; 0 = none
    std::vector<std::pair<std::string, std::string>> details;  // type, value (base64-encoded in the XML)
};

struct AuditMessage {
    Code eventId;
    std::vector<Code> eventTypes;
    char action = 'E';  // EventActionCode: C, R, U, D, E
    std::chrono::system_clock::time_point time;
    Outcome outcome = Outcome::Success;
    std::string outcomeDescription;  // "" = none
    std::vector<ActiveParticipant> participants;  // at least one
    std::string sourceId;
    std::string enterpriseSiteId;  // "" = none
    std::vector<ParticipantObject> objects;
};

// The message as one line of XML (UTF-8, no declaration), every value
// escaped by the Xerces serializer and made fit for XML (see xmlSafe).
// Needs a live XercesSession.
std::string toXml(const AuditMessage& message);

// xs:dateTime in UTC with microseconds: 2026-12-01T23:05:13.123456Z
std::string isoTime(std::chrono::system_clock::time_point time);

}  // namespace plexus::atna
