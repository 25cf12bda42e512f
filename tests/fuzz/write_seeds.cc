// Writes the seed corpora of the request and access-log export targets
// (tests/fuzz/corpus/request/, corpus/access_log_export/), which are binary
// or signed and so not written by hand:
//   build-asan/tests/fuzz_write_seeds tests/fuzz/corpus
// Requests carry deploy/demo/form.json (fictional); the export is six
// fictional records and a signed checkpoint.
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>

#include <google/protobuf/descriptor.h>

#include "common/access_chain.h"
#include "common/json.h"
#include "common/signing.h"
#include "handover/v1/audit.pb.h"
#include "handover/v1/handover_service.pb.h"
#include "tests/fuzz/request_types.h"

namespace {

using handover::v1::HandoverForm;

void Write(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << bytes;
  if (!out) {
    std::cerr << "cannot write " << path << "\n";
    std::exit(1);
  }
}

// The request fuzzer's first byte: the index of the message's type among the
// services' methods (request_types.h).
char TypeIndex(const google::protobuf::Descriptor* type) {
  const auto types = handover::fuzz::RequestTypes();
  for (size_t i = 0; i < types.size(); ++i) {
    if (types[i] == type) return static_cast<char>(i);
  }
  std::cerr << "not a request type: " << type->full_name() << "\n";
  std::exit(1);
}

void WriteRequest(const std::string& directory, const std::string& name,
                  const google::protobuf::Message& request) {
  Write(directory + "/" + name, TypeIndex(request.GetDescriptor()) + request.SerializeAsString());
}

void WriteRequests(const std::string& directory, const HandoverForm& form) {
  handover::v1::CreateCaseRequest create;
  create.set_request_id("seed-1");
  *create.mutable_form() = form;
  WriteRequest(directory, "create-case", create);

  handover::v1::UpdateFormRequest update;
  update.set_name("cases/0123456789abcdef0123456789abcdef");
  *update.mutable_form() = form;
  update.mutable_update_mask()->add_paths("identity");
  update.set_etag("\"3\"");
  update.set_request_id("seed-2");
  WriteRequest(directory, "update-form", update);

  handover::v1::GetCaseRequest get;
  get.set_name("cases/0123456789abcdef0123456789abcdef");
  get.set_view(handover::v1::CASE_VIEW_FULL);
  WriteRequest(directory, "get-case", get);

  handover::v1::ListCasesRequest list;
  list.set_page_size(10);
  list.set_person_identifier("010190-0000");
  WriteRequest(directory, "list-cases", list);

  handover::v1::AssignCaseRequest assign;
  assign.set_name("cases/0123456789abcdef0123456789abcdef");
  assign.set_municipality_code("760");
  assign.mutable_decision_date()->set_year(2026);
  assign.mutable_decision_date()->set_month(5);
  assign.mutable_decision_date()->set_day(15);
  assign.set_request_id("seed-3");
  WriteRequest(directory, "assign-case", assign);

  handover::v1::RecordConsentRequest consent;
  consent.set_parent("cases/0123456789abcdef0123456789abcdef");
  consent.mutable_consent()->set_purpose(handover::v1::CONSENT_PURPOSE_HEALTH_NEEDS);
  consent.mutable_consent()->set_recipient_municipality_code("760");
  consent.set_request_id("seed-4");
  WriteRequest(directory, "record-consent", consent);
}

void WriteExport(const std::string& directory) {
  const handover::Signer signer = handover::Signer::Generate();
  std::string lines, previous = handover::kGenesisHash;
  handover::v1::ExportAccessLogResponse key;
  key.set_public_key_pem(signer.public_key_pem());
  lines += handover::ToJsonLine(key) + "\n";
  for (int64_t sequence = 1; sequence <= 6; ++sequence) {
    handover::v1::ExportAccessLogResponse item;
    if (sequence == 6) {
      handover::v1::Checkpoint* checkpoint = item.mutable_checkpoint();
      checkpoint->set_sequence(5);
      checkpoint->set_head_hash(previous);
      checkpoint->set_signature(signer.Sign(handover::CheckpointMessage(5, previous)));
      lines += handover::ToJsonLine(item) + "\n";
      item.Clear();
    }
    handover::v1::AccessRecord* record = item.mutable_entry()->mutable_record();
    record->set_sequence(sequence);
    record->set_organisation("municipality-760");
    record->set_role("municipality");
    record->set_actor("fictional-caseworker");
    record->set_operation("GetCase");
    record->add_case_names("cases/0123456789abcdef0123456789abcdef");
    record->set_outcome("OK");
    item.mutable_entry()->set_hash(handover::ChainHash(previous, *record));
    previous = item.entry().hash();
    lines += handover::ToJsonLine(item) + "\n";
  }
  Write(directory + "/signed-export", lines);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: fuzz_write_seeds <corpus directory>\n";
    return 2;
  }
  const std::string corpus = argv[1];
  std::ifstream in(HANDOVER_SOURCE_DIR "/deploy/demo/form.json");
  std::stringstream json;
  json << in.rdbuf();
  HandoverForm form;
  if (absl::Status s = handover::FromJson(json.str(), &form); !s.ok()) {
    std::cerr << s << "\n";
    return 1;
  }
  WriteRequests(corpus + "/request", form);
  WriteExport(corpus + "/access_log_export");
  return 0;
}
