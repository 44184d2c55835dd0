// The tokenizer in a process that also links gRPC and the system protobuf (as
// videogen-server does). SentencePiece carries its own protobuf runtime; the
// dlopen(RTLD_DEEPBIND | RTLD_LOCAL) shim keeps the two apart. This binary
// makes real calls into gRPC and protobuf before and after tokenizing.
#include <algorithm>
#include <string>
#include <vector>

#include <google/protobuf/duration.pb.h>
#include <google/protobuf/stubs/common.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/support/channel_arguments.h>
#include <gtest/gtest.h>

#include "engine/text/umt5_tokenizer.h"
#include "tests/engine/text/tokenizer_test_util.h"

namespace videogen::text {
namespace {

std::string RoundTripDuration(int64_t seconds, int32_t nanos) {
  google::protobuf::Duration d;
  d.set_seconds(seconds);
  d.set_nanos(nanos);
  std::string bytes;
  EXPECT_TRUE(d.SerializeToString(&bytes));
  google::protobuf::Duration back;
  EXPECT_TRUE(back.ParseFromString(bytes));
  EXPECT_EQ(back.seconds(), seconds);
  EXPECT_EQ(back.nanos(), nanos);
  return bytes;
}

TEST(TokenizerBesideGrpcTest, TokenizesWithGrpcAndProtobufLinked) {
  // Before: the process's protobuf and gRPC are initialised and working.
  GOOGLE_PROTOBUF_VERIFY_VERSION;
  const std::string before = RoundTripDuration(42, 7);
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(1 << 20);
  args.SetString("grpc.primary_user_agent", "videogen-test");
  grpc_channel_args c_args = args.c_channel_args();
  EXPECT_GE(c_args.num_args, 2u);
  // A lazily connecting channel: no server is needed.
  auto channel = grpc::CreateCustomChannel("127.0.0.1:1", grpc::InsecureChannelCredentials(), args);
  ASSERT_NE(channel, nullptr);
  EXPECT_EQ(channel->GetState(/*try_to_connect=*/false), GRPC_CHANNEL_IDLE);
  EXPECT_FALSE(grpc::Version().empty());

  TokenizerOptions options;
  options.seq_len = 16;
  auto tokenizer = UmT5Tokenizer::Create(test_util::GoldenSpieceModel(), options);
  ASSERT_TRUE(tokenizer.ok()) << tokenizer.status();
  auto batch = (*tokenizer)->Encode({"A cat walks slowly across a sunny wooden floor.", ""});
  ASSERT_TRUE(batch.ok()) << batch.status();
  auto pieces = (*tokenizer)->EncodePieces("A cat walks slowly across a sunny wooden floor.");
  ASSERT_TRUE(pieces.ok());
  ASSERT_FALSE(pieces->empty());
  EXPECT_EQ(batch->ids[0][0].item<int64_t>(), (*pieces)[0]);
  EXPECT_EQ(batch->ids[1][0].item<int64_t>(), (*tokenizer)->eos_id());
  // Text 0: its pieces (at most seq_len - 1) and </s>; text 1: </s> only.
  const int64_t kept = std::min<int64_t>(static_cast<int64_t>(pieces->size()), 15);
  EXPECT_EQ(batch->mask.sum().item<int64_t>(), kept + 1 + 1);

  // After: protobuf still serialises identically.
  EXPECT_EQ(RoundTripDuration(42, 7), before);
}

}  // namespace
}  // namespace videogen::text
