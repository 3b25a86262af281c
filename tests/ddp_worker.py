"""Run by tests/test_distributed.py under ``torchrun --nproc_per_node 2``: trains each job of a
JSON spec (``{"out": folder, "jobs": [{"name", "config", "resume", "steps", "until"}]}``) with the
course's Trainer, in one process group; a job whose Trainer refuses its config writes the
message to ``<out>/<name>/error.txt`` (rank 0)."""
import json
import sys
from pathlib import Path

from course_lib import distributed
from course_lib.config import ConfigError, preset
from course_lib.trainer import Trainer


def main(spec_path):
    spec = json.loads(Path(spec_path).read_text())
    out = Path(spec["out"])
    for job in spec["jobs"]:
        run = out / job["name"]
        try:
            config = None if job.get("resume") else preset("cpu", **job["config"])
            Trainer(config, run, resume=bool(job.get("resume")), steps=job.get("steps"), progress=False).train(job.get("until"))
        except ConfigError as err:
            if distributed.current().main:
                run.mkdir(parents=True, exist_ok=True)
                (run / "error.txt").write_text(str(err))
    distributed.shutdown()


if __name__ == "__main__":
    main(sys.argv[1])
