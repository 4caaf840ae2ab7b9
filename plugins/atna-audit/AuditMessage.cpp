#include "AuditMessage.h"

#include "XercesSession.h"

#include <Poco/Base64Encoder.h>

#include <xercesc/dom/DOM.hpp>
#include <xercesc/framework/MemBufFormatTarget.hpp>
#include <xercesc/util/XMLUni.hpp>

#include <ctime>
#include <memory>
#include <sstream>
#include <stdexcept>

namespace plexus::atna {

namespace {

using xercesc::DOMDocument;
using xercesc::DOMElement;

// Xerces objects released by release(), not delete.
struct Releaser {
    template <class T>
    void operator()(T* object) const
    {
        object->release();
    }
};

class Builder {
public:
    explicit Builder(DOMDocument& document) : document_(document) {}

    DOMElement* element(DOMElement* parent, const char* name)
    {
        DOMElement* child = document_.createElement(toXml16(name).c_str());
        if (parent) parent->appendChild(child);
        return child;
    }

    static void attribute(DOMElement* element, const char* name, const std::string& value)
    {
        element->setAttribute(toXml16(name).c_str(), toXml16(value).c_str());
    }

    DOMElement* coded(DOMElement* parent, const char* name, const Code& code)
    {
        DOMElement* child = element(parent, name);
        attribute(child, "csd-code", code.code);
        attribute(child, "codeSystemName", code.system);
        attribute(child, "originalText", code.text);
        return child;
    }

    void text(DOMElement* parent, const char* name, const std::string& value)
    {
        element(parent, name)->appendChild(document_.createTextNode(toXml16(value).c_str()));
    }

private:
    DOMDocument& document_;
};

std::string base64(const std::string& value)
{
    std::ostringstream out;
    Poco::Base64Encoder encoder(out);
    encoder.rdbuf()->setLineLength(0);
    encoder << value;
    encoder.close();
    return out.str();
}

void addParticipant(Builder& build, DOMElement* root, const ActiveParticipant& participant)
{
    DOMElement* element = build.element(root, "ActiveParticipant");
    for (const auto& role : participant.roles) build.coded(element, "RoleIDCode", role);
    Builder::attribute(element, "UserID", participant.userId);
    if (!participant.alternativeUserId.empty())
        Builder::attribute(element, "AlternativeUserID", participant.alternativeUserId);
    if (!participant.userName.empty()) Builder::attribute(element, "UserName", participant.userName);
    Builder::attribute(element, "UserIsRequestor", participant.isRequestor ? "true" : "false");
    if (participant.networkAccessPointType != NetworkAccessPointType::None && !participant.networkAccessPointId.empty()) {
        Builder::attribute(element, "NetworkAccessPointID", participant.networkAccessPointId);
        Builder::attribute(element, "NetworkAccessPointTypeCode",
                           std::to_string(static_cast<int>(participant.networkAccessPointType)));
    }
}

void addObject(Builder& build, DOMElement* root, const ParticipantObject& object)
{
    DOMElement* element = build.element(root, "ParticipantObjectIdentification");
    Builder::attribute(element, "ParticipantObjectID", object.id);
    Builder::attribute(element, "ParticipantObjectTypeCode", std::to_string(object.type));
    if (object.role) Builder::attribute(element, "ParticipantObjectTypeCodeRole", std::to_string(object.role));
    build.coded(element, "ParticipantObjectIDTypeCode", object.idType);
    build.text(element, "ParticipantObjectName", object.name.empty() ? object.id : object.name);
    for (const auto& [type, value] : object.details) {
        DOMElement* detail = build.element(element, "ParticipantObjectDetail");
        Builder::attribute(detail, "type", type);
        Builder::attribute(detail, "value", base64(value));
    }
}

std::string serialize(DOMDocument& document)
{
    auto* implementation = document.getImplementation();
    const std::unique_ptr<xercesc::DOMLSSerializer, Releaser> serializer(
        static_cast<xercesc::DOMImplementationLS*>(implementation)->createLSSerializer());
    serializer->getDomConfig()->setParameter(xercesc::XMLUni::fgDOMXMLDeclaration, false);
    serializer->getDomConfig()->setParameter(xercesc::XMLUni::fgDOMWRTFormatPrettyPrint, false);
    const std::unique_ptr<xercesc::DOMLSOutput, Releaser> output(
        static_cast<xercesc::DOMImplementationLS*>(implementation)->createLSOutput());
    xercesc::MemBufFormatTarget target;
    output->setByteStream(&target);
    output->setEncoding(toXml16("UTF-8").c_str());
    if (!serializer->write(&document, output.get())) throw std::runtime_error("the audit message could not be serialized");
    return std::string(reinterpret_cast<const char*>(target.getRawBuffer()), target.getLen());
}

}  // namespace

std::string isoTime(std::chrono::system_clock::time_point time)
{
    const auto micros = std::chrono::duration_cast<std::chrono::microseconds>(time.time_since_epoch()).count();
    const std::time_t seconds = static_cast<std::time_t>(micros / 1'000'000);
    std::tm utc{};
    gmtime_r(&seconds, &utc);
    char text[40];
    const std::size_t length = std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &utc);
    char fraction[16];
    std::snprintf(fraction, sizeof fraction, ".%06lldZ", static_cast<long long>(micros % 1'000'000));
    return std::string(text, length) + fraction;
}

std::string toXml(const AuditMessage& message)
{
    if (message.participants.empty()) throw std::invalid_argument("an audit message needs an active participant");
    auto* implementation = xercesc::DOMImplementationRegistry::getDOMImplementation(toXml16("LS").c_str());
    const std::unique_ptr<DOMDocument, Releaser> document(implementation->createDocument());
    Builder build(*document);
    DOMElement* root = build.element(nullptr, "AuditMessage");
    document->appendChild(root);

    DOMElement* event = build.element(root, "EventIdentification");
    Builder::attribute(event, "EventActionCode", std::string(1, message.action));
    Builder::attribute(event, "EventDateTime", isoTime(message.time));
    Builder::attribute(event, "EventOutcomeIndicator", std::to_string(static_cast<int>(message.outcome)));
    build.coded(event, "EventID", message.eventId);
    for (const auto& type : message.eventTypes) build.coded(event, "EventTypeCode", type);
    if (!message.outcomeDescription.empty()) build.text(event, "EventOutcomeDescription", message.outcomeDescription);

    for (const auto& participant : message.participants) addParticipant(build, root, participant);

    DOMElement* source = build.element(root, "AuditSourceIdentification");
    Builder::attribute(source, "AuditSourceID", message.sourceId);
    if (!message.enterpriseSiteId.empty()) Builder::attribute(source, "AuditEnterpriseSiteID", message.enterpriseSiteId);
    DOMElement* sourceType = build.element(source, "AuditSourceTypeCode");
    Builder::attribute(sourceType, "csd-code", "4");
    Builder::attribute(sourceType, "originalText", "Application Server process or thread");

    for (const auto& object : message.objects) addObject(build, root, object);
    return serialize(*document);
}

}  // namespace plexus::atna
