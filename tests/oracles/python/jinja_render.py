#!/usr/bin/python3
"""Reference renderer for SharpTune's Jinja engine: jinja2 set up exactly as transformers'
_compile_jinja_template (ImmutableSandboxedEnvironment, trim_blocks, lstrip_blocks, loopcontrols,
tojson with ensure_ascii=False, raise_exception, strftime_now) and rendered as apply_chat_template does.

Reads JSONL cases on stdin, one object per line:
  {"template": "...", "vars": {...}}
and writes one JSONL line per case: {"text": "..."} or {"error": "ExceptionType: message"}.
With --bench N: renders the first case N times and prints {"renders_per_s": ...} instead.
"""
import json
import sys
import time
from datetime import datetime

import jinja2
from jinja2.ext import Extension, loopcontrols
from jinja2.sandbox import ImmutableSandboxedEnvironment

_cache = {}


class GenerationTag(Extension):
    """transformers' AssistantTracker without the index tracking: {% generation %} renders its body."""

    tags = {"generation"}

    def parse(self, parser):
        lineno = next(parser.stream).lineno
        body = parser.parse_statements(["name:endgeneration"], drop_needle=True)
        return jinja2.nodes.CallBlock(self.call_method("_render"), [], [], body).set_lineno(lineno)

    def _render(self, caller):
        return caller()


def compile_template(source):
    if source in _cache:
        return _cache[source]

    def raise_exception(message):
        raise jinja2.exceptions.TemplateError(message)

    def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
        return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)

    def strftime_now(format):
        return datetime.now().strftime(format)

    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=[GenerationTag, loopcontrols])
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    env.globals["strftime_now"] = strftime_now
    compiled = env.from_string(source)
    _cache[source] = compiled
    return compiled


def render(case):
    return compile_template(case["template"]).render(**case.get("vars", {}))


def main():
    cases = [json.loads(line) for line in sys.stdin if line.strip()]
    if len(sys.argv) >= 3 and sys.argv[1] == "--bench":
        n = int(sys.argv[2])
        case = cases[0]
        compile_template(case["template"])
        for _ in range(min(n, 200)):
            render(case)
        start = time.perf_counter()
        for _ in range(n):
            render(case)
        elapsed = time.perf_counter() - start
        print(json.dumps({"renders_per_s": n / elapsed, "chars": len(render(case))}))
        return
    out = sys.stdout
    for case in cases:
        try:
            result = {"text": render(case)}
        except Exception as e:  # noqa: BLE001 - every failure is reported per case
            result = {"error": f"{type(e).__name__}: {e}"}
        out.write(json.dumps(result, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
