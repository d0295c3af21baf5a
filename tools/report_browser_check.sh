#!/usr/bin/env bash
# Load every page of an `artefact report` site in headless Chromium (Debian package `chromium`)
# and check: no load error on any page (scripts, images, exceptions, console.error are counted
# in <html data-errors>), and a filter in the URL hash changes what the questions page shows.
# Optionally take a screenshot of the contact-sheet page.
#
#   tools/report_browser_check.sh REPORT_DIR [FILTER] [SCREENSHOT.png]
#   e.g. tools/report_browser_check.sh out/report modality=CT docs/img/report-contact-sheet.png
set -euo pipefail
site="$(cd "${1:?usage: $0 REPORT_DIR [key=value] [screenshot.png]}" && pwd)"
filter="${2:-level=severe}"
shot="${3:-}"
chromium="${CHROMIUM:-/usr/bin/chromium}"
[ -x "$chromium" ] || { echo "no $chromium (apt-get install chromium)" >&2; exit 2; }
profile="$(mktemp -d)"
trap 'rm -rf "$profile"' EXIT
flags=(--headless --no-sandbox --disable-gpu --disable-quic --no-first-run
       --disable-background-networking --disable-component-update --disable-sync
       --virtual-time-budget=3000 "--user-data-dir=$profile")
dom() { "$chromium" "${flags[@]}" --dump-dom "$1" 2>/dev/null; }
attr() { grep -o "$1" | head -1 | sed 's/.*="\([^"]*\)"$/\1/'; }

fail=0
for page in "$site"/*.html; do
    errors="$(dom "file://$page" | attr 'data-errors="[0-9]*"')"
    echo "$(basename "$page"): $errors load errors"
    [ "$errors" = "0" ] || fail=1
done
all="$(dom "file://$site/questions.html" | attr 'data-shown="[0-9]*"')"
some="$(dom "file://$site/questions.html#$filter" | attr 'data-shown="[0-9]*"')"
echo "questions shown: $all without a filter, $some with $filter"
if [ -z "$some" ] || [ "$some" -ge "$all" ]; then
    echo "the filter $filter did not change what is shown" >&2
    fail=1
fi
if [ -n "$shot" ]; then
    "$chromium" "${flags[@]}" --window-size=1200,900 --hide-scrollbars \
        "--screenshot=$(realpath -m "$shot")" "file://$site/sheets.html" 2>/dev/null
    echo "screenshot: $shot"
fi
exit "$fail"
