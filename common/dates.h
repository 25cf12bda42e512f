// Calendar dates (handover.v1.Date) and the handover timeline's date rules.
#pragma once

#include <string>

#include "handover/v1/types.pb.h"

namespace handover {

// True for a real calendar date in years 1..9999.
bool IsValidDate(const v1::Date& date);
// Negative, zero or positive as a is before, equal to or after b.
int CompareDates(const v1::Date& a, const v1::Date& b);
// Today in UTC.
v1::Date TodayUtc();
// The integration-responsibility takeover date: the first day of the second
// month after the decision (decided 15 May -> responsible from 1 July).
v1::Date TakeoverDate(const v1::Date& decision);
// "YYYY-MM-DD".
std::string FormatDate(const v1::Date& date);
v1::Date MakeDate(int year, int month, int day);

}  // namespace handover
