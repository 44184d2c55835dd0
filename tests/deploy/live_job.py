#!/usr/bin/python3
"""Runs one job against a videogen-server for the live PromQL test.

Waits (grpc.health.v1 Watch, bounded by --timeout) until the server is
SERVING, asks ListModels for the first model, runs GenerateVideo with that
model's defaults (and --image when the model is i2v) and reads the stream to
the end. Stubs are generated from
proto/videogen/v1/videogen.proto with protoc into --gen-dir. Exit 0 when the
job completed; 1 with the reason otherwise.

  live_job.py --server 127.0.0.1:PORT --gen-dir DIR [--image PNG] [--timeout 300]
"""
import argparse
import importlib
import subprocess
import sys
import time

import grpc


def wait_serving(channel, timeout):
    """Follows grpc.health.v1 Watch (server-pushed status changes) until SERVING.

    HealthCheckRequest{service=""} is empty; each response's field 1 (status)
    is an enum: 1 == SERVING, encoded as 08 01.
    """
    watch = channel.unary_stream("/grpc.health.v1.Health/Watch",
                                 request_serializer=lambda b: b,
                                 response_deserializer=lambda b: b)
    try:
        for status in watch(b"", timeout=timeout, wait_for_ready=True):
            if status == b"\x08\x01":
                return True
    except grpc.RpcError as err:
        print(f"live_job: health Watch: {err.code()} {err.details()}", file=sys.stderr)
    return False


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--server", required=True)
    ap.add_argument("--gen-dir", required=True)
    ap.add_argument("--image", help="input image for i2v models")
    ap.add_argument("--timeout", type=float, default=300)
    args = ap.parse_args()

    subprocess.run(["protoc", "-Iproto", f"--python_out={args.gen_dir}",
                    "proto/videogen/v1/videogen.proto"], check=True)
    sys.path.insert(0, args.gen_dir)
    pb = importlib.import_module("videogen.v1.videogen_pb2")

    deadline = time.monotonic() + args.timeout
    channel = grpc.insecure_channel(args.server)
    if not wait_serving(channel, args.timeout):
        print(f"live_job: {args.server} not SERVING within {args.timeout}s", file=sys.stderr)
        return 1

    svc = "/videogen.v1.VideoGeneration/"
    list_models = channel.unary_unary(svc + "ListModels",
                                      request_serializer=pb.ListModelsRequest.SerializeToString,
                                      response_deserializer=pb.ListModelsResponse.FromString)
    models = list_models(pb.ListModelsRequest(), timeout=30).models
    if not models:
        print("live_job: ListModels returned no model", file=sys.stderr)
        return 1
    generate = channel.unary_stream(svc + "GenerateVideo",
                                    request_serializer=pb.GenerateVideoRequest.SerializeToString,
                                    response_deserializer=pb.JobEvent.FromString)
    model = models[0]
    request = pb.GenerateVideoRequest(model=model.id, prompt="a red ball rolls across a table",
                                      client_request_id="deploy-promql-live")
    if model.type == "i2v":
        if not args.image:
            print(f"live_job: model {model.id} is i2v and no --image was given", file=sys.stderr)
            return 1
        with open(args.image, "rb") as f:
            request.image = f.read()
    events = {}
    for event in generate(request, timeout=max(1, deadline - time.monotonic())):
        kind = event.WhichOneof("event")
        events[kind] = events.get(kind, 0) + 1
        if kind == "failed":
            print(f"live_job: job failed: {event.failed.code} {event.failed.message}", file=sys.stderr)
            return 1
    if not events.get("completed"):
        print(f"live_job: stream ended without completed: {events}", file=sys.stderr)
        return 1
    print(f"live_job: model {models[0].id} completed; events {events}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
