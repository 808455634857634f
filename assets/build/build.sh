#!/usr/bin/env bash
# Rebuild the vendored GOV.UK Frontend assets for Kindred.
#
#   bash assets/build/build.sh
#
# Needs Node.js + npm (only when rebuilding; the output under assets/vendor/
# is committed so `cargo run` never needs npm). Versions are pinned in
# package.json / package-lock.json.
set -euo pipefail

BUILD_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ASSETS_DIR="$(dirname "$BUILD_DIR")"
OUT="$ASSETS_DIR/vendor/govuk-frontend"
PKG="$BUILD_DIR/node_modules/govuk-frontend"
DIST="$PKG/dist/govuk"

cd "$BUILD_DIR"

# Exact, lockfile-driven install. No install scripts are needed (sass is pure JS).
npm ci --ignore-scripts --no-audit --no-fund --loglevel=error

version="$(node -p "require('$PKG/package.json').version")"
echo "govuk-frontend $version, sass $(node -p "require('./node_modules/sass/package.json').version")"

# Start from a clean output folder so removed files do not linger.
rm -rf "$OUT"
mkdir -p "$OUT/images"

# CSS: compressed, no source map. govuk-frontend 5.x still uses @import
# internally, so silence Dart Sass deprecations in its code (--quiet-deps)
# and the @import deprecation in our own entry file.
npx --no-install sass \
  --style=compressed \
  --no-source-map \
  --load-path=node_modules \
  --quiet-deps \
  --silence-deprecation=import \
  --silence-deprecation=global-builtin \
  kindred.scss "$OUT/govuk-frontend.min.css"

# JS: the ES module bundle. Drop the trailing sourceMappingURL comment, since
# the .map file is not vendored (avoids a 404 in browser dev tools).
sed -e 's|//# sourceMappingURL=[^ ]*$||' "$DIST/govuk-frontend.min.js" > "$OUT/govuk-frontend.min.js"

# Images referenced by the CSS and by the page template (favicons, icons).
# Not the fonts (Kindred uses Arial) and not assets/rebrand/.
cp "$DIST"/assets/images/* "$OUT/images/"

# Licence: the npm tarball does not ship LICENSE.txt, so we keep a copy of
# upstream's MIT licence next to this script.
cp "$BUILD_DIR/govuk-frontend-LICENSE.txt" "$OUT/LICENSE.txt"
printf '%s\n' "$version" > "$OUT/VERSION"

# Checks: CSS is non-empty, declares no web fonts (no GDS Transport), and
# every url(...) resolves to a vendored file once /assets/govuk/ -> $OUT.
css="$OUT/govuk-frontend.min.css"
[[ -s "$css" ]] || { echo "error: $css is empty" >&2; exit 1; }
if grep -q -e '@font-face' -e 'GDS Transport' "$css"; then
  echo "error: $css still declares @font-face / GDS Transport" >&2; exit 1
fi
while IFS= read -r url; do
  case "$url" in
    /assets/govuk/*) [[ -f "$OUT/${url#/assets/govuk/}" ]] \
      || { echo "error: url($url) has no file under $OUT" >&2; exit 1; } ;;
    data:*) ;;
    *) echo "error: unexpected url($url) in $css" >&2; exit 1 ;;
  esac
done < <(grep -o 'url([^)]*)' "$css" | sed -e 's/^url(//' -e 's/)$//' -e 's/^["'"'"']//' -e 's/["'"'"']$//' | sort -u)

echo "Built into $OUT:"
(cd "$OUT" && find . -type f | sort | xargs ls -l | awk '{print "  " $5 "\t" $9}')
