#include "trust/Whitelist.h"

#include "trust/XercesRuntime.h"

#include <xercesc/framework/MemBufInputSource.hpp>
#include <xercesc/framework/XMLPScanToken.hpp>
#include <xercesc/sax2/Attributes.hpp>
#include <xercesc/sax2/DefaultHandler.hpp>
#include <xercesc/sax2/SAX2XMLReader.hpp>
#include <xercesc/sax2/XMLReaderFactory.hpp>
#include <xercesc/sax/Locator.hpp>
#include <xercesc/util/TransService.hpp>
#include <xercesc/util/XMLUni.hpp>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>

namespace plexus::trust {

namespace {

struct DomainEntry {
    std::string name;
    std::vector<std::string> operatorDns;
    XMLFileLoc line = 0;
};

struct ParsedList {
    std::string generatedAt;
    std::vector<DomainEntry> entries;
};

std::string utf8(std::u16string_view text)
{
    if (text.empty()) return {};
    const xercesc::TranscodeToStr transcoded(text.data(), text.size(), "UTF-8");
    return std::string(reinterpret_cast<const char*>(transcoded.str()), transcoded.length());
}

bool isAscii(std::u16string_view text, std::string_view ascii) { return std::ranges::equal(text, ascii); }

std::string trimmed(std::string_view text)
{
    constexpr std::string_view kSpaces = " \t\r\n";
    const auto first = text.find_first_not_of(kSpaces);
    if (first == std::string_view::npos) return {};
    return std::string(text.substr(first, text.find_last_not_of(kSpaces) - first + 1));
}

std::string domainKey(std::string_view domain)
{
    if (domain.ends_with('.')) domain.remove_suffix(1);
    std::string key(domain);
    std::ranges::transform(key, key.begin(),
                           [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; });
    return key;
}

// Streams the document into ParsedList. Failures are WhitelistError exceptions
// thrown from the callbacks, which Xerces lets through to parse()'s caller.
class ListHandler final : public xercesc::DefaultHandler {
public:
    ParsedList take() { return std::move(list_); }
    bool listComplete() const { return listComplete_; }

    void setDocumentLocator(const xercesc::Locator* const locator) override { locator_ = locator; }

    void startElement(const XMLCh* const uri, const XMLCh* const localName, const XMLCh* const,
                      const xercesc::Attributes&) override
    {
        ++depth_;
        field_ = Field::None;
        text_.clear();
        const std::u16string_view name(localName);
        if (depth_ == 1) return requireRoot(uri, name);
        if (!isAscii(uri, Whitelist::kNamespace)) return;  // extensions from other vocabularies
        if (depth_ == 2 && name == u"DateDeGeneration") field_ = Field::GeneratedAt;
        if (depth_ == 2 && name == u"ListeDomaines") inDomainList_ = true;
        if (depth_ == 3 && inDomainList_ && name == u"Domaine") entry_ = DomainEntry{{}, {}, line()};
        if (depth_ == 4 && entry_ && name == u"Nom") field_ = Field::Name;
        if (depth_ == 4 && entry_ && name == u"DNCertificatOperateur") field_ = Field::OperatorDn;
    }

    void characters(const XMLCh* const chars, const XMLSize_t length) override
    {
        if (field_ != Field::None) text_.append(chars, length);
    }

    void endElement(const XMLCh* const, const XMLCh* const, const XMLCh* const) override
    {
        if (field_ != Field::None) storeField(trimmed(utf8(text_)));
        field_ = Field::None;
        if (depth_ == 3 && entry_) finishEntry();
        if (depth_ == 2 && inDomainList_) listComplete_ = true;
        --depth_;
    }

    // Refusing the DOCTYPE itself shuts out internal and external entities
    // (XXE, billion laughs): Xerces 3.2 has no SAX2 feature for it.
    void startDTD(const XMLCh* const, const XMLCh* const, const XMLCh* const) override
    {
        fail("DOCTYPE declarations are not allowed");
    }

