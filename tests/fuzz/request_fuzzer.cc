// Untrusted bytes as any request message the three services accept, through
// the checks every handler runs before the store (size, fields the schema does
// not name, resource names, request ids, person identifiers, the form's
// validation) and the projection every reader's view goes through
// (policy::ProjectForm, for every role, with and without consents), which
// must leave no field the schema does not name in any view.
//
// Input: the first byte picks the request type (methods of HandoverService,
// DocumentService and AuditService, in declaration order); the rest is its
// wire encoding.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>

#include "common/identity.h"
#include "common/json.h"
#include "common/resource_names.h"
#include "common/validation.h"
#include "server/policy/policy.h"
#include "tests/fuzz/request_types.h"

namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

// Every policy view of a form: each role, a case assigned or not, consents
// for every purpose, active and withdrawn.
void ProjectForEveryone(const handover::v1::HandoverForm& form) {
  using handover::policy::CaseFacts;
  std::vector<CaseFacts> cases(2);
  cases[0].operator_id = "fictional-operator";
  cases[1] = cases[0];
  cases[1].municipality_code = "101";
  for (int purpose = 0; purpose <= 3; ++purpose) {
    cases[1].consents.push_back(
        {static_cast<handover::v1::ConsentPurpose>(purpose), "", purpose % 2 == 1});
  }
  for (handover::Role role : handover::policy::kAllRoles) {
    const handover::Principal caller{
        role, role == handover::Role::kMunicipality ? "101" : "fictional-operator"};
    for (const CaseFacts& facts : cases) {
      handover::v1::HandoverForm view = form;
      std::vector<std::string> withheld;
      handover::policy::ProjectForm(caller, facts, &view, &withheld);
      // The projection is an allow-list: nothing the schema does not name
      // leaves, for anyone.
      if (!handover::RejectUnknownFields(view).ok()) __builtin_trap();
      (void)handover::ToJson(view);
    }
  }
}

// The field checks the handlers make, by field name, at any depth.
void CheckFields(const Message& message) {
  const Reflection* reflection = message.GetReflection();
  std::vector<const FieldDescriptor*> fields;
  reflection->ListFields(message, &fields);
  for (const FieldDescriptor* field : fields) {
    if (field->type() == FieldDescriptor::TYPE_STRING && !field->is_repeated()) {
      const std::string value = reflection->GetString(message, field);
      const std::string& name = field->name();
      if (name == "name" || name == "parent" || name == "case_name") {
        (void)handover::ParseCaseName(value, name);
        (void)handover::ParseVersionName(value, name);
        (void)handover::ParseConsentName(value, name);
        (void)handover::ParseDocumentName(value, name);
      } else if (name == "request_id") {
        (void)handover::ValidateRequestId(value, name);
      } else if (name == "person_identifier") {
        if (handover::ValidatePersonIdentifier(value, name).ok()) {
          (void)handover::CanonicalPersonIdentifier(value);
        }
      } else {
        (void)handover::ValidateText(value, 4096, name);
      }
    }
    if (field->type() != FieldDescriptor::TYPE_MESSAGE) continue;
    if (field->message_type() == handover::v1::HandoverForm::descriptor() &&
        !field->is_repeated()) {
      const auto& form =
          static_cast<const handover::v1::HandoverForm&>(reflection->GetMessage(message, field));
      (void)handover::ValidateForm(form, handover::FormLimits{});
      ProjectForEveryone(form);
    }
    if (field->is_repeated()) {
      for (int i = 0; i < reflection->FieldSize(message, field); ++i) {
        CheckFields(reflection->GetRepeatedMessage(message, field, i));
      }
    } else {
      CheckFields(reflection->GetMessage(message, field));
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::vector<const Descriptor*> types = handover::fuzz::RequestTypes();
  if (size == 0) return 0;
  const Descriptor* type = types[data[0] % types.size()];
  std::unique_ptr<Message> request(
      google::protobuf::MessageFactory::generated_factory()->GetPrototype(type)->New());
  if (!request->ParseFromArray(data + 1, static_cast<int>(size - 1))) return 0;
  if (request->ByteSizeLong() > 4 * 1024 * 1024) return 0;
  // Refused by the pipeline, but the checks below must hold for any message.
  (void)handover::RejectUnknownFields(*request);
  CheckFields(*request);
  return 0;
}
