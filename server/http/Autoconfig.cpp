#include "http/Autoconfig.h"

#include <Poco/SAX/AttributesImpl.h>
#include <Poco/XML/XMLWriter.h>

#include <sstream>

namespace plexus::http {

namespace {

using Poco::XML::XMLWriter;

void element(XMLWriter& xml, const std::string& name, const std::string& text)
{
    xml.startElement("", "", name);
    xml.characters(text);
    xml.endElement("", "", name);
}

void server(XMLWriter& xml, const std::string& kind, const std::string& protocol, const MailEndpoints& endpoints,
            unsigned short port, const std::string& socketType)
{
    Poco::XML::AttributesImpl type;
    type.addAttribute("", "", "type", "CDATA", protocol);
    xml.startElement("", "", kind, type);
    element(xml, "hostname", endpoints.hostname);
    element(xml, "port", std::to_string(port));
    element(xml, "socketType", socketType);
    // Mechanisms in the client's order of preference; every one runs over TLS.
    if (endpoints.tokens) element(xml, "authentication", "OAuth2");
    if (endpoints.passwords) element(xml, "authentication", "password-cleartext");
    element(xml, "authentication", "TLS-client-cert");
    element(xml, "username", "%EMAILADDRESS%");
    xml.endElement("", "", kind);
}

}  // namespace

std::string autoconfigXml(const MailEndpoints& endpoints)
{
    std::ostringstream out;
    XMLWriter xml(out, XMLWriter::WRITE_XML_DECLARATION | XMLWriter::PRETTY_PRINT);  // UTF-8
    xml.startDocument();
    Poco::XML::AttributesImpl version;
    version.addAttribute("", "", "version", "CDATA", "1.1");
    xml.startElement("", "", "clientConfig", version);
    Poco::XML::AttributesImpl id;
    id.addAttribute("", "", "id", "CDATA", endpoints.domains.empty() ? endpoints.hostname : endpoints.domains.front());
    xml.startElement("", "", "emailProvider", id);
    for (const auto& domain : endpoints.domains) element(xml, "domain", domain);
    element(xml, "displayName", "Messagerie sécurisée de santé (MSSanté)");
    element(xml, "displayShortName", "MSSanté");
    server(xml, "incomingServer", "imap", endpoints, endpoints.imaps, "SSL");
    server(xml, "incomingServer", "imap", endpoints, endpoints.imap, "STARTTLS");
    server(xml, "outgoingServer", "smtp", endpoints, endpoints.submissions, "SSL");
    server(xml, "outgoingServer", "smtp", endpoints, endpoints.submission, "STARTTLS");
    xml.endElement("", "", "emailProvider");
    xml.endElement("", "", "clientConfig");
    xml.endDocument();
    return out.str();
}

}  // namespace plexus::http