    xercesc::InputSource* resolveEntity(const XMLCh* const, const XMLCh* const) override
    {
        fail("external entities are not allowed");
    }

    void warning(const xercesc::SAXParseException&) override {}
    void error(const xercesc::SAXParseException& e) override { fatalError(e); }
    void fatalError(const xercesc::SAXParseException& e) override
    {
        throw WhitelistError("line " + std::to_string(e.getLineNumber()) + ": " + utf8(e.getMessage()));
    }

private:
    enum class Field { None, GeneratedAt, Name, OperatorDn };
    static constexpr std::string_view kRootName = "ListeBlancheMSSante";

    void requireRoot(std::u16string_view uri, std::u16string_view name) const
    {
        if (!isAscii(name, kRootName) || !isAscii(uri, Whitelist::kNamespace))
            fail("root element is {" + utf8(uri) + "}" + utf8(name) + ", expected {" +
                 std::string(Whitelist::kNamespace) + "}" + std::string(kRootName));
    }

    void storeField(std::string value)
    {
        switch (field_) {
        case Field::GeneratedAt: list_.generatedAt = std::move(value); break;
        case Field::Name:
            if (!entry_->name.empty()) fail("Domaine entry with several Nom");
            entry_->name = std::move(value);
            break;
        case Field::OperatorDn: entry_->operatorDns.push_back(std::move(value)); break;
        case Field::None: break;
        }
    }

    void finishEntry()
    {
        if (entry_->name.empty())
            fail("Domaine entry (opened on line " + std::to_string(entry_->line) + ") has no Nom");
        if (entry_->operatorDns.empty()) fail("Domaine " + entry_->name + " has no DNCertificatOperateur");
        list_.entries.push_back(std::move(*entry_));
        entry_.reset();
    }

    XMLFileLoc line() const { return locator_ != nullptr ? locator_->getLineNumber() : 0; }

    [[noreturn]] void fail(const std::string& what) const
    {
        throw WhitelistError("line " + std::to_string(line()) + ": " + what);
    }

