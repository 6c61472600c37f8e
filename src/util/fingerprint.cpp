#include "util/fingerprint.hpp"

#include <fmt/format.h>

namespace lmac {

std::string Fingerprint::hex() const { return fmt::format("{:016x}", XXH3_64bits_digest(state_)); }

}  // namespace lmac
