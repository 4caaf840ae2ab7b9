#include "XdmPatients.h"

#include "XercesSession.h"

#include <Poco/StreamCopier.h>
#include <Poco/Zip/ZipArchive.h>
#include <Poco/Zip/ZipStream.h>

#include <xercesc/dom/DOM.hpp>
#include <xercesc/framework/MemBufInputSource.hpp>
#include <xercesc/framework/Wrapper4InputSource.hpp>
#include <xercesc/util/XMLUni.hpp>

#include <algorithm>
#include <cctype>
#include <memory>
#include <sstream>

namespace plexus::atna {

namespace {

constexpr std::string_view kRim = "urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0";
constexpr std::string_view kPatientIdScheme = "urn:uuid:58a6f841-87b3-4a3e-92fd-a8ffeff98427";  // ITI TF-3 4.2.3.2.16

struct Releaser {
    template <class T>
    void operator()(T* object) const
    {
        object->release();
    }
};

// Refuses what a DOCTYPE could bring in, and stops at the first error.
class StrictErrors final : public xercesc::DOMErrorHandler {
public:
    bool handleError(const xercesc::DOMError& error) override
    {
        if (error.getSeverity() == xercesc::DOMError::DOM_SEVERITY_WARNING) return true;
        message_ = toUtf8(error.getMessage());
        return false;
    }
    const std::string& message() const { return message_; }

private:
    std::string message_;
};

std::string attribute(const xercesc::DOMElement& element, const char* name)
{
    return toUtf8(element.getAttribute(toXml16(name).c_str()));
}

std::string removeSpaces(std::string text)
{
    std::erase_if(text, [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; });
    return text;
}

// The rim:<localName> elements under `parent`, in document order.
std::vector<xercesc::DOMElement*> rimElements(const xercesc::DOMElement& parent, const char* localName)
{
    std::vector<xercesc::DOMElement*> found;
    xercesc::DOMNodeList* list = parent.getElementsByTagNameNS(toXml16(kRim).c_str(), toXml16(localName).c_str());
    for (XMLSize_t i = 0; i < list->getLength(); ++i) found.push_back(static_cast<xercesc::DOMElement*>(list->item(i)));
    return found;
}

bool namedPatientId(const xercesc::DOMElement& identifier)
{
    for (auto* localized : rimElements(identifier, "LocalizedString"))
        if (attribute(*localized, "value") == "XDSDocumentEntry.patientId") return true;
    return false;
}

void addOnce(std::vector<std::string>& ids, std::string id)
{
    if (isIns(id) && std::find(ids.begin(), ids.end(), id) == ids.end()) ids.push_back(std::move(id));
}

}  // namespace

bool isIns(std::string_view cx)
{
    const auto authority = cx.find("^^^&");
    if (authority == std::string_view::npos || authority == 0) return false;
    const auto oidStart = authority + 4;
    const auto oidEnd = cx.find('&', oidStart);
    if (oidEnd == std::string_view::npos) return false;
    const auto oid = cx.substr(oidStart, oidEnd - oidStart);
    return oid == "1.2.250.1.213.1.4.8" || oid == "1.2.250.1.213.1.4.9" || oid == "1.2.250.1.213.1.4.10" ||
           oid == "1.2.250.1.213.1.4.11";
}

std::vector<std::string> insInMetadata(std::string_view metadataXml)
{
    if (metadataXml.size() > kMaxMetadataBytes) throw XdmError("METADATA.XML is larger than the limit");
    auto* implementation = xercesc::DOMImplementationRegistry::getDOMImplementation(toXml16("LS").c_str());
    const std::unique_ptr<xercesc::DOMLSParser, Releaser> parser(
        static_cast<xercesc::DOMImplementationLS*>(implementation)
            ->createLSParser(xercesc::DOMImplementationLS::MODE_SYNCHRONOUS, nullptr));
    StrictErrors errors;
    auto* config = parser->getDomConfig();
    config->setParameter(xercesc::XMLUni::fgDOMNamespaces, true);
    config->setParameter(xercesc::XMLUni::fgDOMValidate, false);
    config->setParameter(xercesc::XMLUni::fgXercesSchema, false);
    config->setParameter(xercesc::XMLUni::fgXercesLoadSchema, false);
    config->setParameter(xercesc::XMLUni::fgXercesLoadExternalDTD, false);
    config->setParameter(xercesc::XMLUni::fgXercesDisableDefaultEntityResolution, true);
    config->setParameter(xercesc::XMLUni::fgDOMDisallowDoctype, true);
    config->setParameter(xercesc::XMLUni::fgDOMErrorHandler, &errors);
    xercesc::MemBufInputSource source(reinterpret_cast<const XMLByte*>(metadataXml.data()), metadataXml.size(),
                                      "METADATA.XML");
    xercesc::Wrapper4InputSource input(&source, false);
    xercesc::DOMDocument* document = nullptr;
    try {
        document = parser->parse(&input);
    } catch (const xercesc::DOMException& e) {
        throw XdmError("METADATA.XML: " + toUtf8(e.getMessage()));
    } catch (const xercesc::XMLException& e) {
        throw XdmError("METADATA.XML: " + toUtf8(e.getMessage()));
    }
    if (!document || !document->getDocumentElement() || !errors.message().empty())
        throw XdmError("METADATA.XML: " + (errors.message().empty() ? std::string("not XML") : errors.message()));
    const xercesc::DOMElement& root = *document->getDocumentElement();

    std::vector<std::string> ids;
    for (auto* identifier : rimElements(root, "ExternalIdentifier"))
        if (removeSpaces(attribute(*identifier, "identificationScheme")) == kPatientIdScheme || namedPatientId(*identifier))
            addOnce(ids, attribute(*identifier, "value"));
    for (auto* slot : rimElements(root, "Slot")) {
        if (attribute(*slot, "name") != "sourcePatientId") continue;
        for (auto* value : rimElements(*slot, "Value")) addOnce(ids, toUtf8(value->getTextContent()));
    }
    return ids;  // the parser owns the document
}

std::vector<std::string> insInXdmZip(std::string_view zipBytes)
{
    std::istringstream in{std::string(zipBytes)};
    std::vector<std::string> ids;
    try {
        const Poco::Zip::ZipArchive archive(in);
        std::size_t entries = 0;
        for (auto it = archive.headerBegin(); it != archive.headerEnd(); ++it) {
            if (++entries > kMaxZipEntries) throw XdmError("IHE_XDM.ZIP has more than " + std::to_string(kMaxZipEntries) + " entries");
            const auto& header = it->second;
            std::string name = it->first;
            std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
            if (!header.isFile() || !(name == "METADATA.XML" || name.ends_with("/METADATA.XML"))) continue;
            if (header.getUncompressedSize() > kMaxMetadataBytes) throw XdmError(it->first + " is larger than the limit");
            in.clear();
            Poco::Zip::ZipInputStream entry(in, header, true);
            std::string xml;
            xml.resize(kMaxMetadataBytes + 1);
            entry.read(xml.data(), static_cast<std::streamsize>(xml.size()));
            const auto got = static_cast<std::size_t>(entry.gcount());
            if (got > kMaxMetadataBytes) throw XdmError(it->first + " is larger than the limit");
            xml.resize(got);
            for (auto& id : insInMetadata(xml)) addOnce(ids, std::move(id));
        }
    } catch (const XdmError&) {
        throw;
    } catch (const Poco::Exception& e) {
        throw XdmError("IHE_XDM.ZIP: " + e.displayText());
    }
    return ids;
}

}  // namespace plexus::atna
