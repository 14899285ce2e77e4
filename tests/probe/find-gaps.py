#!/usr/bin/env python3
"""Compile probe.rs as a plrust function and add each item rustc refuses to
gaps.txt, until the rest compiles (README.md).  find-gaps.py PSQL_ARGS..."""
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
GEN = [sys.executable, os.path.join(HERE, "generate.py")] + os.environ["PROBE_JSON"].split()


def compile_probe(psql):
    with open(os.path.join(HERE, "probe.rs")) as f:
        body = f.read()
    sql = ("CREATE OR REPLACE FUNCTION plrust_probe() RETURNS bool LANGUAGE plrust AS $probe$"
           + body + "$probe$;\n")
    r = subprocess.run(psql + ["-X", "-q", "-v", "ON_ERROR_STOP=1"], input=sql,
                       capture_output=True, text=True)
    return body.splitlines(), r.stderr


while True:
    subprocess.run(GEN, check=True)
    lines, err = compile_probe(sys.argv[1:])
    bad = {int(m) for m in re.findall(r"\(line (\d+), column", err)}
    if not err:
        break
    if not bad:
        sys.exit("probe fails without naming a line:\n" + err)
    items = [lines[n - 1].split(" // ", 1)[1] for n in sorted(bad)
             if n <= len(lines) and " // " in lines[n - 1]]
    if not items:
        sys.exit("probe fails outside its items:\n" + err)
    with open(os.path.join(HERE, "gaps.txt"), "a") as g:
        for item in items:
            g.write(item + "\n")
    print(f"{len(bad)} more gaps", file=sys.stderr)
