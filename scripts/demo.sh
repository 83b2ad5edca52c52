#!/usr/bin/env bash
# make demo: crawl ~50 pages of Debian's Python documentation served on 127.0.0.1,
# write the dataset and its gallery, print where they are.
set -euo pipefail
cd "$(dirname "$0")/.."
# python3-doc links /usr/share/doc/python3/html to the docs of the version it belongs to (python3.11, 3.12...)
DOCS=${DOCS:-/usr/share/doc/python3/html}
OUT=${OUT:-demo-out}
PAGES=${PAGES:-50}
[ -f "$DOCS/tutorial/index.html" ] || scripts/bootstrap.sh python3-doc
if [ ! -f "$DOCS/tutorial/index.html" ]; then
    echo "make demo: no Python documentation at $DOCS (install python3-doc, or pass DOCS=/path/to/html)" >&2
    exit 2
fi
DOCS=$(readlink -f "$DOCS")

PORT=$(.venv/bin/python -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
python3 -m http.server --bind 127.0.0.1 --directory "$DOCS" "$PORT" >/dev/null 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null' EXIT
for _ in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/$PORT) 2>/dev/null && break; sleep 0.1; done

rm -rf "$OUT"
# exit 1 is "done, some pages failed": the docs have broken links, and a 404 is a page record like any other
.venv/bin/boxcrawl crawl "http://127.0.0.1:$PORT/tutorial/index.html" --out "$OUT" \
    --max-pages "$PAGES" --allow-hosts 127.0.0.1 --seed-layout || [ $? -eq 1 ]
.venv/bin/boxcrawl show "$OUT"
echo
echo "dataset:  $(cd "$OUT" && pwd)   (wds/ shards, pages/ + samples/ Parquet, img/ + csv/)"
echo "gallery:  $(cd "$OUT" && pwd)/gallery.html"
echo "card:     $(cd "$OUT" && pwd)/README.md   (the dataset card: push the folder to the Hugging Face Hub as it is)"
