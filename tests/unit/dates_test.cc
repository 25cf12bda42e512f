// common/dates.h: calendar checks, ordering, formatting and the takeover rule.
#include "common/dates.h"

#include <gtest/gtest.h>

namespace handover {
namespace {

std::string Takeover(int year, int month, int day) {
  return FormatDate(TakeoverDate(MakeDate(year, month, day)));
}

TEST(TakeoverDateTest, FirstDayOfTheSecondMonthAfterTheDecision) {
  EXPECT_EQ(Takeover(2026, 5, 15), "2026-07-01");
  EXPECT_EQ(Takeover(2026, 1, 1), "2026-03-01");
  EXPECT_EQ(Takeover(2026, 10, 31), "2026-12-01");
}

TEST(TakeoverDateTest, CrossesIntoTheNextYear) {
  EXPECT_EQ(Takeover(2026, 11, 1), "2027-01-01");
  EXPECT_EQ(Takeover(2026, 11, 30), "2027-01-01");
  EXPECT_EQ(Takeover(2026, 12, 31), "2027-02-01");
}

TEST(IsValidDateTest, AcceptsRealDates) {
  EXPECT_TRUE(IsValidDate(MakeDate(2026, 1, 31)));
  EXPECT_TRUE(IsValidDate(MakeDate(2026, 4, 30)));
  EXPECT_TRUE(IsValidDate(MakeDate(2026, 12, 31)));
  EXPECT_TRUE(IsValidDate(MakeDate(1, 1, 1)));
  EXPECT_TRUE(IsValidDate(MakeDate(9999, 12, 31)));
}

TEST(IsValidDateTest, LeapYears) {
  EXPECT_TRUE(IsValidDate(MakeDate(2024, 2, 29)));
  EXPECT_FALSE(IsValidDate(MakeDate(2026, 2, 29)));
  EXPECT_FALSE(IsValidDate(MakeDate(1900, 2, 29)));  // divisible by 100, not by 400
  EXPECT_TRUE(IsValidDate(MakeDate(2000, 2, 29)));   // divisible by 400
  EXPECT_FALSE(IsValidDate(MakeDate(2000, 2, 30)));
}

TEST(IsValidDateTest, RejectsOutOfRangeFields) {
  EXPECT_FALSE(IsValidDate(MakeDate(0, 1, 1)));
  EXPECT_FALSE(IsValidDate(MakeDate(10000, 1, 1)));
  EXPECT_FALSE(IsValidDate(MakeDate(-2026, 1, 1)));
  EXPECT_FALSE(IsValidDate(MakeDate(2026, 0, 1)));
  EXPECT_FALSE(IsValidDate(MakeDate(2026, 13, 1)));
  EXPECT_FALSE(IsValidDate(MakeDate(2026, -1, 1)));
  EXPECT_FALSE(IsValidDate(MakeDate(2026, 1, 0)));
  EXPECT_FALSE(IsValidDate(MakeDate(2026, 1, 32)));
  EXPECT_FALSE(IsValidDate(MakeDate(2026, 4, 31)));
  EXPECT_FALSE(IsValidDate(MakeDate(2026, 1, -1)));
  EXPECT_FALSE(IsValidDate(v1::Date()));  // an unset date is 0000-00-00
}

// Regression: std::chrono::day keeps only the low byte of its argument, so a
// day of 257 became day 1 and the date passed as valid. Found by this test
// against common/dates.cc IsValidDate as committed (it checked only day >= 1
// before converting); fails there, passes once the day is range-checked first.
TEST(IsValidDateTest, RejectsDaysBeyondOneByte) {
  EXPECT_FALSE(IsValidDate(MakeDate(2026, 1, 256)));
  EXPECT_FALSE(IsValidDate(MakeDate(2026, 1, 257)));
  EXPECT_FALSE(IsValidDate(MakeDate(2026, 3, 256 + 31)));
}

TEST(CompareDatesTest, OrdersByYearThenMonthThenDay) {
  const v1::Date date = MakeDate(2026, 6, 15);
  EXPECT_EQ(CompareDates(date, MakeDate(2026, 6, 15)), 0);
  EXPECT_LT(CompareDates(date, MakeDate(2026, 6, 16)), 0);
  EXPECT_GT(CompareDates(date, MakeDate(2026, 6, 14)), 0);
  EXPECT_LT(CompareDates(date, MakeDate(2026, 7, 1)), 0);
  EXPECT_GT(CompareDates(date, MakeDate(2026, 5, 31)), 0);
  EXPECT_LT(CompareDates(date, MakeDate(2027, 1, 1)), 0);
  EXPECT_GT(CompareDates(date, MakeDate(2025, 12, 31)), 0);
}

TEST(FormatDateTest, ZeroPadsEveryField) {
  EXPECT_EQ(FormatDate(MakeDate(2026, 5, 15)), "2026-05-15");
  EXPECT_EQ(FormatDate(MakeDate(2026, 12, 31)), "2026-12-31");
  EXPECT_EQ(FormatDate(MakeDate(7, 1, 2)), "0007-01-02");
}

TEST(TodayUtcTest, IsAValidDate) {
  const v1::Date today = TodayUtc();
  EXPECT_TRUE(IsValidDate(today));
  EXPECT_GE(today.year(), 2025);
}

}  // namespace
}  // namespace handover
