// The fuzz targets of issue #15. Each takes arbitrary bytes, runs them through
// one untrusted-input parser the way the server or the loader does, and checks
// the parser's documented contract (error codes, the field named, sizes
// consistent), not only that it does not crash.
//
// Built two ways (tests/fuzz/CMakeLists.txt): as libFuzzer binaries
// (fuzz_main.cc; clang, -fsanitize=fuzzer,address,undefined; build-fuzz by
// scripts/test-sanitizers), and in every build as the GoogleTest
// fuzz_corpus_test, which replays tests/fuzz/corpus/<target>/ (seeds and the
// inputs that once failed).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace videogen::fuzz {

// Each returns "" when the input was handled within the contract, else a
// description of the violation. Thread-compatible; no state between calls
// except a scratch file (checkpoint targets).

// Bytes as the request message of GenerateVideo: ParseRequest (the service's
// own parsing, server/service/parsed_request.h), then ValidateRequest with the
// default RequestLimits. Errors must be InvalidArgument naming a request field.
std::string FuzzGenerateVideoRequest(const uint8_t* data, size_t size);

// Bytes as an uploaded image: ProbeImage, then DecodeImage with small limits.
// Errors must name `image:`; a decoded image has the probed size and w*h*3 bytes.
std::string FuzzImage(const uint8_t* data, size_t size);

// Bytes as a .safetensors file: ReadSafetensorsHeader, ReadSafetensorsMetadata
// and OpenSafetensors (then every tensor is read). Errors are the documented
// codes; a read tensor has the header's shape and byte size.
std::string FuzzSafetensors(const uint8_t* data, size_t size);

// Bytes as a .pth (torch.save zip) file, OpenPth then every tensor read; and
// the same bytes as a bare pickle (Unpickle).
std::string FuzzPth(const uint8_t* data, size_t size);

}  // namespace videogen::fuzz
