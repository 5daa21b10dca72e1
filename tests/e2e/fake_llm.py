#!/usr/bin/python3
"""A stand-in for an OpenAI-compatible chat-completions endpoint, for the chat e2e tests.

usage: fake_llm.py PORT

POST (any path) answers by the user message's text:
  llm-good       a valid todo_command tool call (create "Water the plants", 2030-01-02T09:00:00Z, high, #home)
  llm-object     the same, with the arguments as a JSON object instead of a string
  llm-malformed  tool-call arguments that are not JSON
  llm-badfields  arguments with an unknown intent, a date that is not RFC 3339 and a numeric priority
  llm-past       a create due in the past
  llm-slow       the good answer after 3 seconds (past the server's timeout in the test)
  llm-500        HTTP 500
  llm-confirm-low  a "confirm" with confidence 0.1 (an unsure answer to a question)
  llm-select-low   a "select" of option 1 with confidence 0.1
  llm-shift      an update moving "Water heater service" a day earlier (shift -P1D)
  llm-remind-at  an add_reminder on "Water heater service" at 2030-01-02T08:00:00Z, with a due_at besides
  anything else  a plain text answer without a tool call
GET /requests returns every request received so far: [{path, headers, body}].
"""
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

RECEIVED = []
LOCK = threading.Lock()

GOOD = {"intent": "create", "title": "Water the plants", "due_at": "2030-01-02T09:00:00Z", "all_day": False,
        "priority": "high", "tags": ["home"], "confidence": 0.9}


def tool_call(arguments):
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "choices": [{
            "index": 0,
            "finish_reason": "tool_calls",
            "message": {
                "role": "assistant",
                "content": None,
                "tool_calls": [{"id": "call_1", "type": "function",
                                "function": {"name": "todo_command", "arguments": arguments}}],
            },
        }],
    }


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def send(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        if self.path == "/requests":
            with LOCK:
                self.send(200, RECEIVED)
        else:
            self.send(404, {"error": "not found"})

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        raw = self.rfile.read(length)
        try:
            body = json.loads(raw)
        except ValueError:
            body = {"unparsable": raw.decode("utf-8", "replace")}
        with LOCK:
            RECEIVED.append({"path": self.path, "headers": {k.lower(): v for k, v in self.headers.items()},
                             "body": body})
        text = ""
        for m in body.get("messages", []) if isinstance(body, dict) else []:
            if m.get("role") == "user":
                text = m.get("content", "")
        if "llm-confirm-low" in text:
            self.send(200, tool_call(json.dumps({"intent": "confirm", "confidence": 0.1})))
        elif "llm-select-low" in text:
            self.send(200, tool_call(json.dumps({"intent": "select", "index": 1, "confidence": 0.1})))
        elif "llm-shift" in text:
            self.send(200, tool_call(json.dumps({"intent": "update", "target": "Water heater service",
                                                 "shift": "-P1D", "confidence": 0.9})))
        elif "llm-remind-at" in text:
            self.send(200, tool_call(json.dumps({"intent": "add_reminder", "target": "Water heater service",
                                                 "due_at": "2030-01-02T09:00:00Z",
                                                 "reminders": [{"at": "2030-01-02T08:00:00Z"}],
                                                 "confidence": 0.9})))
        elif "llm-500" in text:
            self.send(500, {"error": {"message": "model crashed"}})
        elif "llm-slow" in text:
            time.sleep(3)
            self.send(200, tool_call(json.dumps(GOOD)))
        elif "llm-malformed" in text:
            self.send(200, tool_call('{"intent": "create", "title": '))
        elif "llm-badfields" in text:
            self.send(200, tool_call(json.dumps({"intent": "explode", "title": "Boom", "due_at": "next tuesday-ish",
                                                 "priority": 5})))
        elif "llm-past" in text:
            self.send(200, tool_call(json.dumps({"intent": "create", "title": "Too late",
                                                 "due_at": "2001-01-01T09:00:00Z"})))
        elif "llm-object" in text:
            self.send(200, tool_call(GOOD))
        elif "llm-good" in text:
            self.send(200, tool_call(json.dumps(GOOD)))
        else:
            self.send(200, {"choices": [{"index": 0, "message": {"role": "assistant", "content": "Sure!"}}]})


def main():
    server = ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler)
    server.daemon_threads = True
    server.serve_forever()


if __name__ == "__main__":
    main()
