// What a client checks about its own certificate before it connects, so a
// certificate the server would refuse at the handshake is reported plainly
// ("expired on ...") instead of as the server being unavailable.
#pragma once

#include <string>

#include "absl/status/status.h"

namespace handover::client {

// `certificate_pem` and `key_pem` are the contents of the files named
// `certificate_path` and `key_path` (named in messages). UNAUTHENTICATED
// (handoverctl exit 4) when the certificate has expired, is not yet valid, or
// the key is not its key; INVALID_ARGUMENT naming cert or key when a file
// holds no PEM certificate or key.
absl::Status CheckOwnCertificate(const std::string& certificate_pem,
                                 const std::string& certificate_path, const std::string& key_pem,
                                 const std::string& key_path);

}  // namespace handover::client
