#!/usr/bin/env bash
# Checks the HTML report in a real browser. Runs a short demo that writes one (or takes a page you
# give), loads it in headless Chromium with the network off, and asserts that every chart rendered:
#   - the DOM after loading holds the seven charts, each with lines drawn (data-points > 0);
#   - the screenshot shows the lines in their colours (pixels counted, Python standard library).
# Needs Chromium (Debian: apt-get install chromium) and python3.
#
#   scripts/check-report.sh                                   # a 20 s demo, then the checks
#   scripts/check-report.sh --page report.html --screenshot report.png
set -euo pipefail
cd "$(dirname "$0")/.."

page=""
screenshot=""
duration="20s"
while (($#)); do
  case "$1" in
    --page) page="$2"; shift 2 ;;
    --screenshot) screenshot="$2"; shift 2 ;;
    --duration) duration="$2"; shift 2 ;;
    *) echo "usage: $0 [--page FILE] [--screenshot FILE] [--duration 20s]" >&2; exit 2 ;;
  esac
done

browser=""
for b in chromium chromium-browser google-chrome; do
  if command -v "$b" >/dev/null 2>&1; then browser="$b"; break; fi
done
if [[ -z "$browser" ]]; then
  echo "check-report: no Chromium on the PATH; install it (Debian: apt-get install chromium)" >&2
  exit 3
fi
command -v python3 >/dev/null 2>&1 || { echo "check-report: python3 is needed" >&2; exit 3; }

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
if [[ -z "$page" ]]; then
  page="$work/report.html"
  echo "check-report: running a $duration demo that writes $page ..."
  ./streamrec demo --duration "$duration" --progress-interval 10s --html "$page" | tail -n 2
  if [[ -n "$screenshot" ]]; then
    cp "$page" "${screenshot%.*}.html"   # keep the page next to its screenshot
    page="${screenshot%.*}.html"
  fi
fi
[[ -n "$screenshot" ]] || screenshot="$work/report.png"
url="file://$(cd "$(dirname "$page")" && pwd)/$(basename "$page")"

# headless, no sandbox (root in containers), and every host name unresolvable: the page must need none
flags=(--headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=1280,1800
       "--host-resolver-rules=MAP * ~NOTFOUND")
"$browser" "${flags[@]}" --dump-dom "$url" > "$work/dom.html" 2>/dev/null
"$browser" "${flags[@]}" --screenshot="$screenshot" "$url" >/dev/null 2>&1
echo "check-report: screenshot $screenshot"

python3 - "$work/dom.html" "$screenshot" <<'PY'
import re, struct, sys, zlib

dom = open(sys.argv[1], encoding="utf-8").read()
charts = re.findall(r'<svg class="chart" id="([^"]+)" data-points="(\d+)"', dom)
expected = ["chart-auc", "chart-logloss", "chart-calibration", "chart-freshness",
            "chart-throughput", "chart-dead-letters", "chart-store"]
problems = []
if [c for c, _ in charts] != expected:
    problems.append(f"charts in the DOM: {[c for c, _ in charts]}, expected {expected}")
for cid, points in charts:
    # a run without dead letters draws their chart's lines at zero: still drawn
    if int(points) == 0:
        problems.append(f"{cid}: no points drawn")
lines = len(re.findall(r'class="line"', dom))
print(f"check-report: DOM after loading: {len(charts)} charts, {lines} lines, "
      + ", ".join(f"{c} {p} points" for c, p in charts))

def png_pixels(path):
    data = open(path, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, width = 8, b"", 0
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            width, height, depth, color = struct.unpack(">IIBB", body[:10])
            assert depth == 8 and color in (2, 6), f"PNG colour type {color}, depth {depth}"
            bpp = 3 if color == 2 else 4
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    raw, stride, rows, prev = zlib.decompress(idat), width * bpp, [], bytearray(width * bpp)
    for y in range(height):
        f, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b, c = prev[i], prev[i - bpp] if i >= bpp else 0
            if f == 1: line[i] = (line[i] + a) & 255
            elif f == 2: line[i] = (line[i] + b) & 255
            elif f == 3: line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c; pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(line); prev = line
    return width, height, bpp, rows

w, h, bpp, rows = png_pixels(sys.argv[2])
colours = {"blue (AUC, throughput)": (0x1f, 0x77, 0xb4), "red (log loss)": (0xd6, 0x27, 0x28),
           "purple (calibration)": (0x94, 0x67, 0xbd), "orange (freshness)": (0xff, 0x7f, 0x0e),
           "green (hit rate)": (0x2c, 0xa0, 0x2c)}
counts = dict.fromkeys(colours, 0)
for line in rows:
    for x in range(0, w * bpp, bpp):
        r, g, b = line[x], line[x + 1], line[x + 2]
        for name, (r0, g0, b0) in colours.items():
            if abs(r - r0) + abs(g - g0) + abs(b - b0) < 40:
                counts[name] += 1
print(f"check-report: screenshot {w}x{h}: " + ", ".join(f"{n} {c} px" for n, c in counts.items()))
for name, c in counts.items():
    if c < 150:
        problems.append(f"the screenshot shows almost nothing in {name}: {c} pixels")
if problems:
    print("check-report: FAILED\n  " + "\n  ".join(problems)); sys.exit(1)
print("check-report: every chart rendered")
PY
