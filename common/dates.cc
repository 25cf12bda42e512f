#include "common/dates.h"

#include <chrono>

#include "absl/strings/str_format.h"

namespace handover {

bool IsValidDate(const v1::Date& date) {
  // Range-check before converting: std::chrono::day holds only 0..255.
  if (date.year() < 1 || date.year() > 9999 || date.month() < 1 || date.month() > 12 ||
      date.day() < 1 || date.day() > 31) {
    return false;
  }
  const std::chrono::year_month_day ymd{std::chrono::year{date.year()},
                                        std::chrono::month{static_cast<unsigned>(date.month())},
                                        std::chrono::day{static_cast<unsigned>(date.day())}};
  return ymd.ok();
}

int CompareDates(const v1::Date& a, const v1::Date& b) {
  if (a.year() != b.year()) return a.year() < b.year() ? -1 : 1;
  if (a.month() != b.month()) return a.month() < b.month() ? -1 : 1;
  if (a.day() != b.day()) return a.day() < b.day() ? -1 : 1;
  return 0;
}

v1::Date MakeDate(int year, int month, int day) {
  v1::Date date;
  date.set_year(year);
  date.set_month(month);
  date.set_day(day);
  return date;
}

v1::Date TodayUtc() {
  const auto today = std::chrono::floor<std::chrono::days>(std::chrono::system_clock::now());
  const std::chrono::year_month_day ymd{today};
  return MakeDate(static_cast<int>(ymd.year()), static_cast<int>(unsigned(ymd.month())),
                  static_cast<int>(unsigned(ymd.day())));
}

v1::Date TakeoverDate(const v1::Date& decision) {
  const int months = decision.year() * 12 + (decision.month() - 1) + 2;
  return MakeDate(months / 12, months % 12 + 1, 1);
}

std::string FormatDate(const v1::Date& date) {
  return absl::StrFormat("%04d-%02d-%02d", date.year(), date.month(), date.day());
}

}  // namespace handover
