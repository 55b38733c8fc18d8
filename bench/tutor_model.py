"""A local OpenAI-compatible chat completions server for bench/tutor.sh:
every answer is streamed in ten pieces over BENCH_MODEL_SECS seconds (2 by
default), as chat.completion.chunk events with a usage chunk and [DONE]."""
import json
import os
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SECS = float(os.environ.get("BENCH_MODEL_SECS", "2"))
PIECES = ["변수는 ", "값에 붙인 ", "이름표입니다. ", "const로 만든 ", "변수는 ", "다시 ", "대입할 수 ", "없습니다. ", "[00:40] ", "장면을 보세요."]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def chunk(self, body):
        data = f"data: {body}\n\n".encode()
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()

    def do_POST(self):
        length = int(self.headers.get("content-length", "0"))
        request = json.loads(self.rfile.read(length) or b"{}")
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.send_header("transfer-encoding", "chunked")
        self.end_headers()
        model = request.get("model", "")
        def event(delta, finish=None):
            return json.dumps({"id": "chatcmpl-bench", "object": "chat.completion.chunk", "created": int(time.time()),
                               "model": model, "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]})
        self.chunk(event({"role": "assistant", "content": ""}))
        for piece in PIECES:
            time.sleep(SECS / len(PIECES))
            self.chunk(event({"content": piece}))
        self.chunk(event({}, "stop"))
        self.chunk(json.dumps({"id": "chatcmpl-bench", "object": "chat.completion.chunk", "model": model, "choices": [],
                               "usage": {"prompt_tokens": 800, "completion_tokens": 40, "total_tokens": 840}}))
        self.chunk("[DONE]")
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()


if __name__ == "__main__":
    server = ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler)
    server.daemon_threads = True
    server.request_queue_size = 1024
    server.serve_forever()
