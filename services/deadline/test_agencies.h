#pragma once

// The agencies the deadline tests place clocks at: part of Hà Nội's tree, a
// city with a district of two wards and a second district (codes invented,
// QCVN 102:2016 style).

#include "services/deadline/clock.h"

namespace lienthong::deadline {

inline const AgencyRef kCity{"000.00.00.H26", Tier::kProvince, {}};
inline const AgencyRef kDistrict{
    "000.00.01.H26", Tier::kDistrict, {"000.00.00.H26"}};
inline const AgencyRef kWardA{
    "000.01.01.H26", Tier::kCommune, {"000.00.00.H26", "000.00.01.H26"}};
inline const AgencyRef kWardB{
    "000.02.01.H26", Tier::kCommune, {"000.00.00.H26", "000.00.01.H26"}};
inline const AgencyRef kDistrict2{
    "000.00.02.H26", Tier::kDistrict, {"000.00.00.H26"}};

}  // namespace lienthong::deadline
