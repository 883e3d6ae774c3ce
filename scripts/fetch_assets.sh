#!/usr/bin/env bash
# Vendor the browser assets the built site needs offline: MathJax 3 and the Jupyter
# widgets HTML manager (with require.js). They come from the npm registry, pinned by
# version AND by the sha512 of the package tarball, and are unpacked into the gitignored
# folder _assets/, which _config.yml copies into the site root with html_extra_path
# (not _static/: Jupyter Book would add every .js there to every page).
#
# Result (served as <site>/vendor/...):
#   _assets/vendor/mathjax/tex-mml-chtml.js            (+ fonts and extensions it loads)
#   _assets/vendor/requirejs/require.js
#   _assets/vendor/jupyter-widgets/html-manager/embed-amd.js  (+ its font files)
#   _assets/vendor/jupyter-widgets/require-config.js   (tells require.js where that is)
#
# Quick when the pinned set is already unpacked (a stamp file records it).
# Usage: bash scripts/fetch_assets.sh [--force]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DEST="$ROOT/_assets"

# name@version  sha512 (hex) of the tarball `npm pack` downloads
PINS=(
  "mathjax@3.2.2 06df9249553c7811b6ef30a155ec0e89c62ced7b1db78d2a9b8f94a47c97ee4d3f3bd36588f73ec7bee4d7f144b0fb2328f64626fb5164cd6f3be81e5b43a11b"
  "@jupyter-widgets/html-manager@1.0.15 e6d841215eb298d8263d5387bf3c7e806cbc6522a649ace1b46c38fdce312435734611bd3d3790b118c5dc5513a29bc58bffd200178dcf5ca9e3b6c2ac9dc240"
  "requirejs@2.3.8 eff71348b39d6243413497033167fe96e16f32b8959bb798c69e017050ac017d30178db557271ee525cfd7b73e25de68b5728635e848a27165c905d2a302fa33"
)
# require.js names the widget bundle "@jupyter-widgets/html-manager/dist/libembed-amd" and
# the bundle finds its icon fonts next to that module's URL; without this mapping the
# URL is resolved against the page's folder and every font is a 404.
REQUIRE_CONFIG='(function () {
  var here = document.currentScript.src.replace(/[^/]*$/, "");
  require.config({ paths: { "@jupyter-widgets/html-manager/dist": here + "html-manager" } });
})();'
STAMP_WANT="$( (printf '%s\n' "${PINS[@]}"; echo "$REQUIRE_CONFIG") | sha256sum | cut -d' ' -f1)"

if [ "${1:-}" != "--force" ] && [ -f "$DEST/.stamp" ] && [ "$(cat "$DEST/.stamp")" = "$STAMP_WANT" ] \
   && [ -f "$DEST/vendor/mathjax/tex-mml-chtml.js" ]; then
  exit 0
fi

if ! command -v npm >/dev/null 2>&1; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1 && [ -z "${DLDNA_NO_APT:-}" ]; then
    echo "[assets] npm is missing: apt-get install npm"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm >/dev/null
  else
    echo "[assets] npm is needed to fetch MathJax and the widget manager (Debian: apt-get install npm)" >&2
    exit 1
  fi
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
echo "[assets] fetching pinned MathJax, widget manager and require.js from npm"
for pin in "${PINS[@]}"; do
  read -r spec want <<<"$pin"
  # `npm pack` downloads just the tarball (no dependency tree) and checks the registry's
  # integrity field; the pinned hash additionally guards against a re-published version.
  if ! file="$(cd "$work" && npm pack --silent "$spec" 2>"$work/npm.log" | tail -n1)" || [ ! -f "$work/$file" ]; then
    echo "[assets] npm pack $spec failed (is the npm registry reachable?):" >&2
    cat "$work/npm.log" >&2
    exit 1
  fi
  got="$(sha512sum "$work/$file" | cut -d' ' -f1)"
  if [ "$got" != "$want" ]; then
    echo "[assets] $spec: sha512 $got does not match the pinned $want" >&2
    exit 1
  fi
  mkdir -p "$work/${file%.tgz}"
  tar -xzf "$work/$file" -C "$work/${file%.tgz}"
done

new="$DEST.new"
rm -rf "$new"
mkdir -p "$new/vendor/requirejs" "$new/vendor/jupyter-widgets/html-manager"
# MathJax finds its fonts and lazily loaded extensions relative to the script: keep es5/ whole.
cp -r "$work/mathjax-3.2.2/package/es5" "$new/vendor/mathjax"
cp "$work/mathjax-3.2.2/package/LICENSE" "$new/vendor/mathjax/LICENSE"
cp "$work/requirejs-2.3.8/package/require.js" "$new/vendor/requirejs/require.js"
cp "$work/requirejs-2.3.8/package/package.json" "$new/vendor/requirejs/package.json"  # its licence field (MIT)
hm="$work/jupyter-widgets-html-manager-1.0.15/package"
# The AMD bundle (with base, controls and output widgets) and the icon fonts its CSS uses.
find "$hm/dist" -maxdepth 1 -type f ! -name '*.map' ! -name 'embed.js' \
  -exec cp {} "$new/vendor/jupyter-widgets/html-manager/" \;
cp "$hm/LICENSE" "$new/vendor/jupyter-widgets/html-manager/LICENSE" 2>/dev/null || true
echo "$REQUIRE_CONFIG" > "$new/vendor/jupyter-widgets/require-config.js"
echo "$STAMP_WANT" > "$new/.stamp"
rm -rf "$DEST"
mv "$new" "$DEST"
echo "[assets] vendored into $DEST ($(du -sh "$DEST" | cut -f1))"
