#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""The netlink spec (Documentation/netlink/tapsec.yaml) and the uapi header
(uapi/linux/tapsec.h) describe the same family: every operation and every
attribute set must have the same names, in the same order, with the same
values.  Prints TAP."""
import os
import re
import sys

import yaml

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
spec = yaml.safe_load(open(os.path.join(TOP, "Documentation/netlink/tapsec.yaml")))
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

# struct tapsec_counters and the stats set: same fields, same order.
body = re.search(r"struct tapsec_counters \{(.*?)\};", header, re.S).group(1)
fields = re.findall(r"__u64 (\w+);", body)
stats = [a["name"].replace("-", "_") for a in sets["stats"] if a["type"] != "pad"]
case("stats_match_struct_tapsec_counters", fields == stats, f"{fields} vs {stats}")

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
