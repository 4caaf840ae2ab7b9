#include "mime/MessageStructure.h"

#include "mime/HeaderFields.h"

namespace plexus::mime {

bool BodyPart::isMultipart() const
{
    return detail::equalsIgnoreCase(type, "multipart");
}

std::optional<std::string_view> BodyPart::param(std::string_view name) const
{
    return detail::firstNamed(params, name);
}

std::optional<std::string_view> MessageStructure::header(std::string_view name) const
{
    return detail::firstNamed(headers, name);
}

}  // namespace plexus::mime
