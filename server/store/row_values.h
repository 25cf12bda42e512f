// How every backend spells a date in its rows: the integer YYYYMMDD, so
// dates compare as numbers (retention's "takeover before").
#pragma once

#include <cstdint>

#include "handover/v1/types.pb.h"

namespace handover::store {

inline int64_t DateToInt(const v1::Date& date) {
  return int64_t{date.year()} * 10000 + date.month() * 100 + date.day();
}

inline v1::Date IntToDate(int64_t yyyymmdd) {
  v1::Date date;
  date.set_year(static_cast<int32_t>(yyyymmdd / 10000));
  date.set_month(static_cast<int32_t>(yyyymmdd / 100 % 100));
  date.set_day(static_cast<int32_t>(yyyymmdd % 100));
  return date;
}

}  // namespace handover::store
