// Spatial tiling of the VAE decode: overlapping tiles in latent space, blended
// in pixel space with linear ramps across the overlaps.
#pragma once

#include <cstdint>
#include <vector>

#include <torch/types.h>

namespace videogen::models::vae {

// A tile along one axis, in latent pixels.
struct TileSpan {
  int64_t begin = 0;
  int64_t size = 0;
};

// Tiles covering [0, length): starts 0, tile - overlap, 2 (tile - overlap), ...,
// the last one aligned to the end (so it may overlap its neighbour by more).
// One tile of size `length` when tile >= length.
// Preconditions: length >= 1, tile >= 1, 0 <= overlap < tile.
std::vector<TileSpan> TileSpans(int64_t length, int64_t tile, int64_t overlap);

// Float32 blend weights [span.size * scale] of a tile in pixels: a linear ramp
// (i + 0.5) / (overlap * scale) rising over the first overlap * scale pixels
// where the tile has a neighbour before it (begin > 0), falling likewise
// where it has one after it (begin + size < length), 1 elsewhere. All
// weights are > 0, so normalising by the summed weights covers every pixel.
torch::Tensor BlendRamp(const TileSpan& span, int64_t length, int64_t overlap, int64_t scale);

}  // namespace videogen::models::vae
