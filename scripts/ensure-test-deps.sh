#!/usr/bin/env bash
# What `make test` needs beyond Rust: Chromium, Prometheus and Alertmanager (Debian's), aiosmtpd, the end-to-end tests' npm packages
# (playwright-core drives that Chromium; binaryen provides wasm-opt), and running PostgreSQL and
# Redis. Installs through apt and npm; starts the services when they are installed but down.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"

apt_updated=""
apt_install() {
  if [ -z "$apt_updated" ]; then
    $sudo apt-get update -qq
    apt_updated=1
  fi
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "$@"
}

command -v chromium >/dev/null || apt_install chromium
command -v prometheus-alertmanager >/dev/null || apt_install prometheus-alertmanager
command -v prometheus >/dev/null || apt_install prometheus
# A real SMTP server for the email-notification tests.
/usr/bin/python3 -c "import aiosmtpd" 2>/dev/null || apt_install python3-aiosmtpd
command -v node >/dev/null && command -v npm >/dev/null || apt_install nodejs npm

(cd "$root/tests/e2e" && npm ci --no-audit --no-fund --loglevel=error)

listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

if ! listening 5432; then
  echo "ensure-test-deps: starting PostgreSQL"
  cluster="$(ls /etc/postgresql 2>/dev/null | head -n1)"
  $sudo pg_ctlcluster --skip-systemctl-redirect "${cluster:-15}" main start || true
fi
if ! listening 6379; then
  echo "ensure-test-deps: starting Redis"
  $sudo redis-server --daemonize yes --port 6379 --save "" --appendonly no || true
fi
for _ in $(seq 1 30); do
  listening 5432 && listening 6379 && exit 0
  sleep 1
done
listening 5432 || echo "ensure-test-deps: PostgreSQL is not listening on 127.0.0.1:5432" >&2
listening 6379 || echo "ensure-test-deps: Redis is not listening on 127.0.0.1:6379" >&2
exit 1
