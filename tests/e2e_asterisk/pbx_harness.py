"""Run a real Asterisk on loopback with asterisk_conf/ exactly as shipped.

The configuration is copied verbatim; only the files in asterisk_conf/site/ are re-rendered, and only
their values (addresses, ports, secrets — see asterisk_conf/README.md), through ``render_site``, which
refuses to invent a key the shipped file does not have. A generated asterisk.conf points Asterisk's
directories at a private temp tree, so tests never touch /etc/asterisk or /var.
"""

from __future__ import annotations

import asyncio
import os
import re
import secrets
import shutil
import socket
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CONF_DIR = REPO / "asterisk_conf"
SIP_DIR = REPO / "tests" / "sip"

# Each trunk's far end is its own loopback address, as each is its own host in production: trunks are
# identified by IP, so they must not share one.
TRUNK_IPS = {"carrier": "127.0.0.2", "police110": "127.0.0.3", "subcentre": "127.0.0.4"}
SEATS = ("1001", "1002", "1003", "1004", "2001", "3001", "3002")


def find_asterisk() -> Path | None:
    """ASTERISK_BIN, else ``asterisk`` on PATH (also /usr/sbin, which root's PATH may lack)."""
    explicit = os.environ.get("ASTERISK_BIN")
    if explicit:
        return Path(explicit) if os.access(explicit, os.X_OK) else None
    found = shutil.which("asterisk") or shutil.which("asterisk", path="/usr/sbin:/usr/local/sbin")
    return Path(found) if found else None


def module_dir(binary: Path) -> Path:
    """ASTERISK_MODDIR, else the modules directory of the installation the binary belongs to."""
    if os.environ.get("ASTERISK_MODDIR"):
        return Path(os.environ["ASTERISK_MODDIR"])
    prefix = binary.resolve().parent.parent  # <prefix>/sbin/asterisk
    candidates = [prefix / "lib" / "asterisk" / "modules", prefix / "lib64" / "asterisk" / "modules"]
    candidates += [*sorted(Path("/usr/lib").glob("*/asterisk/modules")), Path("/usr/lib/asterisk/modules")]
    for candidate in candidates:
        if (candidate / "app_queue.so").exists():
            return candidate
    raise FileNotFoundError(f"no Asterisk modules directory found for {binary}; set ASTERISK_MODDIR")


def data_dirs(binary: Path) -> dict[str, Path]:
    """Where the installation keeps its XML documentation, sounds and music on hold."""
    prefix = binary.resolve().parent.parent
    roots = [
        prefix / "var" / "lib" / "asterisk",
        prefix / "share" / "asterisk",
        Path("/usr/share/asterisk"),
        Path("/var/lib/asterisk"),
    ]
    found: dict[str, Path] = {}
    for name in ("documentation", "sounds", "moh"):
        for root in roots:
            if (root / name).is_dir() and any((root / name).iterdir()):
                found[name] = root / name
                break
    return found


# Prompts the shipped configuration plays in the tests: features.conf (transfer beeps) and Atxfer's own prompts.
REQUIRED_SOUNDS = ("beep", "beeperr", "pbx-transfer", "pbx-invalid")
SOUND_FORMATS = (".wav", ".gsm", ".ulaw", ".alaw", ".sln", ".g722")


def missing_sounds(binary: Path) -> str | None:
    """Why the sounds this configuration plays cannot be found (None when they can): Asterisk looks in
    <astdatadir>/sounds/en, which on Debian is a link that only asterisk-core-sounds-en creates."""
    sounds = data_dirs(binary).get("sounds")
    if sounds is None:
        return "no Asterisk sounds directory found: install asterisk-core-sounds-en (./dev does)"
    english = sounds / "en"
    missing = [name for name in REQUIRED_SOUNDS
               if not any((english / (name + ext)).exists() for ext in SOUND_FORMATS)]
    if missing:
        return (f"Asterisk prompts {', '.join(missing)} missing from {english}: install the Debian package "
                "asterisk-core-sounds-en (it creates the sounds/en link; -wav alone does not), as ./dev does")
    return None


def free_port(kind: int = socket.SOCK_DGRAM, host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, kind) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def render_site(text: str, values: dict[str, dict[str, str]]) -> str:
    """Replace the values of existing ``key = value`` lines in the named sections of a site file."""
    pending = {(section, key) for section, keys in values.items() for key in keys}
    out, section = [], None
    for line in text.splitlines():
        header = re.match(r"\s*\[([^\]]+)\]", line)
        if header:
            section = header.group(1)
        else:
            match = re.match(r"(\s*)([A-Za-z0-9_]+)(\s*=>?\s*)(.*)$", line)
            if match and section in values and match.group(2) in values[section]:
                key = match.group(2)
                line = f"{match.group(1)}{key}{match.group(3)}{values[section][key]}"
                pending.discard((section, key))
        out.append(line)
    if pending:
        raise KeyError(f"site file has no such keys: {sorted(pending)}")
    return "\n".join(out) + "\n"


