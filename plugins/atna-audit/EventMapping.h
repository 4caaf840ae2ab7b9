// Which Plexus events become ATNA audit messages, and how (the table is in
// README.md): EventID/EventTypeCode/EventActionCode/EventOutcomeIndicator, the
// user, the client's address and this server as active participants, the
// mailbox, the message and the patient as participant objects.
#pragma once

#include "AuditMessage.h"

#include <plexus/plugin.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace plexus::atna {

// This instance, as the audit source and the server participant.
struct AuditSource {
    std::string id;  // audit_source_id: AuditSourceID and the server's UserID
    std::string enterpriseSiteId;  // "" = none
    std::string hostName;  // the server's network access point
};

// A stored copy of a message, from a delivery event's "copies".
struct MessageCopy {
    std::string mailbox;
    std::string folder;
    std::uint32_t uid = 0;
};

// What the plugin learned beyond the event itself.
struct EventFacts {
    std::string actorNationalId;  // the actor's RPPS (directory), "" when unknown
    std::vector<std::string> patientIds;  // INS as HL7 CX (id^^^&OID&ISO), from the message's XDM metadata
};

// The audit message for `event`, or nothing when the event is not audited.
std::optional<AuditMessage> auditMessageFor(const sdk::Event& event, const AuditSource& source, const EventFacts& facts);

// Whether the event is a delivery whose message may carry a patient: its
// stored copies (empty when none, or not such an event).
std::vector<MessageCopy> copiesToInspect(const sdk::Event& event);

}  // namespace plexus::atna
