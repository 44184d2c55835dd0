#include "engine/memory/placement.h"

#include <gtest/gtest.h>

namespace videogen::memory {
namespace {

TEST(ParsePlacement, ParsesEveryComponent) {
  auto p = ParsePlacement("dit=cuda:0:fp8,t5=cpu:bf16,clip=cuda:1:fp16,vae=cuda:fp32");
  ASSERT_TRUE(p.ok()) << p.status();
  ASSERT_TRUE((*p)[Component::kDit].has_value());
  EXPECT_EQ((*p)[Component::kDit]->device, (Device{DeviceKind::kCuda, 0}));
  EXPECT_EQ((*p)[Component::kDit]->precision, Precision::kFp8);
  EXPECT_EQ((*p)[Component::kT5]->device, (Device{DeviceKind::kCpu, 0}));
  EXPECT_EQ((*p)[Component::kT5]->precision, Precision::kBf16);
  EXPECT_EQ((*p)[Component::kClip]->device, (Device{DeviceKind::kCuda, 1}));
  EXPECT_EQ((*p)[Component::kVae]->precision, Precision::kFp32);
  EXPECT_EQ(FormatPlacement(*p), "dit=cuda:0:fp8,t5=cpu:bf16,clip=cuda:1:fp16,vae=cuda:0:fp32");
  auto partial = ParsePlacement("t5=cpu:bf16");
  ASSERT_TRUE(partial.ok());
  EXPECT_FALSE((*partial)[Component::kDit].has_value());
}

TEST(ParsePlacement, PlacesTheLowNoiseExpert) {
  auto p = ParsePlacement("dit=cuda:0:fp8,dit_low_noise=cpu:fp8,t5=cpu:bf16");
  ASSERT_TRUE(p.ok()) << p.status();
  ASSERT_TRUE((*p)[Component::kDitLowNoise].has_value());
  EXPECT_EQ((*p)[Component::kDitLowNoise]->device, (Device{DeviceKind::kCpu, 0}));
  EXPECT_EQ((*p)[Component::kDitLowNoise]->precision, Precision::kFp8);
  EXPECT_EQ((*p)[Component::kDit]->device, (Device{DeviceKind::kCuda, 0}));
  EXPECT_EQ(FormatPlacement(*p), "dit=cuda:0:fp8,t5=cpu:bf16,dit_low_noise=cpu:fp8");
  const absl::Status twice = ParsePlacement("dit_low_noise=cpu:fp8,dit_low_noise=cuda:bf16").status();
  EXPECT_EQ(twice.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(twice.message().find("'dit_low_noise=cuda:bf16'"), std::string::npos) << twice;
  const absl::Status unknown = ParsePlacement("dit_high_noise=cpu:fp32").status();
  EXPECT_NE(unknown.message().find("dit_low_noise"), std::string::npos) << unknown;  // the known names are listed
}

TEST(ParsePlacement, NamesTheBadEntry) {
  const struct {
    const char* spec;
    const char* entry;
  } cases[] = {
      {"dit=cuda:0:fp8,unet=cpu:fp32", "unet=cpu:fp32"},   // unknown component
      {"dit=tpu:0:fp8", "dit=tpu:0:fp8"},                  // unknown device
      {"t5=cpu:int4", "t5=cpu:int4"},                      // unknown precision
      {"t5=cpu:fp8", "t5=cpu:fp8"},                        // fp8 only for the DiT
      {"dit=cpu:fp32,dit=cuda:0:bf16", "dit=cuda:0:bf16"},  // duplicate
      {"vae", "vae"},                                      // malformed
      {"vae=cuda:x:fp32", "vae=cuda:x:fp32"},              // bad index
  };
  for (const auto& c : cases) {
    const absl::Status s = ParsePlacement(c.spec).status();
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << c.spec;
    EXPECT_NE(s.message().find(std::string("'") + c.entry + "'"), std::string::npos) << s;
    EXPECT_NE(s.message().find("placement"), std::string::npos) << s;
  }
}

}  // namespace
}  // namespace videogen::memory
