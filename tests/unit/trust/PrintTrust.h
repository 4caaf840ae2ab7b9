// GoogleTest printers, so that failed comparisons show DNs as text.
#pragma once

#include "trust/DistinguishedName.h"

#include <ostream>

namespace plexus::trust {

inline void PrintTo(const DistinguishedName& name, std::ostream* out) { *out << '"' << name.toString() << '"'; }
inline void PrintTo(const DnAttribute& attribute, std::ostream* out)
{
    *out << attribute.type << '=' << attribute.value;
}

}  // namespace plexus::trust
