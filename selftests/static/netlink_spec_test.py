#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""The netlink spec (Documentation/netlink/specs/tapsec.yaml), the uapi
header (uapi/linux/tapsec.h) and the kernel's policies describe the same
family.  The spec must pass the kernel's own YNL schema for its protocol
(from linux-source-6.12, tools/ksrc-extract 6.12); every operation,
attribute set, constant and enum must have the same names, in the same
order, with the same values as the header; an attribute the header calls
an enum must name that enum; and each check (max, max-len) must be the
one the kernel's policy enforces, and the other way round.  Prints TAP."""
import glob
import os
import re
import subprocess
import sys

import jsonschema
import yaml

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SPEC = os.path.join(TOP, "Documentation/netlink/specs/tapsec.yaml")
spec = yaml.safe_load(open(SPEC))
header = open(os.path.join(TOP, "uapi/linux/tapsec.h")).read()


def enum_entries(name):
    """Names of an enum's entries, in order, without the __*_MAX tail."""
    body = re.search(r"enum %s \{(.*?)\};" % name, header, re.S).group(1)
    body = re.sub(r"/\*.*?\*/", "", body, flags=re.S)
    entries = [e.strip() for e in body.split(",")]
    # the __*_MAX tail and "*_MAX = __*_MAX - 1"
    return [e.split("=")[0].strip() for e in entries
            if e and not e.startswith("__") and "= __" not in e]


def macro(prefix, name):
    return prefix + name.upper().replace("-", "_")


cases = []


def case(name, ok, why=""):
    cases.append((name, ok, why))


def c_name(name):
    return name.upper().replace("-", "_")


# The kernel's schema for the spec's protocol (genetlink-legacy here).
ksrc = subprocess.run([os.path.join(TOP, "tools/ksrc-extract"), "6.12"],
                      check=True, capture_output=True, text=True).stdout.strip()
schema_file = os.path.join(ksrc, "Documentation/netlink", spec["protocol"] + ".yaml")
errors = sorted(jsonschema.Draft7Validator(yaml.safe_load(open(schema_file)))
                .iter_errors(spec), key=lambda e: list(e.path))
case("schema_" + spec["protocol"], os.path.exists(schema_file) and not errors,
     "; ".join(f"{list(e.path)}: {e.message[:200]}" for e in errors[:10]))

# The header's constants: #defines and enum entries, with their values.
values = {m: int(v, 0) for m, v in
          re.findall(r"#define (TAPSEC_\w+)\s+(0x[0-9a-fA-F]+|\d+)\b", header)}


def enum_values(name):
    """An enum's entries with their values, in order, without the tail."""
    m = re.search(r"enum %s \{(.*?)\};" % name, header, re.S)
    if not m:
        return None
    body = re.sub(r"/\*.*?\*/", "", m.group(1), flags=re.S)
    out, nxt = [], 0
    for e in (e.strip() for e in body.split(",")):
        if not e or e.startswith("__") or "= __" in e:
            continue
        name, _, val = (x.strip() for x in e.partition("="))
        nxt = int(val, 0) if val else nxt
        out.append((name, nxt))
        nxt += 1
    return out


for name, entries in [(n, enum_values(n)) for n in re.findall(r"enum (\w+) \{", header)]:
    values.update(dict(entries))

defs = {d["name"]: d for d in spec["definitions"]}


def def_entries(d):
    """(C name, value) of each entry of an enum definition, as YNL names them."""
    prefix = d.get("name-prefix", "tapsec-" + d["name"] + "-")
    out, nxt = [], d.get("value-start", 0)
    for e in d["entries"]:
        e = e if isinstance(e, dict) else {"name": e}
        nxt = e.get("value", nxt)
        out.append((c_name(prefix + e["name"]), nxt))
        nxt += 1
    return out


for d in spec["definitions"]:
    if d["type"] == "const":
        want = [(c_name("tapsec-" + d["name"]), d["value"])]
        got = [(n, values.get(n)) for n, _ in want]
    elif d["type"] == "enum":
        want = def_entries(d)
        enum_name = d.get("enum-name", "tapsec_" + d["name"].replace("-", "_"))
        # an anonymous enum: #defines; a named one: that enum, entry for entry
        got = enum_values(enum_name) if enum_name else [(n, values.get(n)) for n, _ in want]
    else:
        continue        # flags: features_match below
    case(f"definition_{d['name']}", got == want, f"header {got} spec {want}")


def limit(v):
    """A check's value: a number, or a const definition, maybe "- 1"."""
    if isinstance(v, int):
        return v
    name, minus = (v[:-4], 1) if v.endswith(" - 1") else (v, 0)
    return defs[name]["value"] - minus


ops = enum_entries("tapsec_cmd")
spec_ops = spec["operations"]["list"]
want = ["TAPSEC_CMD_UNSPEC"] + [macro("TAPSEC_CMD_", o["name"]) for o in spec_ops]
case("operations_match", ops == want, f"header {ops} spec {want}")
case("operation_values", all(o["value"] == ops.index(macro("TAPSEC_CMD_", o["name"]))
                             for o in spec_ops))

sets = {s["name"]: s["attributes"] for s in spec["attribute-sets"]}
for set_name, enum, prefix in (("tapsec", "tapsec_attr", "TAPSEC_A_"),
                               ("stats", "tapsec_stats_attr", "TAPSEC_A_STATS_"),
                               ("sock", "tapsec_sock_attr", "TAPSEC_A_SOCK_"),
                               ("hs", "tapsec_hs_attr", "TAPSEC_A_HS_"),
                               ("event", "tapsec_event_attr", "TAPSEC_A_EVENT_"),
                               ("psk", "tapsec_psk_attr", "TAPSEC_A_PSK_")):
    got = enum_entries(enum)
    want = [prefix + "UNSPEC"] + [macro(prefix, a["name"]) for a in sets[set_name]]
    case(f"attribute_set_{set_name}", got == want, f"header {got} spec {want}")

