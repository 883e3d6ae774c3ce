#!/usr/bin/env bash
# Vendor the browser assets the built site needs offline (MathJax 3) and the one the browser
# tests inject into every page (axe-core, the accessibility checker). They come from the npm
# registry, pinned by version AND by the sha512 of the package tarball, and are unpacked into
# the gitignored folder _assets/, which _config.yml copies into the site root with
# html_extra_path (not _static/: Jupyter Book would add every .js there to every page); the
# test-only folder is left out of the site by exclude_patterns.
#
# Result:
#   _assets/vendor/mathjax/tex-mml-chtml.js      (+ fonts and extensions it loads), served as <site>/vendor/...
#   _assets/test-vendor/axe-core/axe.min.js       (tests/browser_utils.py; not copied into the site)
#
# The Jupyter widgets HTML manager and require.js (9.8 MB) were vendored too until no page saved
# ipywidgets state any more: sliders and checkers are plain HTML/JavaScript (dldna_helpers.widgets).
#
# Quick when the pinned set is already unpacked (a stamp file records it).
# Usage: bash scripts/fetch_assets.sh [--force]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DEST="$ROOT/_assets"

# name@version  sha512 (hex) of the tarball `npm pack` downloads
PINS=(
  "mathjax@3.2.2 06df9249553c7811b6ef30a155ec0e89c62ced7b1db78d2a9b8f94a47c97ee4d3f3bd36588f73ec7bee4d7f144b0fb2328f64626fb5164cd6f3be81e5b43a11b"
  "axe-core@4.14.1 1477dafa598d8d065f273d6af302aa203c02e83131707b7fa648cd41bd3d6b734f8c22a0dab86ee6a6f64b8afbe804b214d36db85a2826965edfb3a0b9d546b5"
)
STAMP_WANT="$(printf '%s\n' "${PINS[@]}" | sha256sum | cut -d' ' -f1)"

if [ "${1:-}" != "--force" ] && [ -f "$DEST/.stamp" ] && [ "$(cat "$DEST/.stamp")" = "$STAMP_WANT" ] \
   && [ -f "$DEST/vendor/mathjax/tex-mml-chtml.js" ] && [ -f "$DEST/test-vendor/axe-core/axe.min.js" ]; then
  exit 0
fi

if ! command -v npm >/dev/null 2>&1; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1 && [ -z "${DLDNA_NO_APT:-}" ]; then
    echo "[assets] npm is missing: apt-get install npm"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm >/dev/null
  else
    echo "[assets] npm is needed to fetch MathJax and axe-core (Debian: apt-get install npm)" >&2
    exit 1
  fi
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
echo "[assets] fetching pinned MathJax and axe-core from npm"
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
mkdir -p "$new/vendor" "$new/test-vendor/axe-core"
# MathJax finds its fonts and lazily loaded extensions relative to the script: keep es5/ whole.
cp -r "$work/mathjax-3.2.2/package/es5" "$new/vendor/mathjax"
cp "$work/mathjax-3.2.2/package/LICENSE" "$new/vendor/mathjax/LICENSE"
cp "$work/axe-core-4.14.1/package/axe.min.js" "$work/axe-core-4.14.1/package/LICENSE" "$new/test-vendor/axe-core/"
echo "$STAMP_WANT" > "$new/.stamp"
rm -rf "$DEST"
mv "$new" "$DEST"
echo "[assets] vendored into $DEST ($(du -sh "$DEST" | cut -f1))"
