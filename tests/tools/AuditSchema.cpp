#include "AuditSchema.h"

#include "XercesSession.h"

#include <xercesc/framework/MemBufInputSource.hpp>
#include <xercesc/parsers/XercesDOMParser.hpp>
#include <xercesc/sax/ErrorHandler.hpp>
#include <xercesc/sax/SAXParseException.hpp>
#include <xercesc/validators/common/Grammar.hpp>

#include <stdexcept>

namespace plexus::testing {

namespace {

class FirstError final : public xercesc::ErrorHandler {
public:
    void warning(const xercesc::SAXParseException&) override {}
    void error(const xercesc::SAXParseException& e) override { keep(e); }
    void fatalError(const xercesc::SAXParseException& e) override { keep(e); }
    void resetErrors() override { message.clear(); }
    std::string message;

private:
    void keep(const xercesc::SAXParseException& e)
    {
        if (message.empty())
            message = "line " + std::to_string(e.getLineNumber()) + " column " + std::to_string(e.getColumnNumber()) +
                      ": " + atna::toUtf8(e.getMessage());
    }
};

// Refuses the DOCTYPE itself, so that no internal or external entity is ever read.
class NoDoctypeParser final : public xercesc::XercesDOMParser {
public:
    void doctypeDecl(const xercesc::DTDElementDecl&, const XMLCh* const, const XMLCh* const, const bool,
                     const bool) override
    {
        throw std::runtime_error("a DOCTYPE is not allowed");
    }
};

}  // namespace

struct SchemaValidator::Parser {
    NoDoctypeParser dom;
    FirstError errors;
};

SchemaValidator::SchemaValidator(const std::string& xsdPath) : parser_(std::make_unique<Parser>())
{
    auto& dom = parser_->dom;
    dom.setErrorHandler(&parser_->errors);
    dom.setDoNamespaces(true);
    dom.setDoSchema(true);
    dom.setValidationScheme(xercesc::XercesDOMParser::Val_Always);
    dom.setValidationSchemaFullChecking(true);
    dom.setValidationConstraintFatal(true);
    if (!dom.loadGrammar(xsdPath.c_str(), xercesc::Grammar::SchemaGrammarType, true) || !parser_->errors.message.empty())
        throw std::runtime_error("schema " + xsdPath + " not loaded: " + parser_->errors.message);
    // From now on only the cached grammar: nothing the instance names is fetched.
    dom.useCachedGrammarInParse(true);
    dom.setLoadSchema(false);
    dom.setLoadExternalDTD(false);
    dom.setDisableDefaultEntityResolution(true);
    dom.setCreateEntityReferenceNodes(false);
}

SchemaValidator::~SchemaValidator() = default;

std::string SchemaValidator::errorsIn(std::string_view xml)
{
    parser_->errors.message.clear();
    const xercesc::MemBufInputSource input(reinterpret_cast<const XMLByte*>(xml.data()), xml.size(), "audit message");
    try {
        parser_->dom.parse(input);
    } catch (const xercesc::XMLException& e) {
        return atna::toUtf8(e.getMessage());
    } catch (const std::runtime_error& e) {
        return e.what();
    }
    return parser_->errors.message;
}

}  // namespace plexus::testing
