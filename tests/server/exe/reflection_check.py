"""Lists the services of a server through gRPC server reflection, with raw
bytes (no reflection stubs needed): ServerReflectionRequest{list_services: ""}.

usage: reflection_check.py ADDRESS
Prints one service name per line; exit 0 when the stream answered.
"""
import sys

import grpc


def names(message):
    """Service names in a ServerReflectionResponse (field 6 list_services_response ->
    repeated field 1 ServiceResponse -> field 1 name), parsed by hand."""
    def fields(buf):
        i = 0
        while i < len(buf):
            key = 0
            shift = 0
            while True:
                b = buf[i]
                i += 1
                key |= (b & 0x7F) << shift
                shift += 7
                if b < 0x80:
                    break
            if key & 7 != 2:
                raise ValueError("unexpected wire type")
            length = 0
            shift = 0
            while True:
                b = buf[i]
                i += 1
                length |= (b & 0x7F) << shift
                shift += 7
                if b < 0x80:
                    break
            yield key >> 3, buf[i:i + length]
            i += length

    out = []
    for number, value in fields(message):
        if number == 6:
            for n, service in fields(value):
                if n == 1:
                    out += [name.decode() for f, name in fields(service) if f == 1]
    return out


def main():
    with grpc.insecure_channel(sys.argv[1]) as channel:
        call = channel.stream_stream("/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
                                     request_serializer=lambda m: m, response_deserializer=lambda m: m)
        for response in call(iter([b"\x3a\x00"]), timeout=30):
            for name in names(response):
                print(name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
