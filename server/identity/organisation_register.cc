#include "server/identity/organisation_register.h"

#include <toml++/toml.h>

#include <algorithm>
#include <cstdint>
#include <fstream>
#include <sstream>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/standard_codes.h"

namespace handover::identity {
namespace {

constexpr std::string_view kEntryKeys[] = {"cvr", "role", "municipality_code",
                                           "id",  "name", "certificate_serials"};
constexpr Role kRoles[] = {Role::kOperator, Role::kImmigrationService, Role::kMunicipality,
                           Role::kAuditor};
constexpr int kMaxNameCharacters = 200;

bool IsCvr(absl::string_view value) {
  return value.size() == 8 &&
         std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// As common/identity.cc checks SPIFFE organisation ids.
bool IsOrganisationId(absl::string_view id) {
  return !id.empty() && id.size() <= 63 && std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
  });
}

// 1 to kMaxNameCharacters UTF-8 characters (toml++ has checked the
// encoding), none of them ASCII control characters.
bool IsDisplayName(absl::string_view name) {
  int characters = 0;
  for (char c : name) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte == 0x7f) return false;
    if ((byte & 0xc0) != 0x80) ++characters;
  }
  return characters >= 1 && characters <= kMaxNameCharacters;
}

std::optional<Role> RoleNamed(absl::string_view name) {
  for (Role role : kRoles) {
    if (RoleName(role) == name) return role;
  }
  return std::nullopt;
}

uint32_t LineOf(const toml::node& node) { return node.source().begin.line; }

// toml++ speaks std::string_view, Abseil (built without it) its own.
absl::string_view Absl(std::string_view text) {
  return absl::string_view(text.data(), text.size());
}
std::string_view Std(absl::string_view text) { return std::string_view(text.data(), text.size()); }

// Reads one [[organisation]] table; errors name the file, line, entry and
// field.
class EntryReader {
 public:
  EntryReader(absl::string_view source, int number, const toml::table& table)
      : source_(source), number_(number), table_(table) {}

  absl::Status Error(const toml::node* at, std::string_view field, absl::string_view rule) const {
    return absl::InvalidArgumentError(absl::StrCat(
        source_, ":", LineOf(at != nullptr ? *at : table_), ": organisation #", number_,
        cvr_.empty() ? "" : absl::StrCat(" (cvr ", cvr_, ")"), ": ", Absl(field), ": ", rule));
  }

  absl::StatusOr<RegisteredOrganisation> Read() {
    RegisteredOrganisation entry;
    absl::StatusOr<std::string> cvr = RequiredString("cvr", "8 digits");
    if (!cvr.ok()) return cvr.status();
    if (!IsCvr(*cvr)) return Error(table_.get("cvr"), "cvr", "must be 8 digits");
    entry.cvr = cvr_ = *cvr;
    for (auto&& [key, value] : table_) {
      if (std::find(std::begin(kEntryKeys), std::end(kEntryKeys), key.str()) ==
          std::end(kEntryKeys)) {
        return Error(&value, key.str(),
                     "unknown key (expected cvr, role, municipality_code, id, name, "
                     "certificate_serials)");
      }
    }

    absl::StatusOr<std::string> role_name =
        RequiredString("role", "operator, immigration-service, municipality or auditor");
    if (!role_name.ok()) return role_name.status();
    const std::optional<Role> role = RoleNamed(*role_name);
    if (!role) {
      return Error(table_.get("role"), "role",
                   absl::StrCat("unknown role \"", *role_name,
                                "\" (expected operator, immigration-service, municipality or "
                                "auditor)"));
    }
    entry.principal.role = *role;
    if (absl::Status status = ReadOrganisationId(&entry.principal); !status.ok()) return status;

    absl::StatusOr<std::string> name = RequiredString("name", "the display name");
    if (!name.ok()) return name.status();
    if (!IsDisplayName(*name)) {
      return Error(table_.get("name"), "name",
                   absl::StrCat("must be 1 to ", kMaxNameCharacters,
                                " characters without control characters"));
    }
    entry.name = *std::move(name);

    if (absl::Status status = ReadSerials(&entry.certificate_serials); !status.ok()) return status;
    return entry;
  }