@dataclass
class Pbx:
    """One running Asterisk and everything a test needs to reach it."""

    binary: Path
    root: Path
    sip_port: int
    ami_port: int
    ami_secret: str
    passwords: dict[str, str]
    trunk_ports: dict[str, int]
    process: asyncio.subprocess.Process | None = None
    extra_globals: dict[str, str] = field(default_factory=dict)

    @property
    def etc(self) -> Path:
        return self.root / "etc"

    @property
    def log_dir(self) -> Path:
        return self.root / "log"

    @property
    def recordings(self) -> Path:
        return self.root / "spool" / "monitor"

    def messages_log(self) -> str:
        path = self.log_dir / "messages.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def full_log(self) -> str:
        path = self.log_dir / "full.log"
        return path.read_text(errors="replace") if path.exists() else ""

    # -- configuration -----------------------------------------------------------------------------

    def write_config(self) -> None:
        shutil.copytree(CONF_DIR, self.etc, ignore=shutil.ignore_patterns("*.md"))
        # Below the kernel's ephemeral ports (32768 up), where the SIPp processes' ports come from.
        rtp_start = 10000 + (self.sip_port % 220) * 100
        trunk = {name: {"contact": f"sip:{ip}:{self.trunk_ports[name]}"} for name, ip in TRUNK_IPS.items()}
        site = {
            "pjsip.conf": {
                "site-transport-udp": {"bind": f"127.0.0.1:{self.sip_port}"},
                **{f"site-{name}-aor": trunk[name] for name in TRUNK_IPS},
                **{f"site-{name}-identify": {"match": ip} for name, ip in TRUNK_IPS.items()},
                **{f"site-auth-{seat}": {"password": pw} for seat, pw in self.passwords.items()},
            },
            "manager.conf": {
                "site-manager": {"port": str(self.ami_port), "bindaddr": "127.0.0.1"},
                "site-manager-gateway": {"secret": self.ami_secret},
            },
            "rtp.conf": {"site-rtp": {"rtpstart": str(rtp_start), "rtpend": str(rtp_start + 98)}},
            "extensions.conf": {
                "globals": {"HOTLINE_RECORDING_DIR": str(self.recordings / "hotline"), **self.extra_globals}
            },
        }
        for name, values in site.items():
            path = self.etc / "site" / name
            path.write_text(render_site(path.read_text(), values))
        self._write_asterisk_conf()

    def _write_asterisk_conf(self) -> None:
        datadir = self.root / "data"
        datadir.mkdir()
        for name, target in data_dirs(self.binary).items():
            (datadir / name).symlink_to(target)
        dirs = {
            "astcachedir": self.root / "cache",
            "astetcdir": self.etc,
            "astmoddir": module_dir(self.binary),
            "astvarlibdir": self.root / "lib",
            "astdbdir": self.root / "lib",
            "astkeydir": self.root / "lib",
            "astdatadir": datadir,
            "astagidir": self.root / "agi",
            "astspooldir": self.root / "spool",
            "astrundir": self.root / "run",
            "astlogdir": self.log_dir,
            "astsbindir": self.binary.parent,
        }
        for key, path in dirs.items():
            if key not in ("astetcdir", "astmoddir", "astdatadir", "astsbindir"):
                Path(path).mkdir(parents=True, exist_ok=True)
        # The shipped asterisk.conf holds only [options] (live_dangerously …); the directories are ours.
        lines = ["[directories]"] + [f"{key} => {path}" for key, path in dirs.items()] + [""]
        lines += [(CONF_DIR / "asterisk.conf").read_text(), "verbose = 3", "documentation_language = en_US", ""]
        (self.etc / "asterisk.conf").write_text("\n".join(lines))

    # -- process -----------------------------------------------------------------------------------

    async def start(self, within: float = 30) -> None:
        self.write_config()
        await self._launch(within)

    async def restart(self, within: float = 30) -> None:
        """Stop Asterisk and start it again on the same configuration and state directories (astdb keeps
        the seats' registrations; app_queue forgets its dynamic members, as on a production restart)."""
        await self.stop()
        await self._launch(within)

    async def _launch(self, within: float) -> None:
        ready_before = self.full_log().count("Asterisk Ready")
        out = (self.log_dir / "stdout.log").open("ab")
        self.process = await asyncio.create_subprocess_exec(
            str(self.binary),
            "-f",
            "-n",
            "-C",
            str(self.etc / "asterisk.conf"),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=out,
            stderr=asyncio.subprocess.STDOUT,
        )
        out.close()
        deadline = asyncio.get_running_loop().time() + within
        while self.full_log().count("Asterisk Ready") <= ready_before:
            if self.process.returncode is not None:
                raise RuntimeError(f"Asterisk exited with {self.process.returncode}; see {self.log_dir}")
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError(f"Asterisk not ready after {within} s; see {self.log_dir}")
            await asyncio.sleep(0.1)

    async def cli(self, command: str) -> str:
        proc = await asyncio.create_subprocess_exec(
            str(self.binary),
            "-C",
            str(self.etc / "asterisk.conf"),
            "-rx",
            command,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        output, _ = await asyncio.wait_for(proc.communicate(), 15)
        return output.decode(errors="replace")

    async def stop(self, within: float = 10) -> None:
        if self.process is None or self.process.returncode is not None:
            return
        try:
            await self.cli("core stop now")
            await asyncio.wait_for(self.process.wait(), within)
        except (TimeoutError, OSError):
            self.process.kill()
            await self.process.wait()


def new_pbx(binary: Path, **extra_globals: str) -> Pbx:
    # A short root: the control socket path (astrundir/asterisk.ctl) must fit in sun_path.
    root = Path(tempfile.mkdtemp(prefix="ast-"))
    return Pbx(
        binary=binary,
        root=root,
        sip_port=free_port(),
        ami_port=free_port(socket.SOCK_STREAM),
        ami_secret=secrets.token_hex(8),
        passwords={seat: f"pw-{seat}-{secrets.token_hex(4)}" for seat in SEATS},
        trunk_ports={name: free_port(host=ip) for name, ip in TRUNK_IPS.items()},
        # Nothing listens on this port unless a test starts a FastAGI server there.
        extra_globals={"HOTLINE_AGI": f"127.0.0.1:{free_port(socket.SOCK_STREAM)}", **extra_globals},
    )
