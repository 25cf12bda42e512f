// Untrusted bytes as the organisation register (TOML) handoverd loads at
// start and on every edit: parsed and checked, and a register that is
// accepted is asked about every CVR it names.
#include <cstddef>
#include <cstdint>

#include "absl/strings/string_view.h"
#include "server/identity/organisation_register.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto parsed = handover::identity::OrganisationRegister::Parse(
      absl::string_view(reinterpret_cast<const char*>(data), size), "fuzz.toml");
  if (!parsed.ok()) return 0;
  for (const char* cvr : {"99990007", "99990015", "99990023", "12345678", ""}) {
    handover::identity::CertificateFacts facts;
    facts.cvr = cvr;
    (void)(*parsed)->Find(cvr);
    (void)(*parsed)->Identify(facts);
  }
  return 0;
}
