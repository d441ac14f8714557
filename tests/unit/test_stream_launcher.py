"""The stream never outlives whoever started it: a driver whose launcher is killed without it (a Celery worker's task
process lost, its children left running) sees that, so no second driver runs on the same checkpoints."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

INCLUDE = str(Path(__file__).resolve().parents[2] / "include")

DRIVER = """
import sys, time
from election.streaming.runtime import Launcher
launcher = Launcher()
report = open(sys.argv[1], "w")
report.write(f"{launcher.gone()}\\n"); report.flush()
deadline = time.time() + 30
while not launcher.gone() and time.time() < deadline:
    time.sleep(0.1)
report.write("gone\\n" if launcher.gone() else "still there\\n"); report.close()
"""
# Stands for spark-submit's JVM: its command line names SparkSubmit, and it runs the driver as its child.
JVM = "import subprocess, sys; subprocess.run([sys.executable, '-c', sys.argv[1], sys.argv[2]])"
LAUNCHER = "import subprocess, sys, time; subprocess.Popen(sys.argv[1:]); time.sleep(120)"


def test_the_driver_under_spark_submit_sees_its_launcher_killed(tmp_path) -> None:
    report = tmp_path / "report"
    jvm = [sys.executable, "-c", JVM, DRIVER, str(report), "org.apache.spark.deploy.SparkSubmit"]
    launcher = subprocess.Popen(
        [sys.executable, "-c", LAUNCHER, *jvm], env={**os.environ, "PYTHONPATH": INCLUDE}, start_new_session=True
    )
    try:
        deadline = time.monotonic() + 30
        while not (report.exists() and report.read_text()) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert report.read_text() == "False\n", "while its launcher runs, the driver carries on"
        launcher.send_signal(signal.SIGKILL)  # the launcher alone: the "JVM" and the driver are left running
        launcher.wait(10)
        while report.read_text().count("\n") < 2 and time.monotonic() < deadline + 30:
            time.sleep(0.1)
        assert report.read_text() == "False\ngone\n"
    finally:
        os.killpg(launcher.pid, signal.SIGKILL)
