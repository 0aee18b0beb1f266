# Helpers the bench scripts share; sourced, not run. They start nothing and change nothing.

# The address Kino printed to STDOUT_FILE ("kino: listening on ADDR"), once it has, waiting up
# to 10 s; empty when it did not start.
kino_address() {
  local out=$1
  for _ in $(seq 100); do
    grep -q 'listening on' "$out" 2>/dev/null && break
    sleep 0.1
  done
  sed -n 's/^kino: listening on //p' "$out"
}

# A TCP port free on 127.0.0.1 now (for the nginx baseline).
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
