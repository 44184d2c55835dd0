#include "engine/pipeline/api/generator.h"

namespace videogen::pipeline {

const char* ModelTypeName(ModelType type) {
  switch (type) {
    case ModelType::kT2V: return "t2v";
    case ModelType::kI2V: return "i2v";
    case ModelType::kFLF2V: return "flf2v";
    case ModelType::kTI2V: return "ti2v";
  }
  return "unknown";
}

const char* StageName(Stage stage) {
  switch (stage) {
    case Stage::kTextEncoding: return "text_encoding";
    case Stage::kImageEncoding: return "image_encoding";
    case Stage::kDenoising: return "denoising";
    case Stage::kVaeDecoding: return "vae_decoding";
    case Stage::kVideoEncoding: return "video_encoding";
  }
  return "unknown";
}

const char* ExpertName(Expert expert) {
  switch (expert) {
    case Expert::kSingle: return "";
    case Expert::kHighNoise: return "high_noise";
    case Expert::kLowNoise: return "low_noise";
  }
  return "unknown";
}

}  // namespace videogen::pipeline
