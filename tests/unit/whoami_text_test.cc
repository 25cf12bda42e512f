// handoverctl whoami's text (client/text_view.h RenderWhoAmI): one line per
// field that is set, and the certificate's expiry with whole days from now.
#include <gtest/gtest.h>

#include "client/text_view.h"

namespace handover::client {
namespace {

const absl::Time kNow = absl::FromUnixSeconds(1'780'000'000);  // 2026-05-28T20:26:40Z

v1::WhoAmIResponse Expiring(v1::WhoAmIResponse me, absl::Duration from_now) {
  me.mutable_certificate_expire_time()->set_seconds(absl::ToUnixSeconds(kNow + from_now));
  return me;
}

TEST(WhoAmIText, SpiffeOperatorHasNoMunicipalityCodeCvrNameOrSerial) {
  v1::WhoAmIResponse me;
  me.set_role("operator");
  me.set_organisation_id("redcross");
  me.set_naming("spiffe");
  me.set_actor("caseworker-k1");
  EXPECT_EQ(RenderWhoAmI(Expiring(me, absl::Hours(24 * 30 + 5)), kNow),
            "role: operator\n"
            "organisation: redcross\n"
            "naming: spiffe\n"
            "actor: caseworker-k1\n"
            "certificate expires: 2026-06-28T01:26:40Z (in 30 days)\n");
}

TEST(WhoAmIText, OcesMunicipalityShowsEveryLine) {
  v1::WhoAmIResponse me;
  me.set_role("municipality");
  me.set_organisation_id("760");
  me.set_municipality_code("760");
  me.set_organisation_cvr("99990023");
  me.set_organisation_name("Fictional Ringkøbing-Skjern Municipality");
  me.set_certificate_serial("b96dc8a5-91d8-4d04-8a4d-e0474a06f3fb");
  me.set_naming("oces");
  me.set_actor("system-esdh");
  EXPECT_EQ(RenderWhoAmI(Expiring(me, absl::Hours(36)), kNow),
            "role: municipality\n"
            "organisation: 760\n"
            "municipality code: 760\n"
            "CVR: 99990023\n"
            "name: Fictional Ringkøbing-Skjern Municipality\n"
            "naming: oces\n"
            "actor: system-esdh\n"
            "certificate serial: b96dc8a5-91d8-4d04-8a4d-e0474a06f3fb\n"
            "certificate expires: 2026-05-30T08:26:40Z (in 1 day)\n");
}

TEST(WhoAmIText, ExpiredOrUnknownExpiry) {
  v1::WhoAmIResponse me;
  me.set_role("auditor");
  EXPECT_NE(RenderWhoAmI(Expiring(me, -absl::Hours(24 * 3)), kNow).find("(expired 3 days ago)"),
            std::string::npos);
  EXPECT_NE(RenderWhoAmI(me, kNow).find("certificate expires: unknown\n"), std::string::npos);
}

}  // namespace
}  // namespace handover::client
