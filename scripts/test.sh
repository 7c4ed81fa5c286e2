#!/usr/bin/env bash
# The test command the README gives: install with test extras, lint, type-check, test.
set -euo pipefail
cd "$(dirname "$0")/.."

# System tools the tests drive for real (syslog senders, rsyslog, systemd's unit checker,
# network namespaces, Alertmanager and amtool): installed when missing and we may (root with
# apt-get); otherwise the tests that need them skip with the reason (under CI=true they fail
# instead). The tests start their own Alertmanager on a free loopback port: the package's
# service, if it started, is stopped and disabled so it holds no port.
need=()
command -v logger >/dev/null || need+=(bsdutils)
command -v unshare >/dev/null || need+=(util-linux)
command -v rsyslogd >/dev/null || need+=(rsyslog)
command -v systemd-analyze >/dev/null || need+=(systemd)
command -v ip >/dev/null || need+=(iproute2)
command -v prometheus-alertmanager >/dev/null || need+=(prometheus-alertmanager)
if ((${#need[@]})) && command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}"
    if [[ " ${need[*]} " == *" prometheus-alertmanager "* ]] && command -v systemctl >/dev/null; then
        systemctl disable --now prometheus-alertmanager >/dev/null 2>&1 || true
    fi
fi

python -m pip install -q -e '.[test]'
python -m ruff check .
python -m mypy
python -m pytest -q -p no:cacheprovider "$@"
