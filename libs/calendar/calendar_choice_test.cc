// The calendar chooser both intake and deadline use: a province calendar
// when the agency's province has one, else the national calendar.

#include "libs/calendar/calendar_choice.h"

#include <set>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace lienthong::calendar {
namespace {

TEST(CalendarChoiceTest, ProvinceCalendarIdIsTheCodesLastSegment) {
  struct Case {
    const char* agency;
    const char* want;
  };
  const Case cases[] = {
      {"001.06.19.H26", "vn-H26"},  // a Hà Nội ward's one-stop unit
      {"000.00.00.H26", "vn-H26"},  // the city itself
      {"000.00.00.T01", "vn-T01"},
      {"a.b", "vn-b"},
      {"H26", ""},  // no dot: no province segment
      {"001.06.19.", ""},
      {".", ""},
      {"", ""},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(ProvinceCalendarId(c.agency), c.want) << c.agency;
  }
}

TEST(CalendarChoiceTest, ProvinceCalendarWhenItExistsElseNational) {
  const std::set<std::string> held = {"vn", "vn-H26"};
  struct Case {
    const char* agency;
    const char* want;
  };
  const Case cases[] = {
      {"001.06.19.H26", "vn-H26"},
      {"000.00.00.H26", "vn-H26"},
      {"001.01.00.T01", "vn"},  // another province, no calendar of its own
      {"H26", "vn"},
      {"001.06.19.", "vn"},
      {"", "vn"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(ChooseCalendarId(c.agency,
                               [&](absl::string_view id) {
                                 return held.count(std::string(id)) > 0;
                               }),
              c.want)
        << c.agency;
  }
}

TEST(CalendarChoiceTest, AsksOnlyAboutTheProvinceCalendar) {
  std::vector<std::string> asked;
  auto exists = [&](absl::string_view id) {
    asked.emplace_back(id);
    return false;
  };
  EXPECT_EQ(ChooseCalendarId("001.06.19.H26", exists), kNationalCalendarId);
  EXPECT_EQ(asked, std::vector<std::string>{"vn-H26"});
  asked.clear();
  // Without a province segment nothing is asked: "vn" needs no check.
  EXPECT_EQ(ChooseCalendarId("H26", exists), kNationalCalendarId);
  EXPECT_TRUE(asked.empty());
}

TEST(CalendarChoiceTest, TheProceduresCalendarFirstWhenItExists) {
  const std::set<std::string> held = {"vn", "vn-H26", "vn-hộ-tịch"};
  const auto exists = [&](absl::string_view id) {
    return held.count(std::string(id)) > 0;
  };
  struct Case {
    const char* procedure;
    const char* agency;
    const char* want;
  };
  const Case cases[] = {
      {"vn-hộ-tịch", "001.06.19.H26", "vn-hộ-tịch"},
      {"vn-hộ-tịch", "001.01.00.T01", "vn-hộ-tịch"},
      {"vn", "001.06.19.H26", "vn"},  // names the national one outright
      // Gone since the procedure named it: as if it named none.
      {"vn-gone", "001.06.19.H26", "vn-H26"},
      {"vn-gone", "001.01.00.T01", "vn"},
      {"", "001.06.19.H26", "vn-H26"},
      {"", "001.01.00.T01", "vn"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(ChooseCalendarId(c.procedure, c.agency, exists), c.want)
        << c.procedure << " " << c.agency;
  }
}

TEST(CalendarChoiceTest, CalendarIdOfName) {
  EXPECT_EQ(CalendarIdOfName("calendars/vn-H26"), "vn-H26");
  EXPECT_EQ(CalendarIdOfName("calendars/vn"), "vn");
  EXPECT_EQ(CalendarIdOfName(""), "");
  EXPECT_EQ(CalendarIdOfName("vn-H26"), "vn-H26");
}

}  // namespace
}  // namespace lienthong::calendar
