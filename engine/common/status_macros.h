// RETURN_IF_ERROR / ASSIGN_OR_RETURN for absl::Status and absl::StatusOr
// (Debian's abseil 20220623 predates absl's own status macros).
#pragma once

#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define VIDEOGEN_CONCAT_INNER_(a, b) a##b
#define VIDEOGEN_CONCAT_(a, b) VIDEOGEN_CONCAT_INNER_(a, b)

// Evaluates `expr` (an absl::Status); returns it from the caller when not OK.
#define RETURN_IF_ERROR(expr)                          \
  do {                                                 \
    ::absl::Status videogen_status_ = (expr);          \
    if (!videogen_status_.ok()) return videogen_status_; \
  } while (0)

// `lhs` = value of `rexpr` (an absl::StatusOr<T>), or returns its status.
// `lhs` may be a declaration: ASSIGN_OR_RETURN(auto x, MakeX());
#define ASSIGN_OR_RETURN(lhs, rexpr) \
  VIDEOGEN_ASSIGN_OR_RETURN_IMPL_(VIDEOGEN_CONCAT_(videogen_statusor_, __LINE__), lhs, rexpr)

#define VIDEOGEN_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, rexpr) \
  auto tmp = (rexpr);                                    \
  if (!tmp.ok()) return std::move(tmp).status();         \
  lhs = std::move(tmp).value()
