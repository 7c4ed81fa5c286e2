"""Syslog over loopback: sustained lines/s without loss, and what is lost past it.

A separate sender process replays real corpus lines (switch, dnsmasq,
haproxy; RFC 3164) at a fixed rate for a few seconds to an in-process
``SyslogServer``. For each rate it prints sent, received, events, and the
loss: for UDP as counted by the kernel (``/proc/net/snmp`` Udp RcvbufErrors
delta) and as sent - received; TCP pushes back instead of dropping, so for
TCP it prints the rate actually achieved.

    python bench/bench_syslog.py [--seconds 3] [--rates 5000,10000,20000,40000]
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import socket
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from adapters.logs import SyslogServer
from bench.common import CORPUS
from engine.events import Event

LOGS = CORPUS / "logs"


def _messages() -> list[bytes]:
    out = []
    for name in ("switch-bpduguard-arista-eos.log", "dnsmasq-dhcp.log", "haproxy.log"):
        for line in (LOGS / name).read_text().splitlines():
            if line[:3].isalpha() and line[3] == " ":  # the lines with an RFC 3164 header
                out.append(b"<30>" + line.encode())
    return out


def _send(proto: str, addr: tuple[str, int], rate: int, seconds: float,
          result: mp.Queue) -> None:  # type: ignore[type-arg]
    msgs = _messages()
    total = int(rate * seconds)
    if proto == "udp":
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    else:
        sock = socket.create_connection(addr)
    start = time.perf_counter()
    batch = max(1, rate // 1000)
    sent = 0
    while sent < total:
        for _ in range(batch):
            m = msgs[sent % len(msgs)]
            if proto == "udp":
                sock.sendto(m, addr)
            else:
                sock.sendall(str(len(m)).encode() + b" " + m)
            sent += 1
        ahead = sent / rate - (time.perf_counter() - start)
        if ahead > 0:
            time.sleep(ahead)
    result.put((sent, time.perf_counter() - start))
    sock.close()


def _udp_rcvbuf_errors() -> int:
    lines = Path("/proc/net/snmp").read_text().splitlines()
    head, values = [ln.split() for ln in lines if ln.startswith("Udp:")][:2]
    return int(values[head.index("RcvbufErrors")])


def run(proto: str, rate: int, seconds: float) -> None:
    count = [0]

    def sink(_: Event) -> None:
        count[0] += 1

    server = SyslogServer(sink, port=0, udp=proto == "udp", tcp=proto == "tcp",
                          rcvbuf=4 * 1024 * 1024).start()
    addr = server.udp_address if proto == "udp" else server.tcp_address
    assert addr is not None
    errors_before = _udp_rcvbuf_errors()
    q: mp.Queue = mp.Queue()  # type: ignore[type-arg]
    sender = mp.Process(target=_send, args=(proto, addr, rate, seconds, q))
    cpu0 = time.process_time()
    sender.start()
    sent, elapsed = q.get()
    sender.join()
    deadline = time.monotonic() + 5
    while server.counters.received < sent and time.monotonic() < deadline:
        time.sleep(0.05)
    server.stop()
    cpu = time.process_time() - cpu0
    received = server.counters.received
    kernel_drops = _udp_rcvbuf_errors() - errors_before
    print(f"{proto} target {rate:>7,}/s  sent {sent:>7,} at {sent / elapsed:>8,.0f}/s  "
          f"received {received:>7,}  events {count[0]:>7,}  lost {sent - received:>6,} "
          f"(kernel-counted {kernel_drops if proto == 'udp' else 0:,})  "
          f"server cpu {cpu:.2f}s")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--rates", default="5000,10000,20000,40000")
    args = ap.parse_args()
    for proto in ("udp", "tcp"):
        for rate in (int(r) for r in args.rates.split(",")):
            run(proto, rate, args.seconds)


if __name__ == "__main__":
    main()
