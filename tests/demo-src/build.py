#!/usr/bin/python3
"""Build scripts/demos/*.slope transcripts whose expected output is what
real Python prints for the tutorial's own program.

Each NAME.pair file holds chunks separated by lines '%%'; a chunk is a slope
statement, a line '%% python', and the tutorial's Python for it.  The Python
chunks run in order in one namespace; what each prints becomes the expected
output of the slope chunk.  Run by hand: tests/demo-src/build.py
"""
import contextlib, io, os, sys

here = os.path.dirname(os.path.abspath(__file__))
out_dir = os.path.join(here, "..", "..", "scripts", "demos")

def build(path):
    text = open(path, encoding="utf-8").read()
    header, *chunks = text.split("\n%%\n")
    ns = {}
    out = [header.rstrip("\n"), ""]
    for chunk in chunks:
        slope, py = chunk.split("\n%% python", 1)
        py = py[1:] if py.startswith("\n") else py  # an empty chunk: nothing to run
        buf = io.StringIO()
        with contextlib.redirect_stdout(buf):
            exec(py, ns)
        lines = slope.strip("\n").split("\n")
        out.append("> " + lines[0])
        out.extend("... " + l for l in lines[1:])
        out.extend(buf.getvalue().rstrip("\n").split("\n") if buf.getvalue() else [])
        out.append("")
    name = os.path.splitext(os.path.basename(path))[0] + ".slope"
    with open(os.path.join(out_dir, name), "w", encoding="utf-8") as f:
        f.write("\n".join(out).rstrip("\n") + "\n")

for p in sys.argv[1:] or sorted(os.path.join(here, f) for f in os.listdir(here) if f.endswith(".pair")):
    build(p)
