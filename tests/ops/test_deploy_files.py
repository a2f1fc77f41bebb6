"""deploy/: the files the guide installs verbatim exist, say what the load test measured, and log redacted."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
GUIDE = (ROOT / "docs" / "deployment.md").read_text()

ACCESS_PROBE = """
import logging, logging.config, runpy, sys
conf = runpy.run_path("deploy/gunicorn.conf.py")
logging.config.dictConfig(conf["logconfig_dict"])
# What gunicorn's glogging.Logger.access() does: the format and a dict of atoms.
logging.getLogger("gunicorn.access").info(conf["access_log_format"], {
    "h": "10.0.0.8", "r": "GET /staffing/people/?q=610104199001011234 HTTP/1.1", "s": "200", "b": "512",
    "M": "12", "{x-request-id}i": "abc123"})
"""


def test_every_file_the_guide_installs_exists():
    named = set(re.findall(r"deploy/[\w./{},*-]+", GUIDE))
    assert len(named) > 10, named
    for name in named:
        name = name.rstrip(".,")
        braces = re.search(r"\{(.+?)\}", name)
        variants = [name[:braces.start()] + v + name[braces.end():] for v in braces.group(1).split(",")] if braces else [name]
        for variant in variants:
            assert list(ROOT.glob(variant)), variant
    for unit in ("lianhu-web.service", "lianhu-worker.service", "lianhu-beat.service"):
        assert (DEPLOY / "systemd" / unit).exists()
        assert f"{unit.removesuffix('.service')}" in GUIDE
    # The units live in files only: the guide no longer carries copies of them.
    assert "ExecStart=" not in GUIDE and "proxy_pass" not in GUIDE


def test_web_unit_runs_the_worker_class_the_load_test_measured():
    unit = (DEPLOY / "systemd" / "lianhu-web.service").read_text()
    assert "deploy/gunicorn.conf.py" in unit
    conf: dict = {}
    exec(compile((DEPLOY / "gunicorn.conf.py").read_text(), "gunicorn.conf.py", "exec"), conf)
    load = (ROOT / "bench" / "load.py").read_text()
    assert conf["worker_class"] == "gthread" and '"gthread"' in load
    assert conf["threads"] >= 2


def test_gunicorn_access_log_is_json_and_redacted():
    env = {**os.environ, "DJANGO_LOG_FORMAT": "json", "DJANGO_DEBUG": "0"}
    result = subprocess.run([sys.executable, "-c", ACCESS_PROBE], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    line = json.loads(result.stdout.strip().splitlines()[-1])
    assert line["logger"] == "gunicorn.access" and "abc123" in line["message"]
    assert "610104199001011234" not in result.stdout and "610104********1234" in line["message"]


def test_beat_unit_is_single_and_the_schedule_lives_in_settings():
    beat = (DEPLOY / "systemd" / "lianhu-beat.service").read_text()
    assert "celery -A lianhu beat" in beat
    assert "CELERY_BEAT_SCHEDULE" in beat


def test_env_template_reads_the_same_in_sh_as_in_systemd():
    # deploy/lianhu-manage and the restore steps source it with sh; a bare space or <> would break them.
    result = subprocess.run(["sh", "-c", 'set -a; . deploy/lianhu.env.example; printf "%s" "$DJANGO_ADMINS"'],
                            cwd=ROOT, capture_output=True, text=True, timeout=30, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "系统管理员 <it@lianhu.gov.cn>"
