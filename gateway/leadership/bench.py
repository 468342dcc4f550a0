"""``hotline bench failover``: kill -9 the leader with calls up; how long until the standby is in control?

Each round, on a throwaway schema of a PostgreSQL server (``--pg-url`` or ``HOTLINE_TEST_PG_URL``) and the
fake AMI server of tests/fakes (so it runs from a checkout) holding ``--calls`` answered calls:

1. gateway A starts and leads; gateway B starts as the standby; both are separate ``hotline serve``
   processes; A resyncs and sees every call;
2. A is killed with SIGKILL; at once a console (through B) asks for a blind transfer of one call with an
   Idempotency-Key and resends it on 503 ``not-leader`` after Retry-After, as the consoles do;
3. measured from the kill: B elected (``/readyz`` role leader), B in control (resynced, serving call
   control), the transfer answered; and how many BlindTransfer actions reached Asterisk (must be 1).

The baseline in the same run is what a deployment without a standby does at best: the killed gateway
restarted at once (the same ``hotline serve``, single instance), measured from the kill until it is logged
in to AMI (``/readyz`` "ready"); a real restart adds systemd's delay and whatever killed the process.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import socket
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

from gateway.auth.tokens import TokenStore
from gateway.db import create_engine, session_factory, upgrade
from gateway.db.scratch import scratch_schema, search_path_args

CALL_BASE = 1795400000


def register(benches: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = benches.add_parser("failover", help="kill -9 the leading gateway with calls up: time to control")
    parser.add_argument(
        "--pg-url",
        default=os.environ.get("HOTLINE_TEST_PG_URL"),
        help="PostgreSQL server (a throwaway schema is used); default $HOTLINE_TEST_PG_URL",
    )
    parser.add_argument("--rounds", type=int, default=3, help="kill-and-take-over rounds (a fresh schema each)")
    parser.add_argument("--calls", type=int, default=20, help="answered calls up when the leader dies")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if not args.pg_url:
        print("bench failover needs PostgreSQL: give --pg-url or set HOTLINE_TEST_PG_URL", file=sys.stderr)
        return 2
    asyncio.run(_main(args.pg_url, args.rounds, args.calls))
    return 0


# ---- the rig: a fake Asterisk, a database, gateway processes ---------------------------------------------


def _fake_ami_class() -> Any:
    try:
        from tests.fakes.fake_ami import FakeAmi
    except ImportError:
        raise SystemExit("bench failover uses the fake AMI of tests/fakes: run it from a checkout") from None
    return FakeAmi


def answered_calls(count: int) -> list[dict[str, Any]]:
    """CoreShowChannels rows: per call a citizen in Queue bridged with an agent's AppQueue leg."""
    rows = []
    for i in range(count):
        call_id, agent_id = f"{CALL_BASE}.{i * 2}", f"{CALL_BASE}.{i * 2 + 1}"
        common = {
            "ChannelState": "6",
            "ChannelStateDesc": "Up",
            "CallerIDName": "<unknown>",
            "ConnectedLineNum": "<unknown>",
            "ConnectedLineName": "<unknown>",
            "Language": "en",
            "AccountCode": "",
            "Priority": "1",
            "Linkedid": call_id,
            "ApplicationData": "hotline,t",
            "Duration": "00:00:30",
            "BridgeId": f"bridge-{i}",
        }
        rows.append(
            {
                **common,
                "Channel": f"PJSIP/carrier-{i * 2:08x}",
                "CallerIDNum": f"1380000{i:04d}",
                "Context": "from-citizen",
                "Exten": "12345",
                "Uniqueid": call_id,
                "Application": "Queue",
            }
        )
        rows.append(
            {
                **common,
                "Channel": f"PJSIP/{1001 + i}-{i * 2 + 1:08x}",
                "CallerIDNum": str(1001 + i),
                "Context": "hotline-agents",
                "Exten": "s",
                "Uniqueid": agent_id,
                "Application": "AppQueue",
            }
        )
    return rows


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Gateway:
    name: str
    port: int
    process: asyncio.subprocess.Process
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@dataclass
class Rig:
    """Everything a failover round needs; ``start_gateway`` spawns ``hotline serve`` processes."""

    pg_url: str
    schema: str
    ami_port: int
    ami_secret: str
    workdir: Path
    token: str = ""
    gateways: list[Gateway] = field(default_factory=list)

    def env(self, name: str) -> dict[str, str]:
        data = self.workdir / name
        data.mkdir(parents=True, exist_ok=True)
        return {
            **os.environ,
            "HOTLINE_DB__URL": self.pg_url,
            "HOTLINE_DB__SEARCH_PATH": self.schema,
            "HOTLINE_DATA_DIR": str(data),
            "HOTLINE_AMI__HOST": "127.0.0.1",
            "HOTLINE_AMI__PORT": str(self.ami_port),
            "HOTLINE_AMI__SECRET": self.ami_secret,
            "HOTLINE_AMI__RECONNECT_DELAY": "0.2",
            "HOTLINE_AMI__RECONNECT_MAX_DELAY": "1",
            "HOTLINE_IVR__ENABLED": "false",
            "HOTLINE_SPEECH__PORT": "0",
            "HOTLINE_LOG_LEVEL": "INFO",
            "HOTLINE_CALLS__WRAPUP_SECONDS": "0",
        }

    async def create_token(self) -> None:
        engine = create_engine(self.pg_url, connect_args=search_path_args(self.schema))
        try:
            await upgrade(engine)
            _, self.token = await TokenStore(session_factory(engine)).create("admin", "failover-bench")
        finally:
            await engine.dispose()

    async def start_gateway(self, name: str, **env: str) -> Gateway:
        port = free_port()
        self.workdir.mkdir(parents=True, exist_ok=True)
        log = self.workdir / f"{name}.log"
        with log.open("ab") as out:
            process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "gateway",
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                env=self.env(name),
                stdout=out,
                stderr=out,
                start_new_session=True,
            )
        gateway = Gateway(name, port, process, log)
        self.gateways.append(gateway)
        return gateway

    async def stop(self) -> None:
        for gateway in self.gateways:
            if gateway.process.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    gateway.process.send_signal(signal.SIGTERM)
                try:
                    await asyncio.wait_for(gateway.process.wait(), 15)
                except TimeoutError:
                    gateway.process.kill()
                    await gateway.process.wait()


