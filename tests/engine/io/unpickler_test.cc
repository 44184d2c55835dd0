// The restricted pickle machine on hand-written pickles (pth_test covers it
// through OpenPth on whole checkpoints).
#include "engine/io/unpickler.h"

#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace videogen::io {
namespace {

using ::testing::HasSubstr;
using namespace std::string_literals;

absl::StatusOr<PyRef> UnpickleString(const std::string& pickle) {
  return Unpickle(reinterpret_cast<const uint8_t*>(pickle.data()), pickle.size());
}

TEST(Unpickler, OrderedDictOfNamesIsADict) {
  auto v = UnpickleString("\x80\x02" "ccollections\nOrderedDict\n)R" "X\x01\x00\x00\x00" "aK\x07s."s);
  ASSERT_TRUE(v.ok()) << v.status();
  ASSERT_EQ((*v)->kind, PyValue::Kind::kDict);
  ASSERT_EQ((*v)->dict.size(), 1u);
  EXPECT_EQ((*v)->dict[0].first->s, "a");
  EXPECT_EQ((*v)->dict[0].second->i, 7);
}

TEST(Unpickler, OtherGlobalsAreOpaqueNeverCalled) {
  auto v = UnpickleString("\x80\x02" "cos\nsystem\n)R.");
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ((*v)->kind, PyValue::Kind::kOpaque);
  EXPECT_EQ(KindName(**v), "os.system(...)");
}

TEST(Unpickler, TruncatedPickleIsDataLoss) {
  auto v = UnpickleString("\x80\x02}");
  EXPECT_EQ(v.status().code(), absl::StatusCode::kDataLoss) << v.status();
  EXPECT_THAT(v.status().message(), HasSubstr("without STOP"));
}

TEST(Unpickler, SetItemOnAListIsInvalidArgument) {
  auto v = UnpickleString("\x80\x02]K\x01K\x02s.");
  EXPECT_EQ(v.status().code(), absl::StatusCode::kInvalidArgument) << v.status();
  EXPECT_THAT(v.status().message(), HasSubstr("SETITEM on a list"));
}

}  // namespace
}  // namespace videogen::io
