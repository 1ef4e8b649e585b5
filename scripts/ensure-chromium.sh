#!/usr/bin/env bash
# Browser tests drive Debian's chromium through Playwright (browser downloads don't work here).
# Idempotent: does nothing when chromium is present; installs it with apt when run as root.
set -euo pipefail
if command -v chromium >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null
  exit 0
fi
echo "chromium is not installed and this user cannot apt-get it; browser tests will be skipped" >&2