    const xercesc::Locator* locator_ = nullptr;
    int depth_ = 0;
    bool inDomainList_ = false;
    bool listComplete_ = false;
    std::optional<DomainEntry> entry_;
    Field field_ = Field::None;
    std::u16string text_;
    ParsedList list_;
};

// No DTD, no schema, no external anything: the list is plain namespaced XML.
void secure(xercesc::SAX2XMLReader& reader, ListHandler& handler)
{
    using xercesc::XMLUni;
    reader.setFeature(XMLUni::fgSAX2CoreNameSpaces, true);
    reader.setFeature(XMLUni::fgSAX2CoreValidation, false);
    reader.setFeature(XMLUni::fgXercesLoadExternalDTD, false);
    reader.setFeature(XMLUni::fgXercesSchema, false);
    reader.setFeature(XMLUni::fgXercesLoadSchema, false);
    reader.setFeature(XMLUni::fgXercesDisableDefaultEntityResolution, true);
    reader.setContentHandler(&handler);
    reader.setErrorHandler(&handler);
    reader.setEntityResolver(&handler);
    reader.setLexicalHandler(&handler);
}

ParsedList readList(std::string_view xml)
{
    const XercesRuntime runtime;
    ListHandler handler;
    const std::unique_ptr<xercesc::SAX2XMLReader> reader(xercesc::XMLReaderFactory::createXMLReader());
    secure(*reader, handler);
    const xercesc::MemBufInputSource input(reinterpret_cast<const XMLByte*>(xml.data()), xml.size(), "whitelist");
    // A progressive parse that stops at </ListeDomaines>: nothing after it
    // matters, and the list as published omits the root's end tag.
    xercesc::XMLPScanToken token;
    try {
        bool more = reader->parseFirst(input, token);
        while (more && !handler.listComplete()) more = reader->parseNext(token);
        if (more) reader->parseReset(token);
    } catch (const xercesc::XMLException& e) {
        throw WhitelistError(utf8(e.getMessage()));
    } catch (const xercesc::SAXException& e) {
        throw WhitelistError(utf8(e.getMessage()));
    }
    if (!handler.listComplete()) throw WhitelistError("no ListeDomaines element");
    return handler.take();
}

void requireSizeWithinLimit(std::uintmax_t size, const std::string& source)
{
    if (size > Whitelist::kMaxDocumentBytes)
        throw WhitelistError("whitelist " + source + ": " + std::to_string(size) + " bytes, more than the limit of " +
                             std::to_string(Whitelist::kMaxDocumentBytes));
}

}  // namespace

Whitelist Whitelist::loadFile(const std::string& path)
{
    std::error_code error;
    const auto size = std::filesystem::file_size(path, error);
    if (error) throw WhitelistError("whitelist " + path + ": cannot read it: " + error.message());
    requireSizeWithinLimit(size, path);
    std::string xml(size, '\0');
    std::ifstream in(path, std::ios::binary);
    if (!in.read(xml.data(), static_cast<std::streamsize>(size)))
        throw WhitelistError("whitelist " + path + ": cannot read it");
    return parseDocument(xml, path);
}

Whitelist Whitelist::parse(std::string_view xml, const std::string& source) { return parseDocument(xml, source); }

Whitelist Whitelist::parseDocument(std::string_view xml, const std::string& source)
{
    requireSizeWithinLimit(xml.size(), source);
    ParsedList parsed;
    try {
        parsed = readList(xml);
    } catch (const WhitelistError& e) {
        throw WhitelistError("whitelist " + source + ", " + e.what());
    }
    // An empty list would cut us off from every operator: the caller keeps its previous one.
    if (parsed.entries.empty()) throw WhitelistError("whitelist " + source + ": ListeDomaines has no Domaine");
    Whitelist list;
    list.generatedAt_ = std::move(parsed.generatedAt);
    list.entryCount_ = parsed.entries.size();
    std::unordered_map<std::string, std::size_t> operatorByText;  // most entries repeat a DN verbatim
    for (const auto& entry : parsed.entries) {
        auto& operators = list.operatorsByDomain_[domainKey(entry.name)];
        for (const auto& text : entry.operatorDns) {
            auto [known, isNew] = operatorByText.try_emplace(text, 0);
            if (isNew) {
                try {
                    known->second = list.internOperator(DistinguishedName::parse(text));
                } catch (const DnError& e) {
                    throw WhitelistError("whitelist " + source + ", line " + std::to_string(entry.line) + ": domain " +
                                         entry.name + ": " + e.what());
                }
            }
            if (std::ranges::find(operators, known->second) == operators.end()) operators.push_back(known->second);
        }
    }
    return list;
}

std::size_t Whitelist::internOperator(const DistinguishedName& dn)
{
    const auto [slot, isNew] = operatorByMatchKey_.try_emplace(dn.matchKey(), operators_.size());
    if (isNew) operators_.push_back(dn);
    return slot->second;
}

const std::vector<std::size_t>* Whitelist::operatorsOf(std::string_view domain) const
{
    const auto found = operatorsByDomain_.find(domainKey(domain));
    return found == operatorsByDomain_.end() ? nullptr : &found->second;
}

bool Whitelist::containsDomain(std::string_view domain) const { return operatorsOf(domain) != nullptr; }

bool Whitelist::allows(std::string_view domain, const DistinguishedName& peer) const
{
    const auto* operators = operatorsOf(domain);
    const auto known = operatorByMatchKey_.find(peer.matchKey());
    return operators != nullptr && known != operatorByMatchKey_.end() &&
           std::ranges::find(*operators, known->second) != operators->end();
}

bool Whitelist::knowsOperator(const DistinguishedName& peer) const
{
    return operatorByMatchKey_.contains(peer.matchKey());
}

std::vector<std::string> Whitelist::operatorDns(std::string_view domain) const
{
    std::vector<std::string> dns;
    if (const auto* operators = operatorsOf(domain))
        for (const std::size_t index : *operators) dns.push_back(operators_[index].toString());
    return dns;
}

}  // namespace plexus::trust
