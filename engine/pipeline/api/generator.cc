#include "engine/pipeline/api/generator.h"

namespace videogen::pipeline {

const char* ModelTypeName(ModelType type) {
  switch (type) {
    case ModelType::kT2V: return "t2v";
    case ModelType::kI2V: return "i2v";
    case ModelType::kFLF2V: return "flf2v";
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

}  // namespace videogen::pipeline
