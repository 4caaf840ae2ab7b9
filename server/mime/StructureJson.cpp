// MessageStructure <-> JSON. Empty strings and lists are left out; addresses
// and parameters are arrays ([name, adl, mailbox, host], [name, value]);
// offsets are "header": [offset, size] and "body": [offset, size, lines].
#include "mime/MessageStructure.h"

#include <Poco/Base64Decoder.h>
#include <Poco/Base64Encoder.h>
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <Poco/UTF8Encoding.h>

#include <array>
#include <iterator>
#include <sstream>
#include <stdexcept>

namespace plexus::mime {
namespace {

using Poco::Dynamic::Var;
using Poco::JSON::Array;
using Poco::JSON::Object;

constexpr int kFormatVersion = 1;

int utf8SequenceLength(unsigned char lead)
{
    if (lead < 0x80) return 1;
    if ((lead & 0xE0) == 0xC0) return 2;
    if ((lead & 0xF0) == 0xE0) return 3;
    if ((lead & 0xF8) == 0xF0) return 4;
    return 0;
}

bool isUtf8(std::string_view text)
{
    const auto* bytes = reinterpret_cast<const unsigned char*>(text.data());
    for (std::size_t i = 0; i < text.size();) {
        const int length = utf8SequenceLength(bytes[i]);
        if (length == 0 || i + length > text.size() || !Poco::UTF8Encoding::isLegal(bytes + i, length)) return false;
        i += length;
    }
    return true;
}

// JSON text must be UTF-8, header bytes need not be (RFC 6532 aside, latin-1
// still travels): those are kept as {"base64": "..."}.
Var textToJson(const std::string& text)
{
    if (isUtf8(text)) return text;
    std::ostringstream encoded;
    Poco::Base64Encoder encoder(encoded);
    encoder.rdbuf()->setLineLength(0);
    encoder << text;
    encoder.close();
    Object::Ptr wrapped = new Object;
    wrapped->set("base64", encoded.str());
    return wrapped;
}

std::string textFromJson(const Var& value)
{
    if (value.isString()) return value.extract<std::string>();
    std::istringstream encoded(value.extract<Object::Ptr>()->getValue<std::string>("base64"));
    Poco::Base64Decoder decoder(encoded);
    return std::string(std::istreambuf_iterator<char>(decoder), {});
}

void setText(Object& object, const std::string& key, const std::string& text)
{
    if (!text.empty()) object.set(key, textToJson(text));
}

std::string getText(const Object& object, const std::string& key)
{
    return object.has(key) ? textFromJson(object.get(key)) : std::string();
}

template <class T, class ToJson>
void setList(Object& object, const std::string& key, const std::vector<T>& items, ToJson toJson)
{
    if (items.empty()) return;
    Array::Ptr array = new Array;
    for (const auto& item : items) array->add(toJson(item));
    object.set(key, array);
}

template <class T, class FromJson>
std::vector<T> getList(const Object& object, const std::string& key, FromJson fromJson)
{
    std::vector<T> items;
    if (const auto array = object.getArray(key)) {
        for (std::size_t i = 0; i < array->size(); ++i) items.push_back(fromJson(array->get(i)));
    }
    return items;
}

Var textsToJson(std::initializer_list<const std::string*> texts)
{
    Array::Ptr array = new Array;
    for (const auto* text : texts) array->add(textToJson(*text));
    return array;
}

Array::Ptr asArray(const Var& value)
{
    return value.extract<Array::Ptr>();
}

Var addressToJson(const Address& a)
{
    return textsToJson({&a.name, &a.adl, &a.mailbox, &a.host});
}

Address addressFromJson(const Var& value)
{
    const auto array = asArray(value);
    return {textFromJson(array->get(0)), textFromJson(array->get(1)), textFromJson(array->get(2)),
            textFromJson(array->get(3))};
}

// Parameter and HeaderField: [name, value].
template <class NameValue>
Var nameValueToJson(const NameValue& entry)
{
    return textsToJson({&entry.name, &entry.value});
}

template <class NameValue>
NameValue nameValueFromJson(const Var& value)
{
    const auto array = asArray(value);
    return {textFromJson(array->get(0)), textFromJson(array->get(1))};
}

// The (name, address list) pairs of an envelope, for both directions.
template <class EnvelopeRef>
auto addressLists(EnvelopeRef& e)
{
    return std::array{std::pair{"from", &e.from}, std::pair{"sender", &e.sender}, std::pair{"replyTo", &e.replyTo},
                      std::pair{"to", &e.to},     std::pair{"cc", &e.cc},         std::pair{"bcc", &e.bcc}};
}

template <class EnvelopeRef>
auto rawFields(EnvelopeRef& e)
{
    return std::array{std::pair{"date", &e.date}, std::pair{"subject", &e.subject},
                      std::pair{"inReplyTo", &e.inReplyTo}, std::pair{"messageId", &e.messageId}};
}

Object::Ptr envelopeToJson(const Envelope& envelope)
{
    Object::Ptr object = new Object;
    for (const auto& [key, text] : rawFields(envelope)) setText(*object, key, *text);
    for (const auto& [key, list] : addressLists(envelope)) setList(*object, key, *list, addressToJson);
    return object;
}

Envelope envelopeFromJson(const Object& object)
{
    Envelope envelope;
    for (const auto& [key, text] : rawFields(envelope)) *text = getText(object, key);
    for (const auto& [key, list] : addressLists(envelope)) *list = getList<Address>(object, key, addressFromJson);
    return envelope;
}

Array::Ptr numbers(std::initializer_list<std::uint64_t> values)
{
    Array::Ptr array = new Array;
    for (const auto value : values) array->add(value);
    return array;
}

std::uint64_t number(const Array& array, std::size_t index)
{
    return array.get(index).convert<std::uint64_t>();
}

Object::Ptr partToJson(const BodyPart& part)
{
    Object::Ptr object = new Object;
    setText(*object, "type", part.type);
    setText(*object, "subtype", part.subtype);
    setList(*object, "params", part.params, nameValueToJson<Parameter>);
    setText(*object, "id", part.id);
    setText(*object, "description", part.description);
    setText(*object, "encoding", part.encoding);
    setText(*object, "md5", part.md5);
    setText(*object, "disposition", part.disposition);
    setList(*object, "dispositionParams", part.dispositionParams, nameValueToJson<Parameter>);
    setList(*object, "language", part.language, textToJson);
    setText(*object, "location", part.location);
    object->set("header", numbers({part.headerOffset, part.headerSize}));
    object->set("body", numbers({part.bodyOffset, part.bodySize, part.bodyLines}));
    setList(*object, "parts", part.children, partToJson);
    if (part.envelope) object->set("envelope", envelopeToJson(*part.envelope));
    return object;
}

BodyPart partFromJson(const Var& value)
{
    const auto object = value.extract<Object::Ptr>();
    BodyPart part;
    part.type = getText(*object, "type");
    part.subtype = getText(*object, "subtype");
    part.params = getList<Parameter>(*object, "params", nameValueFromJson<Parameter>);
    part.id = getText(*object, "id");
    part.description = getText(*object, "description");
    part.encoding = getText(*object, "encoding");
    part.md5 = getText(*object, "md5");
    part.disposition = getText(*object, "disposition");
    part.dispositionParams = getList<Parameter>(*object, "dispositionParams", nameValueFromJson<Parameter>);
    part.language = getList<std::string>(*object, "language", textFromJson);
    part.location = getText(*object, "location");
    const auto header = object->getArray("header");
    const auto body = object->getArray("body");
    if (!header || !body) throw std::runtime_error("mime structure: part without offsets");
    part.headerOffset = number(*header, 0);
    part.headerSize = number(*header, 1);
    part.bodyOffset = number(*body, 0);
    part.bodySize = number(*body, 1);
    part.bodyLines = number(*body, 2);
    part.children = getList<BodyPart>(*object, "parts", partFromJson);
    if (const auto envelope = object->getObject("envelope")) part.envelope = envelopeFromJson(*envelope);
    return part;
}

}  // namespace

std::string MessageStructure::toJson() const
{
    Object json;
    json.set("v", kFormatVersion);
    json.set("envelope", envelopeToJson(envelope));
    setList(json, "headers", headers, nameValueToJson<HeaderField>);
    json.set("root", partToJson(root));
    std::ostringstream text;
    json.stringify(text);
    return text.str();
}

MessageStructure MessageStructure::fromJson(std::string_view json)
{
    Poco::JSON::Parser parser;
    const auto object = parser.parse(std::string(json)).extract<Object::Ptr>();
    if (object->optValue("v", 0) != kFormatVersion) throw std::runtime_error("mime structure: unknown format version");
    const auto envelopeObject = object->getObject("envelope");
    if (!envelopeObject) throw std::runtime_error("mime structure: no envelope");
    MessageStructure structure;
    structure.envelope = envelopeFromJson(*envelopeObject);
    structure.headers = getList<HeaderField>(*object, "headers", nameValueFromJson<HeaderField>);
    structure.root = partFromJson(object->get("root"));
    structure.size = structure.root.bodyOffset + structure.root.bodySize;
    structure.headerSize = structure.root.headerSize;
    return structure;
}

}  // namespace plexus::mime