# C name of every attribute -> its spec entry.
attrs = {}
for set_name, prefix in (("tapsec", "TAPSEC_A_"), ("stats", "TAPSEC_A_STATS_"),
                         ("sock", "TAPSEC_A_SOCK_"), ("hs", "TAPSEC_A_HS_"),
                         ("event", "TAPSEC_A_EVENT_"), ("psk", "TAPSEC_A_PSK_")):
    for a in sets[set_name]:
        attrs[macro(prefix, a["name"])] = a

# An attribute the header documents as "enum X" names the definition of X.
bad = []
for name, comment in re.findall(r"\b(TAPSEC_A_\w+),\s*/\*([^*]*)\*/", header):
    m = re.search(r"\benum (\w+)", comment)
    a = attrs.get(name, {})
    named = a.get("enum") and defs[a["enum"]].get(
        "enum-name", "tapsec_" + a["enum"].replace("-", "_"))
    if (m.group(1) if m else None) != (named or None):
        bad.append(f"{name}: header says {m.group(1) if m else 'no enum'}, spec {named}")
case("enum_attributes_named", not bad, "; ".join(bad))

# The kernel's request policies: [TAPSEC_A_...] = { .type = NLA_X, .len = E }
# or NLA_POLICY_MAX(NLA_X, E).  Each limit must be the spec's check (an
# enum's largest value for an enum attribute), and each check of the spec
# must be enforced by at least one policy.
def c_value(expr):
    expr = expr.replace("sizeof(u32)", "4").replace("sizeof(__u32)", "4")
    expr = re.sub(r"\bTAPSEC_\w+\b", lambda m: str(values[m.group(0)]), expr)
    if not re.fullmatch(r"[\d\s()+*-]+", expr):
        raise ValueError(expr)
    return eval(expr)


def spec_limit(a):
    checks = a.get("checks", {})
    if a.get("enum"):
        return "max", max(v for _, v in def_entries(defs[a["enum"]]))
    if "max" in checks:
        return "max", limit(checks["max"])
    if "max-len" in checks:
        return "max-len", limit(checks["max-len"])
    return None, None


source = "".join(open(f).read() for f in sorted(glob.glob(os.path.join(TOP, "kernel/*.c"))))
enforced, bad = set(), []
for name, body in re.findall(r"\[(TAPSEC_A_\w+)\]\s*=\s*(\{[^}]*\}|NLA_POLICY_\w+\([^;]*?\))\s*,",
                             source):
    if "NLA_REJECT" in body or "NLA_POLICY_NESTED" in body or name not in attrs:
        continue
    m = re.search(r"NLA_POLICY_MAX\(\w+,\s*(.+)\)$", body, re.S)
    l = re.search(r"\.len\s*=\s*([^,}]+)", body)
    got = ("max", c_value(m.group(1))) if m else \
        ("max-len", c_value(l.group(1))) if l else (None, None)
    want = spec_limit(attrs[name])
    if got != want:
        bad.append(f"{name}: policy {got}, spec {want}")
    enforced.add(name)
case("policies_match_checks", len(enforced) >= 10 and not bad,
     "; ".join(bad) or f"only {len(enforced)} policy entries with a type found")
unenforced = [n for n, a in attrs.items() if a.get("checks") and n not in enforced]
case("checks_enforced", not unenforced, f"no policy enforces {unenforced}")

# struct tapsec_counters and the stats set: same fields, same order.
body = re.search(r"struct tapsec_counters \{(.*?)\};", header, re.S).group(1)
fields = re.findall(r"__u64 (\w+);", body)
stats = [a["name"].replace("-", "_") for a in sets["stats"] if a["type"] != "pad"]
case("stats_match_struct_tapsec_counters", fields == stats, f"{fields} vs {stats}")

# /proc/net/tapsec_stat names the same fields, in the same order.
proc = open(os.path.join(TOP, "kernel/tapsec_proc.c")).read()
names = re.findall(r'"(\w+)"', re.search(r"tapsec_counter_names\[\] = \{(.*?)\};", proc,
                                          re.S).group(1))
case("proc_stat_names_match_struct_tapsec_counters", names == fields,
     f"{names} vs {fields}")

feats = re.findall(r"#define TAPSEC_FEAT_(\w+)\s+_BITULL\((\d+)\)", header)
spec_feats = [e["name"] for d in spec["definitions"] if d["name"] == "feat"
              for e in d["entries"]]
case("features_match", [f.lower().replace("_", "-") for f, _ in feats] == spec_feats
     and [int(b) for _, b in feats] == list(range(len(feats))))

groups = re.findall(r'#define TAPSEC_MCGRP_\w+\s+"([\w-]+)"', header)
case("multicast_groups_match", groups == [g["name"] for g in spec["mcast-groups"]["list"]],
     f"header {groups}")

print("TAP version 13")
print(f"1..{len(cases)}")
failed = 0
for i, (name, ok, why) in enumerate(cases, 1):
    print(f"{'ok' if ok else 'not ok'} {i} {name}")
    if not ok:
        failed += 1
        print(f"# {why}")
sys.exit(1 if failed else 0)