 private:
  absl::StatusOr<std::string> RequiredString(std::string_view field, absl::string_view what) const {
    const toml::node* node = table_.get(field);
    if (node == nullptr) return Error(nullptr, field, absl::StrCat("required (", what, ")"));
    const toml::value<std::string>* text = node->as_string();
    if (text == nullptr) {
      return Error(node, field, absl::StrCat("must be a string in quotes (", what, ")"));
    }
    return text->get();
  }

  // municipality_code for municipalities, id for every other role; never both.
  absl::Status ReadOrganisationId(Principal* principal) const {
    const bool municipality = principal->role == Role::kMunicipality;
    const std::string_view field = municipality ? "municipality_code" : "id";
    const std::string_view other = municipality ? "id" : "municipality_code";
    if (const toml::node* node = table_.get(other); node != nullptr) {
      return Error(node, other,
                   municipality ? "not for municipalities (their id is municipality_code)"
                                : "only for municipalities (use id)");
    }
    absl::StatusOr<std::string> id =
        RequiredString(field, municipality ? "3 digits" : "[a-z0-9-]{1,63}");
    if (!id.ok()) return id.status();
    if (municipality ? !IsMunicipalityCode(*id) : !IsOrganisationId(*id)) {
      return Error(table_.get(field), field,
                   municipality ? "must be 3 digits" : "must match [a-z0-9-]{1,63}");
    }
    principal->organisation_id = *std::move(id);
    return absl::OkStatus();
  }

  absl::Status ReadSerials(std::vector<std::string>* serials) const {
    const toml::node* node = table_.get("certificate_serials");
    if (node == nullptr) return absl::OkStatus();
    const toml::array* list = node->as_array();
    if (list == nullptr) return Error(node, "certificate_serials", "must be a list of UUIDs");
    if (list->empty()) {
      return Error(node, "certificate_serials",
                   "empty (leave it out to allow every certificate of the organisation)");
    }
    for (size_t i = 0; i < list->size(); ++i) {
      const toml::node& item = *list->get(i);
      const std::string field = absl::StrCat("certificate_serials[", i, "]");
      const toml::value<std::string>* text = item.as_string();
      if (text == nullptr || !IsUuid(text->get())) {
        return Error(&item, field, "must be a UUID (8-4-4-4-12 hex digits, in quotes)");
      }
      std::string uuid = absl::AsciiStrToLower(text->get());
      if (std::find(serials->begin(), serials->end(), uuid) != serials->end()) {
        return Error(&item, field, absl::StrCat(uuid, " is listed twice"));
      }
      serials->push_back(std::move(uuid));
    }
    return absl::OkStatus();
  }

  absl::string_view source_;
  int number_;
  const toml::table& table_;
  std::string cvr_;  // once read, to name the entry
};

}  // namespace

absl::StatusOr<std::shared_ptr<const OrganisationRegister>> OrganisationRegister::Load(
    const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  if (!in || !(text << in.rdbuf())) {
    return absl::NotFoundError(absl::StrCat("organisation register ", path, ": cannot be read"));
  }
  return Parse(text.str(), path);
}

