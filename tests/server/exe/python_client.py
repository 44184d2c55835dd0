"""An independent client: Python grpcio stubs generated from our proto at test
time run one GenerateVideo job end to end and check the video's sha256.

usage: python_client.py STUBS_DIR ADDRESS OUT_FILE
Exit 0 when the job completed and the reassembled bytes match `sha256`.
"""
import hashlib
import sys


def main():
    stubs, address, out_path = sys.argv[1:4]
    sys.path.insert(0, stubs)
    import grpc
    from videogen.v1 import videogen_pb2 as pb
    from videogen.v1 import videogen_pb2_grpc as rpc

    with grpc.insecure_channel(address) as channel:
        stub = rpc.VideoGenerationStub(channel)
        models = stub.ListModels(pb.ListModelsRequest(), timeout=30)
        request = pb.GenerateVideoRequest(model=models.models[0].id, prompt="a red fox in the snow",
                                          steps=3, num_frames=5, format=pb.WEBM_VP9)
        data = bytearray()
        kinds = []
        completed = None
        for event in stub.GenerateVideo(request, timeout=60):
            kind = event.WhichOneof("event")
            kinds.append(kind)
            if kind == "video_chunk":
                if event.video_chunk.offset != len(data):
                    print("chunk out of order", file=sys.stderr)
                    return 1
                data += event.video_chunk.data
            elif kind == "completed":
                completed = event.completed
            elif kind == "failed":
                print("job failed:", event.failed.code, event.failed.message, file=sys.stderr)
                return 1
    if kinds[0] != "accepted" or completed is None or "progress" not in kinds:
        print("unexpected events:", kinds, file=sys.stderr)
        return 1
    digest = hashlib.sha256(data).hexdigest()
    if digest != completed.sha256 or len(data) != completed.bytes or completed.container != "webm":
        print("mismatch:", digest, completed, file=sys.stderr)
        return 1
    with open(out_path, "wb") as f:
        f.write(data)
    print(digest)
    return 0


if __name__ == "__main__":
    sys.exit(main())
