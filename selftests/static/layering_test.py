#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""The module's layers (Documentation/architecture.rst): the socket glue and
the other core files reach the record engines only through the engine table
(kernel/tapsec_engine.h).  No core file includes an engine's header or
names an engine's functions, types or protocol, outside comments; only the
table (tapsec_engines.c) and the declarations of the engines' ops
(tapsec_engine.h) name them; and the headers include each other without a
cycle.  Engine files are tapsec_tls* and tapsec_dtls* (and, as they come,
tapsec_esp*, tapsec_wg*).  Prints TAP."""
import glob
import os
import re

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ENGINE_FILE = re.compile(r"tapsec_(d?tls|esp|wg)")
ENGINE_NAME = re.compile(r"\b(tapsec_(?:d?tls|esp|wg)\w*|TAPSEC_PROTO_(?:D?TLS|ESP|WIREGUARD))\b")
# Where naming the engines is the point.
ALLOWED = {
    "tapsec_engines.c": re.compile(r"^(tapsec_\w+_engine_ops|TAPSEC_PROTO_\w+)$"),
    "tapsec_engine.h": re.compile(r"^tapsec_\w+_engine_ops$"),
    # TAPSEC_PROTOCOL's range check: the uapi's first and last protocol.
    "tapsec_ctx.c": re.compile(r"^TAPSEC_PROTO_WIREGUARD$"),
}


def code_only(text):
    """@text without comments and string literals, lines kept."""
    blank = lambda m: "\n" * m.group(0).count("\n")  # noqa: E731
    text = re.sub(r"/\*.*?\*/", blank, text, flags=re.S)
    text = re.sub(r"//[^\n]*", "", text)
    return re.sub(r'"(?:\\.|[^"\\\n])*"', '""', text)


files = sorted(glob.glob(os.path.join(TOP, "kernel", "*.[ch]")))
core = [f for f in files if not ENGINE_FILE.match(os.path.basename(f))]
includes = {os.path.basename(f): re.findall(r'^#include "([^"]+)"', open(f).read(), re.M)
            for f in files}

cases = []


def case(name, problems):
    cases.append((name, not problems, problems))


case("core files are found (%d) and engine files too (%d)" % (len(core), len(files) - len(core)),
     [] if core and len(core) < len(files) else ["kernel/*.[ch] not found or not split"])

case("no core file includes an engine's header",
     ["%s includes %s" % (os.path.basename(f), inc)
      for f in core for inc in includes[os.path.basename(f)] if ENGINE_FILE.match(inc)])

named = []
for f in core:
    base = os.path.basename(f)
    allowed = ALLOWED.get(base)
    for n, line in enumerate(code_only(open(f).read()).split("\n"), 1):
        for m in ENGINE_NAME.finditer(line):
            if not (allowed and allowed.match(m.group(1))):
                named.append("%s:%d names %s" % (base, n, m.group(1)))
case("no core file names an engine outside the table", named)


def cycle():
    """One include cycle among kernel/'s files, or []."""
    state = {}

    def visit(f, path):
        state[f] = "open"
        for inc in includes.get(f, []):
            if inc not in includes:
                continue
            if state.get(inc) == "open":
                return path + [f, inc]
            if inc not in state:
                found = visit(inc, path + [f])
                if found:
                    return found
        state[f] = "done"
        return []

    for f in includes:
        if f not in state:
            found = visit(f, [])
            if found:
                return [" -> ".join(found)]
    return []


case("the module's files include each other without a cycle", cycle())

print("TAP version 13")
print(f"1..{len(cases)}")
for i, (name, ok, problems) in enumerate(cases, 1):
    print(f"{'ok' if ok else 'not ok'} {i} {name}")
    for p in problems:
        print(f"# {p}")
