// Validation of XML documents against one XSD with Xerces-C++: the schema is
// loaded once, instance documents may not bring a DTD, an entity or a schema
// of their own. For the ATNA tests (dicom2024d.xsd) and atna-validate.
#pragma once

#include <memory>
#include <string>
#include <string_view>

namespace plexus::testing {

class SchemaValidator {
public:
    explicit SchemaValidator(const std::string& xsdPath);  // needs a live XercesSession; throws when unreadable
    ~SchemaValidator();
    SchemaValidator(const SchemaValidator&) = delete;
    SchemaValidator& operator=(const SchemaValidator&) = delete;

    // "" when `xml` is valid, otherwise the first error with its line and column.
    std::string errorsIn(std::string_view xml);

private:
    struct Parser;
    std::unique_ptr<Parser> parser_;
};

}  // namespace plexus::testing
