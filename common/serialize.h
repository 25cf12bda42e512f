// Deterministic protobuf serialisation: the same message gives the same
// bytes, so they can be hashed, compared and fingerprinted.
#pragma once

#include <google/protobuf/message.h>

#include <string>

namespace handover {

std::string SerializeDeterministic(const google::protobuf::Message& message);

}  // namespace handover
