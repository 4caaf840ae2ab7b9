#include "mime/HeaderFields.h"

#include <libetpan/libetpan.h>

#include <algorithm>
#include <iterator>
#include <memory>
#include <optional>
#include <string>

namespace plexus::mime::detail {
namespace {

// RAII for libetpan results: EtpanPtr<mailmime_content_free> owns a mailmime_content.
template <class Free>
struct FreedType;
template <class T>
struct FreedType<void (*)(T*)> {
    using type = T;
};

template <auto Free>
struct EtpanDeleter {
    template <class T>
    void operator()(T* object) const noexcept
    {
        Free(object);
    }
};

template <auto Free>
using Freed = typename FreedType<decltype(Free)>::type;

template <auto Free>
using EtpanPtr = std::unique_ptr<Freed<Free>, EtpanDeleter<Free>>;

// Runs one of libetpan's `int parse(text, length, &index, &result)` over `text`;
// null when it cannot read it.
template <auto Parse, auto Free>
EtpanPtr<Free> parseWith(std::string_view text)
{
    std::size_t index = 0;
    Freed<Free>* result = nullptr;
    if (Parse(text.data(), text.size(), &index, &result) != MAILIMF_NO_ERROR) return nullptr;
    return EtpanPtr<Free>(result);
}

template <class T, class Visit>
void forEach(clist* list, Visit&& visit)
{
    if (list == nullptr) return;
    for (clistiter* it = clist_begin(list); it != nullptr; it = clist_next(it)) visit(*static_cast<T*>(clist_content(it)));
}

std::string text(const char* nullable)
{
    return nullable ? nullable : "";
}

char asciiLower(char c)
{
    return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

std::string_view trim(std::string_view value)
{
    const auto first = value.find_first_not_of(" \t");
    if (first == std::string_view::npos) return {};
    return value.substr(first, value.find_last_not_of(" \t") - first + 1);
}

// RFC 5322 §2.2.3: unfolding removes the line breaks of a folded value.
std::string unfold(std::string_view raw)
{
    std::string value;
    value.reserve(raw.size());
    std::copy_if(raw.begin(), raw.end(), std::back_inserter(value), [](char c) { return c != '\r' && c != '\n'; });
    return std::string(trim(value));
}

std::string valueOf(const std::vector<HeaderField>& fields, std::string_view name)
{
    return std::string(firstNamed(fields, name).value_or(""));
}

Address toAddress(const mailimf_mailbox& mailbox)
{
    const std::string spec = text(mailbox.mb_addr_spec);
    const auto at = spec.rfind('@');
    Address address;
    address.name = text(mailbox.mb_display_name);
    address.mailbox = spec.substr(0, at);
    address.host = at == std::string::npos ? "" : spec.substr(at + 1);
    if (address.host.empty()) address.host = Address::kMissingHost;  // an empty host would read as a group marker
    return address;
}

// RFC 3501 §7.4.2: a group is a start marker, its members, an end marker.
void appendGroup(const mailimf_group& group, std::vector<Address>& addresses)
{
    Address start;
    start.mailbox = text(group.grp_display_name);
    addresses.push_back(start);
    if (group.grp_mb_list != nullptr) {
        forEach<mailimf_mailbox>(group.grp_mb_list->mb_list,
                                 [&](const mailimf_mailbox& member) { addresses.push_back(toAddress(member)); });
    }
    addresses.push_back({});
}

std::vector<Address> parseAddresses(std::string_view value)
{
    std::vector<Address> addresses;
    const auto list = parseWith<mailimf_address_list_parse, mailimf_address_list_free>(value);
    if (!list) return addresses;
    forEach<mailimf_address>(list->ad_list, [&](const mailimf_address& address) {
        if (address.ad_type == MAILIMF_ADDRESS_GROUP) {
            appendGroup(*address.ad_data.ad_group, addresses);
        } else {
            addresses.push_back(toAddress(*address.ad_data.ad_mailbox));
        }
    });
    return addresses;
}

std::string typeName(const mailmime_type& type)
{
    if (type.tp_type == MAILMIME_TYPE_COMPOSITE_TYPE) {
        const auto& composite = *type.tp_data.tp_composite_type;
        switch (composite.ct_type) {
        case MAILMIME_COMPOSITE_TYPE_MESSAGE: return "message";
        case MAILMIME_COMPOSITE_TYPE_MULTIPART: return "multipart";
        default: return text(composite.ct_token);
        }
    }
    const auto& discrete = *type.tp_data.tp_discrete_type;
    switch (discrete.dt_type) {
    case MAILMIME_DISCRETE_TYPE_TEXT: return "text";
    case MAILMIME_DISCRETE_TYPE_IMAGE: return "image";
    case MAILMIME_DISCRETE_TYPE_AUDIO: return "audio";
    case MAILMIME_DISCRETE_TYPE_VIDEO: return "video";
    case MAILMIME_DISCRETE_TYPE_APPLICATION: return "application";
    default: return text(discrete.dt_extension);
    }
}

Parameter toParameter(const mailmime_parameter& parameter)
{
    return {text(parameter.pa_name), text(parameter.pa_value)};
}

void parseContentType(std::string_view value, BodyPart& part)
{
    const auto content = parseWith<mailmime_content_parse, mailmime_content_free>(value);
    if (!content) return;  // RFC 2045 §5.2: an invalid Content-Type means the default
    part.type = typeName(*content->ct_type);
    part.subtype = text(content->ct_subtype);
    part.params.clear();
    forEach<mailmime_parameter>(content->ct_parameters,
                                [&](const mailmime_parameter& p) { part.params.push_back(toParameter(p)); });
}

std::string encodingName(std::string_view value)
{
    const auto mechanism = parseWith<mailmime_encoding_parse, mailmime_mechanism_free>(value);
    if (!mechanism) return value.empty() ? "7bit" : std::string(value);
    switch (mechanism->enc_type) {
    case MAILMIME_MECHANISM_7BIT: return "7bit";
    case MAILMIME_MECHANISM_8BIT: return "8bit";
    case MAILMIME_MECHANISM_BINARY: return "binary";
    case MAILMIME_MECHANISM_QUOTED_PRINTABLE: return "quoted-printable";
    case MAILMIME_MECHANISM_BASE64: return "base64";
    default: return text(mechanism->enc_token);
    }
}

std::string dispositionTypeName(const mailmime_disposition_type& type)
{
    switch (type.dsp_type) {
    case MAILMIME_DISPOSITION_TYPE_INLINE: return "inline";
    case MAILMIME_DISPOSITION_TYPE_ATTACHMENT: return "attachment";
    default: return text(type.dsp_extension);
    }
}

// libetpan types the RFC 2183 parameters; give them back their names.
Parameter toParameter(const mailmime_disposition_parm& parameter)
{
    const auto& data = parameter.pa_data;
    switch (parameter.pa_type) {
    case MAILMIME_DISPOSITION_PARM_FILENAME: return {"filename", text(data.pa_filename)};
    case MAILMIME_DISPOSITION_PARM_CREATION_DATE: return {"creation-date", text(data.pa_creation_date)};
    case MAILMIME_DISPOSITION_PARM_MODIFICATION_DATE: return {"modification-date", text(data.pa_modification_date)};
    case MAILMIME_DISPOSITION_PARM_READ_DATE: return {"read-date", text(data.pa_read_date)};
    case MAILMIME_DISPOSITION_PARM_SIZE: return {"size", std::to_string(data.pa_size)};
    default: return toParameter(*data.pa_parameter);
    }
}

void parseDisposition(std::string_view value, BodyPart& part)
{
    const auto disposition = parseWith<mailmime_disposition_parse, mailmime_disposition_free>(value);
    if (!disposition) return;
    part.disposition = dispositionTypeName(*disposition->dsp_type);
    forEach<mailmime_disposition_parm>(disposition->dsp_parms, [&](const mailmime_disposition_parm& p) {
        part.dispositionParams.push_back(toParameter(p));
    });
}

std::vector<std::string> parseLanguage(std::string_view value)
{
    auto language = parseWith<mailmime_language_parse, mailmime_language_free>(value);
    // libetpan 1.9 expects a ',' before every tag, the first one included.
    if (!language || clist_isempty(language->lg_list)) {
        language = parseWith<mailmime_language_parse, mailmime_language_free>("," + std::string(value));
    }
    std::vector<std::string> tags;
    if (language) forEach<char>(language->lg_list, [&](char& tag) { tags.push_back(&tag); });
    return tags;
}

void applyDefaultContentType(bool inDigest, BodyPart& part)
{
    if (inDigest) {
        part.type = "message";
        part.subtype = "rfc822";
    } else {
        part.type = "text";
        part.subtype = "plain";
        part.params = {{"charset", "us-ascii"}};
    }
}

}  // namespace

bool equalsIgnoreCase(std::string_view a, std::string_view b)
{
    return std::equal(a.begin(), a.end(), b.begin(), b.end(),
                      [](char x, char y) { return asciiLower(x) == asciiLower(y); });
}

bool startsWithIgnoreCase(std::string_view text, std::string_view prefix)
{
    return text.size() >= prefix.size() && equalsIgnoreCase(text.substr(0, prefix.size()), prefix);
}

std::vector<HeaderField> parseHeaderFields(std::string_view block)
{
    // libetpan reads a field only up to its line break.
    if (!block.empty() && block.back() != '\n') return parseHeaderFields(std::string(block) + "\r\n");
    std::vector<HeaderField> fields;
    std::size_t index = 0;
    while (index < block.size()) {
        mailimf_fields* parsed = nullptr;
        if (mailimf_optional_fields_parse(block.data(), block.size(), &index, &parsed) == MAILIMF_NO_ERROR) {
            const EtpanPtr<mailimf_fields_free> owned(parsed);
            forEach<mailimf_field>(owned->fld_list, [&](const mailimf_field& field) {
                const auto& optional = *field.fld_data.fld_optional_field;
                fields.push_back({text(optional.fld_name), unfold(text(optional.fld_value))});
            });
        }
        // libetpan stops at a line it cannot read: skip that line, read on.
        const auto lineEnd = block.find('\n', index);
        index = lineEnd == std::string_view::npos ? block.size() : lineEnd + 1;
    }
    return fields;
}

Envelope parseEnvelope(const std::vector<HeaderField>& fields)
{
    const auto raw = [&](std::string_view name) { return valueOf(fields, name); };
    const auto addresses = [&](std::string_view name) { return parseAddresses(valueOf(fields, name)); };
    return Envelope{
        .date = raw("Date"),
        .subject = raw("Subject"),
        .inReplyTo = raw("In-Reply-To"),
        .messageId = raw("Message-ID"),
        .from = addresses("From"),
        .sender = addresses("Sender"),
        .replyTo = addresses("Reply-To"),
        .to = addresses("To"),
        .cc = addresses("Cc"),
        .bcc = addresses("Bcc"),
    };
}

void parseContentFields(const std::vector<HeaderField>& fields, bool inDigest, BodyPart& part)
{
    const auto raw = [&](std::string_view name) { return valueOf(fields, name); };
    applyDefaultContentType(inDigest, part);
    if (const auto type = firstNamed(fields, "Content-Type")) parseContentType(*type, part);
    part.encoding = encodingName(raw("Content-Transfer-Encoding"));
    part.id = raw("Content-ID");
    part.description = raw("Content-Description");
    part.md5 = raw("Content-MD5");
    part.location = raw("Content-Location");
    if (const auto disposition = firstNamed(fields, "Content-Disposition")) parseDisposition(*disposition, part);
    if (const auto language = firstNamed(fields, "Content-Language")) part.language = parseLanguage(*language);
}

}  // namespace plexus::mime::detail