absl::StatusOr<std::shared_ptr<const OrganisationRegister>> OrganisationRegister::Parse(
    absl::string_view toml, absl::string_view source) {
  toml::table root;
  try {
    root = toml::parse(Std(toml), Std(source));
  } catch (const toml::parse_error& error) {
    return absl::InvalidArgumentError(
        absl::StrCat(source, ":", error.source().begin.line, ": ", Absl(error.description())));
  }
  for (auto&& [key, value] : root) {
    if (key.str() != "organisation") {
      return absl::InvalidArgumentError(
          absl::StrCat(source, ":", LineOf(value), ": unknown key \"", Absl(key.str()),
                       "\" (the register holds only [[organisation]] tables)"));
    }
  }

  std::shared_ptr<OrganisationRegister> result(new OrganisationRegister());
  const toml::node* organisations = root.get("organisation");
  if (organisations == nullptr) return result;  // an empty register refuses every CVR
  if (!organisations->is_array_of_tables()) {
    return absl::InvalidArgumentError(
        absl::StrCat(source, ":", LineOf(*organisations),
                     ": organisation: must be tables written [[organisation]]"));
  }
  const toml::array& list = *organisations->as_array();
  // The entry number each CVR and each principal ("role/id") is taken by.
  absl::flat_hash_map<std::string, int> cvrs;
  absl::flat_hash_map<std::string, int> principals;
  for (size_t i = 0; i < list.size(); ++i) {
    const int number = static_cast<int>(i) + 1;
    const toml::table& table = *list.get(i)->as_table();
    EntryReader reader(source, number, table);
    absl::StatusOr<RegisteredOrganisation> entry = reader.Read();
    if (!entry.ok()) return entry.status();
    if (const auto [at, inserted] = cvrs.try_emplace(entry->cvr, number); !inserted) {
      return reader.Error(table.get("cvr"), "cvr",
                          absl::StrCat("already organisation #", at->second, "'s"));
    }
    const Principal& principal = entry->principal;
    if (const auto [at, inserted] = principals.try_emplace(
            absl::StrCat(RoleName(principal.role), "/", principal.organisation_id), number);
        !inserted) {
      const std::string_view field =
          principal.role == Role::kMunicipality ? "municipality_code" : "id";
      return reader.Error(table.get(field), field,
                          absl::StrCat(RoleName(principal.role), " ", principal.organisation_id,
                                       " is already organisation #", at->second, "'s"));
    }
    std::string cvr = entry->cvr;
    result->by_cvr_.emplace(std::move(cvr), *std::move(entry));
  }
  return result;
}

absl::StatusOr<RegisteredCaller> OrganisationRegister::Identify(
    const CertificateFacts& facts) const {
  if (!facts.cvr) {
    return absl::UnauthenticatedError(
        "client certificate: no CVR in the subject (organizationIdentifier NTRDK-<cvr>, or O "
        "\"<name> // CVR:<cvr>\")");
  }
  const RegisteredOrganisation* entry = Find(*facts.cvr);
  if (entry == nullptr) {
    return absl::PermissionDeniedError(absl::StrCat("client certificate: CVR ", *facts.cvr,
                                                    " is not in the organisation register"));
  }
  std::optional<std::string> uuid;
  if (facts.serial_uuid) uuid = absl::AsciiStrToLower(*facts.serial_uuid);
  if (!entry->certificate_serials.empty()) {
    if (!uuid) {
      return absl::PermissionDeniedError(
          absl::StrCat("client certificate: a certificate without a serialNumber UUID is not "
                       "allowed for CVR ",
                       entry->cvr));
    }
    if (std::find(entry->certificate_serials.begin(), entry->certificate_serials.end(), *uuid) ==
        entry->certificate_serials.end()) {
      return absl::PermissionDeniedError(absl::StrCat("client certificate: serialNumber ", *uuid,
                                                      " is not allowed for CVR ", entry->cvr));
    }
  }
  return RegisteredCaller{.principal = entry->principal,
                          .cvr = entry->cvr,
                          .name = entry->name,
                          .serial_uuid = std::move(uuid),
                          .certificate_serial = facts.serial_hex};
}

const RegisteredOrganisation* OrganisationRegister::Find(absl::string_view cvr) const {
  const auto it = by_cvr_.find(cvr);
  return it == by_cvr_.end() ? nullptr : &it->second;
}

}  // namespace handover::identity
