"""A foreign gRPC client (Debian's python3-grpcio, the C-core stack) for tillgate's interop test.

Reads {"address", "ca_file", "calls": [{"method", "request_hex"}]} as JSON on stdin, makes each
unary call over TLS with raw bytes (messages are encoded and decoded by the test), and prints
[{"code", "details", "response_hex", "reason"}] as JSON on stdout.
"""
import json
import sys

import grpc


def main():
    spec = json.load(sys.stdin)
    with open(spec["ca_file"], "rb") as handle:
        creds = grpc.ssl_channel_credentials(root_certificates=handle.read())
    results = []
    with grpc.secure_channel(spec["address"], creds) as channel:
        for call in spec["calls"]:
            method = channel.unary_unary(call["method"])
            try:
                response, state = method.with_call(bytes.fromhex(call["request_hex"]), timeout=10)
                results.append({"code": "OK", "details": "", "response_hex": response.hex(), "reason": None})
            except grpc.RpcError as error:
                trailers = dict(error.trailing_metadata() or ())
                results.append({"code": error.code().name, "details": error.details(), "response_hex": "", "reason": trailers.get("tillgate-reason")})
    json.dump(results, sys.stdout)


if __name__ == "__main__":
    main()
