"""A township's network for e2e tests: a Linux network namespace joined to the host (the
county) by two veth pairs, so that one link can be cut while the other stays up.

    broker link  host 10.77.N.1  <->  10.77.N.2  namespace   (the township's way to the broker)
    desk link    host 10.77.M.1  <->  10.77.M.2  namespace   (the registrars' desks, the test)

Cutting the broker link sets its host-side interface down: packets from the township to the
broker are dropped, as on a real line that goes dead (no reset, no error, just silence). The
host-side address stays a local address of the host, so the county's own processes keep
reaching a broker listening on it.

Needs root and ``ip`` (iproute2) with network namespace support. Where they are missing the
test fails and says so: these tests are part of CI, which runs as root.
"""

from __future__ import annotations

import ipaddress
import os
import random
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pytest


def _ip(*args: str) -> None:
    done = subprocess.run(["ip", *args], capture_output=True, text=True, timeout=10)
    if done.returncode != 0:
        raise RuntimeError(f"ip {' '.join(args)}: {done.stderr.strip()}")


@dataclass(frozen=True)
class TownshipNet:
    ns: str
    broker_veth: str  # host side of the broker link: down means cut
    broker_host: str  # the host's (county's) address on the broker link
    desk_host: str
    desk_ns: str  # the township's address on the desk link

    def command(self, argv: list[str]) -> list[str]:
        """``argv`` run inside the township's namespace."""
        return ["ip", "netns", "exec", self.ns, *argv]

    def cut(self) -> None:
        _ip("link", "set", self.broker_veth, "down")

    def restore(self) -> None:
        _ip("link", "set", self.broker_veth, "up")


def _free_subnets(count: int) -> list[int]:
    """Third octets of 10.77.x.0/24 that no interface of the host uses (another run's, say)."""
    out = subprocess.run(["ip", "-4", "-o", "addr"], capture_output=True, text=True).stdout
    used = {
        int(ipaddress.ip_interface(word).ip.packed[2])
        for word in out.split()
        if word.startswith("10.77.") and "/" in word
    }
    free = [n for n in range(1, 255) if n not in used]
    return random.sample(free, count)


def _unavailable() -> str | None:
    if shutil.which("ip") is None:
        return "the `ip` command (iproute2) is not installed"
    if os.geteuid() != 0:
        return "creating network namespaces needs root"
    return None


@contextmanager
def township_net() -> Iterator[TownshipNet]:
    """A fresh namespace and its two links (unique names per run); always removed afterwards."""
    missing = _unavailable()
    if missing:
        pytest.fail(f"the township link test needs network namespaces: {missing}")
    tag = uuid.uuid4().hex[:6]
    ns = f"xf-township-{tag}"
    b, d = _free_subnets(2)
    net = TownshipNet(
        ns=ns,
        broker_veth=f"xf{tag}b0",
        broker_host=f"10.77.{b}.1",
        desk_host=f"10.77.{d}.1",
        desk_ns=f"10.77.{d}.2",
    )
    try:
        _ip("netns", "add", ns)
    except RuntimeError as exc:
        pytest.fail(f"the township link test needs network namespaces: {exc}")
    try:
        _ip("-n", ns, "link", "set", "lo", "up")
        for kind, third in (("b", b), ("d", d)):
            host_if, ns_if = f"xf{tag}{kind}0", f"xf{tag}{kind}1"
            _ip("link", "add", host_if, "type", "veth", "peer", "name", ns_if, "netns", ns)
            _ip("addr", "add", f"10.77.{third}.1/24", "dev", host_if)
            _ip("-n", ns, "addr", "add", f"10.77.{third}.2/24", "dev", ns_if)
            _ip("link", "set", host_if, "up")
            _ip("-n", ns, "link", "set", ns_if, "up")
        yield net
    finally:
        # deleting the namespace deletes its veth ends, and with them their host-side peers
        subprocess.run(["ip", "netns", "del", ns], capture_output=True)
        for kind in ("b", "d"):
            subprocess.run(["ip", "link", "del", f"xf{tag}{kind}0"], capture_output=True)