async def readyz(session: aiohttp.ClientSession, gateway: Gateway) -> dict[str, Any] | None:
    with contextlib.suppress(aiohttp.ClientError, TimeoutError):
        async with session.get(gateway.url + "/readyz", timeout=aiohttp.ClientTimeout(total=1)) as answer:
            return dict(await answer.json())
    return None


async def wait_for(session: aiohttp.ClientSession, gateway: Gateway, *, within: float, **want: Any) -> float:
    """Poll /readyz every 20 ms until it shows ``want``; the monotonic time it did."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        body = await readyz(session, gateway)
        if body is not None and all(body.get(k) == v for k, v in want.items()):
            return time.monotonic()
        if gateway.process.returncode is not None:
            raise RuntimeError(f"gateway {gateway.name} exited: see {gateway.log}")
        await asyncio.sleep(0.02)
    raise TimeoutError(f"gateway {gateway.name} never showed {want} within {within} s (log: {gateway.log})")


async def request_until_answered(
    session: aiohttp.ClientSession, gateway: Gateway, path: str, body: Any, key: str, token: str, within: float = 30
) -> tuple[int, dict[str, Any], int]:
    """What a console does: POST with one Idempotency-Key, resend on 503 not-leader after Retry-After."""
    headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": key}
    deadline, tries = time.monotonic() + within, 0
    while True:
        tries += 1
        try:
            async with session.post(gateway.url + "/api/v1" + path, json=body, headers=headers) as answer:
                data = await answer.json()
                retry = answer.status == 503 and data.get("error_id") == "not-leader"
                if not retry or time.monotonic() > deadline:
                    return answer.status, data, tries
                pause = float(answer.headers.get("Retry-After", "1"))
        except aiohttp.ClientError:
            pause = 0.2
        await asyncio.sleep(min(pause, 0.25))  # a bench polls faster than a console's Retry-After


async def calls_seen(session: aiohttp.ClientSession, gateway: Gateway, token: str) -> int:
    with contextlib.suppress(aiohttp.ClientError, TimeoutError, KeyError, ValueError):
        async with session.get(gateway.url + "/api/v1/calls", headers={"Authorization": f"Bearer {token}"}) as r:
            if r.status == 200:
                return sum(1 for c in (await r.json())["calls"] if c.get("state") == "connected")
    return 0


@dataclass
class Round:
    elected: float  # seconds from the kill
    in_control: float
    transfer_answered: float
    transfer_status: int
    transfer_tries: int
    transfers_at_asterisk: int
    transfer_action_id: str
    restart_in_control: float  # the baseline: the killed leader restarted, no standby


async def one_round(pg_url: str, calls: int, workdir: Path) -> Round:
    fake = _fake_ami_class()()
    ami_port = await fake.start()
    fake.channels.extend(answered_calls(calls))
    async with scratch_schema(pg_url, "failover") as schema, aiohttp.ClientSession() as session:
        rig = Rig(pg_url, schema, ami_port, fake.secret, workdir)
        try:
            await rig.create_token()
            a = await rig.start_gateway("a")
            await wait_for(session, a, within=60, role="leader", in_control=True)
            b = await rig.start_gateway("b")
            await wait_for(session, b, within=60, role="standby")
            deadline = time.monotonic() + 30
            while await calls_seen(session, b, rig.token) < calls:  # through B: forwarded to A
                if time.monotonic() > deadline:
                    raise TimeoutError(f"the leader never showed the {calls} calls")
                await asyncio.sleep(0.05)

            a.process.send_signal(signal.SIGKILL)
            killed = time.monotonic()
            await a.process.wait()
            call_id = f"{CALL_BASE}.0"
            transfer = asyncio.create_task(
                request_until_answered(
                    session, b, f"/calls/{call_id}/transfer", {"target": "12315"}, "failover-transfer-1", rig.token
                )
            )
            elected = await wait_for(session, b, within=30, role="leader")
            in_control = await wait_for(session, b, within=30, role="leader", in_control=True)
            status, _, tries = await transfer
            answered = time.monotonic()
            await asyncio.sleep(0.5)  # anything late would show up now
            transfers = fake.actions("BlindTransfer")

            # Baseline: no standby (leadership off, as a single instance runs). Kill B too, start the same
            # command again at once, time it until it is logged in to AMI (/readyz "ready").
            b.process.send_signal(signal.SIGKILL)
            await b.process.wait()
            killed_again = time.monotonic()
            restarted = await rig.start_gateway("restarted", HOTLINE_LEADERSHIP__ENABLED="false")
            restart_in_control = await wait_for(session, restarted, within=60, status="ready")
        finally:
            await rig.stop()
            await fake.stop()
    return Round(
        elected=elected - killed,
        in_control=in_control - killed,
        transfer_answered=answered - killed,
        transfer_status=status,
        transfer_tries=tries,
        transfers_at_asterisk=len(transfers),
        transfer_action_id=str(transfers[0].get("ActionID", "")) if transfers else "",
        restart_in_control=restart_in_control - killed_again,
    )


async def _main(pg_url: str, rounds: int, calls: int) -> None:
    print(
        f"failover: {rounds} round(s), {calls} answered calls up, leader killed with SIGKILL; "
        "lease 3 s renewed every 1 s (defaults)"
    )
    results = []
    with tempfile.TemporaryDirectory(prefix="hotline-failover-") as tmp:
        for i in range(rounds):
            r = await one_round(pg_url, calls, Path(tmp) / f"round{i}")
            results.append(r)
            print(
                f"  round {i + 1}: elected {r.elected:.2f} s, in control {r.in_control:.2f} s, transfer answered "
                f"{r.transfer_answered:.2f} s (HTTP {r.transfer_status}, {r.transfer_tries} tries), "
                f"BlindTransfer at Asterisk ×{r.transfers_at_asterisk} ({r.transfer_action_id}); "
                f"restart without standby: in control {r.restart_in_control:.2f} s"
            )
    control = [r.in_control for r in results]
    restart = [r.restart_in_control for r in results]
    print(
        f"standby in control after the kill: median {statistics.median(control):.2f} s, worst {max(control):.2f} s "
        f"(target ≤ 5 s)"
    )
    print(
        f"baseline, restarting the killed gateway (no standby): median {statistics.median(restart):.2f} s; "
        f"ratio failover/restart {statistics.median(control) / statistics.median(restart):.2f}"
    )
    print(
        f"transfers requested during the failover: {len(results)}, run at Asterisk "
        f"{sum(r.transfers_at_asterisk for r in results)} time(s)"
    )
