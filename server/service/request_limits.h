// Limits the service applies to GenerateVideo requests before they reach a
// model (flags of videogen-server). Defaults are sane for the Wan2.1 models.
#pragma once

#include <cstddef>
#include <cstdint>

namespace videogen::service {

struct RequestLimits {
  size_t max_prompt_bytes = 4096;  // prompt and negative_prompt, each
  int max_width = 1280;            // also max_height
  int max_height = 1280;
  int max_frames = 129;     // num_frames in [1, max_frames], 4n+1
  int max_steps = 100;      // steps in [1, max_steps]
  double max_fps = 120.0;   // fps in (0, max_fps]
  int max_priority = 1000;  // priority in [-max_priority, max_priority]
  size_t max_client_request_id_bytes = 128;
  size_t max_adapters = 8;              // per-request adapters
  size_t max_adapter_name_bytes = 128;
  // Input image: encoded bytes and header dimensions, checked before decoding.
  size_t max_image_bytes = 32u << 20;
  int max_image_width = 4096;
  int max_image_height = 4096;
  int64_t max_image_pixels = 16'777'216;
};

}  // namespace videogen::service
