#pragma once

// This abseil (20220623) has no status macros; these two are ours.

#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define LT_CONCAT_(a, b) a##b
#define LT_CONCAT(a, b) LT_CONCAT_(a, b)

#define LT_RETURN_IF_ERROR(expr)                            \
  do {                                                      \
    if (absl::Status lt_status = (expr); !lt_status.ok()) { \
      return lt_status;                                     \
    }                                                       \
  } while (false)

#define LT_ASSIGN_OR_RETURN(lhs, expr) \
  LT_ASSIGN_OR_RETURN_IMPL(LT_CONCAT(lt_statusor_, __LINE__), lhs, expr)
#define LT_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                             \
  if (!tmp.ok()) return std::move(tmp).status(); \
  lhs = *std::move(tmp)
